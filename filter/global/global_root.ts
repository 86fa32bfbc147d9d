// The root context's side of the global limits, on the host: the tick's reports through
// proxy_grpc_call (abi/grpc.ts), the answers and failures that come back to the root, and the
// counters of global_stats.ts added to Envoy's metrics (names below; all per proxy, as every metric of
// telemetry/metrics.ts). plugin.ts calls these three functions and nothing else of filter/global.
import { LogLevel, MetricType, WasmResult, defineMetric, hostBytes, incrementMetric, log, logEnabled } from "../abi/host";
import { grpcCall, grpcToken, readGrpcMessage } from "../abi/grpc";
import { FilterConfig } from "../config/config";
import { SharedDataStore } from "../limit/shared_data_store";
import { GlobalLimit } from "./global_limit";
import { GrpcSender, onReportAnswer, onReportClosed, reportDue, seedOwner } from "./global_reporter";
import { globalStats } from "./global_stats";

// Three names rather than a `result` label: a label needs a stats_tags rule in every bootstrap
// (telemetry/tags.ts), and these are few.
export const GLOBAL_REPORTS_OK_TOTAL = "meltemi_global_reports_ok_total";
export const GLOBAL_REPORTS_FAILED_TOTAL = "meltemi_global_reports_failed_total";
export const GLOBAL_REPORTS_UNSENT_TOTAL = "meltemi_global_reports_unsent_total";
export const GLOBAL_FAIL_OPEN_ADMITTED_TOTAL = "meltemi_global_fail_open_admitted_total";
export const GLOBAL_FAIL_CLOSED_REJECTED_TOTAL = "meltemi_global_fail_closed_rejected_total";
export const GLOBAL_OVER_LIMIT_TOTAL = "meltemi_global_over_limit_total";
export const GLOBAL_UNLIMITED_TOTAL = "meltemi_global_unlimited_total";
export const GLOBAL_OVERFLOW_TOTAL = "meltemi_global_overflow_total";

const SERVICE_NAME = String.UTF8.encode("envoy.service.ratelimit.v3.RateLimitService");
const METHOD = String.UTF8.encode("ShouldRateLimit");

const store = new SharedDataStore();

class EnvoyGrpcSender extends GrpcSender {
  send(limit: GlobalLimit, requestPtr: usize, requestLen: u32): i64 {
    const r = grpcCall(limit.grpcService, SERVICE_NAME, METHOD, requestPtr, requestLen, limit.timeoutMs);
    if (r == WasmResult.Ok) return <i64>grpcToken;
    if (logEnabled(LogLevel.Warn)) log(LogLevel.Warn, "meltemi: global limit report to cluster " + limit.cluster + " not sent: proxy_grpc_call result " + (<i32>r).toString());
    return -1;
  }
}
const sender = new EnvoyGrpcSender();

class GlobalMetrics {
  defined: bool = false;
  reportsOk: u32 = u32.MAX_VALUE;
  reportsFailed: u32 = u32.MAX_VALUE;
  reportsUnsent: u32 = u32.MAX_VALUE;
  failOpen: u32 = u32.MAX_VALUE;
  failClosed: u32 = u32.MAX_VALUE;
  overLimit: u32 = u32.MAX_VALUE;
  unlimited: u32 = u32.MAX_VALUE;
  overflow: u32 = u32.MAX_VALUE;
  define(): void {
    if (this.defined) return;
    this.defined = true;
    this.reportsOk = defineMetric(MetricType.Counter, GLOBAL_REPORTS_OK_TOTAL);
    this.reportsFailed = defineMetric(MetricType.Counter, GLOBAL_REPORTS_FAILED_TOTAL);
    this.reportsUnsent = defineMetric(MetricType.Counter, GLOBAL_REPORTS_UNSENT_TOTAL);
    this.failOpen = defineMetric(MetricType.Counter, GLOBAL_FAIL_OPEN_ADMITTED_TOTAL);
    this.failClosed = defineMetric(MetricType.Counter, GLOBAL_FAIL_CLOSED_REJECTED_TOTAL);
    this.overLimit = defineMetric(MetricType.Counter, GLOBAL_OVER_LIMIT_TOTAL);
    this.unlimited = defineMetric(MetricType.Counter, GLOBAL_UNLIMITED_TOTAL);
    this.overflow = defineMetric(MetricType.Counter, GLOBAL_OVERFLOW_TOTAL);
  }
}
const globalMetrics = new GlobalMetrics();

function add(id: u32, v: u64): void {
  if (v > 0) incrementMetric(id, <i64>v);
}

/** Adds what the counters gathered since the last flush to Envoy's metrics. */
function flush(): void {
  const s = globalStats;
  // Nothing to add: no metric host call, and no global metric defined by a filter without global limits.
  if ((s.reportsOk | s.reportsFailed | s.reportsUnsent | s.failOpenAdmitted | s.failClosedRejected | s.overLimitRejected | s.unlimitedAnswers | s.overflow) == 0) return;
  const m = globalMetrics;
  m.define();
  add(m.reportsOk, s.reportsOk);
  add(m.reportsFailed, s.reportsFailed);
  add(m.reportsUnsent, s.reportsUnsent);
  add(m.failOpen, s.failOpenAdmitted);
  add(m.failClosed, s.failClosedRejected);
  add(m.overLimit, s.overLimitRejected);
  add(m.unlimited, s.unlimitedAnswers);
  add(m.overflow, s.overflow);
  s.clear();
}

/** The root's tick: reports what is due, then flushes the counters. */
export function tickGlobal(rootId: u32, config: FilterConfig, now: u64): void {
  if (config.globalLimits.length > 0) {
    seedOwner(now);
    reportDue(rootId, config.globalLimits, store, now, sender);
  }
  flush();
}

/** proxy_on_grpc_receive of a root. */
export function globalAnswer(rootId: u32, token: u32, size: u32, now: u64): void {
  if (!readGrpcMessage(size)) {
    onReportClosed(rootId, token, store, now);
  } else {
    onReportAnswer(rootId, token, hostBytes.ptr, hostBytes.len, store, now);
    hostBytes.release();
  }
  flush();
}

/** proxy_on_grpc_close of a root: the report failed with gRPC status `status`. */
export function globalClosed(rootId: u32, token: u32, status: u32, now: u64): void {
  if (onReportClosed(rootId, token, store, now) && logEnabled(LogLevel.Debug)) {
    log(LogLevel.Debug, "meltemi: global limit report failed: gRPC status " + status.toString());
  }
  flush();
}
