// `meltemi controller --adaptive-queries FILE`: the named PromQL templates, Slime's defaults overridden
// or extended by the file; a file that cannot be used is refused at start with the reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { adaptiveConfig, readQueries } from "../../controller/adaptive/config";
import { DEFAULT_QUERIES } from "../../controller/adaptive/queries";

function file(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-queries-"));
  const p = path.join(dir, "queries.yaml");
  fs.writeFileSync(p, text);
  return p;
}

test("--adaptive-queries overrides and extends Slime's default queries", () => {
  assert.deepEqual(readQueries(undefined), new Map(DEFAULT_QUERIES));
  const q = readQueries(file('cpu.sum: sum(rate(cpu{ns="$namespace",pod=~"$pod_name"}[1m]))\nrt99: "  histogram_quantile(0.99, x)  "\n'));
  assert.equal(q.get("cpu.sum"), 'sum(rate(cpu{ns="$namespace",pod=~"$pod_name"}[1m]))');
  assert.equal(q.get("rt99"), "histogram_quantile(0.99, x)");
  for (const name of DEFAULT_QUERIES.keys()) assert.ok(q.has(name), `default ${name} kept`);
});

test("a queries file that cannot be used is refused with the reason", () => {
  assert.throws(() => readQueries(file("- a\n- b\n")), /expected a map of query name -> PromQL/);
  assert.throws(() => readQueries(file("pod: count(x)\n")), /"pod" is not a usable query name/);
  assert.throws(() => readQueries(file("'bad name': x\n")), /"bad name" is not a usable query name/);
  assert.throws(() => readQueries(file("cpu.sum: 3\n")), /query "cpu.sum" must be a PromQL string/);
  assert.throws(() => readQueries(file("cpu.sum: ''\n")), /query "cpu.sum" must be a PromQL string/);
  assert.throws(() => readQueries(path.join(os.tmpdir(), "meltemi-no-such-file.yaml")), /ENOENT/);
});

test("adaptive flags: a Prometheus URL and a tolerance in [0, 1)", () => {
  const flags = { prometheusUrl: "http://prometheus:9090", refreshSeconds: 10, queryTimeoutMs: 5000, confirmations: 2, quotaTolerance: 0.1, minUpdateIntervalSeconds: 0, clusterDomain: "cluster.local" };
  const c = adaptiveConfig(flags);
  assert.equal(c.refreshMs, 10_000);
  assert.throws(() => adaptiveConfig({ ...flags, prometheusUrl: "prometheus:9090" }), /--prometheus-url must be http/);
  assert.throws(() => adaptiveConfig({ ...flags, quotaTolerance: 1 }), /--adaptive-quota-tolerance/);
});
