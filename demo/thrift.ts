// The demo's Thrift service (real Apache Thrift, npm `thrift`, framed binary) in one version, and its
// caller: an open-loop load generator over a few connections through the caller's sidecar.
import net from "node:net";
import { call, connect, generated, thrift, WIRES } from "../test/codec/thrift/peers";
import type { CallRecord } from "./summary";

const WIRE = WIRES.find((w) => w.name === "framed binary")!;

/** A Greeter server whose replies name its version: hello -> "<version>: hello <name>", echo -> an Item named <version>. */
export async function startThriftService(version: string): Promise<{ port: number; close(): Promise<void> }> {
  const { Greeter, types } = generated();
  const handler = {
    hello(name: string, cb: (e: unknown, r?: string) => void) { cb(null, `${version}: hello ${name}`); },
    echo(item: { id: number }, cb: (e: unknown, r?: unknown) => void) { cb(null, new types.Item({ id: item.id, name: version })); },
    notify() { /* one-way: nothing to answer */ },
    boom(why: string, cb: (e: unknown) => void) { cb(new Error(why)); },
  };
  const server: net.Server = thrift.createServer(Greeter.Processor, handler, { transport: WIRE.transport, protocol: WIRE.protocol });
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  server.on("error", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

export interface Mix { method: string; weight: number }

/** Picks a method by weight. */
export function pick(mix: readonly Mix[]): string {
  const total = mix.reduce((n, m) => n + m.weight, 0);
  let draw = Math.random() * total;
  for (const m of mix) { if ((draw -= m.weight) < 0) return m.method; }
  return mix[mix.length - 1].method;
}

/** Calls `host:port` at `rate` calls a second over `connections` connections until stopped. */
export function startThriftLoad(port: number, rate: number, mix: readonly Mix[], record: (r: CallRecord) => void, connections = 4, host = "127.0.0.1"): { stop(): Promise<void> } {
  const { Greeter, types } = generated();
  const clients = Array.from({ length: connections }, () => connect(port, WIRE, host));
  const greeters = clients.map((c) => c.client(Greeter));
  let n = 0;
  const timer = setInterval(() => {
    const method = pick(mix);
    const greeter = greeters[n % greeters.length];
    const started = process.hrtime.bigint();
    const id = n++;
    const done = (version: string | undefined, error?: unknown) => {
      const micros = Number((process.hrtime.bigint() - started) / 1000n);
      record(error === undefined
        ? { protocol: "thrift", method, version, micros }
        : { protocol: "thrift", method, micros, error: String((error as { message?: string }).message ?? error) });
    };
    const reply = method === "echo"
      ? call<{ name: string }>((cb) => greeter.echo(new types.Item({ id }), cb)).then((item) => item.name)
      : call<string>((cb) => greeter.hello(`caller ${id}`, cb)).then((text) => text.split(":")[0]);
    reply.then((v) => done(v), (e) => done(undefined, e));
  }, 1000 / rate);
  return {
    stop: async () => { clearInterval(timer); await Promise.all(clients.map((c) => c.close())); },
  };
}
