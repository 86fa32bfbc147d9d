// The translation of an Aeraki MetaRouter (metaprotocol.aeraki.io/v1alpha1), read as users wrote it,
// into a router intent and, for its localRateLimit and globalRateLimit, a rate-limit intent. What
// Meltemi cannot honour (gateways, mirroring where the native router cannot carry it) is reported, never
// silently dropped.
import { resolveHost } from "../discovery/hosts";
import { metaRouterSpecSchema, type AerakiDestination, type AerakiTokenBucket, type MetaRouter } from "../k8s/aeraki";
import { refOf, type ObjectRef } from "../k8s/objects";
import { exportToProblems, fqdnProblem, portProblem, subsetProblem } from "./aeraki_rules";
import { resolveWeights, tokenBucketOf } from "./buckets";
import { CLIENT_NAMESPACES_ANNOTATION, parseNamespaceList } from "./client_namespaces";
import type { Diagnostics } from "./diagnostics";
import { globalLimitOfMetaRouter } from "./global_rate_limit";
import type { FilterLocalRateLimit, FilterTokenBucket } from "./filter_config";
import type { RateLimitIntent, RouteIntent, RouterIntent } from "./intent";
import { fromAerakiMatch } from "./match";
import type { TranslateOptions } from "./options";
import { checkSpec } from "./schema_check";
import { refuseUnknownFields, refuseUnknownTopLevelKeys } from "./unknown_fields";

export interface MetaRouterIntents {
  router?: RouterIntent;
  rateLimit?: RateLimitIntent;
}

/**
 * Whose sidecars get the routing. Aeraki applies a MetaRouter to every sidecar in the mesh (exportTo
 * empty = everywhere), and so does Meltemi by default: one EnvoyFilter in Istio's root namespace
 * (an EnvoyFilter there without a workloadSelector applies to every workload, Istio's EnvoyFilter
 * reference), reported as info `MeshWide`. Narrower on request: the annotation
 * meltemi.dev/client-namespaces: "a,b" (one EnvoyFilter per listed namespace), or explicit exportTo
 * namespaces ("." = this one, "*" = the root namespace).
 */
function clientNamespaces(mr: MetaRouter, ref: ObjectRef, options: TranslateOptions, diags: Diagnostics): string[] | null {
  const ns = mr.metadata.namespace ?? "default";
  const annotation = mr.metadata.annotations?.[CLIENT_NAMESPACES_ANNOTATION];
  if (annotation !== undefined) {
    const parsed = parseNamespaceList(annotation);
    if (typeof parsed === "string") {
      diags.error(ref, "InvalidAnnotation", `annotation ${CLIENT_NAMESPACES_ANNOTATION}: ${parsed}`, "metadata.annotations");
      return null;
    }
    return parsed;
  }
  const meshWide = (path?: string) =>
    diags.info(ref, "MeshWide", `the routing is installed in the root namespace ${options.rootNamespace}, i.e. for every sidecar in the mesh, as Aeraki does; to narrow it, list caller namespaces in the annotation ${CLIENT_NAMESPACES_ANNOTATION} or in exportTo`, path);
  const exportTo = mr.spec?.exportTo ?? [];
  if (exportTo.length === 1 && exportTo[0] === "~") {
    diags.info(ref, "NotExported", 'exportTo "~": the routing is exported to no one, so no sidecar gets it', "spec.exportTo");
    return [];
  }
  if (exportTo.length === 0) {
    meshWide();
    return [options.rootNamespace];
  }
  const out = new Set<string>();
  for (const e of exportTo) {
    if (e === ".") out.add(ns);
    else if (e === "*") {
      out.add(options.rootNamespace);
      meshWide("spec.exportTo");
    } else out.add(e);
  }
  return [...out];
}

/** Aeraki's webhook rules for a destination (validateDestination): a host name, a subset name, a port 1..65535. */
function checkDestination(d: AerakiDestination, path: string, ref: ObjectRef, diags: Diagnostics): void {
  const host = fqdnProblem(d.host);
  if (host) diags.error(ref, "InvalidHost", `${host} (as Aeraki requires a host name)`, `${path}.host`);
  if (d.subset !== undefined) {
    const subset = subsetProblem(d.subset);
    // Aeraki reads an empty subset as none (its proto cannot tell them apart); refused here, since
    // it routes to every pod of the host (a template that rendered empty, most likely).
    if (subset) diags.error(ref, "InvalidSubset", d.subset === "" ? subset : `${subset} (as Aeraki requires)`, `${path}.subset`);
  }
  if (d.port !== undefined) {
    const port = portProblem(d.port?.number);
    if (port) diags.error(ref, "InvalidPort", `${port} (as Aeraki requires)`, `${path}.port.number`);
  }
}

function destinationOf(d: AerakiDestination, ns: string, options: TranslateOptions, weight: number): RouteIntent["destinations"][number] {
  const dest: RouteIntent["destinations"][number] = { host: resolveHost(d.host, ns, options.clusterDomain), weight };
  if (d.subset) dest.subset = d.subset;
  if (d.port?.number) dest.port = d.port.number;
  return dest;
}

