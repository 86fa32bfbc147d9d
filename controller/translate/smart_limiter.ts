// Slime's SmartLimiter (microservice.slime.io/v1alpha2, slime-io/slime modules/limiter
// api/v1alpha2/smart_limiter.proto) read as it is, for a Meltemi service: the SmartLimiter has the
// name and namespace of the Service (Slime's rule), or names it in `spec.host`.
//
// Fields and what Meltemi does with them:
// - spec.sets{<subset | _base>: {descriptor: [...]}}: conditions, quotas, fill_interval, strategy;
// - descriptor.match[] (name + exact_match | prefix_match | suffix_match | regex_match | present_match,
//   invert_match, is_exact_match_empty): on RPC metadata keys (interface, method, attachments...);
// - target.port (descriptor's, else the spec's): that service port only; target.direction outbound,
//   target.route/host (HTTP routes): not applicable to RPC, reported;
// - strategy global (one counter in Envoy's rate limit service, slime_global.ts): the _base set's
//   descriptors with condition "true", a whole-number quota and a fill_interval of 1 s / 1 min / 1 h /
//   1 day (the service's units, as Slime requires);
// - custom_key/custom_value, headers_to_add, match on query/body/source IP, gateway limiters
//   (`gateway: true`): not supported, reported;
// - spec.workloadSelector without `gateway: true` (a sidecar limiter: Slime puts its EnvoyFilter on
//   the pods with those labels): accepted when it selects the service's pods (translate.ts checks it
//   against the Service's selector).
// Field names: Slime reads its spec as protobuf JSON, which takes the proto name (fill_interval) and
// the JSON name (fillInterval) alike, so both are accepted here; both at once is refused, as protojson
// does. An unknown field refuses the SmartLimiter (a dropped `match` would limit every request).
import { resolveHost } from "../discovery/hosts";
import { refOf, type KubeObject } from "../k8s/objects";
import { BASE_SET, type AdaptiveDescriptor, type AdaptiveLimiter, type SlimeGlobalDescriptor, type Strategy } from "./adaptive_limiter";
import type { Diagnostics } from "./diagnostics";
import { FILL_INTERVAL_RANGE, fillIntervalInRange } from "./fill_interval";
import type { FilterMatch, FilterStringMatch } from "./filter_config";
import { regexProblem } from "./regex_check";
import { refuseUnknownTopLevelKeys } from "./unknown_fields";

type Loose = Record<string, unknown>;
const isObject = (v: unknown): v is Loose => typeof v === "object" && v !== null && !Array.isArray(v);

// Proto field names (slime-io/slime modules/limiter api/v1alpha2/smart_limiter.proto, and the CRD's
// matchSource / useQueryMatch / present_match_separate / headers_to_add).
const SPEC_FIELDS = ["sets", "rls", "workloadSelector", "gateway", "host", "target"];
const SET_FIELDS = ["descriptor"];
const DESCRIPTOR_FIELDS = ["condition", "action", "match", "target", "custom_key", "custom_value"];
const ACTION_FIELDS = ["quota", "fill_interval", "strategy", "headers_to_add"];
const DURATION_FIELDS = ["seconds", "nanos"];
const TARGET_FIELDS = ["direction", "port", "route", "host"];
const MATCH_FIELDS = ["name", "exact_match", "prefix_match", "suffix_match", "regex_match", "present_match", "invert_match", "is_exact_match_empty", "matchSource", "useQueryMatch", "present_match_separate"];

/** protojson's JSON name of a proto field: fill_interval -> fillInterval. */
const jsonName = (field: string) => field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * The object with its keys under their proto names, either spelling accepted. null (reported) for an
 * unknown field or a field given in both spellings.
 */
function protoFields(raw: Loose, fields: readonly string[], path: string, ref: ReturnType<typeof refOf>, diags: Diagnostics): Loose | null {
  const byName = new Map<string, string>();
  for (const f of fields) {
    byName.set(f, f);
    byName.set(jsonName(f), f);
  }
  const out: Loose = {};
  let ok = true;
  for (const [k, v] of Object.entries(raw)) {
    const field = byName.get(k);
    const at = path === "" ? k : `${path}.${k}`;
    if (field === undefined) {
      diags.error(ref, "UnknownField", `"${k}" is not a SmartLimiter field (misspelled?): the SmartLimiter is not applied, since without it the limit could apply more broadly than written`, at);
      ok = false;
    } else if (field in out) {
      diags.error(ref, "DuplicateField", `"${field}" is given twice (as ${field} and ${jsonName(field)})`, at);
      ok = false;
    } else out[field] = v;
  }
  return ok ? out : null;
}
/** The service a SmartLimiter is for: spec.host, else its own name (Slime's rule), as an FQDN. */
export function smartLimiterHost(obj: KubeObject, clusterDomain: string): string {
  const namespace = obj.metadata.namespace ?? "default";
  const spec = isObject(obj.spec) ? obj.spec : {};
  const given = typeof spec.host === "string" && spec.host !== "" ? spec.host : obj.metadata.name ?? "";
  return resolveHost(given, namespace, clusterDomain);
}

