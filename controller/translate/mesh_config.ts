// Istio's MeshConfig as `--mesh-config` gives it: the mesh YAML itself, or the ConfigMap that holds it
// under `data.mesh` (as `kubectl get configmap istio -n istio-system -o yaml` prints it). Only the parts
// tracing reads are kept (tracing.ts MeshTracingConfig).
import { parse } from "yaml";
import type { MeshTracingConfig } from "./tracing";

export class MeshConfigError extends Error {}

export function parseMeshConfig(text: string): MeshTracingConfig {
  let doc: unknown = parse(text);
  if (doc && typeof doc === "object" && (doc as { kind?: unknown }).kind === "ConfigMap") {
    const mesh = (doc as { data?: { mesh?: unknown } }).data?.mesh;
    if (typeof mesh !== "string") throw new MeshConfigError("the ConfigMap has no data.mesh");
    doc = parse(mesh);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new MeshConfigError("the mesh config must be a YAML mapping");
  const m = doc as Record<string, unknown>;
  const out: MeshTracingConfig = {};
  if (m.extensionProviders !== undefined) {
    if (!Array.isArray(m.extensionProviders)) throw new MeshConfigError("extensionProviders must be a list");
    out.extensionProviders = m.extensionProviders as MeshTracingConfig["extensionProviders"];
  }
  if (m.defaultProviders !== undefined) out.defaultProviders = m.defaultProviders as MeshTracingConfig["defaultProviders"];
  const sampling = (m.defaultConfig as { tracing?: { sampling?: unknown } } | undefined)?.tracing?.sampling;
  if (typeof sampling === "number") out.defaultConfig = { tracing: { sampling } };
  return out;
}
