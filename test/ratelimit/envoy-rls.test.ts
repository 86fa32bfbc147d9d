// Stock Envoy (1.37, its own network `ratelimit` filter) against the real rate limit service: the
// gRPC client Envoy gives a Wasm root context (grpcCall) is the same async client, so this shows what
// the filter's reports will need from the service's cluster (docs/global-rate-limit.md): HTTP/2
// protocol options. A cluster without them (what Istio makes of a port named `tcp-*`, as in Aeraki's
// demo) gives no verdict, and Envoy applies its failure mode.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { withEnvoy } from "../envoy/envoy";
import { Redis } from "./redis";
import { RateLimitService, awayFromDayEnd, ratelimitDir } from "./service";

const domain = "meltemi-envoy";
const N = 3;

before(() => {
  ratelimitDir();
});

function bootstrap(grpcPort: number, echoPort: number, http2: boolean): object {
  const endpoint = (port: number) => ({ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] });
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    static_resources: {
      listeners: [{
        name: "in",
        address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
        filter_chains: [{
          filters: [
            {
              name: "envoy.filters.network.ratelimit",
              typed_config: {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.ratelimit.v3.RateLimit",
                stat_prefix: "rl",
                domain,
                descriptors: [{ entries: [{ key: "method", value: "sayHello" }] }],
                failure_mode_deny: false,
                timeout: "5s",
                rate_limit_service: { grpc_service: { envoy_grpc: { cluster_name: "rls" } }, transport_api_version: "V3" },
              },
            },
            { name: "envoy.filters.network.tcp_proxy", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", stat_prefix: "tcp", cluster: "echo" } },
          ],
        }],
      }],
      clusters: [
        {
          name: "rls", type: "STATIC", connect_timeout: "1s", load_assignment: { cluster_name: "rls", endpoints: [endpoint(grpcPort)] },
          ...(http2 ? { typed_extension_protocol_options: { "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": { "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", explicit_http_config: { http2_protocol_options: {} } } } } : {}),
        },
        { name: "echo", type: "STATIC", connect_timeout: "1s", load_assignment: { cluster_name: "echo", endpoints: [endpoint(echoPort)] } },
      ],
    },
  };
}

/** One connection through Envoy: each makes the network ratelimit filter ask the service once. */
function oneConnection(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => s.write("x"));
    const timer = setTimeout(() => s.destroy(), 5_000);
    s.on("data", () => s.end()); // echoed: admitted
    s.on("close", () => { clearTimeout(timer); resolve(); }); // closed by Envoy: rejected
    s.on("error", () => { /* a reset counts as closed */ });
  });
}

async function verdicts(envoy: { stat(name: string): Promise<number | undefined> }): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const k of ["ok", "over_limit", "error", "failure_mode_allowed"]) out[k] = (await envoy.stat(`ratelimit.rl.${k}`)) ?? 0;
  return out;
}

test("Envoy's gRPC client reaches the service only over an HTTP/2 cluster", async () => {
  await awayFromDayEnd();
  const redis = await Redis.start();
  const s = await RateLimitService.start({ redisUrl: redis.url, domain, descriptors: [{ key: "method", value: "sayHello", rateLimit: { unit: "day", requestsPerUnit: N } }] });
  const echo = net.createServer((c) => c.pipe(c));
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  const echoPort = (echo.address() as net.AddressInfo).port;
  try {
    for (const http2 of [true, false]) {
      await withEnvoy({ bootstrap: bootstrap(s.grpcPort, echoPort, http2), concurrency: 1 }, async (envoy) => {
        const port = await envoy.listenerPort("in");
        for (let i = 0; i < N + 2; i++) await oneConnection(port);
        // The verdict of the last connection may be counted just after its close: wait for all.
        const deadline = Date.now() + 10_000;
        let v = await verdicts(envoy);
        while (v.ok! + v.over_limit! + v.error! < N + 2 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          v = await verdicts(envoy);
        }
        console.log(`# rls cluster ${http2 ? "with" : "without"} HTTP/2: ${JSON.stringify(v)}`);
        if (http2) {
          assert.deepEqual(v, { ok: N, over_limit: 2, error: 0, failure_mode_allowed: 0 });
        } else {
          assert.equal(v.ok! + v.over_limit!, 0, "no verdict without HTTP/2");
          assert.equal(v.error, N + 2);
          assert.equal(v.failure_mode_allowed, N + 2, "failure_mode_deny false: admitted");
        }
      });
    }
  } finally {
    echo.close();
    s.cleanup();
    redis.cleanup();
  }
});
