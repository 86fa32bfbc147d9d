// An adaptive limiter as the engine reads it, whichever object it came from (Slime's SmartLimiter or
// Meltemi's RpcRateLimit `adaptive`): for one service, per set (a DestinationRule subset, or `_base` =
// every pod), descriptors of condition + quota + bucket interval + strategy (+ metadata match).
import { objectKey, type ObjectRef } from "../k8s/objects";
import type { FilterMatch } from "./filter_config";

/** `single`: the quota is each pod's own; `average`: the quota is the set's, shared out over its ready pods. */
export type Strategy = "single" | "average";

export const BASE_SET = "_base";

export interface AdaptiveDescriptor {
  condition: string;
  quota: string;
  fillIntervalMs: number;
  strategy: Strategy;
  match?: FilterMatch;
  /** Where it is in its object (diagnostics, status). */
  path: string;
}

export interface AdaptiveSet {
  name: string;
  descriptors: AdaptiveDescriptor[];
}

export interface AdaptiveLimiter {
  source: ObjectRef;
  namespace: string;
  /** The Service name (SmartLimiter: its own name). */
  service: string;
  /** FQDN. */
  host: string;
  port?: number;
  /** A sidecar limiter's own pod selection (Slime's spec.workloadSelector without gateway). */
  workloadSelector?: Record<string, string>;
  sets: AdaptiveSet[];
  /** Slime's `global` descriptors (of the _base set): counted by Envoy's rate limit service (slime_global.ts). */
  globals?: SlimeGlobalDescriptor[];
}

/** A `global` descriptor: its quota per calendar unit, as the rate limit service counts it. */
export interface SlimeGlobalDescriptor {
  requestsPerUnit: number;
  unit: "second" | "minute" | "hour" | "day";
  match?: FilterMatch;
  /** Where it is in its object; also what its descriptor value's Id is computed from. */
  path: string;
}

/** A descriptor whose condition held, with its quota resolved to a number of requests per pod. */
export interface ResolvedDescriptor {
  quota: number;
  fillIntervalMs: number;
  strategy: Strategy;
  match?: FilterMatch;
  path: string;
}

/** What the engine decided for one limiter: per set, the descriptors in force (empty: no limit). */
export type ResolvedSets = Map<string, ResolvedDescriptor[]>;

/** A limiter's key in maps (snapshot.adaptiveQuotas): its source's objectKey. */
export function limiterKey(ref: ObjectRef): string {
  return objectKey(ref);
}
