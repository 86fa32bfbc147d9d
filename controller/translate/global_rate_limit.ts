// Aeraki's MetaRouter globalRateLimit (GlobalRateLimit in aeraki-mesh/api
// metaprotocol/v1alpha1/metaprotocol_metarouter.proto) as the filter's global limit
// (filter-config.schema.json globalLimits[]; docs/global-rate-limit.md). It carries no limit values:
// those are in the rate limit service's own configuration (the user's, for Aeraki), and the filter
// learns them from the service's answers. The translation is direct: domain, the service's cluster,
// the match, the descriptor entries (descriptorKey <- the request's property), the timeout and the
// fail mode (denyOnFail).
import type { AerakiGlobalRateLimit } from "../k8s/aeraki";
import type { ObjectRef } from "../k8s/objects";
import type { Diagnostics } from "./diagnostics";
import { durationMs } from "./duration";
import type { FilterGlobalLimit } from "./filter_config";
import { fromAerakiMatch } from "./match";
import { isIstioTcpPort } from "../discovery/ports";

/** Aeraki's default requestTimeout. */
const DEFAULT_TIMEOUT_MS = 20;
/**
 * How often each pod reports its admitted hits. The overshoot over a window is about the limited rate
 * times this interval plus the report's latency (docs/global-rate-limit.md "The bound"); the timeout
 * must not exceed it, so a longer requestTimeout lengthens the interval.
 */
export const REPORT_INTERVAL_MS = 100;
/** The filter's bound on a report's timeout (filter-config.schema.json globalLimit.timeoutMs). */
const MAX_TIMEOUT_MS = 10_000;

export function globalLimitOfMetaRouter(grl: AerakiGlobalRateLimit, ref: ObjectRef, diags: Diagnostics): FilterGlobalLimit | null {
  const path = "spec.globalRateLimit";
  let ok = true;
  const fail = (reason: string, message: string, at: string) => {
    diags.error(ref, reason, message, at);
    ok = false;
  };
  if (!grl.domain) fail("InvalidGlobalRateLimit", "domain is required: the rate limit service's domain the descriptors belong to", `${path}.domain`);
  if (!grl.rateLimitService) fail("InvalidGlobalRateLimit", "rateLimitService is required: the Envoy cluster of the rate limit service (e.g. outbound|8081||rate-limit-server.<namespace>.svc.cluster.local)", `${path}.rateLimitService`);
  const descriptors = grl.descriptors ?? [];
  if (descriptors.length === 0) fail("InvalidGlobalRateLimit", "descriptors is empty: with no descriptor there is nothing for the service to count", `${path}.descriptors`);
  if (descriptors.length > 8) fail("InvalidGlobalRateLimit", `${descriptors.length} descriptors: the filter sends at most 8 entries per descriptor`, `${path}.descriptors`);
  const entries: FilterGlobalLimit["entries"] = [];
  descriptors.forEach((d, i) => {
    if (!d.property || !d.descriptorKey) fail("InvalidGlobalRateLimit", "a descriptor needs property (the request attribute) and descriptorKey", `${path}.descriptors[${i}]`);
    else entries.push({ key: d.descriptorKey, metadata: d.property });
  });
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (grl.requestTimeout !== undefined) {
    const ms = durationMs(grl.requestTimeout);
    if (typeof ms === "string") fail("InvalidDuration", ms, `${path}.requestTimeout`);
    else if (ms < 1 || ms > MAX_TIMEOUT_MS) fail("InvalidDuration", `requestTimeout ${grl.requestTimeout} is not within 1ms..10s`, `${path}.requestTimeout`);
    else timeoutMs = ms;
  }
  const match = fromAerakiMatch(grl.match, `${path}.match`, ref, diags);
  if (match === null || !ok) return null;
  const reportIntervalMs = Math.max(REPORT_INTERVAL_MS, timeoutMs);
  if (reportIntervalMs > REPORT_INTERVAL_MS) {
    diags.info(ref, "ReportInterval", `each pod reports every ${reportIntervalMs} ms (the requestTimeout; a report is answered before the next), so a window can admit up to about the limited rate x ${2 * reportIntervalMs} ms per pod over the limit`, `${path}.requestTimeout`);
  }
  const limit: FilterGlobalLimit = {
    domain: grl.domain!,
    cluster: grl.rateLimitService!,
    entries,
    timeoutMs,
    reportIntervalMs,
    failMode: grl.denyOnFail ? "closed" : "open",
  };
  if (match) limit.match = match;
  return limit;
}

