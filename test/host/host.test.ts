// The host's own semantics, checked with a puppet module (puppet.ts) whose callbacks run JS hooks that
// make exact ABI calls. Each expectation is Envoy's behaviour, with the source it comes from in the
// host's code (README.md lists where the host differs).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BufferType, CloseType, encodeFilterStateArgs, FilterStatus, LogLevel, MetricType, SharedState, StreamType,
  VmFailedError, WasmHost, WasmResult, WasmTrapError, type LoadOptions,
} from "./index";
import { Puppet, puppetWasm, TRAP } from "./puppet";

async function puppetHost(options: LoadOptions = {}, config: string | null = "{}") {
  const p = new Puppet();
  const vm = await WasmHost.load(await puppetWasm(), { ...options, imports: p.imports(), onInstantiate: (i) => p.attach(i.exports) });
  if (config !== null) assert.equal(vm.configure(config), true);
  return { p, vm };
}

const { Ok, NotFound, BadArgument, CasMismatch, Empty, Unimplemented, InternalFailure } = WasmResult;

test("lifecycle: root context 1, connections 2, 3, ...; close runs close, done, log, delete", async () => {
  const { p, vm } = await puppetHost({}, null);
  assert.deepEqual(p.events, ["initialize()", "on_context_create(1,0)", "on_vm_start(1,0)"]);

  let seen: unknown;
  p.hooks.on_configure = (_root, size) => void (seen = p.getBufferBytes(BufferType.PluginConfiguration, 0, size));
  assert.equal(vm.configure('{"a":1}'), true);
  assert.deepEqual(seen, { result: Ok, bytes: Buffer.from('{"a":1}') });

  let outside: unknown;
  p.hooks.on_new_connection = () => void (outside = p.getBufferBytes(BufferType.PluginConfiguration, 0, 100).result);
  const a = vm.connect();
  const b = vm.connect();
  assert.equal(outside, NotFound, "the plugin configuration exists only during on_configure");
  assert.deepEqual([a.id, b.id], [2, 3]);
  assert.ok(p.events.includes("on_context_create(2,1)") && p.events.includes("on_new_connection(3)"));

  p.events.length = 0;
  a.close();
  assert.deepEqual(p.events, [`on_downstream_connection_close(2,${CloseType.Remote})`, "on_done(2)", "on_log(2)", "on_delete(2)"]);
  assert.equal(a.closedBy, "client");
  assert.equal(a.downstream("late").status, undefined, "a closed connection gets no more callbacks");
});

test("a rejected first configuration leaves no filter to connect", async () => {
  const { p, vm } = await puppetHost({}, null);
  p.hooks.on_configure = () => 0;
  assert.equal(vm.configure("bad"), false);
  assert.throws(() => vm.connect(), /before a configuration was accepted/);
});

test("Pause holds the read buffer, the next read re-delivers all of it, Continue passes it on", async () => {
  const { p, vm } = await puppetHost();
  const delivered: string[] = [];
  let pauses = 2;
  p.hooks.on_downstream_data = (_ctx, length) => {
    delivered.push(p.getBufferBytes(BufferType.DownstreamData, 0, length).bytes.toString());
    return pauses-- > 0 ? FilterStatus.Pause : FilterStatus.Continue;
  };
  const conn = vm.connect();
  let r = conn.downstream("ab");
  assert.deepEqual([r.status, r.forwarded.length], ["pause", 0]);
  r = conn.downstream("cd");
  assert.deepEqual([r.status, r.forwarded.length, conn.held.toString()], ["pause", 0, "abcd"]);
  r = conn.downstream("ef", { end: true });
  assert.deepEqual([r.status, r.forwarded.toString(), conn.held.length], ["continue", "abcdef", 0]);
  assert.equal(conn.forwardedEnd, true);
  assert.deepEqual(delivered, ["ab", "abcd", "abcdef"]);
  conn.downstream("g");
  assert.equal(delivered.at(-1), "g", "after Continue the buffer was drained");
});

