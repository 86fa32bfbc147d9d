// The filter's global limits (filter/global/) in the Node host: two workers of one proxy (one shared
// state), Dubbo requests, and the test playing Envoy's rate limit service by answering the filter's
// proxy_grpc_call. What the real service and Envoy do with the same bytes is shown in test/ratelimit/.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SharedState, WasmHost, type GrpcCall } from "../host/index";
import { decode } from "../codec/harness";
import { dubboAnswer, dubboRequest } from "../codec/dubbo/frames";
import { prometheusView, sumOf } from "../support/stats_tags";
import { encodeRateLimitResponse, readFields } from "../ratelimit/grpc";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");

function configFor(failMode: "open" | "closed") {
  return {
    version: 1,
    name: "greeter",
    protocol: "dubbo",
    routingMode: "perConnection",
    globalLimits: [{ domain: "production", cluster: "rls", reportIntervalMs: 100, failMode, match: { method: { exact: "greet" } }, entries: [{ key: "method", metadata: "method" }, { key: "tier", value: "gold" }] }],
  };
}

/** The descriptors of a RateLimitRequest: entries and hits_addend. */
function descriptorsOf(call: GrpcCall): { domain: string; descriptors: { entries: [string, string][]; hits: number }[] } {
  const f = readFields(call.request);
  return {
    domain: (f.get(1)![0] as Buffer).toString(),
    descriptors: (f.get(2) ?? []).map((raw) => {
      const d = readFields(raw as Buffer);
      const entries = (d.get(1) ?? []).map((e) => {
        const kv = readFields(e as Buffer);
        return [(kv.get(1)![0] as Buffer).toString(), (kv.get(2)![0] as Buffer).toString()] as [string, string];
      });
      const wrapper = d.get(3)?.[0] as Buffer | undefined;
      return { entries, hits: wrapper ? Number(readFields(wrapper).get(1)?.[0] ?? 0n) : -1 };
    }),
  };
}

async function kinds(vm: WasmHost, n: number, firstId: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const conn = vm.connect();
    conn.downstream(dubboRequest(BigInt(firstId + i), "greet"));
    out.push((await decode("dubbo", conn.forwarded)).frames[0]!.kind);
  }
  return out;
}

test("two workers: fail open before the first answer, one report per interval for both, then admitted within the service's remaining", async () => {
  const shared = new SharedState();
  const w1 = await WasmHost.load(wasm, { shared, name: "w1", pluginName: "greeter", pluginConfig: JSON.stringify(configFor("open")), grpcClusters: ["rls"] });
  const w2 = await WasmHost.load(wasm, { shared, name: "w2", pluginName: "greeter", pluginConfig: JSON.stringify(configFor("open")), grpcClusters: ["rls"] });

  assert.deepEqual(await kinds(w1, 2, 1), ["request", "request"]);
  assert.deepEqual(await kinds(w2, 1, 3), ["request"]);
  shared.advance(100); // both roots tick
  const calls = [...w1.grpcCalls, ...w2.grpcCalls];
  assert.equal(calls.length, 1, "one report per proxy, whichever worker ticks first");
  const call = calls[0]!;
  assert.deepEqual([call.cluster, call.serviceName, call.method, call.timeoutMs], ["rls", "envoy.service.ratelimit.v3.RateLimitService", "ShouldRateLimit", 20]);
  assert.deepEqual(descriptorsOf(call), { domain: "production", descriptors: [{ entries: [["method", "greet"], ["tier", "gold"]], hits: 3 }] });

  const caller = w1.grpcCalls.includes(call) ? w1 : w2;
  caller.grpcReply(call.token, encodeRateLimitResponse("OK", [{ code: "OK", currentLimit: { requestsPerUnit: 5, unit: "MINUTE" }, limitRemaining: 2 }]));
  // Two left for the whole proxy: the next two are admitted on either worker, the rest rejected.
  assert.deepEqual([...await kinds(w2, 2, 4), ...await kinds(w1, 2, 6)], ["request", "request", "heartbeat", "heartbeat"]);
  // A request the limit's match does not hold for is not counted.
  const other = w1.connect();
  other.downstream(dubboRequest(10n, "other"));
  assert.equal((await decode("dubbo", other.forwarded)).frames[0]!.kind, "request");

  shared.advance(100);
  const next = [...w1.grpcCalls, ...w2.grpcCalls];
  assert.equal(next.length, 1);
  assert.equal(descriptorsOf(next[0]!).descriptors[0]!.hits, 2, "the two admitted since the answer");
  const m = prometheusView(w1.metrics());
  assert.equal(sumOf(m, "meltemi_global_fail_open_admitted_total"), 3);
  assert.equal(sumOf(m, "meltemi_global_over_limit_total"), 2);
  assert.equal(sumOf(m, "meltemi_global_reports_ok_total"), 1);
  assert.equal(sumOf(m, "meltemi_rejections_total", { reason: "over_limit" }), 2);
});