export function readSmartLimiter(obj: KubeObject, clusterDomain: string, diags: Diagnostics): AdaptiveLimiter | null {
  const ref = refOf(obj);
  const namespace = obj.metadata.namespace ?? "default";
  const before = diags.items.length;
  const limiter = readSpec(obj, ref, namespace, clusterDomain, diags);
  // Refused as a whole on any error: a SmartLimiter applied without one of its descriptors would
  // limit less than written while its status says it is refused.
  return diags.items.slice(before).some((d) => d.object === ref && d.severity === "error") ? null : limiter;
}

function readSpec(obj: KubeObject, ref: ReturnType<typeof refOf>, namespace: string, clusterDomain: string, diags: Diagnostics): AdaptiveLimiter | null {
  if (refuseUnknownTopLevelKeys(obj, "SmartLimiter", ref, diags)) return null;
  const spec = isObject(obj.spec) ? protoFields(obj.spec, SPEC_FIELDS, "spec", ref, diags) : obj.spec;
  if (spec === null) return null;
  if (!isObject(spec) || !isObject(spec.sets) || Object.keys(spec.sets).length === 0) {
    diags.error(ref, "InvalidSpec", "spec.sets is required: a map from a DestinationRule subset name (or _base) to descriptors", "spec.sets");
    return null;
  }
  // Slime's gateway limiters have `gateway: true` (their workloadSelector picks the gateway pods);
  // a workloadSelector alone is a sidecar limiter on those pods.
  if (spec.gateway === true) {
    diags.error(ref, "GatewayNotSupported", "gateway limiters (spec.gateway: true) are for HTTP gateways; Meltemi limits the serving pods of a service", "spec.gateway");
    return null;
  }
  let workloadSelector: Record<string, string> | undefined;
  if (spec.workloadSelector !== undefined && spec.workloadSelector !== null) {
    const ws = spec.workloadSelector;
    if (!isObject(ws) || Object.values(ws).some((v) => typeof v !== "string")) {
      diags.error(ref, "InvalidSpec", "workloadSelector must map label names to values", "spec.workloadSelector");
      return null;
    }
    if (Object.keys(ws).length > 0) workloadSelector = ws as Record<string, string>;
  }
  if (spec.rls !== undefined && spec.rls !== "") diags.degrade(ref, "RlsNotSupported", "spec.rls: not applied; the rate limit service of global descriptors is the controller's (its slimeGlobal option, Slime's limiter module defaults)", "spec.rls");
  const service = obj.metadata.name ?? "";
  const specPort = portOf(spec.target, "spec.target", ref, diags);
  if (specPort === null) return null;

  const limiter: AdaptiveLimiter = { source: ref, namespace, service, host: smartLimiterHost(obj, clusterDomain), sets: [] };
  if (workloadSelector) limiter.workloadSelector = workloadSelector;
  let port = specPort;
  for (const setName of Object.keys(spec.sets).sort()) {
    const path = `spec.sets.${setName}`;
    const set = isObject(spec.sets[setName]) ? protoFields(spec.sets[setName] as Loose, SET_FIELDS, path, ref, diags) : null;
    const list = set?.descriptor;
    if (!Array.isArray(list)) {
      diags.error(ref, "InvalidSpec", "descriptor must be a list", `${path}.descriptor`);
      continue;
    }
    const descriptors: AdaptiveDescriptor[] = [];
    list.forEach((raw, i) => {
      const d = readDescriptor(raw, `${path}.descriptor[${i}]`, ref, diags);
      if (!d) return;
      if (d.global) {
        if (setName !== BASE_SET) {
          diags.degrade(ref, "GlobalSubsetNotSupported", "a global descriptor of a subset set is not applied: the rate limit service counts the whole service (write it in _base)", `${path}.descriptor[${i}]`);
          return;
        }
        (limiter.globals ??= []).push(d.global);
      }
      if (d.port !== undefined) {
        if (port !== undefined && port !== d.port) {
          diags.error(ref, "MixedPorts", `descriptors target ports ${port} and ${d.port}; Meltemi applies one SmartLimiter to one port (use one per port, or none for every port)`, `${path}.descriptor[${i}].target.port`);
          return;
        }
        port = d.port;
      }
      if (!d.global) descriptors.push(d.descriptor);
    });
    if (setName !== BASE_SET && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/i.test(setName)) {
      diags.error(ref, "InvalidSet", `set "${setName}" is neither _base nor a subset name`, path);
      continue;
    }
    limiter.sets.push({ name: setName, descriptors });
  }
  if (port !== undefined) limiter.port = port;
  return limiter;
}

