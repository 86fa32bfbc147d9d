// The server side through real Istio: the controller (a child process, with its RBAC) turns a Service
// and an RpcRateLimit into a WasmPlugin; istiod (pilot-discovery) sends it to the serving pod's
// istio-agent through ECDS; istio-agent pulls the module from a local docker-registry by its digest and
// hands Envoy a local file; Envoy's Meltemi filter then limits real Thrift calls. Nothing is stood in
// for, and no xDS update may be rejected on the way. Runs in its own network namespace (netns.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { WIRES, connect, generated, startServer } from "../codec/thrift/peers";
import { inIstioNamespace } from "./netns";
import { withMesh } from "./mesh";
import { waitFor } from "./sidecar";

await inIstioNamespace(import.meta.url);

const NS = "shop";
const POD_IP = "127.0.1.1";
const PORT = 9090;
const LIMIT = 3;

interface Outcome { ok: boolean; message?: string }

test("server side through istiod and istio-agent: WasmPlugin by digest from a registry, Thrift calls limited, no NACK", { timeout: 900_000 }, async () => {
  await withMesh(async (mesh) => {
    await mesh.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    await mesh.apply({ apiVersion: "meltemi.dev/v1alpha1", kind: "RpcProtocol", metadata: { name: "framedthrift" }, spec: { codec: "thrift", routingMode: "perRequest", thrift: { transport: "FRAMED", protocol: "BINARY" } } });
    await mesh.apply({
      apiVersion: "v1", kind: "Service", metadata: { name: "greeter", namespace: NS },
      spec: { selector: { app: "greeter" }, ports: [{ name: "tcp-metaprotocol-framedthrift-api", port: PORT, targetPort: PORT }] },
    });

    const wire = WIRES.find((w) => w.name === "framed binary")!;
    const app = await startServer(wire, { greeting: "hi" });
    mesh.onStop(() => app.close());
    const pod = await mesh.pod({
      name: "greeter-v1", namespace: NS, serviceAccount: "greeter", labels: { app: "greeter", version: "v1" }, ip: POD_IP,
      // NONE interception: the inbound listener binds the pod's address and forwards to the app.
      sidecar: { ingress: [{ port: { number: PORT, protocol: "TCP", name: "tcp-thrift" }, bind: POD_IP, defaultEndpoint: `127.0.0.1:${app.port}` }], egress: [{ hosts: [`${NS}/*`] }] },
    });

    const { Greeter } = generated();
    const call = (client: ReturnType<typeof connect>, name: string) => new Promise<Outcome>((resolve) =>
      client.client(Greeter).hello(name, (err: { name?: string; message?: string } | null, reply: string) =>
        resolve(err ? { ok: false, message: `${err.name}: ${err.message}` } : { ok: reply === `hi ${name}`, message: reply })));
    const before = connect(PORT, wire, POD_IP);
    mesh.onStop(() => before.close());
    assert.deepEqual(await call(before, "before"), { ok: true, message: "hi before" }, "through the sidecar, before Meltemi");

    const ctl = await mesh.startController();
    await mesh.apply({
      apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRateLimit", metadata: { name: "greeter", namespace: NS },
      spec: { host: `greeter.${NS}.svc.cluster.local`, local: { tokenBucket: { maxTokens: LIMIT, tokensPerFill: LIMIT, fillInterval: "1h" } } },
    });

    // Envoy has the module once ECDS delivered it (istio-agent pulled it first and rewrote the
    // config to a local file); new connections then go through the filter.
    const ecds = await waitFor("Meltemi's filter in Envoy's ECDS config", 240_000, async () => {
      const dump = await pod.admin("/config_dump?resource=ecds_filters");
      return /meltemi/.test(dump) ? dump : undefined;
    }, () => mesh.logs());
    assert.match(ecds, /"filename": "\/var\/lib\/istio\/data\/[^"]+"/, "istio-agent handed Envoy a file from its cache");
    assert.match(pod.log(), new RegExp(mesh.module.sha256), "the agent fetched the pinned digest");
    assert.ok(ctl.logs.length > 0);

    const limited = connect(PORT, wire, POD_IP);
    mesh.onStop(() => limited.close());
    const outcomes: Outcome[] = [];
    for (let i = 0; i < LIMIT + 3; i++) outcomes.push(await call(limited, `n${i}`));
    assert.deepEqual(outcomes.map((o) => o.ok), [true, true, true, false, false, false], JSON.stringify(outcomes));
    for (const o of outcomes.slice(LIMIT)) assert.equal(o.message, "TApplicationException: meltemi: rate limit exceeded");

    assert.deepEqual(Object.fromEntries(await pod.rejections()), {}, "no xDS update was rejected (LDS, CDS, ECDS)");
  });
});
