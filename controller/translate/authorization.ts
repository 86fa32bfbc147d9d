// The translation of RpcAuthorizationPolicy and Aeraki's DubboAuthorizationPolicy into authorization
// intents: Aeraki's semantics (any matching DENY denies; if ALLOW policies apply, one must match; an
// ALLOW policy without rules matches nothing, i.e. denies all), enforced by the serving proxies.
import { rpcAuthorizationPolicy } from "../api/schema/rpc_authorization_policy";
import type { RpcAuthorizationPolicyObject } from "../api/types";
import { resolveHost } from "../discovery/hosts";
import { dubboAuthorizationPolicySpecSchema, type DubboAuthorizationPolicy } from "../k8s/aeraki";
import { refOf } from "../k8s/objects";
import type { Diagnostics } from "./diagnostics";
import type { FilterAuthorizationPolicy, FilterOperation, FilterPatterns } from "./filter_config";
import type { AuthorizationIntent } from "./intent";
import { fromMeltemiMatch } from "./match";
import type { TranslateOptions } from "./options";
import { checkMeltemiObject, checkSpec } from "./schema_check";
import { refuseUnknownFields, refuseUnknownTopLevelKeys } from "./unknown_fields";

const PATTERN_FIELDS = ["principals", "notPrincipals", "namespaces", "notNamespaces"] as const;
const OPERATION_FIELDS = ["interfaces", "notInterfaces", "methods", "notMethods"] as const;

function copyLists<K extends string>(from: Partial<Record<K, string[]>> | undefined, keys: readonly K[]): Partial<Record<K, string[]>> {
  const out: Partial<Record<K, string[]>> = {};
  for (const k of keys) {
    const v = from?.[k];
    if (v && v.length > 0) out[k] = [...v];
  }
  return out;
}

function policyName(obj: { metadata: { namespace?: string; name?: string } }): string {
  return `${obj.metadata.namespace ?? "default"}/${obj.metadata.name ?? ""}`;
}

export function readRpcAuthorizationPolicy(obj: RpcAuthorizationPolicyObject, options: TranslateOptions, diags: Diagnostics): AuthorizationIntent | null {
  const ref = refOf(obj);
  const report = checkMeltemiObject(rpcAuthorizationPolicy, obj);
  if (report.errors.length > 0) {
    diags.error(ref, "InvalidSpec", report.errors.join("; "));
    return null;
  }
  if (refuseUnknownFields(report.unknownFields, "", "RpcAuthorizationPolicy", ref, diags)) return null;
  const ns = obj.metadata.namespace ?? "default";
  const spec = obj.spec ?? {};
  let ok = true;
  const rules = (spec.rules ?? []).map((r, i) => {
    const rule: NonNullable<FilterAuthorizationPolicy["rules"]>[number] = {};
    if (r.from) rule.from = r.from.map((f) => copyLists(f.source, PATTERN_FIELDS) as FilterPatterns);
    if (r.to) {
      rule.to = r.to.map((t, j) => {
        const op = copyLists(t.operation, OPERATION_FIELDS) as FilterOperation;
        const match = fromMeltemiMatch(t.operation.match, `spec.rules[${i}].to[${j}].operation.match`, ref, diags);
        if (match === null) ok = false;
        else if (match) op.match = match;
        return op;
      });
    }
    return rule;
  });
  if (!ok) return null;
  const policy: FilterAuthorizationPolicy = { name: policyName(obj), action: spec.action ?? "ALLOW", rules };
  const intent: AuthorizationIntent = { source: ref, namespace: ns, policy };
  if (spec.hosts?.length) intent.hosts = spec.hosts.map((h) => resolveHost(h, ns, options.clusterDomain));
  if (policy.action === "ALLOW" && rules.length === 0) diags.info(ref, "DenyAll", "an ALLOW policy without rules matches nothing: every call to the services in scope is denied");
  return intent;
}

export function readDubboAuthorizationPolicy(obj: DubboAuthorizationPolicy, diags: Diagnostics): AuthorizationIntent | null {
  const ref = refOf(obj);
  if (refuseUnknownTopLevelKeys(obj, "DubboAuthorizationPolicy", ref, diags)) return null;
  const report = checkSpec(dubboAuthorizationPolicySpecSchema, obj.spec ?? {});
  if (report.errors.length > 0) {
    diags.error(ref, "InvalidSpec", report.errors.map((e) => `spec.${e}`).join("; "));
    return null;
  }
  if (refuseUnknownFields(report.unknownFields, "spec", "DubboAuthorizationPolicy", ref, diags)) return null;
  const spec = obj.spec ?? {};
  const rules = (spec.rules ?? []).map((r) => {
    const rule: NonNullable<FilterAuthorizationPolicy["rules"]>[number] = {};
    if (r.from) rule.from = r.from.map((f) => copyLists(f.source, PATTERN_FIELDS) as FilterPatterns);
    if (r.to) rule.to = r.to.map((t) => copyLists(t.operation, OPERATION_FIELDS) as FilterOperation);
    return rule;
  });
  const policy: FilterAuthorizationPolicy = { name: policyName(obj), action: spec.action ?? "ALLOW", rules };
  if (policy.action === "ALLOW" && rules.length === 0) diags.info(ref, "DenyAll", "an ALLOW policy without rules matches nothing: every call to the Dubbo services in scope is denied");
  return { source: ref, namespace: obj.metadata.namespace ?? "default", codecs: ["dubbo"], policy };
}
