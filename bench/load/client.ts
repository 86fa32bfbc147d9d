// The benchmark's load generator: several TCP connections, each pipelining requests (copies of the
// template the real library encoded, with a fresh id each), and checking every reply: a complete
// frame, an id that is outstanding on that connection, and bytes equal to the valid reply template
// outside the id (the template was decoded by the real library, wire.ts). Two ways to drive it:
// - closedLoop: every connection keeps `depth` requests in flight; each read of replies is answered by
//   as many new requests, in one write (saturation throughput);
// - openLoop: requests are scheduled at a fixed total rate, spread over the connections, and each
//   latency is measured from the request's SCHEDULED send time, not from when it was actually written,
//   so a stall of the proxy (or of this generator) counts in full (no coordinated omission; Gil Tene,
//   "How NOT to measure latency"; wrk2).
import net from "node:net";
import { performance } from "node:perf_hooks";
import type { BenchWire } from "./wire";

/** Ids in flight per connection at most; the id's slot is id & (RING - 1). */
export const RING = 1 << 16;

class LoadConnection {
  readonly socket: net.Socket;
  /** Scheduled send time (performance.now() ms) of the request in flight in each slot; 0 = free. */
  private readonly sentAt = new Float64Array(RING);
  private nextId = 1;
  private rest: Buffer | null = null;
  outstanding = 0;
  /** Requests not sent because RING were in flight on this connection (send). */
  unsent = 0;
  invalid = 0;
  firstInvalid = "";
  closed = false;

