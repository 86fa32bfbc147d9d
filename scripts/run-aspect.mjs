// Runs the filter's as-pect unit tests and ends with "as-pect: N passed, N failed" (as-pect prints only
// its own summary table). Exits non-zero when a test fails or a spec does not compile.
import { spawnSync } from "node:child_process";

const r = spawnSync("node_modules/.bin/asp", ["--no-logo", ...process.argv.slice(2)], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
const out = (r.stdout ?? "") + (r.stderr ?? "");
process.stdout.write(out);
const clean = out.replace(/\x1b\[[0-9;]*m/g, "");
let passed = 0, total = 0;
for (const m of clean.matchAll(/Pass: (\d+) \/ (\d+)/g)) { passed += Number(m[1]); total += Number(m[2]); }
const compileErrors = /compile error/.test(clean);
const failed = total - passed + (compileErrors ? 1 : 0);
console.log(`\nas-pect: ${passed} passed, ${failed} failed`);
process.exit(r.status === 0 && failed === 0 ? 0 : 1);
