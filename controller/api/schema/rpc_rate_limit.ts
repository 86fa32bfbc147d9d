// RpcRateLimit: token buckets on the serving side of one service host. `local`: fixed buckets (Aeraki's
// MetaRouter localRateLimit, for Meltemi). `adaptive`: buckets whose quotas follow live metrics (Slime's
// SmartLimiter, for every protocol; controller/adaptive/).
import { arr, enumOf, int, map, obj, str } from "./builders";
import { duration, host, match, port, tokenBucket } from "./common";

const template = (description: string): ReturnType<typeof str> => str({ description, minLength: 1, maxLength: 1024 });

const adaptive = obj(
  {
    sets: map(
      obj(
        {
          descriptors: arr(
            obj(
              {
                condition: template(
                  'When the limit applies, over metrics: `{{.<set>.<query>}}` (a configured PromQL query over the set\'s ready pods) and `{{.<set>.pod}}` (their number), numbers, `+ - * / ( )`, `> < >= <= == !=`, `&& ||` (or `& |`), `!`; "true" for always. E.g. `{{._base.cpu.sum}}>100`.',
                ),
                quota: template("Requests per fillInterval, a number or arithmetic over the same metrics (rounded up), e.g. `30/{{._base.pod}}`."),
                fillInterval: duration("The bucket refills quota tokens every fillInterval, e.g. 1s."),
                strategy: enumOf(["single", "average"], {
                  description: "single (default): the quota is each pod's. average: the quota is the set's, shared out over its ready pods (unless the quota already divides by {{.<set>.pod}}).",
                }),
                match,
              },
              { required: ["condition", "quota", "fillInterval"] },
            ),
            { description: "In order: those with a match are conditions (first match wins), the first without one limits the other requests.", minItems: 1, maxItems: 100 },
          ),
        },
        { required: ["descriptors"] },
      ),
      {
        description: "By set: `_base` (every pod of the service) or a DestinationRule subset name.",
        maxProperties: 64,
        rules: [{ rule: "self.all(k, k == '_base' || k.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'))", message: "set names are _base or DestinationRule subset names" }],
      },
    ),
  },
  { description: "Quotas that follow live metrics, resolved by the controller every refresh (Slime SmartLimiter semantics).", required: ["sets"] },
);
import { readyColumns, type CrdDefinition } from "./definition";

export const rpcRateLimit: CrdDefinition = {
  kind: "RpcRateLimit",
  plural: "rpcratelimits",
  singular: "rpcratelimit",
  shortNames: ["rpcrl"],
  scope: "Namespaced",
  description:
    "Rate limits of one RPC service host, enforced by each serving proxy (the budget is per pod, shared by its Envoy worker threads): fixed (local) and/or following live metrics (adaptive).",
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
      adaptive,
    },
    {
      required: ["host"],
      anyOfRequired: [["local"], ["adaptive"]],
    },
  ),
  printerColumns: [{ name: "Host", type: "string", jsonPath: ".spec.host" }, ...readyColumns],
  // Slime's SmartLimiter status, for the adaptive block: metric values read, quotas in force.
  statusFields: {
    metricStatus: map(str({ maxLength: 64 }), { description: "The metric values of the last refresh: `<set>.<metric>` -> value (`_base.pod`: ready pods).", maxProperties: 1024 }),
    ratelimitStatus: map(
      obj({
        descriptor: arr(
          obj({
            action: obj({
              quota: str({ description: "Requests per fill interval per pod, resolved.", maxLength: 32 }),
              fill_interval: obj({ seconds: int({ minimum: 0 }), nanos: int({ minimum: 0, maximum: 999999999 }) }),
              strategy: str({ maxLength: 16 }),
            }),
            match,
          }),
          { maxItems: 100 },
        ),
      }),
      { description: "By set: the adaptive descriptors in force (their condition held), quotas resolved.", maxProperties: 64 },
    ),
  },
};
