// `--zipkin`: a real Zipkin server for the demo's traces. The mesh config given to `meltemi render`
// names it as Istio's Zipkin provider (as an istio ConfigMap would), so render writes the filter's
// `tracing` section with Istio's cluster name for it; every sidecar's bootstrap gets that cluster,
// pointing at the local server (what istiod's CDS would give it). At the end a trace is summarised.
import fs from "node:fs";
import path from "node:path";
import { Zipkin, type ZipkinSpan } from "../test/envoy/zipkin";

const HOST = "zipkin.istio-system.svc.cluster.local";
const PORT = 9411;
/** Istio's outbound cluster of the provider (controller/translate/tracing.ts). */
export const ZIPKIN_CLUSTER = `outbound|${PORT}||${HOST}`;

/** Writes the mesh config (Istio's MeshConfig, the parts tracing reads) for render's --mesh-config. */
export function writeMeshConfig(dir: string, samplingPercentage: number): string {
  const file = path.join(dir, "mesh.yaml");
  fs.writeFileSync(file, [
    "extensionProviders:",
    "- name: zipkin",
    `  zipkin: {service: ${HOST}, port: ${PORT}}`,
    "defaultProviders:",
    "  tracing: [zipkin]",
    "defaultConfig:",
    "  tracing:",
    `    sampling: ${samplingPercentage}`,
    "",
  ].join("\n"));
  return file;
}

/** The cluster each sidecar's bootstrap gets: Istio's name, the local server's port. */
export function zipkinCluster(port: number): object {
  return {
    name: ZIPKIN_CLUSTER,
    type: "STATIC",
    connect_timeout: "2s",
    load_assignment: { cluster_name: ZIPKIN_CLUSTER, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }] },
  };
}

export { Zipkin };

/** One recent trace of the Meltemi spans, as lines: each span under its parent. */
export async function describeTrace(zipkin: Zipkin): Promise<string> {
  // Per caller-side service: the most recent traces of all services are mostly one-span ones (a framed
  // Thrift call carries no trace context, so its server side starts a trace of its own).
  const services = await fetch(`${zipkin.url}/api/v2/services`);
  if (!services.ok) return `zipkin: ${services.status}`;
  const names = ((await services.json()) as string[]).filter((n) => n.endsWith("/client"));
  const traces: ZipkinSpan[][] = [];
  for (const name of names.length > 0 ? names : [undefined]) {
    const query = `limit=20&lookback=600000${name !== undefined ? `&serviceName=${encodeURIComponent(name)}` : ""}`;
    const r = await fetch(`${zipkin.url}/api/v2/traces?${query}`);
    if (!r.ok) return `zipkin: ${r.status}`;
    traces.push(...((await r.json()) as ZipkinSpan[][]));
  }
  if (traces.length === 0) return "zipkin: no trace yet";
  // The richest: a caller-side and a server-side span.
  const trace = [...traces].sort((a, b) => b.length - a.length)[0]!;
  const byParent = new Map<string | undefined, ZipkinSpan[]>();
  for (const s of trace) byParent.set(s.parentId, [...(byParent.get(s.parentId) ?? []), s]);
  const ids = new Set(trace.map((s) => s.id));
  const lines = [`zipkin: a recent trace, ${zipkin.url}/zipkin/traces/${trace[0]!.traceId} (each span under its parent):`];
  const walk = (s: ZipkinSpan, depth: number) => {
    const tags = s.tags ?? {};
    lines.push(`${"  ".repeat(depth + 1)}${s.kind ?? "-"} ${s.localEndpoint?.serviceName ?? "?"}: ${s.name} ${tags["meltemi.status"] ?? ""} ${((s.duration ?? 0) / 1000).toFixed(2)} ms${tags["upstream_cluster"] ? ` -> ${tags["upstream_cluster"]}` : ""}`);
    for (const c of byParent.get(s.id) ?? []) walk(c, depth + 1);
  };
  for (const root of trace.filter((s) => s.parentId === undefined || !ids.has(s.parentId))) walk(root, 0);
  return lines.join("\n");
}
