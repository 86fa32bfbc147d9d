// The seam for inputs that are not Kubernetes watches (e.g. adaptive limits: quotas computed from
// Prometheus on a timer, issue "adaptive"). A source can
// - trigger a reconcile when its data changed (`start(trigger)`),
// - add its data to the snapshot the translation reads (`contribute`), so the translation stays pure,
// - act after each reconcile by the leader (`afterReconcile`), e.g. write status.metricStatus /
//   status.ratelimitStatus of the objects it reads, through the same API client and only while leading.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Snapshot } from "../translate/snapshot";
import type { TranslateResult } from "../translate/translate";
import type { KubeHttp } from "./kube_http";

export interface ReconcileContext {
  snapshot: Snapshot;
  result: TranslateResult;
  http: KubeHttp;
  /** False as soon as this replica is no longer the leader: check before every write. */
  mayWrite: () => boolean;
}

/**
 * Makes a source once the runtime's API client and metrics registry exist. The CLI passes them (the
 * adaptive engine when --prometheus-url is set), so the runtime imports no source.
 */
export type SourceFactory = (runtime: { http: KubeHttp; log: Logger; registry: Registry }) => SnapshotSource;

export interface SnapshotSource {
  readonly name: string;
  start?(trigger: () => void): void | Promise<void>;
  stop?(): void | Promise<void>;
  contribute?(snapshot: Snapshot): void;
  afterReconcile?(ctx: ReconcileContext): Promise<void>;
}
