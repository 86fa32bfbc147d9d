// Authorization by the caller's mTLS identity, issued by istiod's CA, through real Istio: STRICT
// PeerAuthentication, a caller sidecar whose certificate istio-agent got from istiod (TokenReview of
// its ServiceAccount token), and an RpcAuthorizationPolicy the controller puts into the server
// WasmPlugin. Meltemi on the server sidecar reads the peer's principal from the TLS connection Istio
// terminated and admits or rejects each Thrift call by it. Runs in its own network namespace (netns.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { KubeHttp } from "../../controller/runtime/kube_http";
import { WIRES, connect, generated, startServer } from "../codec/thrift/peers";
import { inIstioNamespace } from "./netns";
import { ENVOY_VERSIONS, type Mesh, withMesh } from "./mesh";
import { type SidecarPod, bounded } from "./sidecar";
import { waitFor } from "../wait";

await inIstioNamespace(import.meta.url);

const NS = "shop";
const PORT = 9090;
const HOST = `greeter.${NS}.svc.cluster.local`;
const SERVER_IP = "127.0.1.1";
const wire = WIRES.find((w) => w.name === "framed binary")!;
/** Auto mTLS: istiod sends ISTIO_MUTUAL to endpoints that carry this label (a sidecar-injected pod's). */
const MESH_LABEL = { "security.istio.io/tlsMode": "istio" };

/** One hello call on a new connection to `host:PORT`; a TApplicationException becomes its message. */
async function hello(mesh: Mesh, host: string, name: string): Promise<string> {
  const { Greeter } = generated();
  const client = connect(PORT, wire, host);
  mesh.onStop(() => client.close());
  try {
    return await bounded(`hello via ${host}`, 30_000, new Promise<string>((resolve) => client.client(Greeter).hello(name, (err: { name?: string; message?: string } | null, reply: string) =>
      resolve(err ? `${err.name}: ${err.message}` : reply))));
  } finally {
    await client.close();
  }
}

/** Whether a plaintext connection to the server sidecar is closed without an answer (bounded). */
function plaintextRefused(): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let bytesBack = 0;
    const socket = net.connect(PORT, SERVER_IP, () => socket.write(Buffer.from([0, 0, 0, 1, 0])));
    const timer = setTimeout(() => { socket.destroy(); reject(new Error("the plaintext connection stayed open for 60 s")); }, 60_000);
    socket.on("data", (d) => (bytesBack += d.length));
    socket.on("error", () => undefined);
    socket.on("close", () => { clearTimeout(timer); resolve(bytesBack === 0); });
  });
}

function policy(principal: string): Record<string, unknown> {
  return {
    apiVersion: "meltemi.dev/v1alpha1", kind: "RpcAuthorizationPolicy", metadata: { name: "greeter", namespace: NS },
    spec: { hosts: [HOST], action: "ALLOW", rules: [{ from: [{ source: { principals: [principal] } }] }] },
  };
}

/** Waits until the server's Meltemi config (ECDS) names `principal` and its listeners are settled. */
function serverConfigNames(mesh: Mesh, server: SidecarPod, principal: string): Promise<true> {
  return waitFor(`the server's Meltemi config with ${principal}`, async () => {
    const dump = await server.admin("/config_dump?resource=ecds_filters");
    return dump.includes(principal) && /"filename": "\/var\/lib\/istio\/data\//.test(dump) && (await server.listenersSettled()) ? true : undefined;
  }, 240_000, () => mesh.logs());
}

test(`Envoy ${ENVOY_VERSIONS[0]}: STRICT mTLS with istiod's certificates; calls admitted or rejected by the caller's principal; no NACK`, { timeout: 900_000 }, async () => {
  await withMesh(ENVOY_VERSIONS[0], async (mesh) => {
    await mesh.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    await mesh.apply({ apiVersion: "meltemi.dev/v1alpha1", kind: "RpcProtocol", metadata: { name: "framedthrift" }, spec: { codec: "thrift", routingMode: "perRequest", thrift: { transport: "FRAMED", protocol: "BINARY" } } });
    await mesh.apply({
      apiVersion: "v1", kind: "Service", metadata: { name: "greeter", namespace: NS },
      spec: { selector: { app: "greeter" }, ports: [{ name: "tcp-metaprotocol-framedthrift-api", port: PORT, targetPort: PORT }] },
    });
    await mesh.apply({ apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "default", namespace: NS }, spec: { mtls: { mode: "STRICT" } } });
    const clusterIP = (await new KubeHttp(mesh.kube.kubeConfig()).request<{ spec: { clusterIP: string } }>("GET", `/api/v1/namespaces/${NS}/services/greeter`)).spec.clusterIP;

    const app = await startServer(wire, { greeting: "hi" });
    mesh.onStop(() => app.close());
    const server = await mesh.pod({
      name: "greeter-v1", namespace: NS, serviceAccount: "greeter", labels: { app: "greeter", ...MESH_LABEL }, ip: SERVER_IP,
      sidecar: { ingress: [{ port: { number: PORT, protocol: "TCP", name: "tcp-thrift" }, bind: SERVER_IP, defaultEndpoint: `127.0.0.1:${app.port}` }], egress: [{ hosts: [`${NS}/*`] }] },
    });
    // The caller reaches the Service at its clusterIP through its own sidecar (tcp_proxy, mTLS).
    const caller = await mesh.pod({
      name: "caller", namespace: NS, serviceAccount: "caller", labels: { app: "caller", ...MESH_LABEL }, ip: "127.0.2.1",
      sidecar: { egress: [{ port: { number: PORT, protocol: "TCP", name: "tcp-thrift" }, bind: clusterIP, hosts: [`${NS}/${HOST}`] }] },
    });
    assert.equal(await hello(mesh, clusterIP, "mtls"), "hi mtls", "caller -> server over mTLS, before Meltemi");
    assert.equal(await plaintextRefused(), true, "STRICT: a plaintext connection to the server sidecar gets nothing");

    await mesh.startController();
    const callerPrincipal = `cluster.local/ns/${NS}/sa/caller`;
    await mesh.apply(policy(callerPrincipal));
    await serverConfigNames(mesh, server, callerPrincipal);
    assert.equal(await hello(mesh, clusterIP, "allowed"), "hi allowed", "the caller's principal is allowed");

    const other = `cluster.local/ns/${NS}/sa/someone-else`;
    await mesh.apply(policy(other));
    await serverConfigNames(mesh, server, other);
    assert.match(await hello(mesh, clusterIP, "denied"), /^TApplicationException: meltemi: unauthorized/, "only another principal is allowed now");

    for (const pod of [server, caller]) assert.deepEqual(Object.fromEntries(await pod.rejections()), {}, `${pod.spec.name}: no xDS update rejected`);
  });
});
