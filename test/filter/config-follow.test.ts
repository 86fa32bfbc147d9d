// A new configuration reaches requests on EXISTING connections. Envoy hands an update to new
// connections only (they get a new plugin and root context); every root follows the plugin's last good
// configuration in shared data on its tick. Here: the old root runs in one VM, the update arrives in
// another (Envoy's canary or a new plugin) with the same shared state. The real Envoy:
// test/envoy/config-swap.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SharedState, WasmHost } from "../host/index";
import { decode } from "../codec/harness";
import { dubboRequest } from "../codec/dubbo/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");

const open = { version: 1, name: "greeter", protocol: "dubbo" };
const closed = { ...open, authorization: [{ name: "no-echo", action: "DENY", rules: [{ to: [{ methods: ["echo"] }] }] }] };

async function kinds(bytes: Buffer): Promise<string[]> {
  return (await decode("dubbo", bytes)).frames.map((f) => f.kind);
}

test("an existing connection follows the newest configuration within a tick, without being dropped", async () => {
  const shared = new SharedState();
  const old = await WasmHost.load(wasm, { shared, name: "old", pluginName: "greeter", pluginConfig: JSON.stringify(open) });
  const conn = old.connect();
  conn.downstream(dubboRequest(1n, "echo"));
  assert.deepEqual(await kinds(conn.forwarded), ["request"]);

  const updated = await WasmHost.load(wasm, { shared, name: "new", pluginName: "greeter", pluginConfig: JSON.stringify(closed) });
  conn.downstream(dubboRequest(2n, "echo"));
  assert.deepEqual(await kinds(conn.forwarded), ["request", "request"], "before the tick: the old policy");
  shared.advance(1000);
  conn.downstream(dubboRequest(3n, "echo"));
  conn.downstream(dubboRequest(4n, "hello"));
  assert.deepEqual(await kinds(conn.forwarded), ["request", "request", "heartbeat", "request"], "after it: echo denied (a probe went up), hello forwarded");
  assert.equal(conn.closedBy, null);
  assert.equal(old.metrics().meltemi_config_followed_total, 1);
  assert.ok(old.logs.some((l) => /meltemi\[greeter\]: configuration updated to the proxy's newest one/.test(l.message)));

  // Ticks without a change, and the same text written again by another worker, change nothing.
  const again = await WasmHost.load(wasm, { shared, name: "again", pluginName: "greeter", pluginConfig: JSON.stringify(closed) });
  shared.advance(3000);
  assert.equal(old.metrics().meltemi_config_followed_total, 1);
  assert.deepEqual([old.failed, updated.failed, again.failed, old.warnings], [false, false, false, []]);
});

test("a rejected update is not followed: the last good configuration stays", async () => {
  const shared = new SharedState();
  const old = await WasmHost.load(wasm, { shared, name: "old", pluginName: "greeter", pluginConfig: JSON.stringify(closed) });
  const conn = old.connect();
  await WasmHost.load(wasm, { shared, name: "bad", pluginName: "greeter", pluginConfig: '{"version": 9}' });
  shared.advance(2000);
  conn.downstream(dubboRequest(1n, "echo"));
  assert.deepEqual(await kinds(conn.forwarded), ["heartbeat"], "still denied");
});

test("a root that gets a new connection claims its own configuration again (Envoy reuses a root when an update brings back its text)", async () => {
  const shared = new SharedState();
  const first = await WasmHost.load(wasm, { shared, name: "first", pluginName: "greeter", pluginConfig: JSON.stringify(open) });
  const oldConn = first.connect();
  const second = await WasmHost.load(wasm, { shared, name: "second", pluginName: "greeter", pluginConfig: JSON.stringify(closed) });
  const secondConn = second.connect();
  shared.advance(1000);
  oldConn.downstream(dubboRequest(1n, "echo"));
  assert.deepEqual(await kinds(oldConn.forwarded), ["heartbeat"], "the first root followed the closed configuration");

  // The update back to "open": Envoy reuses the first root (same text) without configuring it; it gets
  // the new connections.
  const fresh = first.connect();
  fresh.downstream(dubboRequest(2n, "echo"));
  assert.deepEqual(await kinds(fresh.forwarded), ["request"], "the new connection runs the root's own configuration");
  oldConn.downstream(dubboRequest(3n, "echo"));
  assert.deepEqual(await kinds(oldConn.forwarded), ["heartbeat", "request"], "and so do its existing connections");
  secondConn.downstream(dubboRequest(4n, "echo"));
  assert.deepEqual(await kinds(secondConn.forwarded), ["heartbeat"], "the other root until its tick");
  shared.advance(1000);
  secondConn.downstream(dubboRequest(5n, "echo"));
  assert.deepEqual(await kinds(secondConn.forwarded), ["heartbeat", "request"], "then it follows");
});
