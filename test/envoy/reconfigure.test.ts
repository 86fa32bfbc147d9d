// A configuration update that the filter rejects leaves the previous good configuration in force
// (the plugin reuses the worker VMs, and the filter remembers the last good config per plugin name).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileLdsBootstrap, listenerFile, tcpProxy, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";
import { closeSocket, exchange, random, startSinkReplyServer } from "../support/tcp";
import { until } from "../wait";

function writeAtomically(file: string, content: object): void {
  // Envoy watches the directory for a move onto the file (file-based xDS).
  fs.writeFileSync(file + ".tmp", JSON.stringify(content));
  fs.renameSync(file + ".tmp", file);
}


test("a rejected update keeps the previous configuration; traffic keeps flowing", async (t) => {
  const reply = random(4096);
  const upstream = await startSinkReplyServer(4096, reply);
  t.after(() => upstream.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-lds-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const lds = path.join(dir, "lds.json");
  const chain = (config: object | string) => [wasmNetworkFilter({ pluginConfig: config }), tcpProxy("upstream")];
  writeAtomically(lds, listenerFile(chain({ version: 1, name: "first" }), "1"));

  await withEnvoy({ bootstrap: fileLdsBootstrap(lds, upstream.port), concurrency: 2 }, async (envoy) => {
    assert.match(envoy.log(), /meltemi\[first\]: configuration accepted/);

    writeAtomically(lds, listenerFile(chain({ version: 7, name: "second" }), "2"));
    await until("the update to be rejected", () => /configuration rejected: unknown schema version 7/.test(envoy.log()));
    const log = envoy.log();
    assert.match(log, /meltemi\[first\]: configuration rejected: unknown schema version 7 \(this filter knows version 1\); keeping the previous configuration/);
    assert.doesNotMatch(log, /no previous configuration/);

    await until("the new listener to serve", async () => {
      const stats = await envoy.admin("/stats?filter=listener_manager.lds.update_success");
      return /update_success: 2/.test(stats);
    });
    const payload = random(4096);
    const r = await exchange(await envoy.listenerPort("meltemi"), payload, reply.length);
    assert.ok(r.back.equals(reply));
    assert.ok(upstream.received.some((got) => got.equals(payload)));
    await closeSocket(r.socket);
    assert.ok(envoy.alive);
  });
});
