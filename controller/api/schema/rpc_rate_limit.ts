// RpcRateLimit: local token buckets on the serving side of one service host (Aeraki's MetaRouter
// localRateLimit, for Meltemi). `local` sits beside a future `adaptive` (SmartLimiter-like) block.
import { arr, obj } from "./builders";
import { host, match, port, tokenBucket } from "./common";
import { readyColumns, type CrdDefinition } from "./definition";

export const rpcRateLimit: CrdDefinition = {
  kind: "RpcRateLimit",
  plural: "rpcratelimits",
  singular: "rpcratelimit",
  shortNames: ["rpcrl"],
  scope: "Namespaced",
  description:
    "Local rate limits of one RPC service host, enforced by each serving proxy (the budget is per pod, shared by its Envoy worker threads).",
  spec: obj(
    {
      host: host("The service to protect (in this namespace)."),
      port: port("Only this service port (default: every Meltemi port of the service)."),
      local: obj(
        {
          tokenBucket: { ...tokenBucket, description: "The bucket for requests no condition matches; without it they are not limited." },
          conditions: arr(obj({ match, tokenBucket }, { required: ["match", "tokenBucket"] }), {
            description: "The first condition whose match holds picks its own bucket.",
            maxItems: 100,
          }),
        },
        {
          description: "Token buckets per serving proxy.",
          rules: [{ rule: "has(self.tokenBucket) || (has(self.conditions) && size(self.conditions) > 0)", message: "local needs a tokenBucket or conditions" }],
        },
      ),
    },
    { required: ["host", "local"] },
  ),
  printerColumns: [{ name: "Host", type: "string", jsonPath: ".spec.host" }, ...readyColumns],
};
