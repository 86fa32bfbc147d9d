// Real Apache Thrift peers for the Thrift codec's interop tests: the npm `thrift` library (clients and
// servers) running the code Debian's thrift-compiler generates from interop.thrift, plus loopback
// helpers that record or answer what those peers send. Everything binds 127.0.0.1 on port 0 and is
// closed by the caller (t.after).
//
// Facts about npm thrift 0.24 these tests rely on (lib/nodejs/lib/thrift):
// - THeaderProtocol works on the server side only, and only over TBufferedTransport: the framed
//   receiver strips the length that THeaderTransport.readHeaders expects at offset 0, and generated
//   clients flush the transport, not the protocol, so a client never writes a THeader frame.
// - Thrift 0.17's generated code (Debian's compiler) uses the `q` promise library that npm thrift 0.24
//   no longer ships, so handlers and calls use callbacks.
// - TApplicationException.write writes `this.code`, never set: servers send only the message field.
// - A non-strict binary message name is read as a Buffer (worked around in LaxBinaryProtocol below).
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { decode, Frame } from "../harness";

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
export const thrift: Any = require("thrift");

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");

export interface Generated { Greeter: Any; Calculator: Any; types: Any }

let generatedCache: Generated | undefined;

/** The code generated from interop.thrift (compiled once per IDL and compiler version into build/). */
export function generated(): Generated {
  if (generatedCache) return generatedCache;
  const compiler = execFileSync(path.join(root, "scripts/provision/thrift.sh"), { encoding: "utf8" }).trim();
  const version = execFileSync(compiler, ["--version"], { encoding: "utf8" }).trim();
  const idl = path.join(here, "interop.thrift");
  const hash = crypto.createHash("sha256").update(version).update(fs.readFileSync(idl)).digest("hex").slice(0, 16);
  const out = path.join(root, "build/thrift-interop", hash);
  if (!fs.existsSync(path.join(out, "Greeter.js"))) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const tmp = fs.mkdtempSync(`${out}.tmp-`);
    execFileSync(compiler, ["--gen", "js:node", "-out", tmp, idl], { stdio: ["ignore", "ignore", "pipe"] });
    // The repository is "type": "module"; generated code is CommonJS.
    fs.writeFileSync(path.join(tmp, "package.json"), '{"type":"commonjs"}\n');
    try { fs.renameSync(tmp, out); } catch { fs.rmSync(tmp, { recursive: true, force: true }); }
  }
  generatedCache = {
    Greeter: require(path.join(out, "Greeter.js")),
    Calculator: require(path.join(out, "Calculator.js")),
    types: require(path.join(out, "interop_types.js")),
  };
  return generatedCache;
}

/** The old non-strict binary protocol: no version word in the message header. */
function LaxBinaryProtocol(this: Any, trans: unknown): void {
  thrift.TBinaryProtocol.call(this, trans, false, false);
}
Object.setPrototypeOf(LaxBinaryProtocol.prototype, thrift.TBinaryProtocol.prototype);
// npm thrift 0.24 returns a non-strict message's name as a Buffer (binary_protocol.js, readMessageBegin),
// which its own MultiplexedProcessor cannot split: the peer gets it as a string, as strict readers do.
LaxBinaryProtocol.prototype.readMessageBegin = function (this: Any) {
  const begin = thrift.TBinaryProtocol.prototype.readMessageBegin.call(this);
  begin.fname = String(begin.fname);
  return begin;
};

export interface Wire {
  name: string;
  transport: Any;
  protocol: Any;
  /** TFramedTransport (true) or TBufferedTransport, i.e. unframed (false). */
  framed: boolean;
  /** The same wire in Envoy's thrift_proxy terms (TransportType, ProtocolType). */
  envoy: { transport: "FRAMED" | "UNFRAMED"; protocol: "BINARY" | "LAX_BINARY" | "COMPACT" };
}