test("continue_stream(Downstream) from a tick resumes only with the connection as effective context", async () => {
  const { p, vm } = await puppetHost();
  p.hooks.on_configure = () => void p.setTickPeriod(10);
  vm.configure("{}");
  p.hooks.on_downstream_data = () => FilterStatus.Pause;
  const conn = vm.connect();
  conn.downstream("held");

  const results: WasmResult[] = [];
  p.hooks.on_tick = () => void results.push(p.continueStream(StreamType.Downstream));
  vm.advance(10);
  assert.deepEqual(results, [Ok], "Envoy answers Ok in a root context...");
  assert.equal(conn.forwarded.length, 0, "...but a root context has no connection to continue");
  assert.match(vm.warnings.join("\n"), /continue_stream\(Downstream\) in a root context does nothing/);

  p.hooks.on_tick = () => {
    results.push(p.setEffectiveContext(conn.id), p.continueStream(StreamType.Downstream));
  };
  vm.advance(10);
  assert.deepEqual(results.slice(1), [Ok, Ok]);
  assert.equal(conn.forwarded.toString(), "held");
  assert.equal(conn.held.length, 0);
  p.hooks.on_tick = () => void results.push(p.setEffectiveContext(999));
  vm.advance(10);
  assert.equal(results.at(-1), BadArgument, "set_effective_context of an unknown id");
});

test("continue_stream inside on_downstream_data passes the bytes on after the callback, even with Pause", async () => {
  const { p, vm } = await puppetHost();
  p.hooks.on_downstream_data = () => {
    assert.equal(p.continueStream(StreamType.Downstream), Ok);
    return FilterStatus.Pause;
  };
  const r = vm.connect().downstream("x");
  assert.deepEqual([r.status, r.forwarded.toString()], ["pause", "x"]);
});

test("on_new_connection Pause: data is still delivered to the filter, which continues by returning Continue", async () => {
  const { p, vm } = await puppetHost();
  p.hooks.on_new_connection = () => FilterStatus.Pause;
  const conn = vm.connect();
  assert.equal(conn.newConnectionStatus, "pause");
  const r = conn.downstream("first request");
  assert.deepEqual([r.status, r.forwarded.toString()], ["continue", "first request"]);
});

test("the write path: Pause cannot be resumed, bytes wait for more upstream data; end reports upstream close", async () => {
  const { p, vm } = await puppetHost();
  let pause = true;
  const lengths: number[] = [];
  p.hooks.on_upstream_data = (_ctx, length) => {
    lengths.push(length);
    assert.equal(p.continueStream(StreamType.Upstream), Unimplemented);
    return pause ? FilterStatus.Pause : FilterStatus.Continue;
  };
  const conn = vm.connect();
  let r = conn.upstream("12");
  assert.deepEqual([r.status, r.written.length, conn.heldUpstream.toString()], ["pause", 0, "12"]);
  assert.match(vm.warnings.join("\n"), /on_upstream_data returned Pause/);
  pause = false;
  p.events.length = 0;
  r = conn.upstream("34", { end: true });
  assert.deepEqual([r.status, r.written.toString(), conn.writtenEnd], ["continue", "1234", true]);
  assert.deepEqual(lengths, [2, 4]);
  assert.deepEqual(p.events, ["on_upstream_data(2,4,1)", `on_upstream_connection_close(2,${CloseType.Unknown})`]);
});

