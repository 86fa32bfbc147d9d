// The remote out-of-memory attack, in the Node host: idle connections that each send most of a large
// frame and nothing more. The filter admits every growth of what it keeps between reads against a
// VM-wide budget (filter/network/memory_budget.ts), sheds the newest offenders past it, never traps,
// and reuses the memory of closed connections. Envoy itself: test/envoy/memory-attack.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmHost } from "../host/index";
import { DubboFrameReader, dubboAnswer, dubboRequest } from "../codec/dubbo/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const MiB = 1024 * 1024;
/** filter/network/memory_budget.ts VM_BUFFER_BUDGET. */
const BUDGET = 32 * MiB;
const config = {
  version: 1, name: "greeter", protocol: "dubbo", routingMode: "perRequest",
  routes: [{ name: "all", destinations: [{ cluster: "outbound|20880|v1|greeter" }] }],
};

/** The first `sent` bytes of a Dubbo request whose header declares a body of `declared` bytes. */
function partialFrame(id: number, declared: number, sent: number): Buffer {
  const b = Buffer.alloc(sent, 0x41);
  b.writeUInt16BE(0xdabb, 0);
  b[2] = 0xc2;
  b[3] = 0;
  b.writeBigInt64BE(BigInt(id), 4);
  b.writeUInt32BE(declared - 16, 12);
  return b;
}

test("many connections each holding 2 MiB of a 4 MiB frame: no trap, memory under the budget, a good client unharmed, a second round costs nothing more", async () => {
  const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const memory = () => (vm.exports.memory as WebAssembly.Memory).buffer.byteLength;
  const good = vm.connect();
  let calls = 0;
  const call = (conn = good) => {
    calls++;
    const request = dubboRequest(BigInt(calls), "greet");
    const before = conn.forwarded.length;
    conn.downstream(request);
    const forwarded = new DubboFrameReader().push(conn.forwarded.subarray(before));
    assert.equal(forwarded.length, 1, "the good client's request goes on");
    const w = conn.written.length;
    conn.upstream(dubboAnswer(forwarded[0]));
    assert.equal(conn.written.length - w, dubboAnswer(request).length, "and its answer comes back");
  };
  call();
  const base = memory();

  const ATTACKERS = 100;
  const PIECE = 256 * 1024;
  const round = () => {
    const attackers = Array.from({ length: ATTACKERS }, () => vm.connect());
    const frames = attackers.map((_, i) => partialFrame(i + 1, 4 * MiB, 2 * MiB));
    // Round robin: every attacker grows a little at a time, the worst case for a budget.
    for (let at = 0; at < 2 * MiB; at += PIECE) {
      attackers.forEach((a, i) => {
        if (!a.closed) a.downstream(frames[i].subarray(at, at + PIECE));
        assert.equal(a.forwarded.length, 0, "an incomplete frame never goes on");
      });
      call();
      call(vm.connect()); // a new good client during the attack
    }
    const shed = attackers.filter((a) => a.closedBy === "filter").length;
    for (const a of attackers) a.close();
    return shed;
  };

  const shed1 = round();
  const after1 = memory();
  const shed2 = round();
  const after2 = memory();
  call();
  console.log(`# Wasm memory: ${(base / MiB).toFixed(1)} MiB before, ${(after1 / MiB).toFixed(1)} after round 1 (${shed1} of ${ATTACKERS} shed), ` +
    `${(after2 / MiB).toFixed(1)} after round 2 (${shed2} shed); budget ${BUDGET / MiB} MiB`);
  assert.equal(vm.failed, false, "the VM never trapped");
  assert.ok(shed1 > 0 && shed1 < ATTACKERS, `some attackers shed, not all (${shed1})`);
  // The runtime's allocator doubles linear memory when it grows (AssemblyScript rt/tlsf.ts growMemory),
  // so the VM's memory is bounded by twice the budget and what else it holds. Without the budget
  // the attackers' buffers alone would be 100 x 4 MiB.
  assert.ok(after1 <= 2 * BUDGET + 8 * MiB, `memory ${(after1 / MiB).toFixed(1)} MiB over twice the budget`);
  assert.equal(after2, after1, "the second round reuses the first round's memory");
  assert.equal(good.closed, false);
  const m = vm.metrics();
  assert.equal(m.meltemi_connections_shed_total, shed1 + shed2);
  const why = vm.logs.filter((l) => l.message.includes("memory budget"));
  assert.equal(why.length, 1, "the reason is logged once per VM");
  assert.equal(m.meltemi_vm_memory_bytes, after2, "the gauge shows the VM's memory");
});

test("a flood of connections each holding just under the offender size: the newest holders are shed, an older client's split frame still goes on", async () => {
  const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const good = vm.connect(); // there before the flood
  const SMALL = 60 * 1024; // under memory_budget.ts OFFENDER_BYTES (64 KiB): never an offender
  const FLOOD = Math.ceil(BUDGET / SMALL) + 40;
  const flood = Array.from({ length: FLOOD }, (_, i) => {
    const a = vm.connect();
    a.downstream(partialFrame(i + 1, 4 * MiB, SMALL));
    return a;
  });
  const shedByFlood = flood.filter((a) => a.closedBy === "filter").length;
  // The budget is full of small holders. The older client now sends a request in two pieces: it must
  // keep its first piece, so the newest holder goes, not the client.
  const request = dubboRequest(7n, "greet");
  good.downstream(request.subarray(0, 20));
  good.downstream(request.subarray(20));
  const forwarded = new DubboFrameReader().push(good.forwarded);
  console.log(`# ${FLOOD} connections of ${SMALL / 1024} KiB each: ${shedByFlood} shed while flooding, ` +
    `${flood.filter((a) => a.closedBy === "filter").length} in all`);
  assert.equal(vm.failed, false, "the VM never trapped");
  assert.equal(good.closed, false, "the older client is not shed");
  assert.equal(forwarded.length, 1, "its split request goes on whole");
  assert.ok(shedByFlood > 0, "past the budget, the newest small holders are shed");
  assert.ok(flood[0]!.closed === false, "the oldest holder stays");
});
