// The design's premise in the real Envoy (docs/global-rate-limit.md, "The call, on stock Envoy"): the
// ROOT context of a Wasm network filter calls ShouldRateLimit with proxy_grpc_call on its tick, and the
// answer comes back to that root context (proxy_on_grpc_receive with its id and the call's token).
// The module is a minimal fixture (fixtures/root_grpc_probe.ts), built here with the project's asc; the
// request bytes are grpc.ts's, and the service counts the calls.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { staticCluster, tcpProxy, wasmNetworkFilter } from "../envoy/bootstrap";
import { repoRoot, withEnvoy } from "../envoy/envoy";
import { decodeRateLimitResponse, encodeRateLimitRequest } from "./grpc";
import { Redis } from "./redis";
import { RateLimitService, awayFromDayEnd, ratelimitDir } from "./service";

const domain = "meltemi-root-grpc";
const N = 100;
const CALLS_PER_ROOT = 3; // MAX_CALLS in the fixture
let wasmPath = "";
let buildDir = "";

before(() => {
  ratelimitDir();
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-probe-"));
  wasmPath = path.join(buildDir, "probe.wasm");
  // From the build directory: asc would otherwise read the repository's asconfig.json (the filter's
  // entries and options) and compile those too.
  execFileSync("nice", ["-n", "10", path.join(repoRoot, "node_modules/.bin/asc"), path.join(repoRoot, "test/ratelimit/fixtures/root_grpc_probe.ts"),
    "--outFile", wasmPath, "--runtime", "stub", "--exportStart", "_initialize", "--use", "abort=", "-O2"], { cwd: buildDir, stdio: ["ignore", "inherit", "inherit"] });
});

/** GrpcService { envoy_grpc (1) { cluster_name (1) } }, serialized: what the filter will pass. */
function grpcServiceFor(cluster: string): Buffer {
  const name = Buffer.from(cluster, "utf8");
  const envoyGrpc = Buffer.concat([Buffer.from([0x0a, name.length]), name]);
  return Buffer.concat([Buffer.from([0x0a, envoyGrpc.length]), envoyGrpc]);
}

test("a network filter's root context calls the service with proxy_grpc_call and gets the answer", async () => {
  await awayFromDayEnd();
  const redis = await Redis.start();
  const s = await RateLimitService.start({ redisUrl: redis.url, domain, descriptors: [{ key: "method", value: "sayHello", rateLimit: { unit: "day", requestsPerUnit: N } }] });
  try {
    const request = encodeRateLimitRequest(domain, [{ entries: [["method", "sayHello"]], hitsAddend: 1 }]);
    const pluginConfig = `${grpcServiceFor("rls").toString("hex")}\n${request.toString("hex")}`;
    const rls = {
      ...staticCluster("rls", s.grpcPort),
      typed_extension_protocol_options: { "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": { "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", explicit_http_config: { http2_protocol_options: {} } } },
    };
    const bootstrap = {
      admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
      static_resources: {
        listeners: [{
          name: "meltemi",
          address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
          filter_chains: [{ filters: [wasmNetworkFilter({ wasmPath, pluginConfig, pluginName: "probe", vmId: "probe" }), tcpProxy("rls")] }],
        }],
        clusters: [rls],
      },
    };
    await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
      // Every root context (one per worker VM, and the main thread's: concurrency + 1) makes its calls
      // on its own tick. Envoy logs the thread of each line; the root context ids repeat across VMs.
      const threads = 2 + 1;
      const deadline = Date.now() + 20_000;
      const parse = (re: RegExp): string[][] => envoy.log().split("\n").map((l) => re.exec(l)).filter((m) => m !== null).map((m) => [...m]);
      let calls: string[][] = [];
      let answers: string[][] = [];
      let failures: string[][] = [];
      for (;;) {
        calls = parse(/\]\[(\d+)\]\[info\]\[wasm\].*probe: call root=(\d+) result=(\d+) token=(\d+)/);
        answers = parse(/\]\[(\d+)\]\[info\]\[wasm\].*probe: receive ctx=(\d+) token=(\d+) result=(\d+) hex=([0-9a-f]*)/);
        failures = parse(/\]\[(\d+)\]\[info\]\[wasm\].*probe: close ctx=(\d+) token=(\d+) status=(\d+)/);
        if (calls.length >= CALLS_PER_ROOT * threads && answers.length + failures.length >= calls.length) break;
        if (Date.now() > deadline) throw new Error(`${calls.length} calls, ${answers.length} answers, ${failures.length} failures in 20 s:\n${envoy.log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      console.log(`# ${new Set(calls.map((m) => m[1])).size} threads' root contexts: ${calls.length} proxy_grpc_call (results ${[...new Set(calls.map((m) => m[3]))].join(",")}), ${answers.length} proxy_on_grpc_receive, ${failures.length} proxy_on_grpc_close`);
      assert.equal(new Set(calls.map((m) => m[1])).size, threads, "a root context per worker and the main thread");
      assert.ok(calls.every((m) => m[3] === "0"), "proxy_grpc_call from the root returns Ok");
      // A unary call that succeeds gets proxy_on_grpc_receive only (proxy_on_grpc_close is for failures),
      // on the thread and root context that called, under the call's token.
      assert.equal(failures.length, 0);
      assert.equal(answers.length, calls.length);
      const key = (thread: string, ctx: string, token: string): string => `${thread}/${ctx}/${token}`;
      const callers = new Set(calls.map((m) => key(m[1]!, m[2]!, m[4]!)));
      for (const m of answers) assert.ok(callers.has(key(m[1]!, m[2]!, m[3]!)), `answer on thread ${m[1]} root ${m[2]} token ${m[3]} matches a call`);
      // The answers are the service's: OK, each call counted once.
      const remaining = answers.map((m) => {
        assert.equal(m[4], "0", "GrpcReceiveBuffer read");
        const r = decodeRateLimitResponse(Buffer.from(m[5]!, "hex"));
        assert.equal(r.overallCode, "OK");
        assert.deepEqual(r.statuses[0]?.currentLimit, { requestsPerUnit: N, unit: "DAY" });
        return r.statuses[0]!.limitRemaining;
      }).sort((a, b) => b - a);
      assert.deepEqual(remaining, calls.map((_, i) => N - 1 - i));
    });
  } finally {
    s.cleanup();
    redis.cleanup();
    fs.rmSync(buildDir, { recursive: true, force: true });
  }
});
