// Runs the node:test files of one tier and prints each file's duration, then "# pass N" and "# fail N".
//   node scripts/test-tiers.mjs unit     the fast tier, files run in parallel (one per core)
//   node scripts/test-tiers.mjs real     the real-process tier, one file at a time
//   node scripts/test-tiers.mjs list     which file is in which tier
// The tier of a file follows from where it is (CONTRIBUTING.md "Tests"): a test that starts Envoy, a
// kube-apiserver, istiod, the rate limit service, a JVM or the demo is in the real tier when it sits under
// test/envoy/, test/kube/, test/istio/, test/ratelimit/,
// test/demo/ or test/bench/, or when its name ends in -envoy, -kube or -java (test/adaptive/x-envoy.test.ts).
// Such processes take a core each and their tests wait on live traffic, so they must not share the
// machine with each other. A unit-tier file that imports the helpers starting them is refused, so that
// a misplaced file shows up at once instead of as a flaky test.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const REAL_FOLDERS = ["test/envoy/", "test/kube/", "test/istio/", "test/ratelimit/", "test/demo/", "test/bench/"];
const REAL_SUFFIX = /-(envoy|kube|java)\.test\.ts$/;
/** Imports (or calls) that start a real-tier process: the Envoy runner, the kube-apiserver, the Dubbo JVM peers. */
const REAL_HELPERS = /from ["'](?:\.\.?\/)+(?:envoy\/envoy|kube\/apiserver|kube\/controller_process)["']|\bpeersClasspath\(|demo\/main\.ts/;

export function isRealTier(file) {
  return REAL_FOLDERS.some((f) => file.startsWith(f)) || REAL_SUFFIX.test(file);
}

function testFiles() {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { if (e.name !== "node_modules") walk(p); }
      else if (e.name.endsWith(".test.ts")) out.push(p.split(path.sep).join("/"));
    }
  };
  walk("test");
  return out.sort();
}

/** Unit-tier files that start a real-tier process anyway (by the helpers they import). */
function misplaced(files) {
  return files.filter((f) => !isRealTier(f) && REAL_HELPERS.test(fs.readFileSync(f, "utf8")));
}

/** Runs one file in its own `node --test` and resolves with its buffered output, counts and duration. */
function runFile(file, live) {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", file], { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  let out = "";
  const add = (d) => { out += d; if (live) process.stdout.write(d); };
  child.stdout.on("data", add);
  child.stderr.on("data", add);
  return new Promise((resolve) => child.on("close", (code, signal) => {
    running.delete(child);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const count = (name) => Number((out.match(new RegExp(`^# ${name} (\\d+)$`, "m")) ?? [])[1] ?? 0);
    let pass = count("pass"), fail = count("fail");
    if ((code !== 0 || signal) && fail === 0) fail = 1; // a file that crashed counts as a failure
    resolve({ file, out, pass, fail, seconds, ok: code === 0 && fail === 0 });
  }));
}

const running = new Set();
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => { for (const c of running) c.kill(sig); process.exit(130); });

async function runTier(files, concurrency) {
  const results = [];
  const queue = [...files];
  const live = concurrency === 1;
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      if (live) console.log(`\n### ${f}`);
      const r = await runFile(f, live);
      if (!live) process.stdout.write(`\n### ${f}\n${r.out}`);
      results.push(r);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  const wall = (Date.now() - started) / 1000;
  results.sort((a, b) => b.seconds - a.seconds);
  console.log(`\n--- durations (${files.length} files, ${concurrency} at a time, ${wall.toFixed(1)} s wall)`);
  for (const r of results) console.log(`${r.seconds.toFixed(1).padStart(7)} s  ${r.ok ? "ok  " : "FAIL"}  ${r.file}`);
  const pass = results.reduce((n, r) => n + r.pass, 0);
  const fail = results.reduce((n, r) => n + r.fail, 0);
  console.log(`# pass ${pass}\n# fail ${fail}`);
  return results.every((r) => r.ok);
}

const tier = process.argv[2];
const files = testFiles();
const wrong = misplaced(files);
if (tier === "list") {
  for (const f of files) console.log(`${isRealTier(f) ? "real" : "unit"}  ${f}`);
} else if (tier === "unit" || tier === "real") {
  if (wrong.length > 0) {
    for (const f of wrong) console.error(`test: ${f} starts Envoy, a kube-apiserver, a JVM or the demo but is in the unit tier: move it under test/envoy|kube|demo|bench or name it *-envoy|-kube|-java.test.ts (CONTRIBUTING.md)`);
    console.log(`# pass 0\n# fail ${wrong.length}`);
    process.exit(1);
  }
  const concurrency = tier === "unit" ? Number(process.env.MELTEMI_TEST_JOBS || os.availableParallelism()) : 1;
  const ok = await runTier(files.filter((f) => isRealTier(f) === (tier === "real")), concurrency);
  process.exit(ok ? 0 : 1);
} else {
  console.error("usage: node scripts/test-tiers.mjs unit|real|list");
  process.exit(2);
}
