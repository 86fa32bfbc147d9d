// The walking skeleton in the real Envoy: the module loads as a network filter in front of tcp_proxy,
// bytes pass unchanged in both directions, and its metrics are right in /stats/prometheus.
import { test } from "node:test";
import assert from "node:assert/strict";
import { passThroughBootstrap, tcpProxy, wasmNetworkFilter } from "./bootstrap";
import { Envoy, withEnvoy } from "./envoy";
import { closeSocket, exchange, random, startSinkReplyServer } from "../support/tcp";
import { waitFor } from "../wait";

const MiB = 1 << 20;


test("1 MiB per connection passes unchanged both ways, and the metrics count it", async (t) => {
  const reply = random(MiB);
  const upstream = await startSinkReplyServer(MiB, reply);
  t.after(() => upstream.close());
  const bootstrap = passThroughBootstrap([wasmNetworkFilter({ pluginConfig: { version: 1, name: "passthrough-test" } }), tcpProxy("upstream")], upstream.port);

  await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");
    const payloads = [random(MiB), random(MiB), random(MiB)];
    const results = await Promise.all(payloads.map((p) => exchange(port, p, MiB)));

    for (const r of results) assert.ok(r.back.equals(reply), "the client received exactly what the upstream sent");
    assert.equal(upstream.received.length, 3);
    for (const p of payloads) {
      assert.ok(upstream.received.some((got) => got.equals(p)), "the upstream received exactly what a client sent");
    }

    const during = await envoy.prometheus();
    assert.equal(during.get("meltemi_active_connections"), 3);

    await Promise.all(results.map((r) => closeSocket(r.socket)));
    const after = await waitFor("active connections back to 0", async () => {
      const m = await envoy.prometheus();
      return m.get("meltemi_active_connections") === 0 ? m : undefined;
    }, 10_000);
    assert.equal(after.get("meltemi_connections_total"), 3);
    assert.equal(after.get("meltemi_downstream_rx_bytes_total"), 3 * MiB);
    assert.equal(after.get("meltemi_downstream_tx_bytes_total"), 3 * MiB);
    assert.equal(after.get("meltemi_config_rejected_total") ?? 0, 0);
    assert.ok((after.get("meltemi_config_accepted_total") ?? 0) >= 1);

    const text = await envoy.admin("/stats/prometheus");
    assert.match(text, /^# TYPE meltemi_connections_total counter$/m);
    assert.match(text, /^# TYPE meltemi_active_connections gauge$/m);
    assert.match(envoy.log(), /meltemi\[passthrough-test\]: configuration accepted/);
  });
});

for (const [label, config, reason] of [
  ["not JSON", "this is { not json", /configuration rejected: invalid JSON: unexpected character 't' at offset 0/],
  ["an unknown schema version", JSON.stringify({ version: 99 }), /configuration rejected: unknown schema version 99 \(this filter knows version 1\)/],
] as const) {
  test(`a configuration that is ${label} is logged with the reason, and traffic passes (default config)`, async (t) => {
    const reply = random(64 * 1024);
    const upstream = await startSinkReplyServer(64 * 1024, reply);
    t.after(() => upstream.close());
    const bootstrap = passThroughBootstrap([wasmNetworkFilter({ pluginConfig: config }), tcpProxy("upstream")], upstream.port);

    await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy: Envoy) => {
      const log = envoy.log();
      assert.match(log, reason);
      assert.match(log, /no previous configuration, running the default \(pass-through\)/);

      const payload = random(64 * 1024);
      const r = await exchange(await envoy.listenerPort("meltemi"), payload, reply.length);
      assert.ok(r.back.equals(reply));
      assert.ok(upstream.received[0].equals(payload));
      await closeSocket(r.socket);

      const m = await envoy.prometheus();
      assert.ok((m.get("meltemi_config_rejected_total") ?? 0) >= 1, "the rejection is counted");
      assert.equal(m.get("meltemi_connections_total"), 1);
      assert.ok(envoy.alive, "envoy is still running");
    });
  });
}
