// Prints the size of the built module against docs/performance.md's bar (< 200 KB, 1 KB = 1000 bytes,
// as bench/report.ts counts it), its sections, the static data (strings are UTF-16 there), and with
// --functions the largest functions (from a copy built with the release options plus a name section,
// build/meltemi.names.wasm; names change nothing but the size of that copy).
//   node scripts/module-size.mjs [module.wasm] [--functions [N]]
// Exit code 0 either way: the bar is reported by `npm run bench`, not enforced here.
import fs from "node:fs";
import { execFileSync } from "node:child_process";

const args = process.argv.slice(2);
const fnAt = args.indexOf("--functions");
const topN = fnAt >= 0 && /^\d+$/.test(args[fnAt + 1] ?? "") ? Number(args[fnAt + 1]) : 30;
const file = args.find((a, i) => a.endsWith(".wasm") && i !== fnAt + 1) ?? "build/meltemi.wasm";
const SECTION_NAMES = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount"];

/** The sections of a module: [{ id, start, size }]. */
function sections(bytes) {
  const out = [];
  let p = 8;
  const leb = () => { let r = 0, s = 0, x; do { x = bytes[p++]; r |= (x & 0x7f) << s; s += 7; } while (x & 0x80); return r >>> 0; };
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = leb();
    out.push({ id, start: p, size });
    p += size;
  }
  return out;
}

const bytes = fs.readFileSync(file);
console.log(`${file}: ${bytes.length} bytes = ${(bytes.length / 1000).toFixed(1)} KB (bar < 200 KB: ${bytes.length < 200_000 ? "met" : "NOT met"})`);
for (const s of sections(bytes)) console.log(`  ${(SECTION_NAMES[s.id] ?? String(s.id)).padEnd(10)} ${String(s.size).padStart(7)} bytes`);

if (fnAt >= 0) {
  const named = "build/meltemi.names.wasm";
  execFileSync("node_modules/.bin/asc", ["filter/index.ts", "--config", "asconfig.json", "--target", "release", "--debug", "-o", named], { stdio: ["ignore", "ignore", "inherit"] });
  const dump = execFileSync("node_modules/.bin/wasm-objdump", ["-x", "-j", "Code", named], { encoding: "utf8", maxBuffer: 64 << 20 });
  const fns = [...dump.matchAll(/size=(\d+) <([^>]*)>/g)].map((m) => ({ size: Number(m[1]), name: m[2] })).sort((a, b) => b.size - a.size);
  console.log(`largest functions (of ${fns.length}; body bytes, from ${named}):`);
  for (const f of fns.slice(0, topN)) console.log(`  ${String(f.size).padStart(6)}  ${f.name}`);
}
