// The filter configuration: parsed from the plugin configuration JSON, checked against the rules of
// filter-config.schema.json (the single source of truth; test/config/conformance.test.ts holds the
// filter and the schema to the same verdicts), and turned into the engines that decide per request.
// A rejected configuration never replaces a good one (plugin.ts).
//
// Every rule here mirrors a schema keyword; a rejection names the JSON path, e.g.
// `routes[1].destinations[0].weight: must be an integer in [0, 1000000]`.
import { Limits, Mutation } from "../codec/codec";
import { CODEC_NAMES, createCodec } from "../codec/registry";
import { Action, Authorizer, Operation, PatternList, Policy, Rule, Source } from "../policy/authorization";
import { Fault, MILLION } from "../policy/fault";
import { MetadataMatch } from "../match/metadata_match";
import { MATCH_STEP_BUDGET } from "../match/match_budget";
import { StringMatch } from "../match/string_match";
import { Route, RouteTable } from "../route/route_table";
import { TokenBucket } from "../limit/token_bucket";
import { GlobalEntry, GlobalLimit } from "../global/global_limit";
import { JsonKind, JsonValue, parseJson } from "./json";
import { AccessLogFormat, DEFAULT_ACCESS_LOG_FORMAT } from "../telemetry/access_log";
import { OTLP_PATH, TraceFormat, TracingConfig } from "../trace/tracing_config";

export const SCHEMA_VERSION: i32 = 1;

export enum RoutingMode { PerConnection, PerRequest }

export class RateLimitCondition {
  constructor(public readonly match: MetadataMatch, public readonly bucket: TokenBucket) {}
}

export class FilterConfig {
  name: string = "";
  /** Codec name; empty = no codec, bytes pass through. */
  protocol: string = "";
  routingMode: RoutingMode = RoutingMode.PerConnection;
  limits: Limits = new Limits();
  routes: RouteTable = new RouteTable();
  /** perRequest mode: where a rejected request's probe goes when the request has no destination. */
  probeCluster: string = "";
  defaultBucket: TokenBucket | null = null;
  rateLimitConditions: Array<RateLimitCondition> = [];
  faults: Array<Fault> = [];
  authorizer: Authorizer = new Authorizer();
  /** Distinct (service, method) label sets per VM before "_overflow" (request_metrics.ts). */
  maxLabelSets: i32 = 256;
  accessLog: bool = false;
  accessLogFormat: string = "";
  /** The format, parsed (null when the access log is off). */
  accessLogParsed: AccessLogFormat | null = null;
  /** The seed of the VM's pseudo-random draws under this configuration; 0 = from the clock (schema: randomSeed). */
  randomSeed: u64 = 0;
  /** Spans and trace propagation; null = off (schema: tracing). */
  tracing: TracingConfig | null = null;

  /** Limits counted by Envoy's rate limit service (filter/global/). */
  globalLimits: Array<GlobalLimit> = [];
  /** The root's tick while there are global limits: their shortest report interval (0: none). */
  globalTickMs: u32 = 0;

  /**
   * Whether frames may be decoded lazily (Codec.lazy): perConnection mode (no routing key is written),
   * no route mutation and no tracing, so no frame is re-encoded and every lookup of a frame's metadata
   * happens in decide(), after which the filter checks Metadata.laterFailed (network/connection.ts).
   */
  decodesLazily: bool = false;
  /**
   * With decodesLazily and a rate limit: every metadata key the decision may look up once a limit is
   * drawn on (limit conditions and descriptors, faults, routes, hash keys). decision.ts decodes the
   * part of a frame that may hold one of them before the first draw (see limitsMayDraw there).
   */
  keysReadWithLimits: Array<ArrayBuffer> = [];

  /** Whether any request can draw from a token bucket or a global limit (only then does a decision need the clock). */
  get hasRateLimit(): bool { return this.defaultBucket !== null || this.rateLimitConditions.length > 0 || this.globalLimits.length > 0; }
}

/** What the filter runs with when it has never been given a valid configuration: pass-through. */
export function defaultConfig(): FilterConfig {
  return new FilterConfig();
}

export class ConfigResult {
  config: FilterConfig | null = null;
  /** Why the configuration was rejected; empty when accepted. */
  error: string = "";
}

