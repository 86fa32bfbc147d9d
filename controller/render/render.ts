// `meltemi render`: the translation, offline. Files in, desired objects out (stdout), diagnostics on
// stderr; exit 1 when an input cannot be read or an input is invalid (error diagnostics), 0 otherwise.
// With `liveAddresses` (render --kubeconfig) the VIPs the files lack are read from a cluster first.
import { InvalidOptionsError, translate } from "../translate/translate";
import type { TranslateOptions } from "../translate/options";
import { classify } from "./classify";
import { withLiveAddresses, type GetObject } from "./live_addresses";
import { loadObjects, LoadError } from "./load";
import { formatDiagnostic, toJson, toYaml } from "./output";

export interface RenderRequest {
  files: string[];
  output: "yaml" | "json";
  namespace: string;
  /** Also print the Ready condition of every Meltemi / Aeraki input on stderr. */
  showStatus: boolean;
  options: Partial<TranslateOptions>;
  readStdin: () => Promise<string>;
  /** Reads live objects (render --kubeconfig): Services / ServiceEntries without VIPs get the cluster's. */
  liveAddresses?: GetObject;
}

export interface RenderResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function render(req: RenderRequest): Promise<RenderResult> {
  let loaded;
  try {
    loaded = await loadObjects(req.files, req.readStdin);
  } catch (err) {
    if (err instanceof LoadError) return { stdout: "", stderr: `error: ${err.message}\n`, exitCode: 1 };
    throw err;
  }
  const classified = classify(loaded, req.namespace);
  const { ignored } = classified;
  let snapshot = classified.snapshot;
  const notes: string[] = [];
  if (req.liveAddresses) {
    try {
      const live = await withLiveAddresses(snapshot, req.liveAddresses);
      snapshot = live.snapshot;
      for (const r of live.report.resolved) notes.push(`info: address from the cluster: ${r}`);
      for (const r of live.report.unresolved) notes.push(`info: no address from the cluster: ${r}`);
    } catch (err) {
      return { stdout: "", stderr: `error: reading addresses from the cluster: ${(err as Error).message}\n`, exitCode: 1 };
    }
  }
  let result;
  try {
    result = translate(snapshot, req.options);
  } catch (err) {
    if (err instanceof InvalidOptionsError) return { stdout: "", stderr: `error: ${err.message}\n`, exitCode: 1 };
    throw err;
  }
  const lines = [...notes, ...result.diagnostics.map(formatDiagnostic)];
  if (ignored.size > 0) {
    lines.push(`info: not Meltemi inputs, left out: ${[...ignored].map(([k, n]) => `${n} ${k}`).join(", ")}`);
  }
  if (req.showStatus) {
    for (const s of result.status) {
      const c = s.conditions[0]!;
      lines.push(`status: ${s.object.kind} ${s.object.namespace ? `${s.object.namespace}/` : ""}${s.object.name}: Ready=${c.status} ${c.reason}: ${c.message}`);
    }
  }
  const failed = result.diagnostics.some((d) => d.severity === "error");
  return {
    stdout: req.output === "json" ? toJson(result.objects) : toYaml(result.objects),
    stderr: lines.length > 0 ? `${lines.join("\n")}\n` : "",
    exitCode: failed ? 1 : 0,
  };
}
