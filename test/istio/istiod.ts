// istiod (pilot-discovery) as a host process against the test kube-apiserver, inside the test's
// network namespace (netns.ts), on Istio's usual ports: plain xDS 15010, xDS + CA with TLS 15012,
// webhook 15017, debug/readiness 8080, metrics 15014.
import { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import type { KubeApiserver } from "../kube/apiserver";
import { isAlive, makeWorkDir, sleep, startLogged, stopProcess, tailLog } from "../kube/process";
import { istioBinaries } from "./binaries";

export const ISTIO_NAMESPACE = "istio-system";
/** The name in istiod's serving certificate for 15012 (agents check it: ISTIOD_SAN). */
export const ISTIOD_SAN = `istiod.${ISTIO_NAMESPACE}.svc`;
export const ISTIOD_XDS = "127.0.0.1:15012";
const DEBUG = "http://127.0.0.1:8080";

/**
 * Pilot's environment. Upstream Envoy (the official build Meltemi is tested on) lacks Istio's own
 * proxy extensions, and rejects a listener that names one (a NACK of the whole LDS update):
 * - istio.metadata_exchange: added to every listener unless PILOT_ENABLE_METADATA_EXCHANGE=false;
 * - istio.alpn (HTTP filter) unless PILOT_ENABLE_ALPN_FILTER=false;
 * - istio.stats: only when a metrics provider is on; the mesh config below has none (pilot's own
 *   default mesh config has none either; the Helm chart's adds prometheus).
 * INJECTION/VALIDATION_WEBHOOK_CONFIG_NAME empty: no webhook configurations to patch (none exist).
 */
function env(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    POD_NAMESPACE: ISTIO_NAMESPACE,
    POD_NAME: "istiod-test",
    REVISION: "default",
    PILOT_ENABLE_METADATA_EXCHANGE: "false",
    PILOT_ENABLE_ALPN_FILTER: "false",
    INJECTION_WEBHOOK_CONFIG_NAME: "",
    VALIDATION_WEBHOOK_CONFIG_NAME: "",
    PILOT_TRACE_SAMPLING: "0",
  };
}

/** Mesh config; `defaultConfig` is the ProxyConfig every agent starts from (PROXY_CONFIG adds to it). */
function meshConfig(envoyBinary: string): string {
  return JSON.stringify({
    rootNamespace: ISTIO_NAMESPACE,
    trustDomain: "cluster.local",
    enablePrometheusMerge: false,
    defaultConfig: { discoveryAddress: ISTIOD_XDS, binaryPath: envoyBinary },
  }, null, 2);
}

export class Istiod {
  private constructor(readonly dir: string, private child: ChildProcess) {}

  get logPath(): string {
    return path.join(this.dir, "istiod.log");
  }

  /** Creates istio-system (istiod keeps its CA in a Secret there), starts istiod, waits for /ready. */
  static async start(kube: KubeApiserver, envoyBinary: string, timeoutMs = 180_000): Promise<Istiod> {
    const bin = await istioBinaries();
    await KubernetesObjectApi.makeApiClient(kube.kubeConfig()).patch(
      { apiVersion: "v1", kind: "Namespace", metadata: { name: ISTIO_NAMESPACE } },
      undefined, undefined, "meltemi-test-harness", true, PatchStrategy.ServerSideApply,
    );
    const dir = makeWorkDir("meltemi-istiod-");
    fs.mkdirSync(path.join(dir, "etc/istio/config"), { recursive: true });
    fs.writeFileSync(path.join(dir, "etc/istio/config/mesh"), meshConfig(envoyBinary));
    const log = path.join(dir, "istiod.log");
    const child = startLogged(bin.pilotDiscovery, [
      "discovery",
      `--kubeconfig=${kube.kubeconfigPath}`,
      `--meshConfig=${path.join(dir, "etc/istio/config/mesh")}`,
      "--domain=cluster.local",
      "--httpAddr=127.0.0.1:8080",
      "--grpcAddr=127.0.0.1:15010",
      "--secureGRPCAddr=127.0.0.1:15012",
      "--httpsAddr=127.0.0.1:15017",
      "--monitoringAddr=127.0.0.1:15014",
      "--profile=false",
      "--log_output_level=default:info",
    ], log, { cwd: dir, env: env() });
    const istiod = new Istiod(dir, child);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!isAlive(child)) throw new Error(`istiod exited (${child.exitCode ?? child.signalCode}):\n${tailLog(log)}`);
      if (Date.now() > deadline) {
        // A running child keeps Node's event loop alive: the test process would never exit.
        await stopProcess(child, "SIGKILL");
        throw new Error(`istiod not ready in ${timeoutMs} ms:\n${tailLog(log)}`);
      }
      try {
        if ((await fetch(`${DEBUG}/ready`)).status === 200) return istiod;
      } catch {
        // not listening yet
      }
      await sleep(500);
    }
  }

  /** GET on istiod's debug port (e.g. /debug/syncz, /debug/config_dump?proxyID=...). */
  async debug(pathAndQuery: string): Promise<string> {
    const res = await fetch(DEBUG + pathAndQuery);
    return res.text();
  }

  logs(lines = 60): string {
    return `---- istiod log (${this.logPath}) ----\n${tailLog(this.logPath, lines)}`;
  }

  stop(): Promise<void> {
    return stopProcess(this.child, "SIGTERM", 15_000);
  }
}