/** Unicode code points, as JSON Schema counts string length. */
function codePointLength(s: string): i32 {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** "a, b, c" (not Array#join: one more generic instantiation in the module, for messages only). */
function listed(values: Array<string>): string {
  let s = "";
  for (let i = 0; i < values.length; i++) s += (i > 0 ? ", " : "") + values[i];
  return s;
}

/**
 * A number for an error message: integers exactly, others with up to 6 decimals. Not `f64#toString`:
 * its shortest-digits algorithm (dtoa and its power tables) is ~3 KB of the module, for messages only.
 */
function formatNumber(v: f64): string {
  if (isNaN(v)) return "NaN";
  const a = Math.abs(v);
  const sign = v < 0 ? "-" : "";
  if (a >= 1e18) return sign + (isFinite(a) ? "over 1e18" : "Infinity");
  let whole = <u64>Math.floor(a);
  let frac = <u64>Math.round((a - <f64>whole) * 1e6);
  if (frac >= 1000000) { whole++; frac = 0; }
  if (frac == 0) return sign + whole.toString();
  let digits = frac.toString();
  while (digits.length < 6) digits = "0" + digits;
  let end = digits.length;
  while (digits.charCodeAt(end - 1) == 48) end--;
  return sign + whole.toString() + "." + digits.substring(0, end);
}

/** Walks the JSON with the current path; the first violation wins and stops the walk. */
class Checker {
  error: string = "";
  /** The longest metadata value a pattern can be matched against (limits.maxMetadataValueBytes). */
  maxValueBytes: u32 = new Limits().maxMetadataValueBytes;
  /** Matching steps of the patterns parsed so far: the most any request can cost (match_budget.ts). */
  matchSteps: f64 = 0;
  get failed(): bool { return this.error.length > 0; }

  fail(path: string, message: string): void {
    if (this.error.length == 0) this.error = (path.length > 0 ? path + ": " : "") + message;
  }

  object(v: JsonValue, path: string, allowed: Array<string>): bool {
    if (v.kind != JsonKind.Object) { this.fail(path, "must be an object, got " + v.kindName()); return false; }
    for (let i = 0; i < v.keys.length; i++) {
      if (!allowed.includes(v.keys[i])) { this.fail(join(path, v.keys[i]), "unknown field"); return false; }
    }
    return true;
  }

  array(v: JsonValue, path: string, minItems: i32, maxItems: i32): bool {
    if (v.kind != JsonKind.Array) { this.fail(path, "must be an array, got " + v.kindName()); return false; }
    if (v.items.length < minItems) { this.fail(path, "must have at least " + minItems.toString() + " item(s)"); return false; }
    if (v.items.length > maxItems) { this.fail(path, "must have at most " + maxItems.toString() + " items"); return false; }
    return true;
  }

  string(v: JsonValue, path: string, minLength: i32, maxLength: i32): string {
    if (v.kind != JsonKind.String) { this.fail(path, "must be a string"); return ""; }
    const n = codePointLength(v.stringValue);
    if (n < minLength) this.fail(path, "must not be shorter than " + minLength.toString() + " characters");
    else if (n > maxLength) this.fail(path, "must not be longer than " + maxLength.toString() + " characters");
    return v.stringValue;
  }

  integer(v: JsonValue, path: string, min: f64, max: f64): f64 {
    if (v.kind != JsonKind.Number || Math.floor(v.numberValue) != v.numberValue || v.numberValue < min || v.numberValue > max) {
      this.fail(path, "must be an integer in [" + formatNumber(min) + ", " + formatNumber(max) + "]");
      return 0;
    }
    return v.numberValue;
  }

  number(v: JsonValue, path: string, min: f64, max: f64): f64 {
    if (v.kind != JsonKind.Number || v.numberValue < min || v.numberValue > max) {
      this.fail(path, "must be a number in [" + formatNumber(min) + ", " + formatNumber(max) + "]");
      return 0;
    }
    return v.numberValue;
  }

  boolean(v: JsonValue, path: string): bool {
    if (v.kind != JsonKind.Bool) { this.fail(path, "must be a boolean"); return false; }
    return v.boolValue;
  }

  oneOf(v: JsonValue, path: string, values: Array<string>): string {
    if (v.kind != JsonKind.String || !values.includes(v.stringValue)) {
      this.fail(path, "must be one of " + listed(values));
      return "";
    }
    return v.stringValue;
  }
}

function join(path: string, key: string): string { return path.length > 0 ? path + "." + key : key; }
function at(path: string, i: i32): string { return path + "[" + i.toString() + "]"; }

function isProtocolName(s: string): bool {
  if (s.length < 1 || s.length > 32) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const lower = c >= 0x61 && c <= 0x7a;
    if (i == 0 ? !lower : !(lower || (c >= 0x30 && c <= 0x39) || c == 0x2d)) return false;
  }
  return true;
}

function parseStringMatch(c: Checker, v: JsonValue, path: string): StringMatch | null {
  if (!c.object(v, path, ["exact", "prefix", "suffix", "regex", "present", "invert"])) return null;
  let m: StringMatch | null = null;
  let kinds = 0;
  for (let i = 0; i < v.keys.length; i++) {
    const key = v.keys[i];
    const value = v.items[i];
    const p = join(path, key);
    if (key == "invert") continue;
    kinds++;
    if (key == "present") {
      if (value.kind != JsonKind.Bool || !value.boolValue) { c.fail(p, "must be true"); return null; }
      m = StringMatch.present();
    } else {
      const s = c.string(value, p, 0, key == "regex" ? 1024 : i32.MAX_VALUE);
      if (c.failed) return null;
      if (key == "exact") m = StringMatch.exact(s);
      else if (key == "prefix") m = StringMatch.prefix(s);
      else if (key == "suffix") m = StringMatch.suffix(s);
      else {
        m = StringMatch.regex(s);
        // The schema cannot say which patterns run in linear time; the filter can (see match/regex.ts).
        if (m.error.length > 0) { c.fail(p, "unsupported regex: " + m.error); return null; }
        // Bounded matching work per request: each pattern runs at most once per request (match_budget.ts).
        const cost = m.costFor(c.maxValueBytes);
        m.maxLen = c.maxValueBytes;
        c.matchSteps += cost;
        if (c.matchSteps > <f64>MATCH_STEP_BUDGET) {
          c.fail(p, "regex \"" + s + "\" costs up to " + formatNumber(cost) + " matching steps on a value of " +
            c.maxValueBytes.toString() + " bytes (limits.maxMetadataValueBytes), bringing the configuration to " +
            formatNumber(c.matchSteps) + ", over the budget of " + MATCH_STEP_BUDGET.toString() +
            " per request; simplify the pattern, use fewer patterns or lower limits.maxMetadataValueBytes");
          return null;
        }
      }
    }
  }
  if (kinds != 1 || m === null) { c.fail(path, "must have exactly one of exact, prefix, suffix, regex, present"); return null; }
  const invert = v.get("invert");
  if (invert !== null) m.invert = c.boolean(invert, join(path, "invert"));
  return c.failed ? null : m;
}

function parseMatch(c: Checker, v: JsonValue, path: string): MetadataMatch {
  const m = new MetadataMatch();
  if (v.kind != JsonKind.Object) { c.fail(path, "must be an object, got " + v.kindName()); return m; }
  if (v.keys.length > 64) { c.fail(path, "must have at most 64 keys"); return m; }
  for (let i = 0; i < v.keys.length && !c.failed; i++) {
    const n = codePointLength(v.keys[i]);
    if (n < 1 || n > 256) { c.fail(path, "keys must be 1 to 256 characters"); return m; }
    const sm = parseStringMatch(c, v.items[i], join(path, v.keys[i]));
    if (sm !== null) m.add(v.keys[i], sm);
  }
  return m;
}

function parseMutation(c: Checker, v: JsonValue, path: string): Mutation {
  const out = new Mutation();
  if (!c.array(v, path, 0, 64)) return out;
  for (let i = 0; i < v.items.length && !c.failed; i++) {
    const item = v.items[i];
    const p = at(path, i);
    if (!c.object(item, p, ["key", "value"])) break;
    const key = item.get("key");
    const value = item.get("value");
    if (key === null || value === null) { c.fail(p, "must have key and value"); break; }
    const k = c.string(key, join(p, "key"), 1, 256);
    const val = c.string(value, join(p, "value"), 0, 8192);
    if (!c.failed) out.set(k, val);
  }
  return out;
}

function parseRoute(c: Checker, v: JsonValue, path: string): Route | null {
  if (!c.object(v, path, ["name", "match", "destinations", "hashKey", "requestMutation", "responseMutation"])) return null;
  const nameV = v.get("name");
  const name = nameV !== null ? c.string(nameV, join(path, "name"), 0, 253) : "";
  const matchV = v.get("match");
  const route = new Route(name, matchV !== null ? parseMatch(c, matchV, join(path, "match")) : new MetadataMatch());
  const dests = v.get("destinations");
  if (dests === null) { c.fail(path, "missing \"destinations\""); return null; }
  const dp = join(path, "destinations");
  if (!c.array(dests, dp, 1, 64)) return null;
  for (let i = 0; i < dests.items.length && !c.failed; i++) {
    const d = dests.items[i];
    const p = at(dp, i);
    if (!c.object(d, p, ["cluster", "weight"])) break;
    const cluster = d.get("cluster");
    if (cluster === null) { c.fail(p, "missing \"cluster\""); break; }
    const name = c.string(cluster, join(p, "cluster"), 1, 512);
    const w = d.get("weight");
    const weight = w !== null ? <u32>c.integer(w, join(p, "weight"), 0, 1000000) : 1;
    if (!c.failed) route.to(name, weight);
  }
  const hashKey = v.get("hashKey");
  if (hashKey !== null) {
    const k = c.string(hashKey, join(path, "hashKey"), 1, 256);
    if (!c.failed) route.hashOn(k);
  }
  const req = v.get("requestMutation");
  if (req !== null) route.requestMutation = parseMutation(c, req, join(path, "requestMutation"));
  const resp = v.get("responseMutation");
  if (resp !== null) route.responseMutation = parseMutation(c, resp, join(path, "responseMutation"));
  return c.failed ? null : route;
}

function parseBucket(c: Checker, v: JsonValue, path: string, key: string): TokenBucket | null {
  if (!c.object(v, path, ["maxTokens", "tokensPerFill", "fillIntervalMs"])) return null;
  const max = v.get("maxTokens");
  const interval = v.get("fillIntervalMs");
  if (max === null || interval === null) { c.fail(path, "must have maxTokens and fillIntervalMs"); return null; }
  const maxTokens = <u64>c.integer(max, join(path, "maxTokens"), 0, 4294967295);
  const perFillV = v.get("tokensPerFill");
  const perFill = perFillV !== null ? <u64>c.integer(perFillV, join(path, "tokensPerFill"), 1, 4294967295) : 1;
  const intervalMs = <u64>c.integer(interval, join(path, "fillIntervalMs"), 1, 86400000);
  if (c.failed) return null;
  return new TokenBucket(key, maxTokens, perFill, intervalMs * 1_000_000);
}

/** Aeraki's default requestTimeout (GlobalRateLimit in aeraki-mesh/api metaprotocol_metarouter.proto). */
const DEFAULT_GLOBAL_TIMEOUT_MS: u32 = 20;
const DEFAULT_REPORT_INTERVAL_MS: u32 = 100;

function parseGlobalLimit(c: Checker, v: JsonValue, path: string, index: i32, configName: string): GlobalLimit | null {
  if (!c.object(v, path, ["domain", "cluster", "match", "entries", "timeoutMs", "reportIntervalMs", "failMode"])) return null;
  const domainV = v.get("domain");
  const clusterV = v.get("cluster");
  const entriesV = v.get("entries");
  if (domainV === null || clusterV === null || entriesV === null) { c.fail(path, "must have domain, cluster and entries"); return null; }
  const domain = c.string(domainV, join(path, "domain"), 1, 253);
  const cluster = c.string(clusterV, join(path, "cluster"), 1, 512);
  const matchV = v.get("match");
  const match = matchV !== null ? parseMatch(c, matchV, join(path, "match")) : new MetadataMatch();
  const timeoutV = v.get("timeoutMs");
  let timeoutMs = timeoutV !== null ? <u32>c.integer(timeoutV, join(path, "timeoutMs"), 1, 10000) : DEFAULT_GLOBAL_TIMEOUT_MS;
  const intervalV = v.get("reportIntervalMs");
  const intervalMs = intervalV !== null ? <u32>c.integer(intervalV, join(path, "reportIntervalMs"), 10, 60000) : DEFAULT_REPORT_INTERVAL_MS;
  // A report must be answered before the next one for the stated bound (docs/global-rate-limit.md).
  if (timeoutMs > intervalMs) timeoutMs = intervalMs;
  const failV = v.get("failMode");
  const failClosed = failV !== null && c.oneOf(failV, join(path, "failMode"), ["open", "closed"]) == "closed";
  if (c.failed) return null;
  const limit = new GlobalLimit(index, configName, domain, cluster, timeoutMs, intervalMs, failClosed, match);
  const ep = join(path, "entries");
  if (!c.array(entriesV, ep, 1, 8)) return null;
  for (let i = 0; i < entriesV.items.length && !c.failed; i++) {
    const e = entriesV.items[i];
    const p = at(ep, i);
    if (!c.object(e, p, ["key", "metadata", "value"])) return null;
    const keyV = e.get("key");
    if (keyV === null) { c.fail(p, "missing \"key\""); return null; }
    const key = c.string(keyV, join(p, "key"), 1, 256);
    const mdV = e.get("metadata");
    const valueV = e.get("value");
    if ((mdV === null) == (valueV === null)) { c.fail(p, "must have exactly one of metadata, value"); return null; }
    const mdKey = mdV !== null ? c.string(mdV, join(p, "metadata"), 1, 256) : "";
    const fixed = valueV !== null ? c.string(valueV, join(p, "value"), 0, 1024) : "";
    if (!c.failed) limit.addEntry(new GlobalEntry(key, mdKey, fixed));
  }
  return c.failed ? null : limit;
}

function toPerMillion(percent: f64): u32 {
  return <u32>Math.round(percent * <f64>MILLION / 100.0);
}

function parseFault(c: Checker, v: JsonValue, path: string): Fault | null {
  if (!c.object(v, path, ["match", "abort", "delay"])) return null;
  const matchV = v.get("match");
  const f = new Fault(matchV !== null ? parseMatch(c, matchV, join(path, "match")) : new MetadataMatch());
  const abort = v.get("abort");
  if (abort !== null) {
    const p = join(path, "abort");
    if (!c.object(abort, p, ["percent", "message"])) return null;
    const percent = abort.get("percent");
    if (percent === null) { c.fail(p, "missing \"percent\""); return null; }
    f.abortPerMillion = toPerMillion(c.number(percent, join(p, "percent"), 0, 100));
    const message = abort.get("message");
    if (message !== null) f.abortMessage = c.string(message, join(p, "message"), 0, 1024);
  }
  const delay = v.get("delay");
  if (delay !== null) {
    const p = join(path, "delay");
    if (!c.object(delay, p, ["percent", "fixedDelayMs"])) return null;
    const percent = delay.get("percent");
    const ms = delay.get("fixedDelayMs");
    if (percent === null || ms === null) { c.fail(p, "must have percent and fixedDelayMs"); return null; }
    f.delayPerMillion = toPerMillion(c.number(percent, join(p, "percent"), 0, 100));
    f.delayMs = <u32>c.integer(ms, join(p, "fixedDelayMs"), 0, 3600000);
  }
  return c.failed ? null : f;
}

function parsePatterns(c: Checker, v: JsonValue | null, path: string): PatternList {
  const values: Array<string> = [];
  if (v === null) return new PatternList(values);
  if (!c.array(v, path, 0, 100)) return new PatternList(values);
  for (let i = 0; i < v.items.length && !c.failed; i++) values.push(c.string(v.items[i], at(path, i), 1, 1024));
  return new PatternList(values);
}

function parsePolicy(c: Checker, v: JsonValue, path: string): Policy | null {
  if (!c.object(v, path, ["name", "action", "rules"])) return null;
  const actionV = v.get("action");
  if (actionV === null) { c.fail(path, "missing \"action\""); return null; }
  const action = c.oneOf(actionV, join(path, "action"), ["ALLOW", "DENY"]);
  const nameV = v.get("name");
  const name = nameV !== null ? c.string(nameV, join(path, "name"), 0, 253) : path;
  if (c.failed) return null;
  const policy = new Policy(name, action == "ALLOW" ? Action.Allow : Action.Deny);
  const rules = v.get("rules");
  if (rules === null) return policy;
  const rp = join(path, "rules");
  if (!c.array(rules, rp, 0, 100)) return null;
  for (let i = 0; i < rules.items.length && !c.failed; i++) {
    const r = rules.items[i];
    const p = at(rp, i);
    if (!c.object(r, p, ["from", "to"])) break;
    const rule = new Rule();
    const from = r.get("from");
    if (from !== null && c.array(from, join(p, "from"), 0, 100)) {
      for (let j = 0; j < from.items.length && !c.failed; j++) {
        const s = from.items[j];
        const sp = at(join(p, "from"), j);
        if (!c.object(s, sp, ["principals", "notPrincipals", "namespaces", "notNamespaces"])) break;
        const src = new Source();
        src.principals = parsePatterns(c, s.get("principals"), join(sp, "principals"));
        src.notPrincipals = parsePatterns(c, s.get("notPrincipals"), join(sp, "notPrincipals"));
        src.namespaces = parsePatterns(c, s.get("namespaces"), join(sp, "namespaces"));
        src.notNamespaces = parsePatterns(c, s.get("notNamespaces"), join(sp, "notNamespaces"));
        rule.from.push(src);
      }
    }
    const to = r.get("to");
    if (to !== null && c.array(to, join(p, "to"), 0, 100)) {
      for (let j = 0; j < to.items.length && !c.failed; j++) {
        const o = to.items[j];
        const op = at(join(p, "to"), j);
        if (!c.object(o, op, ["interfaces", "notInterfaces", "methods", "notMethods", "match"])) break;
        const oper = new Operation();
        oper.interfaces = parsePatterns(c, o.get("interfaces"), join(op, "interfaces"));
        oper.notInterfaces = parsePatterns(c, o.get("notInterfaces"), join(op, "notInterfaces"));
        oper.methods = parsePatterns(c, o.get("methods"), join(op, "methods"));
        oper.notMethods = parsePatterns(c, o.get("notMethods"), join(op, "notMethods"));
        const m = o.get("match");
        if (m !== null) oper.metadata = parseMatch(c, m, join(op, "match"));
        rule.to.push(oper);
      }
    }
    policy.rules.push(rule);
  }
  return c.failed ? null : policy;
}

function parseLimits(c: Checker, v: JsonValue, limits: Limits): void {
  if (!c.object(v, "limits", ["maxFrameBytes", "maxDepth", "maxMetadataEntries", "maxMetadataValueBytes"])) return;
  const f = v.get("maxFrameBytes");
  // At most 16 MiB: an incomplete frame is kept in the VM's memory until it is complete, and the VM's
  // budget for those (network/memory_budget.ts) must hold a couple of the largest.
  if (f !== null) limits.maxFrameBytes = <u32>c.integer(f, "limits.maxFrameBytes", 16, 16777216);
  const d = v.get("maxDepth");
  if (d !== null) limits.maxDepth = <u32>c.integer(d, "limits.maxDepth", 1, 256);
  const e = v.get("maxMetadataEntries");
  if (e !== null) limits.maxMetadataEntries = <u32>c.integer(e, "limits.maxMetadataEntries", 1, 1024);
  const s = v.get("maxMetadataValueBytes");
  if (s !== null) limits.maxMetadataValueBytes = <u32>c.integer(s, "limits.maxMetadataValueBytes", 1, 1048576);
}

function parseRateLimit(c: Checker, v: JsonValue, config: FilterConfig): void {
  if (!c.object(v, "localRateLimit", ["tokenBucket", "conditions"])) return;
  // Bucket keys are proxy-wide shared-data keys: the configuration name keeps two plugins apart.
  const keyBase = "meltemi.rl/" + config.name + "/";
  const tb = v.get("tokenBucket");
  if (tb !== null) config.defaultBucket = parseBucket(c, tb, "localRateLimit.tokenBucket", keyBase + "default");
  const conds = v.get("conditions");
  if (conds === null || !c.array(conds, "localRateLimit.conditions", 0, 100)) return;
  for (let i = 0; i < conds.items.length && !c.failed; i++) {
    const item = conds.items[i];
    const p = at("localRateLimit.conditions", i);
    if (!c.object(item, p, ["match", "tokenBucket"])) return;
    const m = item.get("match");
    const b = item.get("tokenBucket");
    if (m === null || b === null) { c.fail(p, "must have match and tokenBucket"); return; }
    const match = parseMatch(c, m, join(p, "match"));
    const bucket = parseBucket(c, b, join(p, "tokenBucket"), keyBase + i.toString());
    if (bucket !== null) config.rateLimitConditions.push(new RateLimitCondition(match, bucket));
  }
}

const TRACING_FIELDS = [
  "format", "samplingPercentage", "collectorCluster", "collectorAuthority", "collectorPath", "serviceName", "maxBufferedSpans",
  "maxSpansPerBatch", "flushIntervalMs", "timeoutMs",
];

function parseTracing(c: Checker, v: JsonValue): TracingConfig | null {
  if (!c.object(v, "tracing", TRACING_FIELDS)) return null;
  const t = new TracingConfig();
  const cluster = v.get("collectorCluster");
  if (cluster === null) { c.fail("tracing", "must have collectorCluster"); return null; }
  t.collectorCluster = c.string(cluster, "tracing.collectorCluster", 1, 253);
  const format = v.get("format");
  if (format !== null && c.oneOf(format, "tracing.format", ["zipkin", "otlp"]) == "otlp") {
    t.format = TraceFormat.Otlp;
    t.collectorPath = OTLP_PATH;
  }
  const pct = v.get("samplingPercentage");
  if (pct !== null) t.samplingPerMillion = toPerMillion(c.number(pct, "tracing.samplingPercentage", 0, 100));
  const authority = v.get("collectorAuthority");
  if (authority !== null) t.collectorAuthority = c.string(authority, "tracing.collectorAuthority", 1, 253);
  const path = v.get("collectorPath");
  if (path !== null) {
    t.collectorPath = c.string(path, "tracing.collectorPath", 1, 1024);
    if (!c.failed && !t.collectorPath.startsWith("/")) c.fail("tracing.collectorPath", "must start with /");
  }
  const service = v.get("serviceName");
  if (service !== null) t.serviceName = c.string(service, "tracing.serviceName", 1, 253);
  const buffered = v.get("maxBufferedSpans");
  if (buffered !== null) t.maxBufferedSpans = <i32>c.integer(buffered, "tracing.maxBufferedSpans", 1, 100000);
  const batch = v.get("maxSpansPerBatch");
  if (batch !== null) t.maxSpansPerBatch = <i32>c.integer(batch, "tracing.maxSpansPerBatch", 1, 10000);
  const flush = v.get("flushIntervalMs");
  if (flush !== null) t.flushIntervalMs = <u32>c.integer(flush, "tracing.flushIntervalMs", 1000, 60000);
  const timeout = v.get("timeoutMs");
  if (timeout !== null) t.timeoutMs = <u32>c.integer(timeout, "tracing.timeoutMs", 100, 60000);
  return t;
}

export function parseConfig(text: string): ConfigResult {
  const result = new ConfigResult();
  const parsed = parseJson(text);
  if (parsed.error.length > 0) { result.error = "invalid JSON: " + parsed.error; return result; }
  const root = parsed.value as JsonValue;
  if (root.kind != JsonKind.Object) { result.error = "expected a JSON object, got " + root.kindName(); return result; }

  const version = root.get("version");
  if (version === null) { result.error = "missing \"version\""; return result; }
  if (version.kind != JsonKind.Number || version.numberValue != <f64>SCHEMA_VERSION) {
    const shown = version.kind == JsonKind.Number ? formatNumber(version.numberValue) : version.kindName();
    result.error = "unknown schema version " + shown + " (this filter knows version " + SCHEMA_VERSION.toString() + ")";
    return result;
  }

  const c = new Checker();
  if (!c.object(root, "", ["version", "name", "protocol", "routingMode", "limits", "routes", "localRateLimit", "globalLimits", "faults", "authorization", "metrics", "accessLog", "randomSeed", "tracing"])) {
    result.error = c.error;
    return result;
  }
  const config = new FilterConfig();
  const name = root.get("name");
  if (name !== null) config.name = c.string(name, "name", 0, 253);
  const protocol = root.get("protocol");
  if (protocol !== null) {
    config.protocol = c.string(protocol, "protocol", 1, 32);
    if (!c.failed && !isProtocolName(config.protocol)) c.fail("protocol", "must be a lowercase name (^[a-z][a-z0-9-]{0,31}$)");
  }
  const mode = root.get("routingMode");
  if (mode !== null) config.routingMode = c.oneOf(mode, "routingMode", ["perRequest", "perConnection"]) == "perRequest" ? RoutingMode.PerRequest : RoutingMode.PerConnection;
  if (!c.failed && config.protocol.length > 0) {
    // A protocol this module has no codec for is refused, not passed through undecided.
    const codec = createCodec(config.protocol, config.limits);
    if (codec === null) c.fail("protocol", "no codec \"" + config.protocol + "\" in this module (it has: " + listed(CODEC_NAMES) + ")");
    else if (config.routingMode == RoutingMode.PerRequest && codec.nativeRouter.length == 0) {
      c.fail("routingMode", "perRequest needs a native Envoy router behind the filter, which codec \"" + config.protocol + "\" has not");
    }
    // Authorization's `interfaces` match the protocol's own service field.
    if (codec !== null) config.authorizer.serviceKey = codec.serviceKey;
  }
  const limits = root.get("limits");
  if (limits !== null && !c.failed) parseLimits(c, limits, config.limits);
  c.maxValueBytes = config.limits.maxMetadataValueBytes;
  const routes = root.get("routes");
  if (routes !== null && !c.failed && c.array(routes, "routes", 0, 1000)) {
    for (let i = 0; i < routes.items.length && !c.failed; i++) {
      const r = parseRoute(c, routes.items[i], at("routes", i));
      if (r !== null) {
        config.routes.add(r);
        if (config.probeCluster.length == 0 && r.destinations.length > 0) config.probeCluster = r.destinations[0].cluster;
      }
    }
  }
  const rl = root.get("localRateLimit");
  if (rl !== null && !c.failed) parseRateLimit(c, rl, config);
  const globals = root.get("globalLimits");
  if (globals !== null && !c.failed && c.array(globals, "globalLimits", 0, 16)) {
    for (let i = 0; i < globals.items.length && !c.failed; i++) {
      const g = parseGlobalLimit(c, globals.items[i], at("globalLimits", i), i, config.name);
      if (g === null) continue;
      config.globalLimits.push(g);
      if (config.globalTickMs == 0 || g.reportIntervalMs < config.globalTickMs) config.globalTickMs = g.reportIntervalMs;
    }
  }
  const faults = root.get("faults");
  if (faults !== null && !c.failed && c.array(faults, "faults", 0, 100)) {
    for (let i = 0; i < faults.items.length && !c.failed; i++) {
      const f = parseFault(c, faults.items[i], at("faults", i));
      if (f !== null) config.faults.push(f);
    }
  }
  const authz = root.get("authorization");
  if (authz !== null && !c.failed && c.array(authz, "authorization", 0, 100)) {
    for (let i = 0; i < authz.items.length && !c.failed; i++) {
      const p = parsePolicy(c, authz.items[i], at("authorization", i));
      if (p !== null) config.authorizer.policies.push(p);
    }
  }
  const metricsV = root.get("metrics");
  if (metricsV !== null && !c.failed && c.object(metricsV, "metrics", ["maxLabelSets"])) {
    const m = metricsV.get("maxLabelSets");
    if (m !== null) config.maxLabelSets = <i32>c.integer(m, "metrics.maxLabelSets", 1, 10000);
  }
  const log = root.get("accessLog");
  if (log !== null && !c.failed && c.object(log, "accessLog", ["enabled", "format"])) {
    const enabled = log.get("enabled");
    if (enabled !== null) config.accessLog = c.boolean(enabled, "accessLog.enabled");
    const format = log.get("format");
    if (format !== null) config.accessLogFormat = c.string(format, "accessLog.format", 0, 1024);
  }

  const seed = root.get("randomSeed");
  if (seed !== null && !c.failed) config.randomSeed = <u64>c.integer(seed, "randomSeed", 1, 4294967295);

  const tracing = root.get("tracing");
  if (tracing !== null && !c.failed) config.tracing = parseTracing(c, tracing);

  if (c.failed) { result.error = c.error; return result; }
  if (config.accessLog) config.accessLogParsed = AccessLogFormat.parse(config.accessLogFormat.length > 0 ? config.accessLogFormat : DEFAULT_ACCESS_LOG_FORMAT);
  config.decodesLazily = decodesLazily(config);
  if (config.decodesLazily && config.hasRateLimit) config.keysReadWithLimits = keysReadWithLimits(config);
  result.config = config;
  return result;
}

function decodesLazily(config: FilterConfig): bool {
  if (config.routingMode != RoutingMode.PerConnection || config.tracing !== null) return false;
  for (let i = 0; i < config.routes.routes.length; i++) {
    const r = unchecked(config.routes.routes[i]);
    if (!r.requestMutation.isEmpty || !r.responseMutation.isEmpty) return false;
  }
  return true;
}

function keysReadWithLimits(config: FilterConfig): Array<ArrayBuffer> {
  const keys: Array<ArrayBuffer> = [];
  for (let i = 0; i < config.rateLimitConditions.length; i++) unchecked(config.rateLimitConditions[i]).match.collectKeys(keys);
  for (let i = 0; i < config.globalLimits.length; i++) {
    const g = unchecked(config.globalLimits[i]);
    g.match.collectKeys(keys);
    for (let j = 0; j < g.entries.length; j++) {
      const e = unchecked(g.entries[j]);
      if (e.fromMetadata) keys.push(e.metadataKeyUtf8);
    }
  }
  for (let i = 0; i < config.faults.length; i++) unchecked(config.faults[i]).match.collectKeys(keys);
  for (let i = 0; i < config.routes.routes.length; i++) {
    const r = unchecked(config.routes.routes[i]);
    r.match.collectKeys(keys);
    if (r.hashKey !== null) keys.push(r.hashKey as ArrayBuffer);
  }
  return keys;
}
