// The controller's view of the cluster: one reflector per served input resource (every slot of the
// translation's snapshot) and one per output resource. Outputs are watched whole, not only those
// labelled managed-by=meltemi: a user's object that holds a name Meltemi wants must be seen, and so must
// its deletion (which frees the name). Only labelled ones count as Meltemi's (`owned`).
// API discovery is re-read periodically: a resource that becomes served (CRD installed) starts being
// watched, one that disappears (CRD deleted) stops and its objects leave the snapshot.
// A single-object output kind (the rate limit service's ConfigMap) is watched only at the namespace and
// name given by `singleObjects`: it is not watched at all without them. Its first list gates nothing:
// until it has listed, the object is read with a GET before a write and nothing of it is deleted, so a
// missing Role for it (Forbidden, retried) costs that object only, not every reconcile.
import type { Logger } from "pino";
import type { KubeObject } from "../k8s/objects";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../k8s/objects";
import { emptySnapshot, type Snapshot } from "../translate/snapshot";
import { discover, type Served } from "./api_discovery";
import type { KubeHttp } from "./kube_http";
import { Reflector } from "./reflector";
import { apiVersionOf, collectionPath, INPUTS, OUTPUTS, type InputResource, type OutputResource, type Resource } from "./resources";

export function isOwned(obj: KubeObject): boolean {
  return obj.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
}

/**
 * Discovery reads in a row that must miss a resource before it is dropped. A starting API server
 * answers discovery before every CRD group is registered (seen in the kube tests: 403 and 429 answers
 * for a while after a restart); dropping the resource at once would empty its slot of the snapshot and
 * delete the outputs of all its objects, to write them again a moment later.
 */
const MISSES_BEFORE_DROP = 3;

/** Where the one object of a single-object output kind is. */
export interface SingleObject {
  namespace: string;
  name: string;
}

interface Watched {
  served: Served;
  reflector: Reflector;
}

export class Informers {
  private readonly watched = new Map<Resource, Watched>();
  private readonly misses = new Map<Resource, number>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly http: KubeHttp,
    private readonly onChange: () => void,
    private readonly log: Logger,
    private readonly discoveryIntervalMs: number,
    private readonly singleObjects: ReadonlyMap<Resource, SingleObject> = new Map(),
  ) {}

  /** Discovers, starts the reflectors, and resolves once each has listed once. */
  async start(): Promise<void> {
    await this.refresh();
    await this.waitSynced();
    const loop = async () => {
      if (this.stopped) return;
      try {
        await this.refresh();
      } catch (err) {
        this.log.warn({ err: String((err as Error).message) }, "API discovery failed; keeping the current watches");
      }
      if (!this.stopped) this.timer = setTimeout(loop, this.discoveryIntervalMs);
    };
    this.timer = setTimeout(loop, this.discoveryIntervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const w of this.watched.values()) w.reflector.stop();
    this.watched.clear();
  }

  /** The watches whose first list a reconcile needs: all but those of single-object outputs. */
  private gating(): Watched[] {
    return [...this.watched].filter(([r]) => !(r as OutputResource).singleObject).map(([, w]) => w);
  }

  /** Every gating watch has completed its first list (after discovery added one, until it has). */
  get synced(): boolean {
    return this.gating().every((w) => w.reflector.isSynced);
  }

  async waitSynced(): Promise<void> {
    await Promise.all(this.gating().map((w) => w.reflector.hasSynced));
  }

  /** The served version of a resource, if it is served. */
  served(r: Resource): Served | undefined {
    return this.watched.get(r)?.served;
  }

  /** Resources served now, with the version in use. */
  servedResources(): [Resource, Served][] {
    return [...this.watched].map(([r, w]) => [r, w.served]);
  }

  snapshot(): Snapshot {
    const snap = emptySnapshot();
    for (const r of INPUTS) {
      const w = this.watched.get(r);
      if (w) (snap[r.slot] as KubeObject[]) = w.reflector.list();
    }
    return snap;
  }

  /** Meltemi's own outputs (label managed-by=meltemi) of every served output resource; nothing else. */
  owned(): { resource: Resource; served: Served; object: KubeObject }[] {
    const out = [];
    for (const r of OUTPUTS) {
      const w = this.watched.get(r);
      if (!w) continue;
      for (const object of w.reflector.list()) if (isOwned(object)) out.push({ resource: r, served: w.served, object });
    }
    return out;
  }

  /** An output object as watched, Meltemi's or not. */
  outputObject(r: Resource, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.watched.get(r)?.reflector.get(namespace, name);
  }

  /** The input of that kind as watched (status writes read its current conditions). */
  input(r: InputResource, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.watched.get(r)?.reflector.get(namespace, name);
  }

  private async refresh(): Promise<void> {
    const all: Resource[] = [...INPUTS, ...OUTPUTS.filter((r) => !r.singleObject || this.singleObjects.has(r))];
    const served = await discover(this.http, all);
    let changed = false;
    for (const r of all) {
      const now = served.get(r);
      const current = this.watched.get(r);
      if (current && !now) {
        const misses = (this.misses.get(r) ?? 0) + 1;
        this.misses.set(r, misses);
        if (misses < MISSES_BEFORE_DROP) continue;
      }
      this.misses.delete(r);
      if (current && (!now || now.version !== current.served.version)) {
        current.reflector.stop();
        this.watched.delete(r);
        changed = true;
        this.log.info({ resource: `${r.plural}.${r.group}`, version: current.served.version }, "no longer served; not watched");
      }
      if (now && !this.watched.has(r)) {
        const isOutput = (OUTPUTS as Resource[]).includes(r);
        const single = (r as OutputResource).singleObject ? this.singleObjects.get(r) : undefined;
        const reflector = new Reflector(this.http, {
          path: collectionPath(r.group, now.version, r.plural, single?.namespace),
          apiVersion: apiVersionOf(r.group, now.version),
          kind: r.kind,
          fieldSelector: single ? `metadata.name=${single.name}` : undefined,
        }, this.onChange, this.log);
        this.watched.set(r, { served: now, reflector });
        reflector.start();
        this.log.info({ resource: `${r.plural}${r.group ? `.${r.group}` : ""}`, version: now.version, owned: isOutput, only: single && `${single.namespace}/${single.name}` }, "watching");
      }
    }
    if (changed) this.onChange();
  }
}
