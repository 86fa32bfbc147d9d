// The Meltemi objects as the translation reads them: the generated spec types on a Kubernetes object.
import type { KubeObject } from "../k8s/objects";
import type { RpcAuthorizationPolicy, RpcProtocol, RpcRateLimit, RpcRouter } from "./types.gen";

export type RpcProtocolSpec = RpcProtocol["spec"];
export type RpcRouterSpec = RpcRouter["spec"];
export type RpcRateLimitSpec = RpcRateLimit["spec"];
export type RpcAuthorizationPolicySpec = RpcAuthorizationPolicy["spec"];

export type RpcProtocolObject = KubeObject<RpcProtocolSpec>;
export type RpcRouterObject = KubeObject<RpcRouterSpec>;
export type RpcRateLimitObject = KubeObject<RpcRateLimitSpec>;
export type RpcAuthorizationPolicyObject = KubeObject<RpcAuthorizationPolicySpec>;

export type StringMatch = NonNullable<NonNullable<RpcRouterSpec["routes"]>[number]["match"]>[string];
export type Match = Record<string, StringMatch>;
export type TokenBucket = NonNullable<NonNullable<RpcRateLimitSpec["local"]>["tokenBucket"]>;
export type RpcRateLimitAdaptive = NonNullable<RpcRateLimitSpec["adaptive"]>;