test("set_buffer_bytes: prepend (0,0), replace a prefix (0,n), append (start >= size); a splice is BadArgument", async () => {
  const { p, vm } = await puppetHost();
  const cases: Array<[number, number, string, WasmResult, string]> = [
    [0, 0, ">>", Ok, ">>hello world"],
    [0, 5, "HELLO", Ok, "HELLO world"],
    [0, 5, "bye", Ok, "bye world"],
    [0, 11, "all new", Ok, "all new"],
    [0, 1000, "x", Ok, "x"],
    [11, 0, "!", Ok, "hello world!"],
    [50, 3, "!", Ok, "hello world!"],
    [3, 0, "zz", BadArgument, "hello world"],
    [5, 6, "", BadArgument, "hello world"],
  ];
  for (const [start, length, data, result, forwarded] of cases) {
    let got: WasmResult | undefined;
    p.hooks.on_downstream_data = () => void (got = p.setBufferBytes(BufferType.DownstreamData, start, length, data));
    const r = vm.connect().downstream("hello world");
    assert.equal(got, result, `(${start},${length},"${data}")`);
    assert.equal(r.forwarded.toString(), forwarded, `(${start},${length},"${data}")`);
  }
  p.hooks.on_upstream_data = () => void p.setBufferBytes(BufferType.UpstreamData, 0, 0, "[rewritten]");
  assert.equal(vm.connect().upstream("reply").written.toString(), "[rewritten]reply");
});

test("buffers that are not there: empty and read-only, NotFound, BadArgument", async () => {
  const { p, vm } = await puppetHost({ vmConfig: "vm-config" });
  const seen: Record<string, unknown> = {};
  p.hooks.on_new_connection = () => {
    seen.downstreamStatus = p.bufferLength(BufferType.DownstreamData);
    seen.downstreamGet = p.getBufferBytes(BufferType.DownstreamData, 0, 10);
    seen.downstreamSet = p.setBufferBytes(BufferType.DownstreamData, 0, 0, "x");
    seen.vmConfig = p.getBufferBytes(BufferType.VmConfiguration, 0, 100).bytes.toString();
    seen.vmConfigSet = p.setBufferBytes(BufferType.VmConfiguration, 0, 0, "x");
    seen.httpCallBody = p.bufferLength(BufferType.HttpCallResponseBody).result;
    seen.badType = p.bufferLength(9).result;
    seen.pastEnd = p.getBufferBytes(BufferType.VmConfiguration, 100, 1).result;
  };
  vm.connect();
  assert.deepEqual(seen, {
    downstreamStatus: { result: Ok, length: 0 },
    downstreamGet: { result: Ok, bytes: Buffer.alloc(0) },
    downstreamSet: BadArgument,
    vmConfig: "vm-config",
    vmConfigSet: BadArgument,
    httpCallBody: NotFound,
    badType: BadArgument,
    pastEnd: WasmResult.InvalidMemoryAccess,
  });
});

test("close_stream closes the client connection after the callback; that read is not passed on", async () => {
  for (const stream of [StreamType.Downstream, StreamType.Upstream]) {
    const { p, vm } = await puppetHost();
    p.hooks.on_downstream_data = () => void assert.equal(p.closeStream(stream), Ok);
    const conn = vm.connect();
    p.events.length = 0;
    const r = conn.downstream("bye");
    assert.deepEqual([r.forwarded.length, r.closed, conn.closedBy], [0, true, "filter"]);
    assert.deepEqual(p.events.slice(1), [`on_downstream_connection_close(2,${CloseType.Local})`, "on_done(2)", "on_log(2)", "on_delete(2)"]);
  }
});

test("shared data: process-wide across workers, CAS, NotFound, separate vm_ids", async () => {
  const shared = new SharedState();
  const a = await puppetHost({ shared, name: "worker-a" });
  const b = await puppetHost({ shared, name: "worker-b" });
  const other = await puppetHost({ shared, vmId: "other" });
  const inConnection = <T>(h: { p: Puppet; vm: WasmHost }, body: () => T): T => {
    let out: T | undefined;
    h.p.hooks.on_new_connection = () => void (out = body());
    h.vm.connect();
    return out as T;
  };

  assert.equal(inConnection(a, () => a.p.getSharedData("k").result), NotFound);
  assert.equal(inConnection(a, () => a.p.setSharedData("k", "v1", 0)), Ok);
  const first = inConnection(b, () => b.p.getSharedData("k"));
  assert.deepEqual([first.result, first.value.toString()], [Ok, "v1"], "worker b sees worker a's write");
  assert.notEqual(first.cas, 0);

  assert.equal(inConnection(b, () => b.p.setSharedData("k", "v2", first.cas)), Ok, "current cas");
  assert.equal(inConnection(a, () => a.p.setSharedData("k", "v3", first.cas)), CasMismatch, "stale cas");
  assert.equal(shared.getSharedData("k")?.value.toString(), "v2");
  assert.equal(inConnection(a, () => a.p.setSharedData("k", "v4", 0)), Ok, "cas 0 writes unconditionally");
  assert.equal(shared.getSharedData("k")?.value.toString(), "v4");
  assert.equal(inConnection(a, () => a.p.setSharedData("new", "x", 12345)), Ok, "a cas for a missing key is ignored");
  assert.equal(inConnection(other, () => other.p.getSharedData("k").result), NotFound, "keyed by vm_id");
  assert.equal((await puppetHost()).vm.shared === shared, false);
});

