// The adaptive engine inside `meltemi controller` (a SnapshotSource, controller/runtime/sources.ts):
// - every refresh, it reads the EndpointSlices of each limited service (ready pods; for subset sets also
//   the pods with the subset's labels) from its watches (pod_watches.ts), asks Prometheus, and lets the
//   engine decide;
// - when quotas in force change it triggers a reconcile, and `contribute` hands them to the translation
//   (snapshot.adaptiveQuotas), so new buckets reach the WasmPlugins through the usual apply;
// - while this replica leads, it writes each limiter's status.metricStatus, status.ratelimitStatus and
//   its conditions through the controller's one status writer (status_writer.ts), which keeps the
//   other conditions, e.g. the runtime's Ready.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { indexSubsets } from "../discovery/subsets";
import { refOf } from "../k8s/objects";
import { KubeError, type KubeHttp } from "../runtime/kube_http";
import type { ReconcileContext, SnapshotSource } from "../runtime/sources";
import { BASE_SET, limiterKey, type AdaptiveLimiter, type ResolvedSets } from "../translate/adaptive_limiter";
import { adaptiveLimitersOf } from "../translate/adaptive_limiters";
import type { Snapshot } from "../translate/snapshot";
import { AdaptiveEngine, type LimiterResult } from "./engine";
import { AdaptiveLoop } from "./loop";
import { AdaptiveMetrics } from "./metrics";
import { PodWatches } from "./pod_watches";
import { endpointSlicePods } from "./pods";
import { PrometheusSource } from "./prometheus";
import type { QueryTemplates } from "./queries";
import type { AdaptiveStatus } from "./status";
import { writeAdaptiveStatus } from "./status_writer";

export interface AdaptiveConfig {
  prometheusUrl: string;
  queries: QueryTemplates;
  refreshMs: number;
  queryTimeoutMs: number;
  confirmations: number;
  quotaTolerance: number;
  minUpdateIntervalMs: number;
  clusterDomain: string;
}

export class AdaptiveSource implements SnapshotSource {
  readonly name = "adaptive";
  private readonly engine: AdaptiveEngine;
  private readonly loop: AdaptiveLoop;
  private readonly pods = { current: endpointSlicePods({ slices: [] }) };
  private readonly watches: PodWatches;
  private limiters: AdaptiveLimiter[] = [];
  private snapshot: Snapshot | undefined;
  private quotas = new Map<string, ResolvedSets>();
  private lastWritten = new Map<string, string>();
  private mayWrite: () => boolean = () => false;
  private trigger: () => void = () => {};

  constructor(private readonly http: KubeHttp, private readonly config: AdaptiveConfig, private readonly log: Logger, registry?: Registry) {
    this.watches = new PodWatches(http, log);
    this.engine = new AdaptiveEngine(
      new PrometheusSource({ url: config.prometheusUrl, timeoutMs: config.queryTimeoutMs }),
      { podsOf: (l, s) => this.pods.current.podsOf(l, s) },
      { queries: config.queries, confirmations: config.confirmations, quotaTolerance: config.quotaTolerance, minUpdateIntervalMs: config.minUpdateIntervalMs },
      new AdaptiveMetrics(registry),
    );
    this.loop = new AdaptiveLoop(this.engine, {
      intervalMs: config.refreshMs,
      limiters: () => this.limiters,
      prepare: () => this.readPods(),
      onResults: (results) => this.onResults(results),
      onError: (err) => this.log.warn({ err: String((err as Error).message ?? err) }, "adaptive refresh failed"),
    });
  }

  start(trigger: () => void): void {
    this.trigger = trigger;
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.watches.stop();
  }

  contribute(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.limiters = adaptiveLimitersOf(snapshot, this.config.clusterDomain);
    // A limiter seen for the first time (controller start, new leader) starts from the quotas its status
    // says are in force, so the first reconcile does not lift them.
    const objects = new Map([...snapshot.smartLimiters, ...snapshot.rpcRateLimits].map((o) => [limiterKey(refOf(o)), o]));
    for (const l of this.limiters) {
      const key = limiterKey(l.source);
      if (this.quotas.has(key)) continue;
      const seeded = this.engine.seed(l, (objects.get(key)?.status as { ratelimitStatus?: unknown } | undefined)?.ratelimitStatus);
      if (seeded.size > 0) this.quotas.set(key, seeded);
    }
    snapshot.adaptiveQuotas = this.quotas;
  }

  async afterReconcile(ctx: ReconcileContext): Promise<void> {
    this.mayWrite = ctx.mayWrite;
  }

  /** EndpointSlices of every limited service and, for subset sets, pod labels: from the watches. */
  private async readPods(): Promise<void> {
    const services = new Set(this.limiters.map((l) => `${l.namespace}/${l.service}`));
    const unreadable = new Map<string, string>();
    if (services.size > 0) {
      const needPodLabels = this.limiters.some((l) => l.sets.some((s) => s.name !== BASE_SET));
      const why = await this.watches.ready(needPodLabels, this.config.queryTimeoutMs);
      if (why !== undefined) {
        // Unknown, not zero pods: the engine reports PodsUnknown and keeps the last good quotas.
        for (const key of services) unreadable.set(key, why);
        this.log.warn({ why }, "the pods of the limited services are not known yet");
      }
    }
    const subsets = indexSubsets(this.snapshot?.destinationRules ?? [], this.config.clusterDomain);
    this.pods.current = endpointSlicePods({
      slices: this.watches.slicesOf(services),
      podLabels: (namespace, name) => this.watches.podLabels(namespace, name),
      subsetLabels: (host, subset) => subsets.labels(host, subset),
      unreadable,
    });
  }

  private async onResults(results: LimiterResult[]): Promise<void> {
    const next = new Map<string, ResolvedSets>();
    for (const r of results) next.set(limiterKey(r.limiter.source), r.quotas);
    const changed = results.some((r) => r.changed) || next.size !== this.quotas.size;
    // The snapshot translate() read is left as it was: the reconcile triggered below contributes `next`
    // to a fresh one.
    this.quotas = next;
    if (changed) {
      this.log.info({ limiters: results.filter((r) => r.changed).map((r) => limiterKey(r.limiter.source)) }, "adaptive quotas changed");
      this.trigger();
    }
    if (!this.mayWrite()) return;
    for (const r of results) await this.writeStatus(r.limiter, r.status);
  }

  private async writeStatus(limiter: AdaptiveLimiter, status: AdaptiveStatus): Promise<void> {
    const key = limiterKey(limiter.source);
    const fingerprint = JSON.stringify(status);
    if (this.lastWritten.get(key) === fingerprint) return;
    try {
      await writeAdaptiveStatus(this.http, limiter.source, status);
      this.lastWritten.set(key, fingerprint);
    } catch (err) {
      if (err instanceof KubeError && err.code === 404) {
        // No status subresource (Slime's own CRD): say it once, not every refresh.
        if (!this.lastWritten.has(key)) this.log.warn({ limiter: key }, "adaptive status not writable (no status subresource: install manifests/slime/ where Slime is absent)");
        this.lastWritten.set(key, fingerprint);
      } else if (!(err instanceof KubeError && err.code === 409)) {
        this.log.warn({ err: String((err as Error).message), limiter: key }, "cannot write the adaptive status");
      }
    }
  }
}
