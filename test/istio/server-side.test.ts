// The server side through real Istio: the controller (a child process, with its RBAC) turns a Service
// and an RpcRateLimit into a WasmPlugin (or a TrafficExtension); istiod (pilot-discovery) sends it to
// the serving pod's istio-agent through ECDS; istio-agent pulls the module from a local docker-registry
// by its digest and hands Envoy a local file; Envoy's Meltemi filter then limits real Thrift calls.
// With a digest the registry does not have, istio-agent refuses the module and puts what the fail
// strategy says in its place. Nothing is stood in for, and no xDS update may be rejected on the way.
// Runs in its own network namespace (netns.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { connect, generated } from "../codec/thrift/peers";
import { inIstioNamespace } from "./netns";
import { ENVOY_VERSIONS, type Mesh, withMesh } from "./mesh";
import { type SidecarPod, bounded } from "./sidecar";
import { waitFor } from "../wait";
import { NS, POD_IP, PORT, greeterPod, wire } from "./greeter_pod";

await inIstioNamespace(import.meta.url);

const LIMIT = 3;

interface Outcome { ok: boolean; message?: string }

/** `count` hello calls, one after the other, on a new connection to the pod. */
async function helloCalls(mesh: Mesh, count: number): Promise<Outcome[]> {
  const { Greeter } = generated();
  const client = connect(PORT, wire, POD_IP);
  mesh.onStop(() => client.close());
  const greeter = client.client(Greeter);
  const outcomes: Outcome[] = [];
  for (let i = 0; i < count; i++) {
    outcomes.push(await bounded(`hello n${i}`, 30_000, new Promise<Outcome>((resolve) => greeter.hello(`n${i}`, (err: { name?: string; message?: string } | null, reply: string) =>
      resolve(err ? { ok: false, message: `${err.name}: ${err.message}` } : { ok: reply === `hi n${i}`, message: reply })))));
  }
  await client.close();
  return outcomes;
}

/** Waits until Envoy's ECDS config of the pod matches every pattern (the config istio-agent handed it). */
function ecdsMatching(mesh: Mesh, pod: SidecarPod, what: string, ...patterns: RegExp[]): Promise<string> {
  return waitFor(what, async () => {
    const dump = await pod.admin("/config_dump?resource=ecds_filters");
    return patterns.every((p) => p.test(dump)) && (await pod.listenersSettled()) ? dump : undefined;
  }, 240_000, () => mesh.logs());
}