test("shared queues: the last registrant gets on_queue_ready after the enqueuing operation", async () => {
  const shared = new SharedState();
  const a = await puppetHost({ shared });
  const b = await puppetHost({ shared });
  let token = 0;
  a.p.hooks.on_configure = () => void (token = a.p.registerQueue("work").token);
  a.vm.configure("{}");
  assert.notEqual(token, 0);

  const ready: number[] = [];
  const got: string[] = [];
  a.p.hooks.on_queue_ready = (_root, t) => {
    ready.push(t);
    got.push(a.p.dequeue(t).data.toString());
    assert.equal(a.p.dequeue(t).result, Empty);
  };
  b.p.hooks.on_new_connection = () => {
    const resolved = b.p.resolveQueue("", "work");
    assert.deepEqual(resolved, { result: Ok, token });
    assert.equal(b.p.enqueue(resolved.token, "job-1"), Ok);
    assert.equal(ready.length, 0, "not delivered inside the enqueuing callback");
    assert.equal(b.p.resolveQueue("", "nope").result, NotFound);
    assert.equal(b.p.enqueue(4242, "x"), NotFound);
  };
  b.vm.connect();
  assert.deepEqual([ready, got], [[token], ["job-1"]]);
});

test("metrics: one stat per name across workers; Envoy's rules per type", async () => {
  const shared = new SharedState();
  const a = await puppetHost({ shared });
  const b = await puppetHost({ shared });
  const results: Record<string, unknown> = {};
  a.p.hooks.on_new_connection = () => {
    const c = a.p.defineMetric(MetricType.Counter, "requests_total");
    const g = a.p.defineMetric(MetricType.Gauge, "active");
    const h = a.p.defineMetric(MetricType.Histogram, "latency_ms");
    assert.deepEqual([c.result, g.result, h.result], [Ok, Ok, Ok]);
    assert.deepEqual([c.id & 3, g.id & 3, h.id & 3], [0, 1, 2], "Envoy keeps the type in the low bits of the id");
    results.counter = [a.p.incrementMetric(c.id, 2n), a.p.incrementMetric(c.id, 0n), a.p.incrementMetric(c.id, -1n), a.p.recordMetric(c.id, 3n)];
    results.gauge = [a.p.incrementMetric(g.id, 5n), a.p.incrementMetric(g.id, -2n), a.p.getMetric(g.id)];
    results.histogram = [a.p.recordMetric(h.id, 7n), a.p.recordMetric(h.id, 9n), a.p.incrementMetric(h.id, 1n), a.p.getMetric(h.id).result];
    results.bad = [a.p.defineMetric(3, "x").result, a.p.incrementMetric(c.id + 400, 1n), a.p.defineMetric(MetricType.Gauge, "requests_total").result];
  };
  a.vm.connect();
  assert.deepEqual(results, {
    counter: [Ok, BadArgument, BadArgument, Ok],
    gauge: [Ok, Ok, { result: Ok, value: 3n }],
    histogram: [Ok, Ok, BadArgument, BadArgument],
    bad: [BadArgument, NotFound, BadArgument],
  });
  b.p.hooks.on_new_connection = () => {
    const c = b.p.defineMetric(MetricType.Counter, "requests_total");
    assert.equal(b.p.incrementMetric(c.id, 10n), Ok);
    assert.deepEqual(b.p.getMetric(c.id), { result: Ok, value: 15n }, "worker b sees worker a's counts");
  };
  b.vm.connect();
  assert.deepEqual(a.vm.metrics(), { active: 3, latency_ms: [7, 9], requests_total: 15 });
});

