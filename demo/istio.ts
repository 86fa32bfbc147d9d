// `npm run demo -- --istio`: the same services, callers and load as the default demo, but real Istio
// in place of demo/adapter.ts. The mesh of test/istio/ (a kube-apiserver with Istio's and Meltemi's
// CRDs, istiod, one istio-agent + official Envoy per pod, the module pushed to a local registry and
// pulled by digest) runs inside a network namespace of its own (test/istio/netns.ts: root is needed);
// the sample objects are applied to the apiserver and `meltemi controller` turns them into WasmPlugins
// and EnvoyFilters, which istiod delivers. Pods are WorkloadEntries with STRICT mTLS from istiod's CA.
import type { KubeObject } from "../controller/k8s/objects";
import { KubeHttp } from "../controller/runtime/kube_http";
import { ENVOY_VERSIONS, type Mesh, withMesh } from "../test/istio/mesh";
import { type SidecarPod } from "../test/istio/sidecar";
import { waitFor } from "../test/wait";
import { startDubboLoad, startDubboService } from "./dubbo";
import type { Processes } from "./processes";
import type { CallRecord } from "./summary";
import { type Mix, startThriftLoad, startThriftService } from "./thrift";

export interface DemoService { protocol: "thrift" | "dubbo"; service: string; caller: string; rate: number; mix: readonly Mix[] }

export interface IstioDemoInput {
  config: KubeObject[];
  services: readonly DemoService[];
  versions: readonly string[];
  namespace: string;
  procs: Processes;
  runDir: string;
  classpath: string;
  record: (r: CallRecord) => void;
  /** Where the demo registers what to close before the mesh stops (the Thrift apps and loads). */
  closers: (() => Promise<void>)[];
}

/** Auto mTLS: istiod sends ISTIO_MUTUAL to endpoints that carry this label (a sidecar-injected pod's). */
const MESH_LABEL = { "security.istio.io/tlsMode": "istio" };
const READY_MS = 240_000;

/**
 * A Service without the samples' fixed clusterIP (a 10.x address, as in a cluster): here the apiserver
 * allocates one from its loopback range (test/istio/mesh.ts SERVICE_CIDR), since nothing may leave
 * 127.0.0.0/8.
 */
function withoutClusterIP(obj: KubeObject): KubeObject {
  if (obj.kind !== "Service") return obj;
  const spec = { ...(obj.spec as Record<string, unknown>) };
  delete spec.clusterIP;
  delete spec.clusterIPs;
  return { ...obj, spec };
}

type ServiceObject = KubeObject<{ ports: { port: number; targetPort: number }[]; selector: Record<string, string> }>;

/**
 * Starts the mesh, the apps, the sidecars, the controller and the load; resolves once the load runs,
 * with the function that stops the mesh (every process of it).
 */
export async function startIstioDemo(input: IstioDemoInput): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let ready!: () => void;
  let failed!: (err: unknown) => void;
  const started = new Promise<void>((resolve, reject) => { ready = resolve; failed = reject; });
  const envoy = ENVOY_VERSIONS[0];
  console.log(`  istio: kube-apiserver, istiod and one istio-agent per pod (official Envoy ${envoy}) in a network namespace of their own`);
  const done = withMesh(envoy, async (mesh) => {
    await setUp(mesh, input);
    ready();
    await released;
  });
  done.catch(failed);
  await started;
  return async () => { release(); await done; };
}

