// The filter's tracing configuration (filter-config.schema.json `tracing`) for one side of one service
// port, from Istio's own tracing settings and Meltemi's override. Pure: no clock, no I/O.
//
// Istio's settings (istio.mesh.v1alpha1 MeshConfig, telemetry.istio.io Telemetry):
// - MeshConfig.extensionProviders: named providers; Meltemi can export to `zipkin` (Zipkin v2 JSON) and
//   `opentelemetry` with `http` (OTLP/HTTP JSON; without `http` Istio exports OTLP over gRPC, which a
//   proxy-wasm HTTP callout cannot speak). The collector is Istio's outbound cluster of the provider's
//   service and port, `outbound|<port>||<host>` (a `<namespace>/` before the host is dropped).
// - MeshConfig.defaultProviders.tracing: the providers when no Telemetry names one.
// - MeshConfig.defaultConfig.tracing.sampling: the sampling percentage when no Telemetry sets one.
// - Telemetry `tracing` entries: mesh-wide ones in the root namespace, overridden field by field by
//   those of the workload's namespace (Istio's inheritance); an entry applies to the client side,
//   the server side or both (match.mode, default CLIENT_AND_SERVER); providers (the first is used,
//   as Istio uses one tracer per proxy), randomSamplingPercentage, disableSpanReporting. Telemetry
//   objects with a selector or targetRefs name workloads, not a service's callers or pods as a whole:
//   they are not read (a note says so).
// Meltemi's override, RpcProtocol spec.tracing: disabled, provider, samplingPercentage (each wins over
// Istio's).
import type { KubeObject } from "../k8s/objects";

export interface ZipkinProvider { service: string; port: number; path?: string }
export interface OpenTelemetryProvider { service: string; port: number; http?: { path?: string; timeout?: string } }
export interface ExtensionProvider { name: string; zipkin?: ZipkinProvider; opentelemetry?: OpenTelemetryProvider; [other: string]: unknown }

/** The parts of Istio's MeshConfig (the `mesh` key of ConfigMap istio-system/istio) tracing reads. */
export interface MeshTracingConfig {
  extensionProviders?: ExtensionProvider[];
  defaultProviders?: { tracing?: string[] };
  defaultConfig?: { tracing?: { sampling?: number } };
}

export interface TelemetryTracing {
  match?: { mode?: "CLIENT" | "SERVER" | "CLIENT_AND_SERVER" };
  providers?: { name: string }[];
  randomSamplingPercentage?: number;
  disableSpanReporting?: boolean;
}

export interface TracingOverride { disabled?: boolean; provider?: string; samplingPercentage?: number }

/** The filter's `tracing` section (filter-config.schema.json). */
export interface FilterTracing {
  format?: "zipkin" | "otlp";
  samplingPercentage?: number;
  collectorCluster: string;
  collectorAuthority?: string;
  collectorPath?: string;
  serviceName?: string;
  timeoutMs?: number;
}

export interface TracingInput {
  side: "client" | "server";
  /** The namespace of the proxies the configuration lands in. */
  namespace: string;
  rootNamespace: string;
  mesh?: MeshTracingConfig;
  telemetries: readonly KubeObject[];
  override?: TracingOverride;
  /** The spans' service name (Istio's `<workload>.<namespace>` where it is known). */
  serviceName?: string;
}

export interface TracingResult {
  tracing?: FilterTracing;
  /** Why Istio's tracing settings are not (all) carried over, for a warning. */
  notes: string[];
}

interface Resolved { providers?: string[]; sampling?: number; disabled?: boolean }

function modeApplies(entry: TelemetryTracing, side: "client" | "server"): boolean {
  const mode = entry.match?.mode ?? "CLIENT_AND_SERVER";
  return mode === "CLIENT_AND_SERVER" || (side === "client" ? mode === "CLIENT" : mode === "SERVER");
}