/** Aeraki's webhook (validateTokenBucket): maxTokens and, when set, tokensPerFill at least 1. */
function aerakiBucketOk(b: AerakiTokenBucket, path: string, ref: ObjectRef, diags: Diagnostics): boolean {
  let ok = true;
  if ((b.maxTokens ?? 0) < 1) {
    diags.error(ref, "InvalidBucket", "maxTokens must be at least 1 (as Aeraki requires)", `${path}.maxTokens`);
    ok = false;
  }
  if (b.tokensPerFill !== undefined && b.tokensPerFill < 1) {
    diags.error(ref, "InvalidBucket", "tokensPerFill must be at least 1 when set (as Aeraki requires)", `${path}.tokensPerFill`);
    ok = false;
  }
  return ok;
}

function localRateLimitOf(mr: MetaRouter, ref: ObjectRef, diags: Diagnostics): FilterLocalRateLimit | null {
  const lrl = mr.spec!.localRateLimit!;
  const out: FilterLocalRateLimit = {};
  let ok = true;
  if (lrl.tokenBucket) {
    const path = "spec.localRateLimit.tokenBucket";
    const b = aerakiBucketOk(lrl.tokenBucket, path, ref, diags) ? tokenBucketOf(lrl.tokenBucket, path, ref, diags) : null;
    if (b) out.tokenBucket = b;
    else ok = false;
  }
  const conditions: { match: Record<string, never> | NonNullable<ReturnType<typeof fromAerakiMatch>>; tokenBucket: FilterTokenBucket }[] = [];
  (lrl.conditions ?? []).forEach((c, i) => {
    const path = `spec.localRateLimit.conditions[${i}]`;
    const match = fromAerakiMatch(c.match, `${path}.match`, ref, diags);
    const bucket = aerakiBucketOk(c.tokenBucket, `${path}.tokenBucket`, ref, diags) ? tokenBucketOf(c.tokenBucket, `${path}.tokenBucket`, ref, diags) : null;
    if (match === null || bucket === null) {
      ok = false;
      return;
    }
    conditions.push({ match: match ?? {}, tokenBucket: bucket });
  });
  if (conditions.length > 0) out.conditions = conditions;
  if (!ok) return null;
  if (!out.tokenBucket && !out.conditions) {
    diags.error(ref, "EmptyRateLimit", "localRateLimit has neither tokenBucket nor conditions (Aeraki refuses it)", "spec.localRateLimit");
    return null;
  }
  return out;
}

/**
 * Aeraki's weight rules (its validating webhook, internal/webhook/validation/scheme/validation.go
 * validateMetaRouteDestinations): each weight 0..100 and, with several destinations, a total of
 * exactly 100 (30+30 or 150+50 are refused, not normalised); a lone destination takes everything
 * whatever its weight (the proto: "assumed to be 100").
 */
function aerakiWeights(weights: (number | undefined)[], path: string, ref: ObjectRef, diags: Diagnostics): number[] | null {
  const over = weights.findIndex((w) => (w ?? 0) > 100);
  if (over >= 0) {
    diags.error(ref, "InvalidWeights", `weight ${weights[over]} is not in 0..100`, `${path}[${over}].weight`);
    return null;
  }
  if (weights.length === 1) return [1];
  const total = weights.reduce<number>((sum, w) => sum + (w ?? 0), 0);
  if (total !== 100) {
    diags.error(ref, "InvalidWeights", `the destination weights add up to ${total}; with several destinations they must add up to 100 (as Aeraki requires)`, path);
    return null;
  }
  return resolveWeights(weights, path, ref, diags);
}