test("ticks follow the virtual clock, per root context per worker; period 0 stops them", async () => {
  const shared = new SharedState({ now: Date.UTC(2030, 0, 1) });
  const a = await puppetHost({ shared });
  const b = await puppetHost({ shared });
  const ticks: string[] = [];
  const start = BigInt(Date.UTC(2030, 0, 1)) * 1_000_000n;
  a.p.hooks.on_configure = () => void a.p.setTickPeriod(100);
  b.p.hooks.on_configure = () => void b.p.setTickPeriod(250);
  a.p.hooks.on_tick = () => void ticks.push(`a@${(a.p.nowNanos() - start) / 1_000_000n}`);
  b.p.hooks.on_tick = () => void ticks.push(`b@${(b.p.nowNanos() - start) / 1_000_000n}`);
  a.vm.configure("{}");
  b.vm.configure("{}");
  a.vm.advance(99);
  assert.deepEqual(ticks, []);
  a.vm.advance(401);
  assert.deepEqual(ticks, ["a@100", "a@200", "b@250", "a@300", "a@400", "a@500", "b@500"]);
  assert.equal(b.vm.now, Date.UTC(2030, 0, 1) + 500, "one clock for all workers");
  a.p.hooks.on_tick = () => void a.p.setTickPeriod(0);
  ticks.length = 0;
  shared.advance(1000);
  assert.deepEqual(ticks, ["b@750", "b@1000", "b@1250", "b@1500"]);
});

test("properties: host-wide and per connection, NUL-joined paths, set_property in a connection", async () => {
  const { p, vm } = await puppetHost({ pluginName: "meltemi-test", properties: { "node\0id": "sidecar~1" } });
  const got: Record<string, unknown> = {};
  p.hooks.on_configure = () => {
    got.rootSource = p.getProperty("source\0address").result;
    got.rootSet = p.setProperty("x", "1");
  };
  vm.configure("{}");
  p.hooks.on_new_connection = () => {
    got.plugin = p.getProperty("plugin_name").value.toString();
    got.node = p.getProperty("node\0id\0").value.toString();
    got.source = p.getProperty("source\0address").value.toString();
    got.connectionId = p.getProperty("connection_id").value.length;
    got.missing = p.getProperty("upstream\0address").result;
    got.set = p.setProperty("my_state", "on");
    got.readBack = p.getProperty("my_state").value.toString();
  };
  vm.connect({ properties: { "source\0address": "10.0.0.1:5555" } });
  assert.deepEqual(got, {
    rootSource: NotFound, rootSet: NotFound, plugin: "meltemi-test", node: "sidecar~1", source: "10.0.0.1:5555",
    connectionId: 8, missing: NotFound, set: Ok, readBack: "on",
  });
  assert.deepEqual(vm.propertyWrites.map((w) => [w.path, w.value.toString()]), [["x", "1"], ["my_state", "on"]]);
});

