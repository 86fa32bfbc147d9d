// One "pod" of the mesh: istio-agent (pilot-agent) starting the official Envoy as a VM-style sidecar,
// described to istiod by a WorkloadEntry (no kubelet runs here, so there are no Pods). Each pod has its
// own loopback address (its instance IP, what the WorkloadEntry says), its own work dir (istio-agent's
// paths are relative to its cwd: ./etc/istio/proxy, ./var/run/secrets/...) and its own ports for what
// istio-agent and Envoy bind on every address (agent status, Envoy admin, readiness, Prometheus).
import { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { KubernetesObject, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { KubeHttp } from "../../controller/runtime/kube_http";
import type { KubeApiserver } from "../kube/apiserver";
import { describeError } from "../kube/crds";
import { isAlive, makeWorkDir, startLogged, stopProcess, tailLog } from "../kube/process";
import { Fatal, waitFor } from "../wait";
import { istioBinaries } from "./binaries";
import { withOwnIstioDataDir } from "./netns";
import { ISTIOD_SAN, ISTIOD_XDS } from "./istiod";
import { freePort } from "../support/tcp";

export interface PodSpec {
  name: string;
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>;
  /** The pod's own loopback address, e.g. 127.0.1.1: the WorkloadEntry's address and INSTANCE_IP. */
  ip: string;
  /** spec of the pod's Sidecar resource (its workloadSelector is added): ingress/egress listeners. */
  sidecar: Record<string, unknown>;
  /** Wasm registries istio-agent may pull from over plain HTTP (WASM_INSECURE_REGISTRIES). */
  insecureRegistries?: string[];
}

/** Server-side apply as the admin. */
export async function apply(kube: KubeApiserver, obj: KubernetesObject): Promise<void> {
  try {
    await KubernetesObjectApi.makeApiClient(kube.kubeConfig()).patch(obj, undefined, undefined, "meltemi-test-harness", true, PatchStrategy.ServerSideApply);
  } catch (err) {
    throw new Error(`applying ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}: ${describeError(err)}`);
  }
}

export class SidecarPod {
  private constructor(
    readonly spec: PodSpec,
    readonly dir: string,
    readonly adminPort: number,
    readonly statusPort: number,
    private readonly child: ChildProcess,
  ) {}

  get logPath(): string {
    return path.join(this.dir, "agent.log");
  }

  /**
   * Applies the pod's ServiceAccount, WorkloadEntry and Sidecar, writes what a kubelet would mount
   * (a ServiceAccount token with audience istio-ca, the istio-ca-root-cert ConfigMap), starts
   * istio-agent and waits until it reports Envoy ready (LDS and CDS received).
   */
  static async start(kube: KubeApiserver, envoyBinary: string, spec: PodSpec, timeoutMs = 180_000): Promise<SidecarPod> {
    const bin = await istioBinaries();
    const { name, namespace: ns } = spec;
    await apply(kube, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: spec.serviceAccount, namespace: ns } } as KubernetesObject);
    await apply(kube, {
      apiVersion: "networking.istio.io/v1", kind: "WorkloadEntry", metadata: { name, namespace: ns },
      spec: { address: spec.ip, labels: spec.labels, serviceAccount: spec.serviceAccount },
    } as KubernetesObject);
    await apply(kube, {
      apiVersion: "networking.istio.io/v1", kind: "Sidecar", metadata: { name, namespace: ns },
      spec: { workloadSelector: { labels: spec.labels }, ...spec.sidecar },
    } as KubernetesObject);

    const dir = makeWorkDir(`meltemi-pod-${name}-`);
    const http = new KubeHttp(kube.kubeConfig());
    // istio-agent authenticates to istiod's CA with this token; istiod checks it with a TokenReview.
    const tr = await http.request<{ status: { token: string } }>("POST", `/api/v1/namespaces/${ns}/serviceaccounts/${spec.serviceAccount}/token`, {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: ["istio-ca"], expirationSeconds: 7200 } },
    });
    writeFile(dir, "var/run/secrets/tokens/istio-token", tr.status.token);
    // istiod writes its root certificate into every namespace; the agent trusts 15012 with it.
    const rootCert = await waitFor(`ConfigMap ${ns}/istio-ca-root-cert`, async () => {
      try {
        const cm = await http.request<{ data?: Record<string, string> }>("GET", `/api/v1/namespaces/${ns}/configmaps/istio-ca-root-cert`);
        return cm.data?.["root-cert.pem"];
      } catch {
        return undefined;
      }
    }, timeoutMs);
    writeFile(dir, "var/run/secrets/istio/root-cert.pem", rootCert);

    const [adminPort, statusPort, readinessPort, prometheusPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const proxyConfig = {
      discoveryAddress: ISTIOD_XDS,
      binaryPath: envoyBinary,
      proxyBootstrapTemplatePath: bin.bootstrapTemplate,
      configPath: path.join(dir, "etc/istio/proxy"),
      proxyAdminPort: adminPort,
      statusPort,
      drainDuration: "1s",
      terminationDrainDuration: "1s",
      concurrency: 2,
    };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PROXY_CONFIG: JSON.stringify(proxyConfig),
      POD_NAME: name,
      POD_NAMESPACE: ns,
      INSTANCE_IP: spec.ip,
      SERVICE_ACCOUNT: spec.serviceAccount,
      CA_ADDR: ISTIOD_XDS,
      ISTIOD_SAN,
      // No iptables: Envoy listens where the Sidecar resource says (bind addresses), nothing is captured.
      ISTIO_META_INTERCEPTION_MODE: "NONE",
      ISTIO_METAJSON_LABELS: JSON.stringify(spec.labels),
      ISTIO_META_WORKLOAD_NAME: name,
      ISTIO_META_CLUSTER_ID: "Kubernetes",
      ENVOY_STATUS_PORT: String(readinessPort),
      ENVOY_PROMETHEUS_PORT: String(prometheusPort),
      WASM_INSECURE_REGISTRIES: (spec.insecureRegistries ?? []).join(","),
    };
    const log = path.join(dir, "agent.log");
    const cmd = withOwnIstioDataDir(path.join(dir, "wasm-cache"), bin.pilotAgent, ["proxy", "sidecar", "--log_output_level=default:info,wasm:debug"]);
    const child = startLogged(cmd.bin, cmd.args, log, { cwd: dir, env });
    const pod = new SidecarPod(spec, dir, adminPort, statusPort, child);
    try {
      await waitFor(`${name}: istio-agent reports Envoy ready`, async () => {
        if (!isAlive(child)) throw new Fatal(`istio-agent of ${name} exited (${child.exitCode ?? child.signalCode}):\n${tailLog(log)}`);
        try {
          return (await fetch(`http://127.0.0.1:${statusPort}/healthz/ready`)).status === 200 ? true : undefined;
        } catch {
          return undefined;
        }
      }, timeoutMs, () => tailLog(log));
    } catch (err) {
      // A running child keeps Node's event loop alive: the test process would never exit.
      await stopProcess(child, "SIGKILL");
      throw err;
    }
    return pod;
  }

  /** Envoy's admin API (GET). */
  async admin(pathAndQuery: string): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.adminPort}${pathAndQuery}`);
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${this.spec.name} admin ${pathAndQuery}: HTTP ${res.status} ${body}`);
    return body;
  }

  /** Envoy's counters and gauges whose name matches `filter` (a regex, as /stats?filter= takes it). */
  async stats(filter: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const line of (await this.admin(`/stats?filter=${encodeURIComponent(filter)}`)).split("\n")) {
      const m = /^(.+): (\d+)$/.exec(line);
      if (m) out.set(m[1], Number(m[2]));
    }
    return out;
  }

  /**
   * Every xDS rejection Envoy counted: LDS, CDS, and each ECDS subscription (Wasm filters arrive
   * through ECDS), and the fields of dynamic configuration Envoy did not know and ignored
   * (`server.dynamic_unknown_fields`: Envoy accepts such an update without a NACK, e.g. Envoy 1.36
   * ignores tcp_proxy's max_early_data_bytes). Returns only the non-zero ones: a test asserts an empty map.
   */
  async rejections(): Promise<Map<string, number>> {
    const all = await this.stats("update_rejected|config_fail|^server\\.dynamic_unknown_fields$");
    return new Map([...all].filter(([, v]) => v !== 0));
  }

  /**
   * Whether no listener is warming and no filter chain draining. A listener update that brings in a
   * filter (an ECDS reference) warms first, while the old listener keeps taking new connections: wait
   * for this before a new connection must see the update. A filter-chain-only update then drains the
   * old chains, and Envoy closes their connections at the end of the drain (drainDuration, 1 s here).
   */
  async listenersSettled(): Promise<boolean> {
    const gauges = await this.stats("^listener_manager\\.total_(listeners_warming|filter_chains_draining)$");
    return gauges.get("listener_manager.total_listeners_warming") === 0 && gauges.get("listener_manager.total_filter_chains_draining") === 0;
  }

  /**
   * Per-host figures of one cluster from /clusters (`<cluster>::<host>::<field>::<value>`), by host
   * address: cx_total, rq_total, health_flags... Istio's bootstrap keeps only some stats (its
   * stats_matcher inclusion list leaves out per-cluster upstream counters); /clusters has these anyway.
   */
  async clusterHosts(cluster: string): Promise<Map<string, Record<string, string>>> {
    const hosts = new Map<string, Record<string, string>>();
    for (const line of (await this.admin("/clusters")).split("\n")) {
      const parts = line.split("::");
      // Host lines only (`<ip>:<port>`), not the cluster's own (`outlier::...`, `default_priority::...`).
      if (parts.length !== 4 || parts[0] !== cluster || !/:\d+$/.test(parts[1])) continue;
      const [, host, field, value] = parts;
      hosts.set(host, { ...hosts.get(host), [field]: value });
    }
    return hosts;
  }

  /** Listener names Envoy has, from /listeners. */
  async listeners(): Promise<string[]> {
    return (await this.admin("/listeners")).split("\n").map((l) => l.split("::")[0]).filter(Boolean);
  }

  log(): string {
    return fs.existsSync(this.logPath) ? fs.readFileSync(this.logPath, "utf8") : "";
  }

  logs(lines = 60): string {
    return `---- ${this.spec.name}: istio-agent + Envoy log (${this.logPath}) ----\n${tailLog(this.logPath, lines)}`;
  }

  stop(): Promise<void> {
    return stopProcess(this.child, "SIGTERM", 15_000);
  }
}

function writeFile(dir: string, rel: string, content: string): void {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode: 0o600 });
}

/** `promise`, or a rejection after `ms` (a call whose answer never comes fails the test, not the run). */
export function bounded<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