/** Starts the controller, applies the limit, waits for Meltemi in Envoy, checks the limit and the digest. */
async function limitThroughIstio(mesh: Mesh, pod: SidecarPod, controllerArgs: string[]): Promise<void> {
  assert.deepEqual(await helloCalls(mesh, 1), [{ ok: true, message: "hi n0" }], "through the sidecar, before Meltemi");
  await mesh.startController(controllerArgs);
  await mesh.apply({
    apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRateLimit", metadata: { name: "greeter", namespace: NS },
    spec: { host: `greeter.${NS}.svc.cluster.local`, local: { tokenBucket: { maxTokens: LIMIT, tokensPerFill: LIMIT, fillInterval: "1h" } } },
  });
  // Envoy has the module once ECDS delivered it (istio-agent pulled it first and rewrote the config
  // to a local file); new connections then go through the filter.
  // The controller may write the WasmPlugin once without the limit (the RpcRateLimit is applied after
  // it starts): wait for the version with it.
  const ecds = await ecdsMatching(mesh, pod, "Meltemi's filter with the limit in Envoy's ECDS config", /meltemi-server-greeter-9090/, /localRateLimit/, /"filename": "\/var\/lib\/istio\/data\//);
  assert.match(ecds, /"root_id": "meltemi"/);
  assert.match(pod.log(), new RegExp(`fetching oci image from ${mesh.module.url.replace(/[.?]/g, "\\$&")}`), "istio-agent fetched the pinned digest");

  const outcomes = await helloCalls(mesh, LIMIT + 3);
  assert.deepEqual(outcomes.map((o) => o.ok), [true, true, true, false, false, false], JSON.stringify(outcomes));
  for (const o of outcomes.slice(LIMIT)) assert.equal(o.message, "TApplicationException: meltemi: rate limit exceeded");
  assert.deepEqual(Object.fromEntries(await pod.rejections()), {}, "no xDS update was rejected (LDS, CDS, ECDS)");
}

/** Resolves once the server closes a new connection to the pod after a request was written (bounded). */
function closedByServer(): Promise<{ bytesBack: number }> {
  return new Promise((resolve, reject) => {
    let bytesBack = 0;
    const socket = net.connect(PORT, POD_IP, () => socket.write(Buffer.from([0, 0, 0, 1, 0])));
    const timer = setTimeout(() => { socket.destroy(); reject(new Error("the connection stayed open for 60 s")); }, 60_000);
    socket.on("data", (d) => (bytesBack += d.length));
    socket.on("error", () => undefined);
    socket.on("close", () => { clearTimeout(timer); resolve({ bytesBack }); });
  });
}

for (const envoy of ENVOY_VERSIONS) {
  test(`Envoy ${envoy}: server side through istiod and istio-agent: WasmPlugin by digest from a registry, Thrift calls limited; a wrong digest is refused and the fail strategy applies; no NACK`, { timeout: 900_000 }, async () => {
    await withMesh(envoy, async (mesh) => {
      const pod = await greeterPod(mesh);
      await limitThroughIstio(mesh, pod, ["--traffic-extension", "never"]);
      await mesh.controller!.stop();

      // A digest the registry does not have: istio-agent cannot pull it and sends Envoy an RBAC filter in
      // the module's place (pkg/wasm/convert.go): allow-all only for FAIL_OPEN, deny-all for every other
      // strategy, FAIL_RELOAD (the controller's default) included. Envoy rejects nothing either way.
      const wrong = mesh.module.url.replace(/sha256:[0-9a-f]{64}$/, `sha256:${"0".repeat(64)}`);
      await mesh.startController(["--traffic-extension", "never", "--wasm-url", wrong]);
      await ecdsMatching(mesh, pod, "the deny-all fallback (default FAIL_RELOAD)", /wasm-default-deny/);
      assert.match(pod.log(), /error in converting the wasm config to local: .*applying deny RBAC filter/);
      assert.deepEqual(await closedByServer(), { bytesBack: 0 }, "FAIL_RELOAD, module not pulled: the connection is closed without an answer");
      await mesh.controller!.stop();

      await mesh.startController(["--traffic-extension", "never", "--wasm-url", wrong, "--fail-strategy", "FAIL_OPEN"]);
      await ecdsMatching(mesh, pod, "the allow-all fallback (FAIL_OPEN)", /wasm-default-allow/);
      assert.match(pod.log(), /error in converting the wasm config to local: .*applying allow RBAC filter/);
      const open = await helloCalls(mesh, LIMIT + 3);
      assert.deepEqual(open.map((o) => o.ok), [true, true, true, true, true, true], `FAIL_OPEN lets every call through, unlimited: ${JSON.stringify(open)}`);
      await mesh.controller!.stop();

      await mesh.startController(["--traffic-extension", "never", "--wasm-url", wrong, "--fail-strategy", "FAIL_CLOSE"]);
      await ecdsMatching(mesh, pod, "the deny-all fallback (FAIL_CLOSE)", /wasm-default-deny/);
      assert.deepEqual(await closedByServer(), { bytesBack: 0 }, "FAIL_CLOSE: the connection is closed without an answer");
      assert.deepEqual(Object.fromEntries(await pod.rejections()), {}, "no xDS update was rejected (LDS, CDS, ECDS)");
    });
  });
}

test(`Envoy ${ENVOY_VERSIONS[0]}: server side through istiod: the same limit as a TrafficExtension (Istio 1.30+), no NACK`, { timeout: 900_000 }, async () => {
  await withMesh(ENVOY_VERSIONS[0], async (mesh) => {
    const pod = await greeterPod(mesh);
    await limitThroughIstio(mesh, pod, ["--traffic-extension", "always"]);
  });
});
