// Schema pieces shared by the Meltemi CRDs. Bounds follow the filter configuration schema
// (filter/config/filter-config.schema.json) so that anything the API server admits can be handed to
// the filter.
import { arr, bool, enumOf, int, map, num, obj, str, type Schema } from "./builders";

/** Go-style durations as Istio and Aeraki write them: "100ms", "1s", "1m30s". */
export const DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";

export const duration = (description: string): Schema =>
  str({ description, pattern: DURATION_PATTERN, maxLength: 64 });

/** A service host: a FQDN ("reviews.default.svc.cluster.local") or a short name resolved in the object's namespace. */
export const host = (description: string): Schema =>
  str({
    description,
    minLength: 1,
    maxLength: 253,
    pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
  });

export const port = (description: string): Schema => int({ description, minimum: 1, maximum: 65535 });

export const stringMatch: Schema = obj(
  {
    exact: str({ maxLength: 8192 }),
    prefix: str({ maxLength: 8192 }),
    suffix: str({ maxLength: 8192 }),
    regex: str({ description: "RE2 subset, matched against the whole value in linear time; backreferences and lookaround are rejected.", maxLength: 1024 }),
    present: { ...bool({ description: "The key is present, whatever its value." }), enum: [true] },
    invert: bool({ description: "Negate the match." }),
  },
  {
    description: "Exactly one of exact, prefix, suffix, regex or present; invert negates it.",
    oneOfRequired: [["exact"], ["prefix"], ["suffix"], ["regex"], ["present"]],
  },
);

export const match: Schema = map(stringMatch, {
  description:
    "Conditions on request metadata keys (interface, method, version, group, service, Dubbo attachments, THeader headers...), all of which must hold.",
  maxProperties: 64,
  rules: [{ rule: "self.all(k, size(k) >= 1 && size(k) <= 256)", message: "metadata keys must be 1 to 256 characters" }],
});

export const tokenBucket: Schema = obj(
  {
    maxTokens: int({ description: "Bucket size, and the tokens it starts with.", minimum: 0, maximum: 4294967295 }),
    tokensPerFill: int({ description: "Tokens added per fill interval (default 1).", minimum: 1, maximum: 4294967295 }),
    fillInterval: duration("How often tokensPerFill tokens are added, e.g. 1s; at least 1ms."),
  },
  { required: ["maxTokens", "fillInterval"] },
);

export const mutation: Schema = arr(
  obj(
    {
      key: str({ minLength: 1, maxLength: 256 }),
      value: str({ maxLength: 8192 }),
    },
    { required: ["key", "value"] },
  ),
  { description: "Key/value pairs written into the message (Dubbo attachments, THeader headers); how a key lands depends on the codec.", maxItems: 64 },
);

export const percent = (description: string): Schema => num({ description, minimum: 0, maximum: 100 });

export const patterns = (description: string): Schema =>
  arr(str({ minLength: 1, maxLength: 1024 }), {
    description: `${description} Patterns: exact, "prefix*", "*suffix", or "*" (any non-empty value).`,
    maxItems: 100,
  });

export const labelSelector: Schema = obj(
  {
    matchLabels: map(str({ maxLength: 63 }), { description: "Workload labels that must all be present.", maxProperties: 64 }),
  },
  { description: "Workloads, by labels." },
);

export const condition: Schema = obj(
  {
    type: str({ maxLength: 316, pattern: "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$" }),
    status: enumOf(["True", "False", "Unknown"]),
    observedGeneration: int({ minimum: 0 }),
    lastTransitionTime: str({ format: "date-time" }),
    reason: str({ maxLength: 1024, minLength: 1, pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$" }),
    message: str({ maxLength: 32768 }),
  },
  { required: ["type", "status", "lastTransitionTime", "reason", "message"] },
);

/** The status every Meltemi object carries: conditions (Ready) and the generation they describe. */
export const status: Schema = obj(
  {
    observedGeneration: int({ description: "The metadata.generation the conditions describe.", minimum: 0 }),
    conditions: {
      ...arr(condition, { maxItems: 16 }),
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    },
  },
  { description: "Set by the Meltemi controller." },
);