export function readMetaRouter(mr: MetaRouter, options: TranslateOptions, diags: Diagnostics): MetaRouterIntents {
  const ref = refOf(mr);
  if (refuseUnknownTopLevelKeys(mr, "MetaRouter", ref, diags)) return {};
  const report = checkSpec(metaRouterSpecSchema, mr.spec ?? {});
  if (report.errors.length > 0) {
    diags.error(ref, "InvalidSpec", report.errors.map((e) => `spec.${e}`).join("; "));
    return {};
  }
  if (refuseUnknownFields(report.unknownFields, "spec", "MetaRouter", ref, diags)) return {};
  const before = diags.items.length;
  const ns = mr.metadata.namespace ?? "default";
  const spec = mr.spec ?? {};
  const hosts = spec.hosts ?? [];
  if (hosts.length === 0) {
    diags.error(ref, "NoHost", "spec.hosts is empty", "spec.hosts");
    return {};
  }
  // Aeraki's webhook refuses more than one host (only the first would be used).
  if (hosts.length > 1) diags.error(ref, "ExtraHosts", `a MetaRouter has one host (Aeraki refuses more); also listed: ${hosts.slice(1).join(", ")}`, "spec.hosts");
  const hostProblem = fqdnProblem(hosts[0]!);
  if (hostProblem) diags.error(ref, "InvalidHost", `${hostProblem} (as Aeraki requires a host name)`, "spec.hosts[0]");
  const exportProblems = exportToProblems(ns, spec.exportTo ?? []);
  if (exportProblems.length > 0) diags.error(ref, "InvalidExportTo", `${exportProblems.join("; ")} (as Aeraki requires)`, "spec.exportTo");
  if (!spec.routes?.length && !spec.localRateLimit && !spec.globalRateLimit) {
    diags.error(ref, "NothingToApply", "a MetaRouter needs routes, localRateLimit or globalRateLimit (as Aeraki requires)", "spec");
  }
  const host = resolveHost(hosts[0]!, ns, options.clusterDomain);

  let sidecars = true;
  const gateways = spec.gateways ?? [];
  if (gateways.length > 0) {
    const others = gateways.filter((g) => g !== "mesh");
    if (others.length > 0) diags.degrade(ref, "GatewaysNotSupported", `Meltemi configures sidecars only; gateways ignored: ${others.join(", ")}`, "spec.gateways");
    // As in an Istio VirtualService: with gateways listed, sidecars apply the routes only if "mesh" is one.
    sidecars = gateways.includes("mesh");
    if (!sidecars) diags.degrade(ref, "NoSidecars", 'spec.gateways does not list "mesh": no sidecar routing is generated', "spec.gateways");
  }

  const routes: RouteIntent[] = [];
  (spec.routes ?? []).forEach((r, i) => {
    const path = `spec.routes[${i}]`;
    if (r.mirrorPercentage && !r.mirror) {
      diags.error(ref, "InvalidMirror", "mirrorPercentage without mirror: they are set together (as Aeraki requires)", `${path}.mirrorPercentage`);
    }
    const match = fromAerakiMatch(r.match, `${path}.match`, ref, diags);
    const dests = r.route ?? [];
    if (dests.length === 0) {
      diags.error(ref, "NoDestination", "the route has no destination", `${path}.route`);
      return;
    }
    dests.forEach((d, j) => checkDestination(d.destination, `${path}.route[${j}].destination`, ref, diags));
    if (r.mirror) checkDestination(r.mirror, `${path}.mirror`, ref, diags);
    const weights = aerakiWeights(dests.map((d) => d.weight), `${path}.route`, ref, diags);
    if (match === null || weights === null) return;
    const route: RouteIntent = { destinations: dests.map((d, j) => destinationOf(d.destination, ns, options, weights[j]!)), path };
    if (r.name) route.name = r.name;
    if (match) route.match = match;
    for (const [field, list] of [["requestMutation", r.requestMutation], ["responseMutation", r.responseMutation]] as const) {
      (list ?? []).forEach((kv, j) => {
        if (kv.key === "" || kv.value === "") diags.error(ref, "InvalidMutation", "a mutation needs a key and a value (as Aeraki requires)", `${path}.${field}[${j}]`);
      });
    }
    if (r.requestMutation?.length) route.requestMutation = r.requestMutation;
    if (r.responseMutation?.length) route.responseMutation = r.responseMutation;
    // Whether the native router can carry it is decided per service port (translate.ts).
    if (r.mirror) {
      const { host, subset, port } = destinationOf(r.mirror, ns, options, 0);
      route.mirror = { host, ...(subset !== undefined ? { subset } : {}), ...(port !== undefined ? { port } : {}) };
      // Aeraki's webhook: a mirrorPercentage (even `{}`, whose value is 0) is above 0 and at most 100.
      const percent = r.mirrorPercentage ? r.mirrorPercentage.value ?? 0 : undefined;
      if (percent !== undefined && !(percent > 0 && percent <= 100)) {
        diags.error(ref, "InvalidMirror", `mirrorPercentage.value ${percent} is not in (0, 100] (as Aeraki requires; leave mirrorPercentage out to mirror every request)`, `${path}.mirrorPercentage.value`);
      } else if (percent !== undefined) route.mirror.percent = percent;
    }
    routes.push(route);
  });

  const localRateLimit = spec.localRateLimit ? localRateLimitOf(mr, ref, diags) : null;
  const globalLimit = spec.globalRateLimit ? globalLimitOfMetaRouter(spec.globalRateLimit, ref, diags) : null;
  if (diags.items.slice(before).some((d) => d.severity === "error")) return {};

  const out: MetaRouterIntents = {};
  if (sidecars && (spec.routes?.length ?? 0) > 0) {
    const namespaces = clientNamespaces(mr, ref, options, diags);
    if (namespaces) out.router = { source: ref, host, clientNamespaces: namespaces, routes, faults: [] };
  }
  if (localRateLimit || globalLimit) {
    out.rateLimit = { source: ref, host };
    if (localRateLimit) out.rateLimit.localRateLimit = localRateLimit;
    if (globalLimit) out.rateLimit.globalLimits = [globalLimit];
  }
  return out;
}