interface ServicePort { name?: string; port?: number; appProtocol?: string }

/** What the rate limit service's Istio port means for the filter's gRPC reports. */
export interface RateLimitServiceCheck {
  severity: "degrade" | "warn" | "info";
  reason: string;
  message: string;
  /**
   * The cluster is plain TCP to Istio: the controller adds HTTP/2 to it in the sidecars that carry the
   * limit (an EnvoyFilter CLUSTER patch, rate_limit_http2.ts).
   */
  addHttp2?: true;
}

/**
 * Whether the rate limit service's cluster speaks gRPC (HTTP/2) in Istio: an outbound cluster has
 * HTTP/2 when the Service port is named grpc-* / http2-* or has appProtocol grpc / http2 / h2c (Istio's
 * protocol selection). Without it Envoy's gRPC client gets no answer and the filter never has a
 * verdict (test/ratelimit/envoy-rls.test.ts). A port Istio treats as plain TCP (named tcp / tcp-*, or
 * appProtocol tcp: Aeraki's demo names it tcp-rate-limit-server) gets HTTP/2 from the controller: its
 * bytes go through the service's own sidecar untouched (tcp_proxy), so HTTP/2 on the caller's cluster
 * is all gRPC needs. Any other port (http-*, a sniffed one) would reach an HTTP/1.1 or sniffing inbound
 * side: reported, not patched.
 * Returns what to report (null: nothing).
 */
export function rateLimitServiceProblem(cluster: string, services: { metadata: { name?: string; namespace?: string }; spec?: unknown }[], clusterDomain: string): RateLimitServiceCheck | null {
  const m = /^outbound\|(\d+)\|[^|]*\|(.+)$/.exec(cluster);
  if (!m) return { severity: "warn", reason: "RateLimitServiceUnchecked", message: `rateLimitService ${cluster} is not an Istio outbound cluster name (outbound|<port>||<host>): Meltemi cannot check that it exists and speaks gRPC` };
  const port = Number(m[1]);
  const host = m[2]!;
  const service = services.find((s) => `${s.metadata.name ?? ""}.${s.metadata.namespace ?? "default"}.svc.${clusterDomain}` === host);
  if (!service) return { severity: "warn", reason: "NoRateLimitService", message: `no Service defines ${host}, the rate limit service's host: until one does, no report is answered (the fail mode applies)` };
  const ports = ((service.spec as { ports?: ServicePort[] } | undefined)?.ports ?? []);
  const p = ports.find((x) => x.port === port);
  if (!p) return { severity: "warn", reason: "NoRateLimitService", message: `${host} has no port ${port}: no report is answered (the fail mode applies)` };
  const name = (p.name ?? "").toLowerCase();
  const app = (p.appProtocol ?? "").toLowerCase();
  const http2 = app ? ["grpc", "http2", "kubernetes.io/h2c"].includes(app) : name === "grpc" || name.startsWith("grpc-") || name === "http2" || name.startsWith("http2-");
  if (http2) return null;
  const named = `${host} port ${port} is named "${p.name ?? ""}"${p.appProtocol ? ` (appProtocol ${p.appProtocol})` : ""}`;
  // Istio reads appProtocol instead of the name when it is set (pkg/config/kube/conversion.go).
  if (app ? app === "tcp" : isIstioTcpPort(p.name)) {
    return {
      severity: "info",
      reason: "RateLimitServiceHttp2Added",
      message: `${named}: plain TCP to Istio, whose cluster ${cluster} has no HTTP/2; Meltemi adds HTTP/2 to that cluster in the sidecars that carry this limit (an EnvoyFilter meltemi-rls-http2-*), so the filter's gRPC reports are answered`,
      addHttp2: true,
    };
  }
  return {
    severity: "degrade",
    reason: "RateLimitServiceNotGrpc",
    message: `${named}: Istio gives its cluster no HTTP/2, so the filter's gRPC reports get no answer and only the fail mode applies; name the port grpc-<name> (or tcp-<name>, to which Meltemi adds HTTP/2) or set appProtocol: grpc`,
  };
}