/** {framed, buffered (unframed)} x {strict binary, non-strict binary, compact}. */
export const WIRES: Wire[] = [
  { name: "framed binary", transport: thrift.TFramedTransport, protocol: thrift.TBinaryProtocol, framed: true, envoy: { transport: "FRAMED", protocol: "BINARY" } },
  { name: "buffered binary", transport: thrift.TBufferedTransport, protocol: thrift.TBinaryProtocol, framed: false, envoy: { transport: "UNFRAMED", protocol: "BINARY" } },
  { name: "framed non-strict binary", transport: thrift.TFramedTransport, protocol: LaxBinaryProtocol, framed: true, envoy: { transport: "FRAMED", protocol: "LAX_BINARY" } },
  { name: "buffered non-strict binary", transport: thrift.TBufferedTransport, protocol: LaxBinaryProtocol, framed: false, envoy: { transport: "UNFRAMED", protocol: "LAX_BINARY" } },
  { name: "framed compact", transport: thrift.TFramedTransport, protocol: thrift.TCompactProtocol, framed: true, envoy: { transport: "FRAMED", protocol: "COMPACT" } },
  { name: "buffered compact", transport: thrift.TBufferedTransport, protocol: thrift.TCompactProtocol, framed: false, envoy: { transport: "UNFRAMED", protocol: "COMPACT" } },
];

/** A THeader server (what npm thrift supports: THeaderProtocol over TBufferedTransport). */
export const HEADER_WIRE: Wire = {
  name: "THeader", transport: thrift.TBufferedTransport, protocol: thrift.THeaderProtocol, framed: false, envoy: { transport: "UNFRAMED", protocol: "BINARY" },
};

export interface Server {
  port: number;
  /** The THeader key/values of each request, as the server's THeaderTransport read them. */
  headersSeen: Record<string, string>[];
  notes: string[];
  close(): Promise<void>;
}

function handlers(notes: string[], greeting: string): Any {
  const { types } = generated();
  return {
    // Callback handlers (two parameters), and `null` for no error: see the note on Thrift 0.17 above.
    hello(name: string, cb: Any) { cb(null, `${greeting} ${name}`); },
    echo(item: Any, cb: Any) {
      if (item.id < 0) cb(new types.NotFound({ message: `no item ${item.id}` }));
      else cb(null, item);
    },
    notify(note: string) { notes.push(note); },
    boom(why: string, cb: Any) { cb(new Error(why)); },
    add(a: number, b: number, cb: Any) { cb(null, a + b); },
  };
}

/** Wraps a generated processor to record the THeader headers each request carried. */
function recording(Processor: Any, handler: Any, headersSeen: Record<string, string>[]): Any {
  const inner = new Processor(handler);
  return {
    process(input: Any, output: Any) {
      const result = inner.process(input, output);
      const trans = input.getTransport?.() ?? input.trans;
      if (typeof trans?.getReadHeaders === "function") headersSeen.push({ ...trans.getReadHeaders() });
      return result;
    },
  };
}

/** A real thrift server for Greeter, or (multiplexed) for "Greeter" and "Calculator" on one port. */
export async function startServer(wire: Wire, opts: { multiplexed?: boolean; greeting?: string } = {}): Promise<Server> {
  const { Greeter, Calculator } = generated();
  const notes: string[] = [];
  const headersSeen: Record<string, string>[] = [];
  const handler = handlers(notes, opts.greeting ?? "hello");
  let processor: Any;
  if (opts.multiplexed) {
    processor = new thrift.MultiplexedProcessor();
    processor.registerProcessor("Greeter", recording(Greeter.Processor, handler, headersSeen));
    processor.registerProcessor("Calculator", recording(Calculator.Processor, handler, headersSeen));
  } else {
    processor = recording(Greeter.Processor, handler, headersSeen);
  }
  const server: net.Server = thrift.createMultiplexServer(processor, { transport: wire.transport, protocol: wire.protocol });
  return listen(server, { headersSeen, notes });
}

