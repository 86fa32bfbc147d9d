// The filter configuration Meltemi hands each filter instance (WasmPlugin.pluginConfig). Its contract is
// filter/config/filter-config.schema.json; every configuration built here is checked against it.
//
// Client side (the callers' outbound listener for one service port): routing mode, routes, faults.
// Server side (the service's own pods, inbound): local and global rate limits and authorization, which
// need the serving proxy (a per-pod budget, Aeraki's semantics; a global limit's counts come from all of
// the service's pods) and the caller's mTLS identity.
// Both sides: tracing (tracing.ts), from Istio's Telemetry and MeshConfig.
import type { FilterTracing } from "./tracing";

export type FilterStringMatch = { exact?: string; prefix?: string; suffix?: string; regex?: string; present?: true; invert?: boolean };
export type FilterMatch = Record<string, FilterStringMatch>;
export interface FilterTokenBucket { maxTokens: number; tokensPerFill?: number; fillIntervalMs: number }
export interface FilterMutation { key: string; value: string }

export interface FilterRoute {
  name?: string;
  match?: FilterMatch;
  destinations: { cluster: string; weight?: number }[];
  hashKey?: string;
  requestMutation?: FilterMutation[];
  responseMutation?: FilterMutation[];
}

export interface FilterFault {
  match?: FilterMatch;
  abort?: { percent: number; message?: string };
  delay?: { percent: number; fixedDelayMs: number };
}

export interface FilterLocalRateLimit {
  tokenBucket?: FilterTokenBucket;
  conditions?: { match: FilterMatch; tokenBucket: FilterTokenBucket }[];
}

/** A limit counted by Envoy's rate limit service (filter/global/, docs/global-rate-limit.md). */
export interface FilterGlobalLimit {
  domain: string;
  cluster: string;
  match?: FilterMatch;
  entries: ({ key: string; metadata: string } | { key: string; value: string })[];
  timeoutMs?: number;
  reportIntervalMs?: number;
  failMode?: "open" | "closed";
}

export interface FilterPatterns { principals?: string[]; notPrincipals?: string[]; namespaces?: string[]; notNamespaces?: string[] }
export interface FilterOperation { interfaces?: string[]; notInterfaces?: string[]; methods?: string[]; notMethods?: string[]; match?: FilterMatch }
export interface FilterAuthorizationPolicy {
  name?: string;
  action: "ALLOW" | "DENY";
  rules?: { from?: FilterPatterns[]; to?: FilterOperation[] }[];
}

export interface FilterLimits { maxFrameBytes?: number; maxDepth?: number; maxMetadataEntries?: number; maxMetadataValueBytes?: number }

export interface FilterConfig {
  version: 1;
  name?: string;
  protocol?: string;
  routingMode?: "perRequest" | "perConnection";
  limits?: FilterLimits;
  routes?: FilterRoute[];
  localRateLimit?: FilterLocalRateLimit;
  globalLimits?: FilterGlobalLimit[];
  faults?: FilterFault[];
  authorization?: FilterAuthorizationPolicy[];
  metrics?: { maxLabelSets?: number };
  accessLog?: { enabled?: boolean; format?: string };
  tracing?: FilterTracing;
}

export interface ClientConfigInput {
  name: string;
  codec: string;
  routingMode: "perRequest" | "perConnection";
  limits?: FilterLimits;
  routes: FilterRoute[];
  faults: FilterFault[];
  tracing?: FilterTracing;
}

export function clientConfig(input: ClientConfigInput): FilterConfig {
  const config: FilterConfig = { version: 1, name: input.name, protocol: input.codec, routingMode: input.routingMode };
  if (input.limits) config.limits = input.limits;
  config.routes = input.routes;
  if (input.faults.length > 0) config.faults = input.faults;
  if (input.tracing) config.tracing = input.tracing;
  return config;
}

export interface ServerConfigInput {
  name: string;
  codec: string;
  limits?: FilterLimits;
  localRateLimit?: FilterLocalRateLimit;
  globalLimits?: FilterGlobalLimit[];
  authorization: FilterAuthorizationPolicy[];
  tracing?: FilterTracing;
}

export function serverConfig(input: ServerConfigInput): FilterConfig {
  const config: FilterConfig = { version: 1, name: input.name, protocol: input.codec };
  if (input.limits) config.limits = input.limits;
  if (input.localRateLimit) config.localRateLimit = input.localRateLimit;
  if (input.globalLimits?.length) config.globalLimits = input.globalLimits;
  if (input.authorization.length > 0) config.authorization = input.authorization;
  if (input.tracing) config.tracing = input.tracing;
  return config;
}
