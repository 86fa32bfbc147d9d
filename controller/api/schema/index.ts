// The Meltemi CRDs: the one schema source for manifests/crds/ and controller/api/types.gen.ts.
import type { CrdDefinition } from "./definition";
import { rpcAuthorizationPolicy } from "./rpc_authorization_policy";
import { rpcProtocol } from "./rpc_protocol";
import { rpcRateLimit } from "./rpc_rate_limit";
import { rpcRouter } from "./rpc_router";

export const crdDefinitions: readonly CrdDefinition[] = [rpcProtocol, rpcRouter, rpcRateLimit, rpcAuthorizationPolicy];
export { API_VERSION, GROUP, VERSION } from "./definition";