async function listen(server: net.Server, extra: { headersSeen: Record<string, string>[]; notes: string[] }): Promise<Server> {
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    ...extra,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

export interface Relay {
  port: number;
  /** Bytes the client sent, and bytes the server answered, so far. */
  toServer(): Buffer;
  toClient(): Buffer;
  close(): Promise<void>;
}

/** A loopback TCP relay to `targetPort` that records both directions. */
export async function startRelay(targetPort: number): Promise<Relay> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) { sockets.add(s); s.on("close", () => sockets.delete(s)); s.on("error", () => {}); }
    client.on("data", (d: Buffer) => { up.push(d); upstream.write(d); });
    upstream.on("data", (d: Buffer) => { down.push(d); client.write(d); });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const s = await listen(server, { headersSeen: [], notes: [] });
  return {
    port: s.port,
    toServer: () => Buffer.concat(up),
    toClient: () => Buffer.concat(down),
    close: async () => { for (const sock of sockets) sock.destroy(); await s.close(); },
  };
}

export interface Scripted {
  port: number;
  /** Every request frame received, in order. */
  frames: Buffer[];
  close(): Promise<void>;
}

/**
 * A loopback peer that cuts what it receives into Thrift frames with Meltemi's codec and writes back
 * whatever `respond` returns for each (nothing for null).
 */
export async function startScripted(respond: (frame: Buffer, decoded: Frame) => Promise<Buffer | null>): Promise<Scripted> {
  const frames: Buffer[] = [];
  const server = net.createServer((sock) => {
    let pending = Buffer.alloc(0);
    let chain = Promise.resolve();
    sock.on("error", () => {});
    sock.on("data", (d: Buffer) => {
      chain = chain.then(async () => {
        pending = Buffer.concat([pending, d]);
        const result = await decode("thrift", pending);
        if (result.error) throw new Error(`scripted peer: ${result.error}`);
        let offset = 0;
        for (const f of result.frames) {
          const frame = pending.subarray(offset, offset + f.frameLength);
          offset += f.frameLength;
          frames.push(Buffer.from(frame));
          const reply = await respond(Buffer.from(frame), f);
          if (reply && reply.length > 0) sock.write(reply);
        }
        pending = pending.subarray(offset);
      }).catch((e) => { sock.destroy(e as Error); });
    });
  });
  const s = await listen(server, { headersSeen: [], notes: [] });
  return { port: s.port, frames, close: s.close };
}

export interface Proxy {
  port: number;
  close(): Promise<void>;
}

type Rewrite = (frame: Buffer, decoded: Frame) => Promise<Buffer | null>;

/**
 * A loopback proxy to `upstreamPort` that cuts both directions into Thrift frames with Meltemi's codec
 * and passes each through a rewrite (what the filter does in front of Envoy): `onRequest` returns the
 * bytes to send upstream, `onReply` those to send to the client (null: nothing).
 */
export async function startFramingProxy(upstreamPort: number, onRequest: Rewrite, onReply: Rewrite): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  const pipe = (from: net.Socket, to: net.Socket, rewrite: Rewrite): void => {
    let pending = Buffer.alloc(0);
    let chain = Promise.resolve();
    from.on("data", (d: Buffer) => {
      chain = chain.then(async () => {
        pending = Buffer.concat([pending, d]);
        const frames = await splitFrames(pending);
        for (const frame of frames) {
          const [decoded] = (await decode("thrift", frame)).frames;
          const out = await rewrite(Buffer.from(frame), decoded);
          if (out && out.length > 0) to.write(out);
        }
        pending = pending.subarray(frames.reduce((n, f) => n + f.length, 0));
      }).catch((e) => { from.destroy(e as Error); to.destroy(); });
    });
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, "127.0.0.1");
    for (const s of [client, upstream]) { sockets.add(s); s.on("close", () => sockets.delete(s)); s.on("error", () => {}); }
    pipe(client, upstream, onRequest);
    pipe(upstream, client, onReply);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const s = await listen(server, { headersSeen: [], notes: [] });
  return { port: s.port, close: async () => { for (const sock of sockets) sock.destroy(); await s.close(); } };
}

export interface Client {
  conn: Any;
  errors: Error[];
  /** A client of `Service` on this connection; with `multiplexedAs`, through TMultiplexedProtocol. */
  client(Service: Any, multiplexedAs?: string): Any;
  close(): Promise<void>;
}

