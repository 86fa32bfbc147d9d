// Aeraki's global rate limit sample through real Istio, as a user migrating from Aeraki writes it: the
// rate limit service (github.com/envoyproxy/ratelimit on Redis, test/ratelimit/) behind a Service whose
// port is named `tcp-rate-limit-server` and without a sidecar, exactly as Aeraki's demo deploys it
// (demo/metaprotocol-*/rate-limit-server/rate-limit-server.yaml in aeraki-mesh/aeraki), and an Aeraki
// MetaRouter `globalRateLimit` naming its Istio outbound cluster. Istio builds that cluster for plain
// TCP, without HTTP/2, so Envoy's gRPC client would get no answer from the service; the controller adds
// HTTP/2 to it with an EnvoyFilter CLUSTER patch in the serving pods (controller/translate/
// rate_limit_http2.ts). Shown here: istiod applies the patch to the serving pod's cluster, the filter's
// reports are answered (the service counts the admitted calls in Redis), and calls over the limit get
// the global verdict's rejection.
//
// Checked without the patch (the controller's EnvoyFilter left out of the translation, by hand,
// 2026-12-04, Envoy 1.37.0): this test fails at its first wait (no http2_protocol_options on the
// cluster: istiod gives the TCP cluster no typed_extension_protocol_options at all), and with that wait
// relaxed, every call is rejected with "meltemi: global rate limit service unavailable" (fail closed,
// never a verdict) and it fails at "a call admitted within 50 calls".
//
// One Envoy version (the pin): the per-version loop would double a minute of mesh set-up for what is
// istiod's behaviour, not Envoy's. Runs in its own network namespace (netns.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { connect, generated } from "../codec/thrift/peers";
import { installCrds } from "../kube/crds";
import { sleep } from "../kube/process";
import { repoRoot } from "../repo_root";
import { Redis } from "../ratelimit/redis";
import { RateLimitService, awayFromDayEnd } from "../ratelimit/service";
import { inIstioNamespace } from "./netns";
import { ENVOY_VERSIONS, type Mesh, withMesh } from "./mesh";
import { bounded } from "./sidecar";
import { waitFor } from "../wait";
import { NS, POD_IP, PORT, greeterPod, wire } from "./greeter_pod";

await inIstioNamespace(import.meta.url);

/** The rate limit service's limit for `hello` (per day: no window ends during the test). */
const LIMIT = 3;
const RLS_CLUSTER = `outbound|8081||rate-limit-server.${NS}.svc.cluster.local`;

interface Outcome { ok: boolean; message: string }

/** The rate limit service and its Redis on the host's loopback, as Aeraki's demo runs them: no sidecar. */
async function rateLimitServer(mesh: Mesh): Promise<{ service: RateLimitService }> {
  const redis = await Redis.start();
  mesh.onStop(() => redis.cleanup());
  const service = await RateLimitService.start({ redisUrl: redis.url, domain: "production", descriptors: [{ key: "method", value: "hello", rateLimit: { unit: "day", requestsPerUnit: LIMIT } }] });
  mesh.onStop(() => service.cleanup());
  // Aeraki's Service, its port name as published; the endpoint is a WorkloadEntry (no kubelet here) at
  // the service's gRPC address, without the tlsMode label: plaintext, as to a pod without a sidecar.
  await mesh.apply({
    apiVersion: "v1", kind: "Service", metadata: { name: "rate-limit-server", namespace: NS },
    spec: { selector: { app: "rate-limit-server" }, ports: [{ name: "tcp-rate-limit-server", protocol: "TCP", port: 8081, targetPort: service.grpcPort }] },
  });
  await mesh.apply({
    apiVersion: "networking.istio.io/v1", kind: "WorkloadEntry", metadata: { name: "rate-limit-server", namespace: NS },
    spec: { address: "127.0.0.1", labels: { app: "rate-limit-server" } },
  });
  return { service };
}

/** Aeraki's MetaRouter globalRateLimit as its demo writes it (the method is the Thrift peer's `hello`). */
const metaRouter = {
  apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name: "greeter", namespace: NS },
  spec: {
    hosts: [`greeter.${NS}.svc.cluster.local`],
    globalRateLimit: {
      domain: "production",
      match: { attributes: { method: { exact: "hello" } } },
      rateLimitService: RLS_CLUSTER,
      requestTimeout: "100ms",
      denyOnFail: true,
      descriptors: [{ property: "method", descriptorKey: "method" }],
    },
  },
};

