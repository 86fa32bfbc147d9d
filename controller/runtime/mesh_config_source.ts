// Istio's MeshConfig from its ConfigMap (`--mesh-configmap <namespace>/<name>`, Istio's is
// istio-system/istio, key `mesh`), read with a GET every `intervalSeconds`: the tracing providers the
// translation turns into the filter's `tracing` section (translate/tracing.ts). A change triggers a
// reconcile; the last good read stays when a read fails (logged); a ConfigMap that is gone means no
// mesh config (no tracing provider). Needs `get` on that one ConfigMap (a Role in its namespace:
// controller/README.md); one ConfigMap is read, not watched, so nothing else of the namespace is seen.
import type { Logger } from "pino";
import { MeshConfigError, parseMeshConfig } from "../translate/mesh_config";
import type { Snapshot } from "../translate/snapshot";
import type { MeshTracingConfig } from "../translate/tracing";
import { isNotFound, type KubeHttp } from "./kube_http";
import type { SnapshotSource } from "./sources";

export class MeshConfigSource implements SnapshotSource {
  readonly name = "mesh-config";
  private mesh: MeshTracingConfig | undefined;
  private text: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly http: Pick<KubeHttp, "request">,
    private readonly namespace: string,
    private readonly configMap: string,
    private readonly log: Pick<Logger, "warn" | "info">,
    private readonly intervalSeconds = 30,
  ) {}

  /** Reads the ConfigMap once; true when what the translation sees changed. */
  async refresh(): Promise<boolean> {
    let text: string | undefined;
    try {
      const cm = await this.http.request<{ data?: Record<string, string> }>("GET", `/api/v1/namespaces/${this.namespace}/configmaps/${this.configMap}`, { timeoutMs: 10_000 });
      text = cm.data?.mesh ?? "";
    } catch (err) {
      if (!isNotFound(err)) {
        this.log.warn({ err: (err as Error).message }, `mesh config ${this.namespace}/${this.configMap}: read failed; keeping the last one`);
        return false;
      }
      text = undefined;
    }
    if (text === this.text) return false;
    let mesh: MeshTracingConfig | undefined;
    if (text !== undefined) {
      try {
        mesh = parseMeshConfig(text);
      } catch (err) {
        if (!(err instanceof MeshConfigError) && (err as Error).name !== "YAMLParseError") throw err;
        this.log.warn({ err: (err as Error).message }, `mesh config ${this.namespace}/${this.configMap}: not a MeshConfig; keeping the last one`);
        return false;
      }
    }
    this.text = text;
    this.mesh = mesh;
    this.log.info({ providers: mesh?.extensionProviders?.map((p) => p.name) ?? [] }, `mesh config ${this.namespace}/${this.configMap} read`);
    return true;
  }

  async start(trigger: () => void): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => { void this.refresh().then((changed) => { if (changed) trigger(); }); }, this.intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  contribute(snapshot: Snapshot): void {
    if (this.mesh) snapshot.meshConfig = this.mesh;
  }
}
