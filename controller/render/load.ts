// Reading Kubernetes objects from YAML / JSON files and directories (multi-document, `kind: List`).
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import type { KubeObject } from "../k8s/objects";

export class LoadError extends Error {}

export interface LoadedObject {
  object: KubeObject;
  /** file:line of the document. */
  origin: string;
}

const EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

async function filesUnder(p: string): Promise<string[]> {
  const st = await stat(p).catch(() => {
    throw new LoadError(`${p}: no such file or directory`);
  });
  if (st.isFile()) return [p];
  const out: string[] = [];
  for (const entry of (await readdir(p, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const child = path.join(p, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(child)));
    else if (EXTENSIONS.has(path.extname(entry.name))) out.push(child);
  }
  return out;
}

function toObjects(value: unknown, origin: string): LoadedObject[] {
  if (value === null || value === undefined) return [];
  if (typeof value !== "object" || Array.isArray(value)) throw new LoadError(`${origin}: not a Kubernetes object (a mapping with apiVersion and kind)`);
  const v = value as Record<string, unknown>;
  if (typeof v.apiVersion !== "string" || typeof v.kind !== "string") throw new LoadError(`${origin}: apiVersion and kind are required`);
  if (v.kind === "List" || (v.kind.endsWith("List") && Array.isArray(v.items))) {
    return (Array.isArray(v.items) ? v.items : []).flatMap((item, i) => toObjects(item, `${origin} items[${i}]`));
  }
  const metadata = v.metadata;
  if (metadata === null || typeof metadata !== "object" || typeof (metadata as { name?: unknown }).name !== "string") {
    throw new LoadError(`${origin}: ${v.kind} needs metadata.name`);
  }
  return [{ object: v as unknown as KubeObject, origin }];
}

/** Parses one file's text (YAML, which includes JSON). */
export function parseText(text: string, file: string): LoadedObject[] {
  const out: LoadedObject[] = [];
  // The parser records line starts as it goes; counting from the start of the text for every document
  // made a file of 30,000 documents take minutes (quadratic).
  const lines = new LineCounter();
  for (const doc of parseAllDocuments(text, { uniqueKeys: true, lineCounter: lines })) {
    const where = `${file}:${lines.linePos(doc.range[0]).line}`;
    if (doc.errors.length > 0) throw new LoadError(`${file}:${doc.errors[0]!.linePos?.[0]?.line ?? "?"}: ${doc.errors[0]!.message.split("\n")[0]}`);
    out.push(...toObjects(doc.toJS({ maxAliasCount: 100 }), where));
  }
  return out;
}

export async function loadObjects(paths: string[], readStdin: () => Promise<string>): Promise<LoadedObject[]> {
  const out: LoadedObject[] = [];
  for (const p of paths) {
    if (p === "-") {
      out.push(...parseText(await readStdin(), "<stdin>"));
      continue;
    }
    for (const file of await filesUnder(p)) out.push(...parseText(await readFile(file, "utf8"), file));
  }
  return out;
}
