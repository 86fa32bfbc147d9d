// The translation of an RpcRouter into a router intent (routes, faults, the callers it applies to).
import { rpcRouter } from "../api/schema/rpc_router";
import type { RpcRouterObject } from "../api/types";
import { resolveHost } from "../discovery/hosts";
import { refOf } from "../k8s/objects";
import { resolveWeights } from "./buckets";
import type { Diagnostics } from "./diagnostics";
import { durationMs } from "./duration";
import type { FilterFault } from "./filter_config";
import type { RouteIntent, RouterIntent } from "./intent";
import { fromMeltemiMatch } from "./match";
import type { TranslateOptions } from "./options";
import { checkMeltemiObject } from "./schema_check";
import { refuseUnknownFields } from "./unknown_fields";

const MAX_DELAY_MS = 3_600_000;

export function readRpcRouter(obj: RpcRouterObject, options: TranslateOptions, diags: Diagnostics): RouterIntent | null {
  const ref = refOf(obj);
  const report = checkMeltemiObject(rpcRouter, obj);
  if (report.errors.length > 0) {
    diags.error(ref, "InvalidSpec", report.errors.join("; "));
    return null;
  }
  if (refuseUnknownFields(report.unknownFields, "", "RpcRouter", ref, diags)) return null;
  const before = diags.items.length;
  const ns = obj.metadata.namespace ?? "default";
  const spec = obj.spec!;
  const host = resolveHost(spec.host, ns, options.clusterDomain);

  const routes: RouteIntent[] = [];
  (spec.routes ?? []).forEach((r, i) => {
    const path = `spec.routes[${i}]`;
    const match = fromMeltemiMatch(r.match, `${path}.match`, ref, diags);
    const weights = resolveWeights(r.destinations.map((d) => d.weight), `${path}.destinations`, ref, diags);
    if (match === null || weights === null) return;
    const route: RouteIntent = {
      destinations: r.destinations.map((d, j) => {
        const dest = { host: d.host ? resolveHost(d.host, ns, options.clusterDomain) : host, weight: weights[j]! } as RouteIntent["destinations"][number];
        if (d.subset !== undefined) dest.subset = d.subset;
        if (d.port !== undefined) dest.port = d.port;
        return dest;
      }),
      path,
    };
    if (r.name !== undefined) route.name = r.name;
    if (match) route.match = match;
    if (r.hashKey !== undefined) route.hashKey = r.hashKey;
    if (r.requestMutation?.length) route.requestMutation = r.requestMutation;
    if (r.responseMutation?.length) route.responseMutation = r.responseMutation;
    routes.push(route);
  });

  const faults: FilterFault[] = [];
  (spec.faults ?? []).forEach((f, i) => {
    const path = `spec.faults[${i}]`;
    const match = fromMeltemiMatch(f.match, `${path}.match`, ref, diags);
    if (match === null) return;
    const fault: FilterFault = {};
    if (match) fault.match = match;
    if (f.abort) fault.abort = f.abort.message !== undefined ? { percent: f.abort.percent, message: f.abort.message } : { percent: f.abort.percent };
    if (f.delay) {
      const ms = durationMs(f.delay.fixedDelay);
      if (typeof ms === "string" || ms > MAX_DELAY_MS) {
        diags.error(ref, "InvalidDuration", typeof ms === "string" ? ms : "fixedDelay is above 1h", `${path}.delay.fixedDelay`);
        return;
      }
      fault.delay = { percent: f.delay.percent, fixedDelayMs: ms };
    }
    faults.push(fault);
  });

  if (diags.items.slice(before).some((d) => d.severity === "error")) return null;
  const intent: RouterIntent = {
    source: ref,
    host,
    clientNamespaces: spec.clients?.namespaces?.length ? [...new Set(spec.clients.namespaces)] : [ns],
    routes,
    faults,
  };
  if (spec.port !== undefined) intent.port = spec.port;
  if (spec.routingMode !== undefined) intent.routingMode = spec.routingMode;
  const selector = spec.clients?.selector?.matchLabels;
  if (selector && Object.keys(selector).length > 0) intent.clientSelector = selector;
  if (options.rootNamespace && intent.clientNamespaces.includes(options.rootNamespace)) {
    diags.info(ref, "MeshWide", `clients.namespaces lists the Istio root namespace ${options.rootNamespace}: the routing applies to every sidecar in the mesh`, "spec.clients.namespaces");
  }
  return intent;
}
