// The benchmark's load generator (bench/load/client.ts) under an open-loop rate the proxy cannot follow:
// a server that reads everything and never answers. Each connection tracks at most 65,536 requests in
// flight (its id ring); past that the generator stops sending on it and counts the rest as unsent and
// lost, instead of failing the whole benchmark run (as `--rates 200000` against a native-proxy arm did).
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { RING, openLoop } from "../../bench/load/client";
import { benchWire } from "../../bench/load/wire";

test("open loop past 65,536 unanswered requests on a connection: the rest is unsent and lost, the run completes", { timeout: 60_000 }, async (t) => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on("data", () => {}); s.on("error", () => {}); });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => { for (const s of sockets) s.destroy(); server.close(); });
  const port = (server.address() as net.AddressInfo).port;

  const requests = 100_000;
  const r = await openLoop({ wire: await benchWire("thrift"), port, connections: 1, rate: requests, warmupMs: 0, durationMs: 1000 });
  assert.equal(r.unsent, requests - RING, "one connection carries a ring of requests, no more");
  assert.equal(r.lost, requests, "nothing was answered: every request of the window is lost, the unsent ones included");
  assert.equal(r.latenciesMs.length, 0);
  assert.equal(r.invalid, 0);
});