/** A client of the pod: `hello` calls one after the other on one connection. */
function helloClient(mesh: Mesh): (n: number) => Promise<Outcome> {
  const { Greeter } = generated();
  const client = connect(PORT, wire, POD_IP);
  mesh.onStop(() => client.close());
  const greeter = client.client(Greeter);
  return (n) => bounded(`hello n${n}`, 30_000, new Promise<Outcome>((resolve) => greeter.hello(`n${n}`, (err: { name?: string; message?: string } | null, reply: string) =>
    resolve(err ? { ok: false, message: `${err.name}: ${err.message}` } : { ok: reply === `hi n${n}`, message: reply }))));
}

test(`Envoy ${ENVOY_VERSIONS[0]}: Aeraki's globalRateLimit sample through istiod, its rate limit service on a tcp- port as published: the controller's HTTP/2 patch reaches the serving pod's cluster, the service answers, over the limit is rejected by its verdict; no NACK`, { timeout: 900_000 }, async () => {
  await awayFromDayEnd();
  await withMesh(ENVOY_VERSIONS[0]!, async (mesh) => {
    await mesh.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    const { service } = await rateLimitServer(mesh);
    const pod = await greeterPod(mesh);
    await installCrds(mesh.kube.kubeConfig(), path.join(repoRoot, "test/kube/testdata/aeraki-crds.yaml"));
    await mesh.startController();
    await mesh.apply(metaRouter);

    // istiod applied the controller's patch: the serving pod's cluster of the rate limit service speaks
    // HTTP/2, and the filter with the global limit is in Envoy.
    const cluster = await waitFor("HTTP/2 on the rate limit service's cluster and the global limit in the serving pod", async () => {
      const clusters = JSON.parse(await pod.admin("/config_dump?resource=dynamic_active_clusters")) as { configs: { cluster: { name: string } & Record<string, unknown> }[] };
      const c = clusters.configs.map((x) => x.cluster).find((x) => x.name === RLS_CLUSTER);
      const ecds = await pod.admin("/config_dump?resource=ecds_filters");
      return c && JSON.stringify(c).includes("http2_protocol_options") && /globalLimits/.test(ecds) && (await pod.listenersSettled()) ? c : undefined;
    }, 240_000, () => mesh.logs());
    const options = (cluster.typed_extension_protocol_options as Record<string, { explicit_http_config?: unknown }> | undefined)?.["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
    assert.deepEqual(options?.explicit_http_config, { http2_protocol_options: {} }, JSON.stringify(cluster));

    // Fail closed (denyOnFail): a value's first calls are rejected until the service's first answer,
    // which comes within a report interval once the service answers at all.
    const hello = helloClient(mesh);
    let n = 0;
    const before: Outcome[] = [];
    for (;;) {
      const o = await hello(n++);
      if (o.ok) break;
      before.push(o);
      assert.equal(o.message, "TApplicationException: meltemi: global rate limit service unavailable");
      assert.ok(before.length < 50, `a call admitted within 50 calls 200 ms apart: the service never answered (${mesh.logs()})`);
      await sleep(200);
    }
    // Admitted so far: 1. The verdict admits LIMIT in all (one pod is exact), then rejects.
    const after: Outcome[] = [];
    for (let i = 0; i < LIMIT + 2; i++) after.push(await hello(n++));
    assert.deepEqual(after.map((o) => o.ok), [...Array(LIMIT - 1).fill(true), false, false, false], JSON.stringify(after));
    for (const o of after.slice(LIMIT - 1)) assert.equal(o.message, "TApplicationException: meltemi: global rate limit exceeded", "rejected by the service's verdict");

    // The service counted exactly the admitted calls (the filter's reports, over HTTP/2 through Istio):
    // asked without counting (hits_addend 0), it has none left and is not over (more than LIMIT counted
    // would read OVER_LIMIT: the service compares the count after this request's hits with the limit).
    const verdict = await waitFor("the service's count of hello reaching the limit", async () => {
      const v = await service.shouldRateLimit("production", [{ entries: [["method", "hello"]], hitsAddend: 0 }]);
      return v.statuses[0]?.currentLimit && !v.statuses[0].limitRemaining ? v : undefined;
    }, 30_000);
    assert.equal(verdict.statuses[0]!.code, "OK", `exactly ${LIMIT} counted: every admitted call reported once, no rejected one (${JSON.stringify(verdict)})`);
    console.log(`global limit through Istio: ${before.length} rejected before the first answer (fail closed), ${LIMIT} admitted, ${after.length - (LIMIT - 1)} over the limit; the service counted ${LIMIT}`);
    assert.deepEqual(Object.fromEntries(await pod.rejections()), {}, "no xDS update was rejected (LDS, CDS, ECDS)");
  });
});
