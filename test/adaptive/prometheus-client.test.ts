// PrometheusSource's answers for what a real Prometheus is hard to make do on cue (slow, erroring,
// odd results): a local HTTP server answering in Prometheus' documented format. The success and
// unreachable paths against Debian's Prometheus are in smart-limiter-envoy.test.ts and
// controller-kube.test.ts; a real Prometheus's own error answer is checked at the end.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { MetricError, PrometheusSource } from "../../controller/adaptive/prometheus";
import { TestExporter } from "./exporter";
import { Prometheus } from "./prometheus";

async function server(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, close: () => new Promise((r) => { s.closeAllConnections(); s.close(() => r()); }) };
}

const json = (status: number, body: unknown): http.RequestListener => (_req, res) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

async function reason(src: PrometheusSource, q = "up"): Promise<string> {
  try {
    await src.query(q);
    return "no error";
  } catch (err) {
    assert.ok(err instanceof MetricError, String(err));
    return `${err.reason}: ${err.message}`;
  }
}

test("answers and failures of the Prometheus HTTP API client", async () => {
  const cases: [http.RequestListener, RegExp | number][] = [
    [json(200, { status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1, "42.5"] }] } }), 42.5],
    [json(200, { status: "success", data: { resultType: "scalar", result: [1, "7"] } }), 7],
    [json(200, { status: "success", data: { resultType: "vector", result: [] } }), /^NoData: up returned no series/],
    [json(200, { status: "success", data: { resultType: "vector", result: [{ value: [1, "1"] }, { value: [1, "2"] }] } }), /^AmbiguousResult: up returned 2 series/],
    [json(200, { status: "success", data: { resultType: "vector", result: [{ value: [1, "NaN"] }] } }), /^NoData: up is NaN/],
    [json(200, { status: "success", data: { resultType: "matrix", result: [] } }), /^PrometheusBadResponse: .*matrix/],
    [json(422, { status: "error", errorType: "execution", error: "many-to-many matching not allowed" }), /^PrometheusError: HTTP 422 execution: many-to-many/],
    [json(503, { status: "error", errorType: "timeout", error: "query timed out in expression evaluation" }), /^PrometheusTimeout: query timed out in Prometheus/],
    [(_req, res) => { res.writeHead(502); res.end("<html>bad gateway</html>"); }, /^PrometheusBadResponse: HTTP 502, not JSON/],
    [() => { /* never answers */ }, /^PrometheusTimeout: no answer from .* within 300 ms/],
  ];
  for (const [handler, want] of cases) {
    const s = await server(handler);
    try {
      const src = new PrometheusSource({ url: s.url, timeoutMs: 300 });
      if (typeof want === "number") assert.equal(await src.query("up"), want);
      else assert.match(await reason(src), want);
    } finally {
      await s.close();
    }
  }
  const gone = await server(json(200, {}));
  const url = gone.url;
  await gone.close();
  assert.match(await reason(new PrometheusSource({ url, timeoutMs: 300 })), /^PrometheusUnreachable: .*ECONNREFUSED/);
  assert.throws(() => new PrometheusSource({ url: "ftp://x" }), /http:\/\/ or https:\/\//);
});

test("a real Prometheus: a bad PromQL is PrometheusError with Prometheus' reason; the query sent is the one given", async () => {
  const exporter = await TestExporter.start();
  exporter.set("meltemi_test_value", { pod: "a" }, 3);
  const prometheus = await Prometheus.start([exporter.target]);
  try {
    await prometheus.waitFor("meltemi_test_value", (v) => v === 3);
    const src = new PrometheusSource({ url: prometheus.url, timeoutMs: 2000 });
    assert.equal(await src.query('sum(meltemi_test_value{pod=~"a|b"})'), 3);
    assert.match(await reason(src, "sum(meltemi_test_value{"), /^PrometheusError: HTTP 400 bad_data: /);
    assert.match(await reason(src, "meltemi_test_value_absent"), /^NoData/);
  } finally {
    await prometheus.stop();
    prometheus.cleanup();
    await exporter.close();
  }
});