test("fail closed: rejected until the first answer, which comes from a question (hits_addend 0); a failing service closes again after 3 intervals", async () => {
  const shared = new SharedState();
  const vm = await WasmHost.load(wasm, { shared, pluginName: "greeter", pluginConfig: JSON.stringify(configFor("closed")) });
  assert.deepEqual(await kinds(vm, 2, 1), ["heartbeat", "heartbeat"]);
  // The client gets the error reply when the upstream answers the probe sent in the request's place.
  const conn = vm.connect();
  conn.downstream(dubboRequest(3n, "greet"));
  conn.upstream(dubboAnswer(conn.forwarded));
  assert.match(conn.written.toString("latin1"), /global rate limit service unavailable/);
  shared.advance(100);
  assert.equal(vm.grpcCalls.length, 1);
  assert.equal(descriptorsOf(vm.grpcCalls[0]!).descriptors[0]!.hits, 0);
  vm.grpcReply(vm.grpcCalls[0]!.token, encodeRateLimitResponse("OK", [{ code: "OK", currentLimit: { requestsPerUnit: 100, unit: "MINUTE" }, limitRemaining: 100 }]));
  assert.deepEqual(await kinds(vm, 2, 4), ["request", "request"]);

  // The service fails (UNAVAILABLE): the verdict holds for 3 intervals after the last answer, then closed.
  for (let i = 0; i < 4; i++) {
    shared.advance(100);
    await kinds(vm, 1, 10 + i);
    for (const c of [...vm.grpcCalls]) vm.grpcFail(c.token, 14);
  }
  assert.deepEqual(await kinds(vm, 1, 20), ["heartbeat"]);
  const m = prometheusView(vm.metrics());
  assert.ok(sumOf(m, "meltemi_global_reports_failed_total") >= 3, `failed reports: ${sumOf(m, "meltemi_global_reports_failed_total")}`);
  assert.ok(sumOf(m, "meltemi_global_fail_closed_rejected_total") >= 4);

  // It returns: the next answer restores admission.
  shared.advance(100);
  assert.equal(vm.grpcCalls.length, 1);
  vm.grpcReply(vm.grpcCalls[0]!.token, encodeRateLimitResponse("OK", [{ code: "OK", currentLimit: { requestsPerUnit: 100, unit: "MINUTE" }, limitRemaining: 90 }]));
  assert.deepEqual(await kinds(vm, 1, 30), ["request"]);
});

test("an unknown cluster: proxy_grpc_call refused, counted as unsent, fail open admits", async () => {
  const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(configFor("open")), grpcClusters: ["other"] });
  assert.deepEqual(await kinds(vm, 1, 1), ["request"]);
  vm.advance(100);
  assert.equal(vm.grpcCalls.length, 0);
  assert.equal(sumOf(prometheusView(vm.metrics()), "meltemi_global_reports_unsent_total"), 1);
  assert.deepEqual(await kinds(vm, 1, 2), ["request"]);
});
