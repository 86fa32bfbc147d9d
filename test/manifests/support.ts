// Shared by the manifest tests: the pinned helm binary, and the objects of YAML files and directories.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../../manifests/helm/generate";

export { repoRoot };
export const CHART = path.join(repoRoot, "manifests/helm/meltemi");

/** The helm binary (scripts/provision/helm.sh builds it from the Go module proxy once). */
export function helm(): string {
  return execFileSync(path.join(repoRoot, "scripts/provision/helm.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 1_800_000 }).trim();
}

export type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };

/** The objects of a multi-document YAML text (empty documents skipped). */
export function objectsOf(text: string, origin: string): Obj[] {
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(`${origin}: ${d.errors[0].message}`);
    return d.toJS() as Obj | null;
  }).filter((o): o is Obj => o !== null);
}

/** The objects of every .yaml file in `dir` (repo-relative), in file order. */
export function objectsIn(dir: string): Obj[] {
  const abs = path.join(repoRoot, dir);
  return fs.readdirSync(abs).filter((f) => f.endsWith(".yaml")).sort().flatMap((f) => objectsOf(fs.readFileSync(path.join(abs, f), "utf8"), `${dir}/${f}`));
}

/** `helm template` of the chart: its objects. */
export function helmTemplate(args: string[]): Obj[] {
  const out = execFileSync(helm(), ["template", "meltemi", CHART, ...args], { encoding: "utf8" });
  return objectsOf(out, "helm template");
}