function portOf(rawTarget: unknown, path: string, ref: ReturnType<typeof refOf>, diags: Diagnostics): number | undefined | null {
  if (rawTarget === undefined || rawTarget === null) return undefined;
  if (!isObject(rawTarget)) {
    diags.error(ref, "InvalidSpec", "target must be an object", path);
    return null;
  }
  const target = protoFields(rawTarget, TARGET_FIELDS, path, ref, diags);
  if (target === null) return null;
  if (target.direction !== undefined && target.direction !== "" && target.direction !== "inbound") {
    diags.degrade(ref, "OutboundNotSupported", `target.direction ${JSON.stringify(target.direction)}: Meltemi limits on the serving side (inbound); caller-side limits are not supported`, `${path}.direction`);
    return null;
  }
  for (const k of ["route", "host"]) {
    if (Array.isArray(target[k]) && (target[k] as unknown[]).length > 0) diags.degrade(ref, "HttpRouteIgnored", `${path}.${k}: HTTP routes and virtual hosts do not apply to RPC; not applied`, `${path}.${k}`);
  }
  if (target.port === undefined || target.port === 0) return undefined;
  if (typeof target.port !== "number" || !Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
    diags.error(ref, "InvalidSpec", `target.port must be a port number, got ${JSON.stringify(target.port)}`, `${path}.port`);
    return null;
  }
  return target.port;
}

/** The service's units, by fill_interval in seconds (Slime's calculateQuotaPerUnit allows these only). */
const GLOBAL_UNITS: Record<number, SlimeGlobalDescriptor["unit"]> = { 1: "second", 60: "minute", 3600: "hour", 86400: "day" };

function readDescriptor(given: unknown, path: string, ref: ReturnType<typeof refOf>, diags: Diagnostics): { descriptor: AdaptiveDescriptor; port?: number; global?: SlimeGlobalDescriptor } | null {
  if (!isObject(given)) {
    diags.error(ref, "InvalidSpec", "a descriptor must be an object", path);
    return null;
  }
  const raw = protoFields(given, DESCRIPTOR_FIELDS, path, ref, diags);
  if (raw === null) return null;
  if (raw.custom_key || raw.custom_value) {
    diags.degrade(ref, "CustomKeyNotSupported", "custom_key/custom_value need an HTTP plugin; this descriptor is not applied (Slime skips it too)", path);
    return null;
  }
  if (typeof raw.condition !== "string" || raw.condition.trim() === "") {
    diags.error(ref, "NoCondition", 'no condition (Slime refuses it too); write condition: "true" for always', `${path}.condition`);
    return null;
  }
  if (!isObject(raw.action)) {
    diags.error(ref, "InvalidSpec", "action is required", `${path}.action`);
    return null;
  }
  const action = protoFields(raw.action, ACTION_FIELDS, `${path}.action`, ref, diags);
  if (action === null) return null;
  if (Array.isArray(action.headers_to_add) && action.headers_to_add.length > 0) diags.degrade(ref, "HeadersToAddIgnored", "headers_to_add: RPC error replies carry no HTTP headers; not applied", `${path}.action.headers_to_add`);
  const quota = typeof action.quota === "number" ? String(action.quota) : action.quota;
  if (typeof quota !== "string" || quota.trim() === "") {
    diags.error(ref, "InvalidSpec", "action.quota is required (a number or a template such as 100/{{._base.pod}})", `${path}.action.quota`);
    return null;
  }
  const strategy = action.strategy === undefined || action.strategy === "" ? "single" : action.strategy;
  if (strategy !== "single" && strategy !== "average" && strategy !== "global") {
    diags.error(ref, "InvalidSpec", `strategy ${JSON.stringify(strategy)}: expected single, average or global`, `${path}.action.strategy`);
    return null;
  }
  const fi = isObject(action.fill_interval) ? protoFields(action.fill_interval, DURATION_FIELDS, `${path}.action.fill_interval`, ref, diags) : action.fill_interval;
  if (fi === null) return null;
  const seconds = isObject(fi) ? Number(fi.seconds ?? 0) : NaN;
  const nanos = isObject(fi) ? Number(fi.nanos ?? 0) : NaN;
  const ms = seconds * 1000 + Math.floor(nanos / 1_000_000);
  if (!Number.isFinite(ms) || !fillIntervalInRange(ms)) {
    diags.error(ref, "InvalidDuration", `action.fill_interval must be {seconds, nanos} ${FILL_INTERVAL_RANGE}`, `${path}.action.fill_interval`);
    return null;
  }
  const descriptor: AdaptiveDescriptor = { condition: raw.condition, quota, fillIntervalMs: ms, strategy: (strategy === "global" ? "single" : strategy) as Strategy, path };
  if (raw.match !== undefined && raw.match !== null) {
    const match = readMatch(raw.match, `${path}.match`, ref, diags);
    if (match === null) return null;
    if (match) descriptor.match = match;
  }
  const port = portOf(raw.target, `${path}.target`, ref, diags);
  if (port === null) return null;
  const out: { descriptor: AdaptiveDescriptor; port?: number; global?: SlimeGlobalDescriptor } = port === undefined ? { descriptor } : { descriptor, port };
  if (strategy === "global") {
    const global = globalOf(descriptor, ref, diags);
    if (!global) return null;
    out.global = global;
  }
  return out;
}

