// List-then-watch of one resource into an in-memory store (client-go's reflector): a full list, then a
// watch from the list's resourceVersion. A watch that ends (the server's timeout, an API server restart,
// a broken connection) is resumed from the last resourceVersion seen; "410 Gone" (that version is no
// longer in etcd's window) or an error makes it list again, with backoff. Objects stay plain JSON.
import type { Logger } from "pino";
import type { KubeObject } from "../k8s/objects";
import type { KubeHttp } from "./kube_http";

export interface ReflectorSpec {
  /** Collection path, e.g. /apis/meltemi.dev/v1alpha1/rpcrouters (all namespaces). */
  path: string;
  apiVersion: string;
  kind: string;
  labelSelector?: string;
  /** e.g. metadata.name=x: one object (RBAC allows list/watch by resourceNames only with it). */
  fieldSelector?: string;
  /** What of each object is kept (e.g. only a pod's name and labels): the store's memory. */
  keep?: (obj: KubeObject) => KubeObject;
}

interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject & { code?: number; message?: string };
}

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 10_000;

export function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`;
}

export class Reflector {
  private readonly store = new Map<string, KubeObject>();
  private resourceVersion = "";
  private stopped = false;
  private synced = false;
  private abort?: AbortController;
  private retryTimer?: NodeJS.Timeout;
  private backoffMs = MIN_BACKOFF_MS;
  private resolveSynced!: () => void;
  /** Resolves after the first complete list. */
  readonly hasSynced: Promise<void> = new Promise((r) => (this.resolveSynced = r));

  constructor(
    private readonly http: KubeHttp,
    readonly spec: ReflectorSpec,
    private readonly onChange: () => void,
    private readonly log: Logger,
  ) {}

  get isSynced(): boolean {
    return this.synced;
  }

  list(): KubeObject[] {
    return [...this.store.values()];
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(`${namespace ?? ""}/${name}`);
  }

  start(): void {
    void this.relist();
  }

  private kept(obj: KubeObject): KubeObject {
    return this.spec.keep ? this.spec.keep(obj) : obj;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.abort?.abort();
  }

  private retry(what: () => Promise<void>, err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.log.warn({ resource: this.spec.path, err: String((err as Error)?.message ?? err), retryInMs: delay }, "list/watch failed; retrying");
    this.retryTimer = setTimeout(() => void what(), delay);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const items: KubeObject[] = [];
      let cont: string | undefined;
      let rv = "";
      do {
        const page = await this.http.request<{ metadata?: { resourceVersion?: string; continue?: string }; items?: KubeObject[] }>(
          "GET", this.spec.path, { query: { limit: 500, continue: cont, labelSelector: this.spec.labelSelector, fieldSelector: this.spec.fieldSelector } });
        // List items of built-in kinds carry no apiVersion/kind; the translation needs them.
        for (const item of page.items ?? []) items.push(this.kept({ ...item, apiVersion: this.spec.apiVersion, kind: this.spec.kind }));
        cont = page.metadata?.continue || undefined;
        rv = page.metadata?.resourceVersion ?? "";
      } while (cont);
      if (this.stopped) return;
      this.store.clear();
      for (const item of items) this.store.set(keyOf(item), item);
      this.resourceVersion = rv;
      if (!this.synced) {
        this.synced = true;
        this.resolveSynced();
      }
      this.onChange();
      await this.watch();
    } catch (err) {
      // 410 on a continue token: the list is simply started over.
      this.retry(() => this.relist(), err);
    }
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    let gone = false;
    const startedAt = Date.now();
    // Called once per watch: the server ended it (its timeout), the connection broke, or it was aborted
    // here (stop, or an ERROR event).
    const done = (err: unknown) => {
      this.abort = undefined;
      if (this.stopped) return;
      if (gone || (err as { statusCode?: number })?.statusCode === 410) return void this.relist();
      if (err) return this.retry(() => this.watch(), err);
      // A clean end resumes from the last version; one right after its start is treated as a failure
      // (backoff), so a server that closes watches at once does not get a tight loop.
      if (Date.now() - startedAt < 1000) return this.retry(() => this.watch(), new Error("watch closed at once"));
      void this.watch();
    };
    const onEvent = (type: string, object: WatchEvent["object"]) => {
      if (type === "ERROR") {
        // Status object: 410 Gone = resourceVersion too old; list again.
        gone = object.code === 410;
        if (!gone) this.log.warn({ resource: this.spec.path, status: object }, "watch error event");
        this.abort?.abort();
        return;
      }
      const rv = object.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (type === "BOOKMARK") return;
      this.backoffMs = MIN_BACKOFF_MS;
      const obj = this.kept({ ...object, apiVersion: this.spec.apiVersion, kind: this.spec.kind });
      if (type === "DELETED") this.store.delete(keyOf(obj));
      else this.store.set(keyOf(obj), obj);
      this.onChange();
    };
    const query = {
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      // The server ends the watch after this long; spread so that watches do not all resume at once.
      timeoutSeconds: 240 + Math.floor(Math.random() * 120),
      labelSelector: this.spec.labelSelector,
      fieldSelector: this.spec.fieldSelector,
    };
    try {
      const abort = await this.http.watcher.watch(this.spec.path, query, onEvent, done);
      this.abort = abort;
      if (this.stopped) abort.abort();
    } catch (err) {
      done(err);
    }
  }
}