async function setUp(mesh: Mesh, input: IstioDemoInput): Promise<void> {
  const { namespace: ns } = input;
  await mesh.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  await mesh.apply({ apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "default", namespace: ns }, spec: { mtls: { mode: "STRICT" } } });
  for (const obj of input.config) await mesh.apply(withoutClusterIP(obj) as unknown as Record<string, unknown>);
  const http = new KubeHttp(mesh.kube.kubeConfig());

  const callers: { s: DemoService; pod: SidecarPod; clusterIP: string; port: number; proxy: RegExp }[] = [];
  const servers: SidecarPod[] = [];
  for (const [i, s] of input.services.entries()) {
    const svc = input.config.find((o) => o.kind === "Service" && o.metadata.name === s.service) as ServiceObject | undefined;
    if (!svc) throw new Error(`the samples have no Service ${s.service}`);
    const { port, targetPort } = svc.spec!.ports[0];
    for (const [v, version] of input.versions.entries()) {
      const app = s.protocol === "thrift"
        ? await startThriftService(version).then((t) => { input.closers.push(t.close); return t.port; })
        : (await startDubboService(input.procs, input.classpath, input.runDir, version)).port;
      const ip = `127.0.${i + 1}.${v + 1}`;
      const pod = await mesh.pod({
        name: `${s.service}-${version}`, namespace: ns, serviceAccount: s.service, labels: { ...svc.spec!.selector, version, ...MESH_LABEL }, ip,
        sidecar: { ingress: [{ port: { number: targetPort, protocol: "TCP", name: "tcp-app" }, bind: ip, defaultEndpoint: `127.0.0.1:${app}` }], egress: [{ hosts: [`${ns}/*`] }] },
      });
      servers.push(pod);
      console.log(`  pod ${pod.spec.name}: ${s.protocol} app 127.0.0.1:${app} <- istio-agent + Envoy ${ip}:${targetPort} (WorkloadEntry, mTLS from istiod's CA), admin 127.0.0.1:${pod.adminPort}`);
    }
    // The caller's outbound listener binds the Service's clusterIP (from 127.10.0.0/16): istiod names it
    // `<clusterIP>_<port>`, as with iptables capture in a cluster, and the app connects to the clusterIP.
    const clusterIP = (await http.request<{ spec: { clusterIP: string } }>("GET", `/api/v1/namespaces/${ns}/services/${s.service}`)).spec.clusterIP;
    const pod = await mesh.pod({
      name: s.caller, namespace: ns, serviceAccount: s.caller, labels: { app: s.caller, ...MESH_LABEL }, ip: `127.0.${input.services.length + 1}.${i + 1}`,
      sidecar: { egress: [{ port: { number: port, protocol: "TCP", name: "tcp-app" }, bind: clusterIP, hosts: [`${ns}/${s.service}.${ns}.svc.cluster.local`] }] },
    });
    callers.push({ s, pod, clusterIP, port, proxy: s.protocol === "thrift" ? /thrift_proxy/ : /dubbo_proxy/ });
  }

  await mesh.startController();
  console.log("  meltemi controller: applies WasmPlugins and EnvoyFilters for the samples; istiod delivers them (ECDS), istio-agent pulls the module by digest");
  for (const { s, pod, proxy } of callers) {
    await waitFor(`${s.caller}: Meltemi's client side through istiod`, async () => {
      const listeners = await pod.admin("/config_dump?resource=dynamic_listeners");
      const ecds = await pod.admin("/config_dump?resource=ecds_filters");
      return proxy.test(listeners) && ecds.includes(`meltemi-client-${s.service}`) && (await pod.listenersSettled()) ? true : undefined;
    }, READY_MS, () => mesh.logs());
  }
  for (const pod of servers) {
    await waitFor(`${pod.spec.name}: Meltemi's server side through istiod`, async () => {
      const ecds = await pod.admin("/config_dump?resource=ecds_filters");
      return /meltemi-server-/.test(ecds) && /"filename": "\/var\/lib\/istio\/data\//.test(ecds) && (await pod.listenersSettled()) ? true : undefined;
    }, READY_MS, () => mesh.logs());
  }

  for (const { s, pod, clusterIP, port } of callers) {
    console.log(`  caller ${s.caller} -> ${clusterIP}:${port} (${s.service}'s clusterIP) -> istio-agent + Envoy ${pod.spec.ip} (Meltemi client side), admin 127.0.0.1:${pod.adminPort}`);
    if (s.protocol === "thrift") { const l = startThriftLoad(port, s.rate, s.mix, input.record, 4, clusterIP); input.closers.push(l.stop); }
    else await startDubboLoad(input.procs, input.classpath, input.runDir, port, s.rate, s.mix, input.record, clusterIP);
    console.log(`  load: ${s.caller} calls ${s.rate}/s (${s.mix.map((m) => `${m.method} ${m.weight}%`).join(", ")})`);
  }
  for (const pod of mesh.pods) {
    const rejected = await pod.rejections();
    if (rejected.size > 0) console.log(`  ${pod.spec.name}: Envoy rejected xDS updates: ${JSON.stringify([...rejected])}`);
  }
}

