// The reconcile loop: a change (watch event, leadership, a source, the resync timer) schedules one run
// after `debounceMs` of quiet (at most `maxDelayMs` after the first change of a burst); runs never
// overlap (a change during a run schedules another). A run: snapshot -> translate() (pure) -> apply and
// delete outputs -> write status -> events. Only the leader runs; a failed run is retried with backoff.
import type { Logger } from "pino";
import { inputResourceOf } from "../k8s/kinds";
import type { KubeObject } from "../k8s/objects";
import type { Diagnostic } from "../translate/diagnostics";
import type { TranslateOptions } from "../translate/options";
import type { Snapshot } from "../translate/snapshot";
import { readyStatus, type InputStatus } from "../translate/status";
import { translate } from "../translate/translate";
import { applyOutputs, ownerKey } from "./apply";
import type { EventRecorder } from "./events";
import type { Informers } from "./informers";
import type { KubeHttp } from "./kube_http";
import { TRAFFIC_EXTENSION } from "./resources";
import type { ControllerMetrics } from "./metrics";
import type { SnapshotSource } from "./sources";
import { writeStatuses } from "./status_writer";

export interface ReconcilerDeps {
  http: KubeHttp;
  informers: Informers;
  events: EventRecorder;
  metrics: ControllerMetrics;
  log: Logger;
  options: Partial<TranslateOptions>;
  /** TrafficExtension where the API server serves it (RuntimeConfig.trafficExtensionAuto). */
  trafficExtensionAuto: boolean;
  sources: SnapshotSource[];
  isLeader: () => boolean;
  debounceMs: number;
  maxDelayMs: number;
}

const MAX_RETRY_MS = 30_000;

function groupByOwner(diags: Diagnostic[]): Map<string, Diagnostic[]> {
  const map = new Map<string, Diagnostic[]>();
  for (const d of diags) {
    const key = ownerKey(d.object);
    const list = map.get(key);
    if (list) list.push(d);
    else map.set(key, [d]);
  }
  return map;
}

export class Reconciler {
  private timer?: NodeJS.Timeout;
  private firstPendingAt = 0;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private retryMs = 1000;
  /** A reconcile by this replica as leader has completed without error since it last became leader. */
  reconciledAsLeader = false;

  constructor(private readonly d: ReconcilerDeps) {}

  /** Schedules a run (debounced). */
  trigger = (): void => {
    if (this.stopped) return;
    const now = Date.now();
    if (!this.timer) this.firstPendingAt = now;
    clearTimeout(this.timer);
    const delay = Math.max(0, Math.min(this.d.debounceMs, this.firstPendingAt + this.d.maxDelayMs - now));
    this.timer = setTimeout(() => this.fire(), delay);
  };

