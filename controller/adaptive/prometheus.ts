// Instant queries against Prometheus' HTTP API (GET <base>/api/v1/query?query=...), over undici.
//
// Prometheus' answer (prometheus.io/docs/prometheus/latest/querying/api/): JSON
// `{status: "success" | "error", data: {resultType, result}, errorType, error, warnings}`; 400 for bad
// parameters, 422 when the expression cannot be executed, 503 when the query timed out or was aborted.
// An instant vector is `[{metric: {...}, value: [<unix time>, "<value>"]}]`, a scalar
// `[<unix time>, "<value>"]`; values are strings ("NaN", "+Inf" possible).
//
// A limit needs ONE number per metric (Slime's metric producer skips a result with more or fewer than
// one sample): an empty vector or several series is an error that says so, never a guess.
import { request } from "undici";

export type MetricErrorReason =
  | "PrometheusUnreachable"
  | "PrometheusTimeout"
  | "PrometheusError"
  | "PrometheusBadResponse"
  | "NoData"
  | "AmbiguousResult";

export class MetricError extends Error {
  constructor(readonly reason: MetricErrorReason, message: string) {
    super(message);
  }
}

/** Where metric values come from: one number per query, or a MetricError. */
export interface MetricSource {
  query(promql: string): Promise<number>;
}

export interface PrometheusOptions {
  /** e.g. http://prometheus.istio-system:9090 */
  url: string;
  /** Per query, connect to last byte (default 5 s); also sent to Prometheus as its own `timeout`. */
  timeoutMs?: number;
}

export class PrometheusSource implements MetricSource {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(opts: PrometheusOptions) {
    if (!/^https?:\/\/[^\s/]+/.test(opts.url)) throw new Error(`prometheus url must be http:// or https://, got "${opts.url}"`);
    this.base = opts.url.replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  async query(promql: string): Promise<number> {
    const url = `${this.base}/api/v1/query?query=${encodeURIComponent(promql)}&timeout=${Math.max(1, Math.floor(this.timeoutMs / 1000))}s`;
    let status: number;
    let text: string;
    try {
      const res = await request(url, {
        method: "GET",
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string };
      if (e.name === "TimeoutError" || e.name === "AbortError" || e.code === "UND_ERR_HEADERS_TIMEOUT" || e.code === "UND_ERR_BODY_TIMEOUT") {
        throw new MetricError("PrometheusTimeout", `no answer from ${this.base} within ${this.timeoutMs} ms`);
      }
      throw new MetricError("PrometheusUnreachable", `${this.base}: ${e.code ?? ""} ${e.message ?? String(err)}`.trim());
    }
    let body: { status?: string; data?: { resultType?: string; result?: unknown }; errorType?: string; error?: string };
    try {
      body = JSON.parse(text);
    } catch {
      throw new MetricError("PrometheusBadResponse", `HTTP ${status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (body.status !== "success") {
      if (status === 503 && body.errorType === "timeout") throw new MetricError("PrometheusTimeout", `query timed out in Prometheus: ${body.error ?? ""}`);
      throw new MetricError("PrometheusError", `HTTP ${status} ${body.errorType ?? "error"}: ${body.error ?? text.slice(0, 200)}`);
    }
    return sampleOf(body.data?.resultType, body.data?.result, promql);
  }
}

function parseValue(v: unknown, promql: string): number {
  if (!Array.isArray(v) || typeof v[1] !== "string") throw new MetricError("PrometheusBadResponse", `unexpected sample ${JSON.stringify(v)} for ${promql}`);
  const n = Number(v[1]);
  if (!Number.isFinite(n)) throw new MetricError("NoData", `${promql} is ${v[1]}`);
  return n;
}

function sampleOf(resultType: string | undefined, result: unknown, promql: string): number {
  if (resultType === "scalar") return parseValue(result, promql);
  if (resultType === "vector" && Array.isArray(result)) {
    if (result.length === 0) throw new MetricError("NoData", `${promql} returned no series`);
    if (result.length > 1) throw new MetricError("AmbiguousResult", `${promql} returned ${result.length} series; aggregate it to one (sum, max, ...)`);
    return parseValue((result[0] as { value?: unknown }).value, promql);
  }
  throw new MetricError("PrometheusBadResponse", `${promql}: result type ${resultType ?? "?"}, expected an instant vector or a scalar`);
}
