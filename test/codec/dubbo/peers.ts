// Real Apache Dubbo peers for the interop tests (test/peers/dubbo, built by scripts/provision/dubbo.sh),
// and the loopback servers that sit between them: a recording relay, a relay that rewrites requests,
// and a fake provider that answers with frames Meltemi encodes.
//
// JVMs start slowly: a test file starts one provider and one consumer and shares them. Every wait is
// bounded, and every process is killed by the test's t.after (SIGKILL: Dubbo's graceful shutdown
// would only slow the tests down).
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { decode } from "../harness";
import { freePort } from "../../support/tcp";
import { PeerProcess } from "../../support/peer_process";
export { freePort };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const STARTUP_MS = 90_000;
const CALL_MS = 30_000;

/** Builds the peers when needed (Maven, cached in ~/.m2) and returns their Java classpath. */
export function peersClasspath(): string {
  const file = execFileSync(path.join(root, "scripts/provision/dubbo.sh"), { encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "inherit"] }).trim();
  return fs.readFileSync(file, "utf8").trim();
}

/**
 * The consumer's classpath with Dubbo's own tracing (Micrometer Tracing, Brave, the Zipkin reporter:
 * test/peers/dubbo-tracing), for Consumer.start(..., { zipkin }).
 */
export function tracingConsumerClasspath(): string {
  const file = execFileSync(path.join(root, "scripts/provision/dubbo-tracing.sh"), { encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "inherit"] }).trim();
  return fs.readFileSync(file, "utf8").trim();
}

function java(classpath: string, main: string, args: string[], props: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  // Tiered compilation level 1 starts a short-lived JVM faster; the heap is capped for a 2-core CI box.
  const defines = Object.entries(props).map(([k, v]) => `-D${k}=${v}`);
  return spawn("java", ["-Xmx256m", "-XX:TieredStopAtLevel=1", ...defines, "-cp", classpath, `meltemi.peers.dubbo.${main}`, ...args], { stdio: "pipe" });
}

/**
 * The real provider: EchoService on 127.0.0.1:port, plain and as group "blue" version "1.0.0".
 * `servedBy`: the response attachment "served-by" its replies carry (tells versions apart).
 */
export async function startProvider(classpath: string, opts: { servedBy?: string } = {}): Promise<{ port: number; process: PeerProcess }> {
  const port = await freePort();
  const props: Record<string, string> = opts.servedBy ? { "meltemi.served-by": opts.servedBy } : {};
  const p = new PeerProcess("provider", java(classpath, "Provider", [String(port), "--exit-on-stdin-eof"], props));
  try {
    await p.waitLine((l) => l === `READY ${port}`, STARTUP_MS);
  } catch (e) { p.kill(); throw e; }
  return { port, process: p };
}

export interface CallResult {
  ok: boolean;
  result?: unknown;
  responseAttachments?: Record<string, string>;
  errorClass?: string;
  message?: string;
  rpcCode?: number;
  biz?: boolean;
  causeClass?: string | null;
  causeMessage?: string | null;
  /** The innermost cause. */
  rootClass?: string;
  rootMessage?: string | null;
}

export interface Call {
  port: number;
  method: "echo" | "nothing" | "fail" | "mixed" | "note";
  arg?: string;
  group?: string;
  version?: string;
  timeout?: number;
  retries?: number;
  heartbeat?: number;
  attachments?: Record<string, string>;
}

/**
 * A call as one stdin line of the consumer CLIs (the Java Consumer, test/peers/dubbo-go): tab-separated
 * `key=value` fields, attachments as `att.KEY=VALUE`.
 */
export function callLine(c: Omit<Call, "method"> & { method: string }): string {
  const fields = [`url=dubbo://127.0.0.1:${c.port}`, `method=${c.method}`, `arg=${c.arg ?? ""}`];
  for (const k of ["group", "version", "timeout", "retries", "heartbeat"] as const) {
    if (c[k] !== undefined) fields.push(`${k}=${c[k]}`);
  }
  for (const [k, v] of Object.entries(c.attachments ?? {})) fields.push(`att.${k}=${v}`);
  return fields.join("\t");
}

/** The real consumer CLI: one JVM, one call per stdin line, one JSON line per result. */
export class Consumer {
  private constructor(readonly process: PeerProcess) {}

