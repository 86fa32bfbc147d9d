// `meltemi render`: the translation, offline. Files in, desired objects out (stdout), diagnostics on
// stderr; exit 1 when an input cannot be read or an input is invalid (error diagnostics), 0 otherwise.
import { InvalidOptionsError, translate } from "../translate/translate";
import type { TranslateOptions } from "../translate/options";
import { classify } from "./classify";
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
  const { snapshot, ignored } = classify(loaded, req.namespace);
  let result;
  try {
    result = translate(snapshot, req.options);
  } catch (err) {
    if (err instanceof InvalidOptionsError) return { stdout: "", stderr: `error: ${err.message}\n`, exitCode: 1 };
    throw err;
  }
  const lines = result.diagnostics.map(formatDiagnostic);
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