  private fire(): void {
    this.timer = undefined;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.trigger();
      }
    });
  }

  /** Waits for a run in progress; no new run starts. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async run(): Promise<void> {
    const { informers, metrics, log } = this.d;
    if (!this.d.isLeader()) {
      metrics.reconciles.inc({ result: "skipped" });
      return;
    }
    // A resource discovered a moment ago is not listed yet: an empty store would read as "everything
    // deleted". Its first list triggers a run.
    if (!informers.synced) return;
    const end = metrics.reconcileDuration.startTimer();
    try {
      const errors = await this.reconcileOnce();
      if (errors.length > 0) {
        metrics.reconciles.inc({ result: "error" });
        log.warn({ errors: errors.map((e) => e.message).slice(0, 10), count: errors.length, retryInMs: this.retryMs }, "reconcile had errors; retrying");
        this.retryLater();
      } else {
        metrics.reconciles.inc({ result: "success" });
        this.retryMs = 1000;
        this.reconciledAsLeader = true;
      }
    } catch (err) {
      metrics.reconciles.inc({ result: "error" });
      log.error({ err: String((err as Error).stack ?? err) }, "reconcile failed; retrying");
      this.retryLater();
    } finally {
      end();
    }
  }

  private retryLater(): void {
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    setTimeout(() => this.trigger(), delay).unref();
  }

  /**
   * The translation options of this reconcile. Auto: TrafficExtension once the API server serves it
   * (istiod 1.30+ installed its CRD); the WasmPlugins written before are then stale outputs and go.
   */
  private optionsNow(): Partial<TranslateOptions> {
    if (!this.d.trafficExtensionAuto) return this.d.options;
    return { ...this.d.options, trafficExtension: this.d.informers.served(TRAFFIC_EXTENSION) !== undefined };
  }

  private async reconcileOnce(): Promise<Error[]> {
    const { http, informers, events, metrics, log, sources } = this.d;
    const mayWrite = this.d.isLeader;
    const snapshot = informers.snapshot();
    for (const s of sources) s.contribute?.(snapshot);
    const result = translate(snapshot, this.optionsNow());

    const statusByOwner = new Map(result.status.map((s) => [ownerKey(s.object), s]));
    // Refused inputs keep their last good outputs; degraded ones (Ready=False, applied in part) do not.
    const invalidOwners = new Set([...statusByOwner].filter(([, s]) => s.refused).map(([k]) => k));
    const watchedKinds = new Set(informers.servedResources().map(([r]) => r.kind));
    const applied = await applyOutputs(http, informers, { desired: result.objects, invalidOwners, watchedKinds, mayWrite });
    metrics.writes.inc({ operation: "apply" }, applied.applied);
    metrics.writes.inc({ operation: "delete" }, applied.deleted);
    metrics.errors.inc({ operation: "apply" }, applied.errors.length);
    metrics.managedObjects.reset();
    for (const o of result.objects) metrics.managedObjects.inc({ kind: o.kind });

    // What the runtime could not do joins the translation's diagnostics in each input's status.
    const diagnostics = [...result.diagnostics, ...applied.diagnostics];
    const byOwner = groupByOwner(diagnostics);
    const runtimeOwners = new Set(applied.diagnostics.map((d) => ownerKey(d.object)));
    const statuses: InputStatus[] = result.status.map((s) => (runtimeOwners.has(ownerKey(s.object)) ? readyStatus(s.object, byOwner.get(ownerKey(s.object)) ?? []) : s));
    const status = mayWrite() ? await writeStatuses(http, informers, events, statuses, log) : { written: 0, errors: [] };
    metrics.writes.inc({ operation: "status" }, status.written);
    metrics.errors.inc({ operation: "status" }, status.errors.length);

    metrics.diagnostics.reset();
    for (const d of diagnostics) metrics.diagnostics.inc({ severity: d.severity });
    // Inputs without a status Meltemi owns (Services, ServiceEntries, DestinationRules): Events.
    for (const d of diagnostics) {
      if (!mayWrite()) break;
      if (inputResourceOf(d.object.apiVersion, d.object.kind)?.hasStatus) continue;
      await events.record(withUid(d, snapshot), d.severity === "info" ? "Normal" : "Warning", d.reason, `${d.path ? `${d.path}: ` : ""}${d.message}`);
    }

    for (const s of sources) {
      if (s.afterReconcile && mayWrite()) await s.afterReconcile({ snapshot, result, http, mayWrite });
    }
    log.info({ desired: result.objects.length, applied: applied.applied, deleted: applied.deleted, unchanged: applied.unchanged, kept: applied.kept, statusWritten: status.written, diagnostics: diagnostics.length }, "reconciled");
    return [...applied.errors, ...status.errors];
  }
}

/** Diagnostics name objects by reference; events want the uid, which the snapshot's objects have. */
function withUid(d: Diagnostic, snapshot: Snapshot): Diagnostic["object"] {
  if (d.object.uid) return d.object;
  for (const list of Object.values(snapshot) as KubeObject[][]) {
    const found = list.find((o) => o.kind === d.object.kind && o.metadata.name === d.object.name && o.metadata.namespace === d.object.namespace);
    if (found?.metadata.uid) return { ...d.object, uid: found.metadata.uid };
  }
  return d.object;
}
