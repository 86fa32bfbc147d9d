// Every metric the Grafana dashboard (manifests/grafana/meltemi.json) queries is one Meltemi exports:
// defined by the filter (filter/, Envoy exports it unprefixed) or by the controller (controller/,
// prom-client); every label it groups or filters by is a tag the filter writes, a label the controller
// sets, or one the scrape adds (docs/filter.md "Metrics": pod labels such as `version`).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { repoRoot } from "./support";

const SCRAPE_LABELS = ["version", "pod", "namespace", "job", "instance", "app"];
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { if (e.name !== "__tests__") walk(p); } else if (e.name.endsWith(".ts")) out.push(fs.readFileSync(p, "utf8"));
    }
  };
  walk(path.join(repoRoot, dir));
  return out;
}

function exported(): { metrics: Set<string>; labels: Set<string> } {
  const metrics = new Set<string>();
  const labels = new Set<string>(SCRAPE_LABELS);
  for (const text of sources("filter")) {
    for (const m of text.matchAll(/"(meltemi_[a-z0-9_]+)"/g)) metrics.add(m[1]);
    for (const m of text.matchAll(/export const TAG_[A-Z_]+ = "([a-z_]+)"/g)) labels.add(m[1]);
  }
  for (const text of sources("controller")) {
    for (const m of text.matchAll(/name: "(meltemi_[a-z0-9_]+)"/g)) metrics.add(m[1]);
    for (const m of text.matchAll(/labelNames: \[([^\]]*)\]/g)) for (const l of m[1].matchAll(/"([a-z_]+)"/g)) labels.add(l[1]);
  }
  return { metrics, labels };
}

function queries(): string[] {
  const dash = JSON.parse(fs.readFileSync(path.join(repoRoot, "manifests/grafana/meltemi.json"), "utf8")) as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { query?: string | { query: string } }[] };
  };
  const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const v of dash.templating.list) if (typeof v.query === "object") exprs.push(v.query.query);
  return exprs;
}

test("the dashboard queries only metrics the filter or the controller exports", () => {
  const { metrics } = exported();
  const exprs = queries();
  assert.ok(exprs.length >= 10, "the dashboard has its panels");
  const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(meltemi_[a-z0-9_]+)/g)].map((m) => m[1])));
  for (const name of used) {
    const base = name.replace(HISTOGRAM_SERIES, "");
    assert.ok(metrics.has(name) || metrics.has(base), `${name} is not exported by filter/ or controller/`);
  }
  for (const needed of ["meltemi_requests_total", "meltemi_request_duration_milliseconds_bucket", "meltemi_rejections_total"]) {
    assert.ok(used.has(needed), `the dashboard shows ${needed}`);
  }
});

test("the dashboard groups and filters only by labels that exist", () => {
  const { labels } = exported();
  for (const e of queries()) {
    const grouped = [...e.matchAll(/by \(([^)]*)\)/g)].flatMap((m) => m[1].split(",").map((s) => s.trim()));
    const matched = [...e.matchAll(/[{,]\s*([a-z_]+)\s*(=~|!=|!~|=)/g)].map((m) => m[1]);
    const fromFunctions = [...e.matchAll(/label_values\([^,]+,\s*([a-z_]+)\)/g)].map((m) => m[1]);
    for (const l of [...grouped, ...matched, ...fromFunctions]) assert.ok(l === "le" || labels.has(l), `label ${l} in ${e}`);
  }
});