  /**
   * `tracing`: Dubbo's own tracing on (classpath: tracingConsumerClasspath()), every call sampled, its
   * span reported to the Zipkin endpoint, its context in the attachments (W3C or B3).
   */
  static async start(classpath: string, tracing?: { zipkin: string; propagation?: "W3C" | "B3" }): Promise<Consumer> {
    const props: Record<string, string> = tracing ? { "meltemi.tracing.zipkin": tracing.zipkin, "meltemi.tracing.propagation": tracing.propagation ?? "W3C" } : {};
    const p = new PeerProcess("consumer", java(classpath, "Consumer", [], props));
    try {
      await p.waitLine((l) => l === "READY", STARTUP_MS);
    } catch (e) { p.kill(); throw e; }
    return new Consumer(p);
  }

  async call(c: Call): Promise<CallResult> {
    this.process.write(callLine(c));
    return JSON.parse(await this.process.waitLine((l) => l.startsWith("{"), CALL_MS)) as CallResult;
  }

  kill(): void { this.process.kill(); }
}

/** Cuts a byte stream into Dubbo frames with the codec under test; returns the frames and the rest. */
export async function splitFrames(data: Buffer): Promise<{ frames: Buffer[]; rest: Buffer }> {
  const r = await decode("dubbo", data);
  if (r.error) throw new Error(`stream does not decode: ${r.error}`);
  const frames: Buffer[] = [];
  let off = 0;
  for (const f of r.frames) { frames.push(data.subarray(off, off + f.frameLength)); off += f.frameLength; }
  return { frames, rest: data.subarray(off) };
}

export interface Relay {
  port: number;
  /** Bytes clients sent (before any rewrite), and bytes the upstream sent, over all connections. */
  fromClients(): Buffer;
  fromUpstream(): Buffer;
  close(): Promise<void>;
}

type Rewrite = (frame: Buffer) => Promise<Buffer>;

/** Passes frames through `rewrite` in arrival order (frames cut by the codec under test). */
function framedRewriter(rewrite: Rewrite, write: (b: Buffer) => void, onError: () => void): (d: Buffer) => void {
  let pending = Buffer.alloc(0);
  let chain = Promise.resolve();
  return (d) => {
    chain = chain.then(async () => {
      pending = Buffer.concat([pending, d]);
      const { frames, rest } = await splitFrames(pending);
      pending = Buffer.from(rest);
      for (const f of frames) write(await rewrite(Buffer.from(f)));
    }).catch((e) => { console.error("relay rewrite failed:", e); onError(); });
  };
}

/**
 * A loopback relay to 127.0.0.1:upstreamPort that records both directions (as received). With
 * `rewriteRequest` / `rewriteResponse`, each complete frame is replaced by what they return.
 */
export async function startRelay(upstreamPort: number, rewriteRequest?: Rewrite, rewriteResponse?: Rewrite): Promise<Relay> {
  const c2s: Buffer[] = [];
  const s2c: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, "127.0.0.1");
    sockets.add(client); sockets.add(upstream);
    const fail = () => client.destroy();
    const toUpstream = rewriteRequest ? framedRewriter(rewriteRequest, (b) => upstream.write(b), fail) : (d: Buffer) => upstream.write(d);
    const toClient = rewriteResponse ? framedRewriter(rewriteResponse, (b) => client.write(b), fail) : (d: Buffer) => client.write(d);
    client.on("data", (d) => { c2s.push(d); toUpstream(d); });
    upstream.on("data", (d) => { s2c.push(d); toClient(d); });
    for (const s of [client, upstream]) {
      s.on("error", () => {});
      s.on("close", () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    fromClients: () => Buffer.concat(c2s),
    fromUpstream: () => Buffer.concat(s2c),
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

export interface FakeProvider {
  port: number;
  /** Every frame received, in order. */
  received: Buffer[];
  /** Connections accepted so far, and how many the peer closed. */
  connections: number;
  closed: number;
  close(): Promise<void>;
}

/** A loopback server that answers each complete frame with whatever `answer` returns (null: nothing). */
export async function startFakeProvider(answer: (frame: Buffer) => Promise<Buffer | null>): Promise<FakeProvider> {
  const sockets = new Set<net.Socket>();
  const fake: FakeProvider = { port: 0, received: [], connections: 0, closed: 0, close: async () => {} };
  const server = net.createServer((sock) => {
    sockets.add(sock);
    fake.connections++;
    sock.on("data", framedRewriter(async (f) => {
      fake.received.push(f);
      return (await answer(f)) ?? Buffer.alloc(0);
    }, (b) => { if (b.length > 0) sock.write(b); }, () => sock.destroy()));
    sock.on("error", () => {});
    sock.on("close", () => { sockets.delete(sock); fake.closed++; });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fake.port = (server.address() as net.AddressInfo).port;
  fake.close = () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); });
  return fake;
}

/** Polls `get` until `ok` holds, at most `timeoutMs`. */
export async function waitUntil<T>(what: string, get: () => T, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: gave up after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
