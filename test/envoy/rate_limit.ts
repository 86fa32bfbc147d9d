// Shared by the real-Envoy rate-limit tests (Dubbo, Thrift): the issue's scenario ("a limit of 10
// requests per second over 5 s, with 4 Envoy worker threads, admits about 50"), the paced sender, and
// the admitted-count assertion.
//
// Why the assertion reads the window it observed: the bucket starts full when the first request takes
// a token and refills 10 tokens at each whole second after that (filter/limit/token_bucket.ts), so
// requests offered faster than the limit from t=0 to t=W are admitted 10 + 10 * floor(W / 1 s) times.
// The sender aims at W = 4.5 s (50 admitted), half a second away from a refill either way. On a loaded
// machine the sender can fall behind and stretch W; the expected count is then computed from the W
// actually observed (widened by the client-to-Envoy latency allowance), and the +-10% of the issue is
// applied to it, so a stall cannot turn a correct limiter into a failure, nor hide a wrong one.
import assert from "node:assert/strict";
import type { Envoy } from "./envoy";

export const LIMIT = { maxTokens: 10, tokensPerFill: 10, fillIntervalMs: 1000 };
/** 100 requests per second for 4.5 s. */
export const OFFERED = { count: 450, intervalMs: 10 };
/** How far apart the client's clock and Envoy's view of the arrivals may be. */
const LATENCY_ALLOWANCE_MS = 100;

export interface Window { firstMs: number; lastMs: number }

/** Calls `send(i)` for i in 0..count-1 at `intervalMs` apart (catching up after a stall); the window it took. */
export async function sendPaced(count: number, intervalMs: number, send: (i: number) => void): Promise<Window> {
  const start = Date.now();
  let firstMs = 0;
  for (let i = 0; i < count; i++) {
    const due = start + i * intervalMs;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    if (i === 0) firstMs = Date.now();
    send(i);
  }
  return { firstMs, lastMs: Date.now() };
}

function bucketAdmits(windowMs: number): number {
  return LIMIT.maxTokens + LIMIT.tokensPerFill * Math.floor(Math.max(0, windowMs) / LIMIT.fillIntervalMs);
}

/** Asserts the admitted count is the bucket's for the observed window, +-10%; returns a description. */
export function assertAdmittedForWindow(admitted: number, offered: number, w: Window): string {
  const span = w.lastMs - w.firstMs;
  const low = Math.ceil((bucketAdmits(span - LATENCY_ALLOWANCE_MS) * 9) / 10);
  const high = Math.floor((bucketAdmits(span + LATENCY_ALLOWANCE_MS) * 11) / 10);
  const what = `admitted ${admitted} of ${offered} offered over ${span} ms (expected ${low}..${high}; 45..55 for the nominal 4.5 s)`;
  assert.ok(admitted >= low && admitted <= high, what);
  return what;
}

/** The worker threads whose listener accepted at least one connection. */
export async function busyWorkers(envoy: Envoy): Promise<string[]> {
  const lines = (await envoy.admin("/stats?filter=" + encodeURIComponent("^listener\\..*worker_[0-9]+\\.downstream_cx_total$"))).trim().split("\n");
  return lines.filter((l) => !l.endsWith(": 0"));
}
