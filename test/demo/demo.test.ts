// The README's main command, run by its entry point (demo/main.ts): the local mesh demo runs to its summary, shows both
// versions of each service, the method route, rejections by the rate limit and by the fault, a trace
// in Zipkin (--zipkin), and leaves no process behind, whether it stops by itself (--duration) or on Ctrl-C.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { repoRoot } from "../envoy/envoy";
import { DEMO, assertSamplesServed, run } from "./demo_output";

function runDirOf(out: string): string {
  const m = /run directory (\S+)/.exec(out);
  assert.ok(m, `no run directory in the output:\n${out}`);
  return m[1];
}

/** Processes whose command line names the run directory (every Envoy, JVM and Prometheus the demo starts does). */
function leftovers(runDir: string): string {
  try {
    return execFileSync("pgrep", ["-af", runDir], { encoding: "utf8" }).trim();
  } catch {
    return ""; // pgrep exits 1 when nothing matches
  }
}

/** An instant query against the demo's Prometheus. */
async function promQuery(url: string, expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await r.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  assert.equal(body.status, "success", `${expr}: ${body.error}`);
  return body.data.result;
}

const CONTROLLER_METRIC = /meltemi_(reconcile|desired|diagnostics|leader|object_writes)/;

/**
 * While the demo runs: Prometheus scrapes all six sidecars; the filter's labelled metrics are there
 * (requests by the pod's version on the serving side, rejections by reason); every query of the Grafana
 * dashboard is valid, and each one over the filter's metrics returns data.
 */
async function checkPrometheus(out: string): Promise<void> {
  const url = /prometheus (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  assert.ok(url, `no prometheus URL in the output:\n${out}`);
  const deadline = Date.now() + 40_000; // within the demo's --duration below
  for (;;) {
    const up = await promQuery(url, "up == 1");
    const versions = (await promQuery(url, 'sum by (version) (meltemi_requests_total{reporter="destination"})')).map((s) => s.metric.version);
    const reasons = (await promQuery(url, "sum by (reason) (meltemi_rejections_total) > 0")).map((s) => s.metric.reason);
    if (up.length === 6 && versions.includes("v1") && versions.includes("v2") && reasons.includes("over_limit") && reasons.includes("fault_abort")) break;
    if (Date.now() > deadline) assert.fail(`prometheus: ${up.length} sidecars up, served by versions ${versions}, rejections by ${reasons}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const dashboard = JSON.parse(fs.readFileSync(path.join(repoRoot, "manifests/grafana/meltemi.json"), "utf8")) as { panels: { title: string; targets?: { expr: string }[] }[] };
  for (const p of dashboard.panels) {
    for (const t of p.targets ?? []) {
      const expr = t.expr.replaceAll("$__rate_interval", "30s").replaceAll("$service", ".*");
      // A rate needs two scrapes of a series: a series first seen in the last scrape has no rate yet
      // (a loaded machine can bring the first served requests just now), so wait for the next scrapes.
      for (;;) {
        const result = await promQuery(url, expr); // an invalid query fails here, at once
        if (result.length > 0 || CONTROLLER_METRIC.test(t.expr)) break;
        if (Date.now() > deadline) assert.fail(`dashboard panel "${p.title}": ${t.expr} returns no data`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
}

test("the demo with --duration --prometheus --zipkin: both versions, the method route, limit and fault rejections, Prometheus scraping the sidecars, a trace in Zipkin, nothing left running", { timeout: 600_000 }, async () => {
  let checked: Promise<void> | undefined;
  const r = await run(process.execPath, [...DEMO, "--duration", "45", "--prometheus", "--zipkin", "20"], (out) => {
    if (!checked && out.includes("--- summary")) { checked = checkPrometheus(out); checked.catch(() => {}); }
  });
  assert.equal(r.code, 0, r.out);
  assert.ok(checked, `the demo never printed a summary:\n${r.out}`);
  await checked;
  assertSamplesServed(r.out);
  // A trace from Zipkin: the caller-side Meltemi span with the server-side one under it.
  assert.match(r.out, /zipkin: a recent trace, http:\/\/127\.0\.0\.1:\d+\/zipkin\/traces\/[0-9a-f]{32} .*\n {2}CLIENT .*\/client: .*\n {4}SERVER /, r.out);
  assert.match(r.out, /stopped: every process the demo started has exited/);
  assert.equal(leftovers(runDirOf(r.out)), "", "no process of the demo is left");
});

test("Ctrl-C (SIGINT to the foreground process group, as a terminal sends it) stops the demo with a final summary and leaves nothing", { timeout: 600_000 }, async () => {
  let sent = false;
  const r = await run(process.execPath, DEMO, (out, pgid) => {
    if (!sent && out.includes("--- summary")) { sent = true; process.kill(-pgid, "SIGINT"); }
  });
  assert.ok(sent, `the demo never printed a summary:\n${r.out}`);
  assert.match(r.out, /Ctrl-C: stopping/);
  assert.match(r.out, /--- final summary/);
  assert.match(r.out, /stopped: every process the demo started has exited/);
  assert.equal(leftovers(runDirOf(r.out)), "", "no process of the demo is left");
});
