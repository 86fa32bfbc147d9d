// Loads test/codec/thrift/harness (the Thrift codec's transport conversions, compiled with asc's ESM
// bindings) for Node tests. scripts/build.sh should build it next to the generic codec harness; until
// then, and whenever a codec source is newer than the build, it is built here (under .build.lock).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const output = path.join(root, "build/thrift-harness.wasm");
const bindings = path.join(root, "build/thrift-harness.js");

interface Exports {
  forClient(reply: Uint8Array, request: Uint8Array): Uint8Array;
  asHeader(request: Uint8Array, keys: string[], values: string[]): Uint8Array;
  probe(request: Uint8Array): Uint8Array;
  routed(request: Uint8Array, cluster: string, keys: string[], values: string[]): Uint8Array;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith(".ts") || entry.name.endsWith(".json")) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

function buildIfStale(): void {
  const sources = Math.max(newestSource(path.join(root, "filter/codec")), newestSource(path.join(root, "test/codec/thrift/harness")));
  if (fs.existsSync(output) && fs.existsSync(bindings) && fs.statSync(output).mtimeMs >= sources) return;
  execFileSync("flock", [path.join(root, ".build.lock"), path.join(root, "node_modules/.bin/asc"), "--config", "test/codec/thrift/harness/asconfig.json"],
    { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
}

let loaded: Promise<Exports> | undefined;
function harness(): Promise<Exports> {
  loaded ??= (async () => {
    buildIfStale();
    return (await import(pathToFileURL(bindings).href)) as Exports;
  })();
  return loaded;
}

/** The reply re-encoded for the client of `request` (ThriftCodec.encodeForClient); empty when refused. */
export async function forClient(reply: Uint8Array, request: Uint8Array): Promise<Buffer> {
  return Buffer.from((await harness()).forClient(reply, request));
}

/** The request converted to THeader with `headers` set (ThriftCodec.encodeAsHeader); empty when refused. */
export async function asHeader(request: Uint8Array, headers: Record<string, string> = {}): Promise<Buffer> {
  const keys = Object.keys(headers);
  return Buffer.from((await harness()).asHeader(request, keys, keys.map((k) => headers[k])));
}

/** The probe call the filter sends upstream in place of a rejected request (ThriftCodec.encodeProbe). */
export async function probe(request: Uint8Array): Promise<Buffer> {
  return Buffer.from((await harness()).probe(request));
}

/** The request routed to `cluster` for thrift_proxy (ThriftCodec.encodeRouted); empty when refused. */
export async function routed(request: Uint8Array, cluster: string, mutation: Record<string, string> = {}): Promise<Buffer> {
  const keys = Object.keys(mutation);
  return Buffer.from((await harness()).routed(request, cluster, keys, keys.map((k) => mutation[k])));
}