/** A `global` descriptor as the rate limit service counts it: a whole quota per calendar unit. */
function globalOf(d: AdaptiveDescriptor, ref: ReturnType<typeof refOf>, diags: Diagnostics): SlimeGlobalDescriptor | null {
  const unit = d.fillIntervalMs % 1000 === 0 ? GLOBAL_UNITS[d.fillIntervalMs / 1000] : undefined;
  if (!unit) {
    diags.error(ref, "InvalidDuration", "a global descriptor's fill_interval must be 1 s, 60 s, 3600 s or 86400 s: the rate limit service counts per second, minute, hour or day (Slime refuses others too)", `${d.path}.action.fill_interval`);
    return null;
  }
  if (!/^[0-9]+$/.test(d.quota.trim()) || Number(d.quota) > 4294967295) {
    diags.error(ref, "InvalidQuota", `a global descriptor's quota must be a whole number (the rate limit service's requests_per_unit; Slime refuses templates there too), got ${JSON.stringify(d.quota)}`, `${d.path}.action.quota`);
    return null;
  }
  if (d.condition.trim() !== "true") {
    diags.degrade(ref, "GlobalConditionNotSupported", `a global descriptor applies always (condition "true"); condition ${JSON.stringify(d.condition)} needs the adaptive engine's metrics, which the rate limit service's fixed configuration cannot follow: not applied`, `${d.path}.condition`);
    return null;
  }
  const global: SlimeGlobalDescriptor = { requestsPerUnit: Number(d.quota), unit, path: d.path };
  if (d.match) global.match = d.match;
  return global;
}

function readMatch(raw: unknown, path: string, ref: ReturnType<typeof refOf>, diags: Diagnostics): FilterMatch | undefined | null {
  if (!Array.isArray(raw)) {
    diags.error(ref, "InvalidSpec", "match must be a list", path);
    return null;
  }
  if (raw.length === 0) return undefined;
  const out: FilterMatch = {};
  for (let i = 0; i < raw.length; i++) {
    const at = `${path}[${i}]`;
    const m = isObject(raw[i]) ? protoFields(raw[i] as Loose, MATCH_FIELDS, at, ref, diags) : undefined;
    if (m === null) return null;
    if (!isObject(m) || typeof m.name !== "string" || m.name === "") {
      diags.error(ref, "InvalidMatch", "a match needs a name (the metadata key)", at);
      return null;
    }
    if ((m.matchSource !== undefined && m.matchSource !== "HeadMatch") || m.useQueryMatch === true || m.present_match_separate === true) {
      diags.error(ref, "MatchNotSupported", "query, body, source IP and present_match_separate matches are HTTP-only; RPC matches read metadata keys", at);
      return null;
    }
    const kinds: FilterStringMatch[] = [];
    if (typeof m.exact_match === "string" && m.exact_match !== "") kinds.push({ exact: m.exact_match });
    if (m.is_exact_match_empty === true) kinds.push({ exact: "" });
    if (typeof m.prefix_match === "string" && m.prefix_match !== "") kinds.push({ prefix: m.prefix_match });
    if (typeof m.suffix_match === "string" && m.suffix_match !== "") kinds.push({ suffix: m.suffix_match });
    if (typeof m.regex_match === "string" && m.regex_match !== "") kinds.push({ regex: m.regex_match });
    if (m.present_match === true) kinds.push({ present: true });
    if (kinds.length !== 1) {
      diags.error(ref, "InvalidMatch", `"${m.name}" needs exactly one of exact_match, prefix_match, suffix_match, regex_match, present_match (has ${kinds.length})`, at);
      return null;
    }
    const fm = kinds[0]!;
    if (fm.regex !== undefined) {
      const problem = regexProblem(fm.regex);
      if (problem !== null) {
        diags.error(ref, "UnsupportedRegex", `regex ${JSON.stringify(fm.regex)} is rejected by the filter: ${problem}`, `${at}.regex_match`);
        return null;
      }
    }
    if (m.invert_match === true) fm.invert = true;
    if (out[m.name]) {
      diags.error(ref, "InvalidMatch", `"${m.name}" is matched twice in one descriptor`, at);
      return null;
    }
    out[m.name] = fm;
  }
  return out;
}