  constructor(
    private readonly wire: BenchWire,
    port: number,
    private readonly onReplies: (conn: LoadConnection, latenciesMs: Float64Array, n: number) => void,
    private readonly scratch: Float64Array,
  ) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.setNoDelay(true);
    this.socket.on("data", (d: Buffer) => this.onData(d));
    this.socket.on("error", () => {});
    this.socket.on("close", () => { this.closed = true; });
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("error", reject);
    });
  }

  /**
   * Sends `n` requests; the i-th is timed from `at[i]` (or from `now` when `at` is undefined). A request
   * whose id slot is still taken (RING requests in flight on this connection: an open loop whose rate the
   * proxy cannot follow) is not sent, nor are the rest of the batch: they are counted in `unsent` and,
   * never answered, as lost.
   */
  send(n: number, now: number, at?: Float64Array): void {
    const w = this.wire;
    const len = w.request.length;
    const buf = Buffer.allocUnsafe(n * len);
    let sent = 0;
    for (; sent < n; sent++) {
      const slot = this.nextId & (RING - 1);
      if (this.sentAt[slot] !== 0) break;
      const id = this.nextId++;
      const off = sent * len;
      w.request.copy(buf, off);
      this.sentAt[slot] = at ? at[sent] : now;
      w.writeId(buf, off, w.requestIdOffset, id);
    }
    this.unsent += n - sent;
    if (sent === 0) return;
    this.outstanding += sent;
    this.socket.write(sent === n ? buf : buf.subarray(0, sent * len));
  }

  private onData(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    const w = this.wire;
    const tpl = w.reply;
    const idStart = w.replyIdOffset;
    const idEnd = idStart + w.idLength;
    const now = performance.now();
    let n = 0;
    let off = 0;
    while (off < buf.length) {
      const len = w.frameLength(buf, off, buf.length);
      if (len < 0 || off + len > buf.length) break;
      const slot = w.readId(buf, off) & (RING - 1);
      const at = this.sentAt[slot];
      const valid = len === tpl.length && at !== 0 &&
        buf.compare(tpl, 0, idStart, off, off + idStart) === 0 &&
        buf.compare(tpl, idEnd, tpl.length, off + idEnd, off + len) === 0;
      if (!valid) {
        this.invalid++;
        if (this.firstInvalid === "") this.firstInvalid = buf.subarray(off, off + Math.min(len, 96)).toString("hex");
      } else {
        this.sentAt[slot] = 0;
        this.outstanding--;
        this.scratch[n++] = now - at;
      }
      off += len;
    }
    if (off < buf.length) this.rest = Buffer.from(buf.subarray(off));
    if (n > 0) this.onReplies(this, this.scratch, n);
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface LoadOptions {
  wire: BenchWire;
  port: number;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Called when the measurement window opens and closes (e.g. to read Envoy's CPU time). */
  onWindow?: (edge: "start" | "end") => void;
}

export interface ClosedLoopResult {
  /** Replies in the measurement window, per second. */
  rps: number;
  replies: number;
  seconds: number;
  invalid: number;
  firstInvalid: string;
  /** CPU this process (client + upstream) used in the window, as a fraction of one core. */
  generatorCpu: number;
}

async function openConnections(opts: LoadOptions, onReplies: (c: LoadConnection, l: Float64Array, n: number) => void): Promise<LoadConnection[]> {
  const scratch = new Float64Array(RING);
  const conns = Array.from({ length: opts.connections }, () => new LoadConnection(opts.wire, opts.port, onReplies, scratch));
  await Promise.all(conns.map((c) => c.ready()));
  return conns;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until no request is in flight on `conns`. */
async function drain(conns: LoadConnection[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (conns.some((c) => c.outstanding > 0 && !c.closed) && performance.now() < deadline) await sleep(2);
}

/** Saturation: `depth` requests in flight on every connection, replaced as replies come back. */
export async function closedLoop(opts: LoadOptions & { depth: number; maxReplies?: number }): Promise<ClosedLoopResult> {
  let counting = false;
  let stopping = false;
  let replies = 0;
  const conns = await openConnections(opts, (conn, _lat, n) => {
    if (counting) {
      replies += n;
      if (opts.maxReplies !== undefined && replies >= opts.maxReplies) stopReplies?.();
    }
    if (!stopping) conn.send(n, performance.now());
  });
  let stopReplies: (() => void) | undefined;
  try {
    for (const c of conns) c.send(opts.depth, performance.now());
    await sleep(opts.warmupMs);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    opts.onWindow?.("start");
    counting = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, opts.durationMs);
      stopReplies = () => { clearTimeout(timer); resolve(); };
    });
    counting = false;
    opts.onWindow?.("end");
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    // Let the requests in flight finish before closing, so that no proxy sees a reset mid-request.
    stopping = true;
    await drain(conns, 3000);
    const invalid = conns.reduce((s, c) => s + c.invalid, 0);
    const dead = conns.filter((c) => c.closed).length;
    if (dead > 0) throw new Error(`${dead} of ${conns.length} connections closed during the closed loop`);
    return {
      rps: replies / seconds, replies, seconds, invalid,
      firstInvalid: conns.find((c) => c.firstInvalid)?.firstInvalid ?? "",
      generatorCpu: (cpu.user + cpu.system) / 1e6 / seconds,
    };
  } finally {
    for (const c of conns) c.close();
  }
}

export interface OpenLoopResult {
  rate: number;
  /** Latencies (ms from the scheduled send time) of the requests scheduled in the window, sorted. */
  latenciesMs: Float64Array;
  /** Requests scheduled in the window that got no reply before the drain deadline (unsent ones included). */
  lost: number;
  /** Requests of the whole run (warm-up included) not sent: RING in flight on their connection. */
  unsent: number;
  invalid: number;
  firstInvalid: string;
  /** How late the generator wrote requests behind their schedule: p99 and max (ms). */
  sendLagP99Ms: number;
  sendLagMaxMs: number;
  generatorCpu: number;
}

/**
 * A fixed total `rate` (requests/s) over the connections, round-robin, for warm-up + duration. The
 * scheduler polls with setImmediate (it keeps this process busy, and I/O is polled between turns) so
 * that requests leave within a few microseconds of their schedule.
 */
export async function openLoop(opts: LoadOptions & { rate: number }): Promise<OpenLoopResult> {
  const periodMs = 1000 / opts.rate;
  const total = Math.ceil((opts.warmupMs + opts.durationMs) / periodMs);
  const windowFrom = Math.ceil(opts.warmupMs / periodMs);
  // The window is the requests scheduled at index >= windowFrom; a reply's scheduled time is now - latency.
  const latency = new Float64Array(total - windowFrom);
  let received = 0;
  let t0 = 0;
  let windowStart = Infinity;
  const conns = await openConnections(opts, (_conn, lat, n) => {
    const now = performance.now();
    for (let i = 0; i < n; i++) {
      if (now - lat[i] >= windowStart - 1e-6 && received < latency.length) latency[received++] = lat[i];
    }
  });
  const lags = new Float64Array(total);
  const at = conns.map(() => new Float64Array(Math.max(1024, Math.ceil(opts.rate / 100))));
  const counts = new Int32Array(conns.length);
  try {
    let next = 0;
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    windowStart = t0 + windowFrom * periodMs;
    let windowOpen = false;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (!windowOpen && now - t0 >= opts.warmupMs) { windowOpen = true; opts.onWindow?.("start"); }
        const due = Math.min(total, Math.floor((now - t0) / periodMs) + 1);
        counts.fill(0);
        for (; next < due; next++) {
          const c = next % conns.length;
          const scheduled = t0 + next * periodMs;
          if (counts[c] === at[c].length) { conns[c].send(counts[c], now, at[c]); counts[c] = 0; }
          at[c][counts[c]++] = scheduled;
          lags[next] = now - scheduled;
        }
        for (let c = 0; c < conns.length; c++) if (counts[c] > 0) conns[c].send(counts[c], now, at[c]);
        if (next >= total) resolve();
        else setImmediate(tick);
      };
      tick();
    });
    opts.onWindow?.("end");
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    await drain(conns, 3000);
    const got = latency.slice(0, received).sort();
    const lagWindow = lags.subarray(windowFrom).slice().sort();
    return {
      rate: opts.rate,
      latenciesMs: got,
      lost: latency.length - received,
      unsent: conns.reduce((s, c) => s + c.unsent, 0),
      invalid: conns.reduce((s, c) => s + c.invalid, 0),
      firstInvalid: conns.find((c) => c.firstInvalid)?.firstInvalid ?? "",
      sendLagP99Ms: quantile(lagWindow, 0.99),
      sendLagMaxMs: lagWindow.length ? lagWindow[lagWindow.length - 1] : 0,
      generatorCpu: (cpu.user + cpu.system) / 1e6 / seconds,
    };
  } finally {
    for (const c of conns) c.close();
  }
}

/** The q-quantile of ascending `sorted` (nearest rank). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