/** The namespace-wide Telemetry objects of `namespace` (no selector, no targetRefs), by name. */
function namespaceWide(telemetries: readonly KubeObject[], namespace: string, notes: string[]): KubeObject[] {
  const out: KubeObject[] = [];
  for (const t of telemetries) {
    if ((t.metadata.namespace ?? "") !== namespace) continue;
    const spec = (t.spec ?? {}) as { selector?: unknown; targetRefs?: unknown; targetRef?: unknown; tracing?: unknown };
    if (spec.tracing === undefined) continue;
    if (spec.selector !== undefined || spec.targetRefs !== undefined || spec.targetRef !== undefined) {
      notes.push(`Telemetry ${namespace}/${t.metadata.name ?? ""} selects workloads: Meltemi reads only namespace-wide and mesh-wide Telemetry tracing`);
      continue;
    }
    out.push(t);
  }
  return out.sort((a, b) => ((a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1));
}

function apply(level: KubeObject[], side: "client" | "server", into: Resolved): void {
  for (const t of level) {
    for (const entry of ((t.spec as { tracing?: TelemetryTracing[] }).tracing ?? [])) {
      if (!modeApplies(entry, side)) continue;
      if (entry.providers !== undefined && entry.providers.length > 0) into.providers = entry.providers.map((p) => p.name);
      if (entry.randomSamplingPercentage !== undefined) into.sampling = entry.randomSamplingPercentage;
      if (entry.disableSpanReporting !== undefined) into.disabled = entry.disableSpanReporting;
    }
  }
}

/** `[<namespace>/]<host>` -> host. */
function hostOf(service: string): string {
  const slash = service.indexOf("/");
  return slash < 0 ? service : service.slice(slash + 1);
}

/** Istio's Duration text (e.g. "10s", "500ms", "1.5s") in ms, or undefined. */
function durationMs(d: string | undefined): number | undefined {
  if (d === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d);
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : 60000);
  return Math.round(n);
}

/** The collector of a provider, or a note saying why Meltemi cannot export to it. */
function collectorOf(p: ExtensionProvider): FilterTracing | string {
  if (p.zipkin) {
    const host = hostOf(p.zipkin.service);
    const t: FilterTracing = { format: "zipkin", collectorCluster: `outbound|${p.zipkin.port}||${host}`, collectorAuthority: `${host}:${p.zipkin.port}` };
    if (p.zipkin.path) t.collectorPath = p.zipkin.path;
    return t;
  }
  if (p.opentelemetry) {
    if (!p.opentelemetry.http) return `provider ${p.name} exports OTLP over gRPC (no http): Meltemi exports OTLP/HTTP JSON only; give the provider http: {path: /v1/traces}`;
    const host = hostOf(p.opentelemetry.service);
    const t: FilterTracing = { format: "otlp", collectorCluster: `outbound|${p.opentelemetry.port}||${host}`, collectorAuthority: `${host}:${p.opentelemetry.port}` };
    if (p.opentelemetry.http.path) t.collectorPath = p.opentelemetry.http.path.startsWith("/") ? p.opentelemetry.http.path : `/${p.opentelemetry.http.path}`;
    const timeout = durationMs(p.opentelemetry.http.timeout);
    if (timeout !== undefined) t.timeoutMs = Math.min(60000, Math.max(100, timeout));
    return t;
  }
  const kind = Object.keys(p).find((k) => k !== "name") ?? "unknown";
  return `provider ${p.name} is a ${kind} provider: Meltemi exports to zipkin and opentelemetry (http) providers only`;
}

export function tracingFor(input: TracingInput): TracingResult {
  const notes: string[] = [];
  const o = input.override ?? {};
  if (o.disabled) return { notes };
  const resolved: Resolved = {};
  apply(namespaceWide(input.telemetries, input.rootNamespace, notes), input.side, resolved);
  if (input.namespace !== input.rootNamespace) apply(namespaceWide(input.telemetries, input.namespace, notes), input.side, resolved);
  if (resolved.disabled && o.provider === undefined) return { notes };
  const name = o.provider ?? resolved.providers?.[0] ?? input.mesh?.defaultProviders?.tracing?.[0];
  if (name === undefined) return { notes };
  const provider = input.mesh?.extensionProviders?.find((p) => p.name === name);
  if (!provider) {
    notes.push(`tracing provider ${name} is not one of MeshConfig.extensionProviders`);
    return { notes };
  }
  const collector = collectorOf(provider);
  if (typeof collector === "string") {
    notes.push(collector);
    return { notes };
  }
  const sampling = o.samplingPercentage ?? resolved.sampling ?? input.mesh?.defaultConfig?.tracing?.sampling;
  // Istio's default sampling (1%) is the filter's default too: written only when set.
  if (sampling !== undefined) collector.samplingPercentage = Math.min(100, Math.max(0, sampling));
  if (input.serviceName) collector.serviceName = input.serviceName;
  return { tracing: collector, notes };
}
