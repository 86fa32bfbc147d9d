// The translation's input: every object it reads, as the runtime's informers (or `render`'s files)
// hold them at one moment.
import type { RpcAuthorizationPolicyObject, RpcProtocolObject, RpcRateLimitObject, RpcRouterObject } from "../api/types";
import type { ApplicationProtocol, DubboAuthorizationPolicy, MetaRouter } from "../k8s/aeraki";
import type { DestinationRule, KubeObject, Service, ServiceEntry } from "../k8s/objects";
import type { ResolvedSets } from "./adaptive_limiter";
import type { MeshTracingConfig } from "./tracing";

export interface Snapshot {
  services: Service[];
  serviceEntries: ServiceEntry[];
  destinationRules: DestinationRule[];
  rpcProtocols: RpcProtocolObject[];
  rpcRouters: RpcRouterObject[];
  rpcRateLimits: RpcRateLimitObject[];
  rpcAuthorizationPolicies: RpcAuthorizationPolicyObject[];
  applicationProtocols: ApplicationProtocol[];
  metaRouters: MetaRouter[];
  dubboAuthorizationPolicies: DubboAuthorizationPolicy[];
  /** Slime's SmartLimiters (microservice.slime.io/v1alpha2), read as they are. */
  smartLimiters: KubeObject[];
  /** Istio's Telemetry objects (telemetry.istio.io), for their tracing settings (tracing.ts). */
  telemetries: KubeObject[];
  /**
   * Istio's MeshConfig as the runtime read it from its ConfigMap (runtime/mesh_config_source.ts);
   * it wins over TranslateOptions.mesh (`--mesh-config`, a file).
   */
  meshConfig?: MeshTracingConfig;
  /**
   * The quotas the adaptive engine put in force, by limiterKey (adaptive_limiter.ts). Absent:
   * no adaptive limit applies yet (the engine has not resolved one).
   */
  adaptiveQuotas?: ReadonlyMap<string, ResolvedSets>;
}

export function emptySnapshot(): Snapshot {
  return {
    services: [],
    serviceEntries: [],
    destinationRules: [],
    rpcProtocols: [],
    rpcRouters: [],
    rpcRateLimits: [],
    rpcAuthorizationPolicies: [],
    applicationProtocols: [],
    metaRouters: [],
    dubboAuthorizationPolicies: [],
    smartLimiters: [],
    telemetries: [],
  };
}
