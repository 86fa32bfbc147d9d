// A configuration swap under steady load, in the real Envoy with real Thrift peers: one long-lived
// connection calls without pause while new connections come and go; the listener's filter
// configuration changes (LDS over the filesystem) from "allow all" to "deny echo". Envoy gives the new
// configuration to new connections only (a new plugin and root context); the old connection's root
// follows it from shared data on its tick (filter/plugin.ts). Zero failed calls other than the echo
// calls the new policy denies, the old connection sees the new policy and is never dropped.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { WIRES, call, connect, generated, startServer } from "../codec/thrift/peers";
import { until } from "../wait";
import { fileLdsBootstrap, listenerFile, tcpProxy, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";

const open = { version: 1, name: "greeter", protocol: "thrift" };
const closed = { ...open, authorization: [{ name: "no-echo", action: "DENY", rules: [{ to: [{ methods: ["echo"] }] }] }] };

function writeAtomically(file: string, content: object): void {
  fs.writeFileSync(file + ".tmp", JSON.stringify(content));
  fs.renameSync(file + ".tmp", file);
}

/** One call: `opened` is when its connection was opened, `at` when the call ended. */
type Outcome = { method: string; ok: boolean; error?: string; opened: number; at: number };

test("a configuration swap under steady load: only the calls the new policy denies fail; the old connection follows it", { timeout: 120_000 }, async (t) => {
  const wire = WIRES.find((w) => w.name === "framed binary")!;
  const { Greeter, types } = generated();
  const server = await startServer(wire, { greeting: "hi" });
  t.after(() => server.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-lds-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const lds = path.join(dir, "lds.json");
  const chain = (config: object) => [wasmNetworkFilter({ pluginConfig: config }), tcpProxy("upstream")];
  writeAtomically(lds, listenerFile(chain(open), "1"));

  await withEnvoy({ bootstrap: fileLdsBootstrap(lds, server.port), concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");
    const one = async (greeter: { hello: Function; echo: Function }, method: "hello" | "echo", i: number, opened: number): Promise<Outcome> => {
      try {
        if (method === "hello") assert.equal(await call<string>((cb) => greeter.hello(`n${i}`, cb)), `hi n${i}`);
        else assert.equal((await call<{ id: number }>((cb) => greeter.echo(new types.Item({ id: i }), cb))).id, i);
        return { method, ok: true, opened, at: Date.now() };
      } catch (e) {
        return { method, ok: false, error: String((e as Error).message ?? e), opened, at: Date.now() };
      }
    };

    // The long-lived connection: calls back to back, hello and echo in turn.
    const old = connect(port, wire);
    t.after(() => old.close());
    const oldGreeter = old.client(Greeter);
    const oldOpened = Date.now();
    const oldOutcomes: Outcome[] = [];
    let stop = false;
    const oldLoop = (async () => {
      for (let i = 0; !stop; i++) oldOutcomes.push(await one(oldGreeter, i % 2 === 0 ? "hello" : "echo", i, oldOpened));
    })();
    // New connections: one every 100 ms, a hello and an echo each.
    const newOutcomes: Outcome[] = [];
    const connErrors: Error[] = [];
    const newLoop = (async () => {
      for (let i = 0; !stop; i++) {
        const opened = Date.now();
        const c = connect(port, wire);
        const g = c.client(Greeter);
        newOutcomes.push(await one(g, "hello", i, opened), await one(g, "echo", i, opened));
        connErrors.push(...c.errors);
        c.close();
        await new Promise((r) => setTimeout(r, 100)); // the pace of new connections, not a wait for an outcome
      }
    })();

    // Swap once both loops are under way (both methods served on the old connection and on two new ones).
    await until("load before the swap", () => oldOutcomes.length >= 10 && newOutcomes.length >= 4, 30_000);
    const swappedAt = Date.now();
    writeAtomically(lds, listenerFile(chain(closed), "2"));
    await until("the old connection to see the new policy", () => oldOutcomes.some((o) => !o.ok), 20_000);
    const followedAt = Date.now();
    // Keep the load on until the old connection has served hellos under the new policy and two connections
    // opened after that have finished.
    const helloAfterFollow = () => oldOutcomes.filter((o) => o.ok && o.at > followedAt).length;
    await until("load after the swap", () => helloAfterFollow() > 5 && newOutcomes.filter((o) => o.opened > followedAt).length >= 4, 30_000);
    stop = true;
    await Promise.all([oldLoop, newLoop]);

    const firstDenial = oldOutcomes.findIndex((o) => !o.ok);
    t.diagnostic(`old connection: ${oldOutcomes.length} calls, first denial ${firstDenial >= 0 ? oldOutcomes[firstDenial].at - swappedAt : "never"} ms after the swap; new connections: ${newOutcomes.length / 2}`);
    assert.ok(firstDenial >= 0, `the old connection never saw the new policy (${oldOutcomes.length} calls)`);
    for (const o of [...oldOutcomes, ...newOutcomes]) {
      if (o.ok) continue;
      assert.equal(o.method, "echo", `a ${o.method} call failed: ${o.error}`);
      assert.match(o.error ?? "", /meltemi: unauthorized \(no-echo\)/);
      assert.ok(o.at >= swappedAt, "a call failed before the swap");
    }
    // From its first denial on, the old connection runs the new policy: every echo denied, every hello served.
    for (const o of oldOutcomes.slice(firstDenial)) assert.equal(o.ok, o.method === "hello", JSON.stringify(o));
    assert.ok(oldOutcomes.slice(firstDenial).filter((o) => o.method === "hello").length > 5, "hello calls after the swap on the old connection");
    // New connections opened well after the swap run it too.
    const late = newOutcomes.filter((o) => o.opened > followedAt);
    assert.ok(late.length >= 2, `${late.length} late calls`);
    for (const o of late) assert.equal(o.ok, o.method === "hello", JSON.stringify(o));
    assert.deepEqual(old.errors, [], "the old connection was never dropped");
    assert.deepEqual(connErrors, []);
    assert.equal(oldOutcomes.filter((o) => o.ok && o.method === "hello").length, oldOutcomes.filter((o) => o.method === "hello").length);
    assert.ok((await envoy.wasmStatTotal("meltemi_config_followed_total")) >= 1);
  });
});
