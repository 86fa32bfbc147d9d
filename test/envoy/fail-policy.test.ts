// What Envoy does with a network Wasm filter whose VM traps, per failure policy (docs/filter.md "When
// the VM fails"; the controller renders FAIL_RELOAD). The module is a minimal proxy-wasm network
// filter written in WAT that traps on a one-byte read and passes everything else, so the trap can be
// caused on demand; Meltemi's own module has no such switch. Each policy: one connection makes the VM
// trap, then new connections show what Envoy does with the failed VM.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import wabt from "wabt";
import { listenerBootstrap, staticCluster, tcpProxy, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";

// Exports are what proxy-wasm-cpp-host looks for; callbacks it does not find are skipped.
const WAT = `(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param $size i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_new_connection") (param i32) (result i32) (i32.const 0))
  (func (export "proxy_on_downstream_data") (param $id i32) (param $len i32) (param $end i32) (result i32)
    (if (i32.eq (local.get $len) (i32.const 1)) (then unreachable))
    (i32.const 0))
  (func (export "proxy_on_upstream_data") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))`;

async function trappingModule(dir: string): Promise<string> {
  const w = await wabt();
  const parsed = w.parseWat("trap.wat", WAT);
  const file = path.join(dir, "trap.wasm");
  fs.writeFileSync(file, Buffer.from(parsed.toBinary({}).buffer));
  parsed.destroy();
  return file;
}

async function echoServer(): Promise<{ port: number; close(): void }> {
  const server = net.createServer((s) => { s.on("error", () => {}); s.pipe(s); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/** Sends `data`; resolves with what came back before the connection closed or 2 s passed. */
function roundTrip(port: number, data: string): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const s = net.connect(port, "127.0.0.1", () => s.write(data));
    const done = () => { clearTimeout(timer); s.destroy(); resolve(got); };
    const timer = setTimeout(done, 2_000);
    s.on("data", (d) => { got += d.toString(); if (got.length >= data.length) done(); });
    s.on("error", done);
    s.on("close", done);
  });
}

function withPolicy(file: string, policy: string | undefined, upstream: number): object {
  const filter = wasmNetworkFilter({ pluginConfig: "", wasmPath: file }) as { typed_config: { config: Record<string, unknown> } };
  if (policy !== undefined) filter.typed_config.config.failure_policy = policy;
  return listenerBootstrap([filter, tcpProxy("upstream")], [staticCluster("upstream", upstream)]);
}

const CASES = [
  ["FAIL_RELOAD", true, "work again (a new VM)"],
  ["FAIL_CLOSED", false, "keep failing"],
  [undefined, false, "keep failing (Envoy's default is FAIL_CLOSED)"],
  ["FAIL_OPEN", true, "pass (without the filter)"],
] as const;
for (const [policy, recovers, what] of CASES) {
  test(`failure_policy ${policy ?? "unset"}: after a trap, new connections ${what}`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-trap-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const upstream = await echoServer();
    t.after(() => upstream.close());
    await withEnvoy({ bootstrap: withPolicy(await trappingModule(dir), policy, upstream.port), concurrency: 1 }, async (envoy) => {
      const port = await envoy.listenerPort("meltemi");
      assert.equal(await roundTrip(port, "hello"), "hello", "before the trap");
      assert.equal(await roundTrip(port, "X"), "", "the trapping read goes nowhere");
      // FAIL_RELOAD's backoff starts at 1 s: try for a few seconds (bounded).
      let after = "";
      for (let i = 0; i < 8 && after !== "hello"; i++) {
        await new Promise((r) => setTimeout(r, 500));
        after = await roundTrip(port, "hello");
      }
      assert.equal(after === "hello", recovers, `after the trap: ${JSON.stringify(after)}`);
      assert.match(envoy.log(), /unreachable|RuntimeError|failed/i);
    });
  });
}