/** A real thrift connection to 127.0.0.1:`port` speaking `wire`. */
export function connect(port: number, wire: Wire, host = "127.0.0.1"): Client {
  const conn = thrift.createConnection(host, port, { transport: wire.transport, protocol: wire.protocol });
  const errors: Error[] = [];
  conn.on("error", (e: Error) => errors.push(e));
  let multiplexer: Any;
  return {
    conn,
    errors,
    client(Service: Any, multiplexedAs?: string) {
      if (!multiplexedAs) return thrift.createClient(Service, conn);
      multiplexer ??= new thrift.Multiplexer();
      return multiplexer.createClient(multiplexedAs, Service, conn);
    },
    close: () => new Promise<void>((resolve) => {
      const socket: net.Socket = conn.connection;
      if (socket.destroyed) { resolve(); return; }
      socket.once("close", () => resolve());
      conn.end();
      socket.destroy();
    }),
  };
}

/** Calls a callback-style client method as a promise. */
export function call<T>(invoke: (cb: (err: unknown, result: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => invoke((err, result) => (err ? reject(err) : resolve(result))));
}


/** How many complete frames `bytes` holds (Meltemi's codec), or -1 on a decode error. */
export async function frameCount(bytes: Buffer): Promise<number> {
  const r = await decode("thrift", bytes);
  return r.error ? -1 : r.frames.length;
}

/** Cuts a byte stream into its frames. */
export async function splitFrames(bytes: Buffer): Promise<Buffer[]> {
  const r = await decode("thrift", bytes);
  if (r.error) throw new Error(`stream does not decode: ${r.error}`);
  const out: Buffer[] = [];
  let offset = 0;
  for (const f of r.frames) { out.push(bytes.subarray(offset, offset + f.frameLength)); offset += f.frameLength; }
  return out;
}

/** An Item nested `depth` levels deep through `child`, using every field type; `blobBytes` of payload. */
export function sampleItem(depth: number, blobBytes = 4): Any {
  const { types } = generated();
  let item: Any = new types.Item({ id: 1, name: "leaf" });
  for (let d = 1; d <= depth; d++) {
    item = new types.Item({
      id: d + 1,
      name: `level ${d}`,
      tags: [{ a: [1, -2, 2 ** 40], b: [] }, {}],
      child: item,
      ratios: [0.5, -1.25],
      blob: Buffer.alloc(blobBytes, d),
      flag: d % 2 === 0,
      small: -d,
      medium: 300 * d,
      children: { [String(70 + d)]: new types.Item({ id: 70 + d, bits: [] }) },
      bits: [true, false, true],
      stamp: -(2 ** 33) - d,
      switches: { on: true, off: false },
      labels: ["x", "y"],
      score: 1 / 3,
    });
  }
  return item;
}

/** What the npm thrift library itself writes with `wire` (the reference for byte-exact checks). */
export function encodeWith(wire: Wire, write: (protocol: Any) => void): Buffer {
  let out: Buffer = Buffer.alloc(0);
  const transport = new wire.transport(undefined, (buf: Buffer) => { out = Buffer.from(buf); });
  write(new wire.protocol(transport));
  transport.flush();
  return out;
}

/** Sends one frame on a new connection; with `expectReply`, resolves with the first frame that comes back. */
export async function sendFrame(port: number, frame: Buffer, expectReply: boolean): Promise<Buffer | null> {
  const socket = net.connect(port, "127.0.0.1");
  try {
    await new Promise<void>((resolve, reject) => { socket.once("connect", resolve); socket.once("error", reject); });
    if (!expectReply) {
      await new Promise<void>((resolve) => socket.end(frame, () => resolve()));
      return null;
    }
    let back = Buffer.alloc(0);
    const reply = new Promise<Buffer>((resolve, reject) => {
      socket.on("data", async (d: Buffer) => {
        back = Buffer.concat([back, d]);
        const frames = await splitFrames(back).catch((e) => { reject(e); return []; });
        if (frames.length > 0) resolve(Buffer.from(frames[0]));
      });
      socket.once("close", () => reject(new Error(`connection closed after ${back.length} bytes and no complete frame`)));
      socket.once("error", reject);
    });
    socket.write(frame);
    return await reply;
  } finally {
    socket.destroy();
  }
}
