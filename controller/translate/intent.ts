// What users asked for, whatever object they wrote it in (RpcRouter or MetaRouter, RpcRateLimit or a
// MetaRouter's localRateLimit, RpcAuthorizationPolicy or DubboAuthorizationPolicy), in one form the
// generators read.
import type { ObjectRef } from "../k8s/objects";
import type { FilterAuthorizationPolicy, FilterFault, FilterGlobalLimit, FilterLocalRateLimit, FilterMatch, FilterMutation } from "./filter_config";
import type { RoutingMode } from "./protocols";

export interface DestinationIntent {
  host: string;
  subset?: string;
  port?: number;
  weight: number;
}

export interface RouteIntent {
  name?: string;
  match?: FilterMatch;
  destinations: DestinationIntent[];
  hashKey?: string;
  requestMutation?: FilterMutation[];
  responseMutation?: FilterMutation[];
  /** Aeraki's mirror / mirrorPercentage (percent undefined: every request). */
  mirror?: { host: string; subset?: string; port?: number; percent?: number };
  /** Where the route is in its object, for diagnostics. */
  path: string;
}

export interface RouterIntent {
  source: ObjectRef;
  host: string;
  port?: number;
  routingMode?: RoutingMode;
  clientNamespaces: string[];
  clientSelector?: Record<string, string>;
  routes: RouteIntent[];
  faults: FilterFault[];
}

export interface RateLimitIntent {
  source: ObjectRef;
  host: string;
  port?: number;
  /** Absent for an object with global limits only (a MetaRouter's globalRateLimit alone). */
  localRateLimit?: FilterLocalRateLimit;
  /** Limits counted by Envoy's rate limit service, in the same serving pods. */
  globalLimits?: FilterGlobalLimit[];
  /**
   * Buckets of the pods of DestinationRule subsets (adaptive sets): each gets its own server-side plugin
   * selecting the subset's labels, on top of the service-wide one (as Slime stacks one EnvoyFilter per set).
   */
  subsets?: { name: string; localRateLimit: FilterLocalRateLimit }[];
}

export interface AuthorizationIntent {
  source: ObjectRef;
  namespace: string;
  /** Only these hosts (FQDN); undefined: every service in scope. */
  hosts?: string[];
  /** Only services of these codecs (Aeraki's DubboAuthorizationPolicy: dubbo). */
  codecs?: string[];
  policy: FilterAuthorizationPolicy;
}
