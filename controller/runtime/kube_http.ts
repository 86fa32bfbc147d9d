// Raw JSON requests to the API server, authenticated by a client-node KubeConfig. Objects stay plain
// JSON both ways: client-node's typed models drop fields they do not know (CRD fields, `x-kubernetes-*`;
// test/kube/README.md), and the controller reads and writes custom resources generically.
import https from "node:https";
import http from "node:http";
import { KubeConfig, Watch } from "@kubernetes/client-node";

export class KubeError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
  }
}

export type PatchType = "apply" | "merge";
const CONTENT_TYPES: Record<PatchType, string> = {
  apply: "application/apply-patch+yaml", // JSON is YAML: the body is sent as JSON
  merge: "application/merge-patch+json",
};

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  patch?: PatchType;
  timeoutMs?: number;
}

export class KubeHttp {
  private readonly server: URL;
  private readonly agent: https.Agent | http.Agent;
  readonly watcher: Watch;

  constructor(readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    this.server = new URL(cluster.server);
    this.agent = this.server.protocol === "https:" ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    this.watcher = new Watch(kc);
  }

  url(path: string, query: RequestOptions["query"] = {}): URL {
    const u = new URL(this.server.pathname.replace(/\/$/, "") + path, this.server);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  /** Sends a request; resolves with the decoded JSON body of a 2xx answer, throws KubeError otherwise. */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const u = this.url(path, opts.query);
    const reqOpts: https.RequestOptions = { method, agent: this.agent, headers: { accept: "application/json" } };
    // Adds the CA, client certificates and bearer token (refreshed for exec/file/in-cluster tokens).
    await this.kc.applyToHTTPSOptions(reqOpts);
    reqOpts.agent = this.agent;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      reqOpts.headers = { ...reqOpts.headers, "content-type": opts.patch ? CONTENT_TYPES[opts.patch] : "application/json", "content-length": Buffer.byteLength(payload) };
    }
    const mod = u.protocol === "https:" ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(u, reqOpts, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (c: string) => (text += c)).on("end", () => {
          const status = res.statusCode ?? 0;
          let json: unknown;
          try {
            json = text === "" ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          if (status >= 200 && status < 300) return resolve(json as T);
          const s = (json ?? {}) as { reason?: string; message?: string };
          reject(new KubeError(status, s.reason ?? "", `${method} ${u.pathname}: HTTP ${status}${s.message ? `: ${s.message}` : text ? `: ${text.slice(0, 500)}` : ""}`));
        }).on("error", reject);
      });
      req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${u.pathname}: timed out`)));
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeError && err.code === 409;
}

/** Loads a KubeConfig: the given file, else $KUBECONFIG, the in-cluster ServiceAccount, ~/.kube/config. */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}