test("foreign functions: set_envoy_filter_state, custom handlers, NotFound for unknown names", async () => {
  const { p, vm } = await puppetHost({
    foreignFunctions: { echo_upper: (call) => ({ result: Ok, data: Buffer.from(call.args.toString().toUpperCase()) }) },
  });
  const got: Record<string, unknown> = {};
  p.hooks.on_configure = () => {
    got.fromRoot = p.callForeign("set_envoy_filter_state", encodeFilterStateArgs("envoy.tcp_proxy.cluster", "c")).result;
  };
  vm.configure("{}");
  p.hooks.on_new_connection = () => {
    got.cluster = p.callForeign("set_envoy_filter_state", encodeFilterStateArgs("envoy.tcp_proxy.cluster", "outbound|20880||svc", 2)).result;
    got.unknownKey = p.callForeign("set_envoy_filter_state", encodeFilterStateArgs("my.key", "v")).result;
    got.garbage = p.callForeign("set_envoy_filter_state", Buffer.from([0xff, 0xff])).result;
    got.echo = p.callForeign("echo_upper", Buffer.from("abc")).data.toString();
    got.unknown = p.callForeign("no_such_function", Buffer.alloc(0)).result;
  };
  const conn = vm.connect();
  assert.deepEqual(got, { fromRoot: NotFound, cluster: Ok, unknownKey: NotFound, garbage: BadArgument, echo: "ABC", unknown: NotFound });
  assert.deepEqual(conn.filterState.get("envoy.tcp_proxy.cluster"), { value: Buffer.from("outbound|20880||svc"), span: 2 });
  assert.deepEqual(vm.foreignCalls.map((c) => [c.name, c.result]), [
    ["set_envoy_filter_state", NotFound], ["set_envoy_filter_state", Ok], ["set_envoy_filter_state", NotFound],
    ["set_envoy_filter_state", BadArgument], ["echo_upper", Ok], ["no_such_function", NotFound],
  ]);
});

test("a trap fails the VM: WasmTrapError, then fail-closed (default) or fail-open connections", async () => {
  for (const failOpen of [false, true]) {
    const { p, vm } = await puppetHost({ failOpen });
    p.hooks.on_downstream_data = () => {
      p.log(LogLevel.Critical, "about to trap");
      return TRAP;
    };
    const conn = vm.connect();
    assert.throws(() => conn.downstream("boom"), (e: unknown) => {
      assert.ok(e instanceof WasmTrapError);
      assert.match(e.message, /trapped in proxy_on_downstream_data \(context 2\): unreachable/);
      assert.match(e.message, /about to trap/);
      return true;
    });
    assert.equal(vm.failed, true);
    assert.throws(() => vm.configure("{}"), VmFailedError);
    const next = vm.connect();
    const r = next.downstream("after");
    if (failOpen) assert.deepEqual([r.forwarded.toString(), r.closed], ["after", false]);
    else assert.deepEqual([r.forwarded.length, r.closed, next.closedBy], [0, true, "vm-failure"]);
  }
});

test("an unknown import is stubbed and logged instead of failing the load", async () => {
  const p = new Puppet();
  const vm = await WasmHost.load(await puppetWasm({ unknownImport: true }), {
    imports: p.imports(), onInstantiate: (i) => p.attach(i.exports), pluginConfig: "{}",
  });
  assert.deepEqual(vm.unknownImports, ["env.proxy_future_feature"]);
  let answer: WasmResult | undefined;
  p.hooks.on_new_connection = () => void (answer = p.futureFeature());
  vm.connect();
  assert.equal(answer, Unimplemented);
  assert.deepEqual(vm.unknownImportCalls.map((c) => c.name), ["env.proxy_future_feature"]);
});

test("during _initialize only proxy_log is allowed; the log level filters proxy_log", async () => {
  const p = new Puppet();
  const seen: WasmResult[] = [];
  p.hooks.initialize = () => void seen.push(p.setTickPeriod(5), p.log(LogLevel.Warn, "starting"));
  const vm = await WasmHost.load(await puppetWasm(), {
    imports: p.imports(), onInstantiate: (i) => p.attach(i.exports), logLevel: "warn", pluginConfig: "{}",
  });
  assert.deepEqual(seen, [InternalFailure, Ok]);
  p.hooks.on_new_connection = () => {
    p.log(LogLevel.Info, "dropped: below the level");
    p.log(LogLevel.Error, "shown");
    assert.equal(p.log(9, "bad level"), BadArgument);
  };
  vm.connect();
  assert.deepEqual(vm.logs.map((l) => [l.level, l.message]), [[LogLevel.Warn, "starting"], [LogLevel.Error, "shown"]]);
});
