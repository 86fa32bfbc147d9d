// A lean upstream server for the benchmark: it cuts what it reads into frames (header length only),
// answers every request with a valid reply to it (the template the real library wrote, with the
// request's id; BenchWire.answer), and writes all the answers to one read in one write. No decode of
// the body, no allocation per request beyond the one output buffer per read: the point is that the
// upstream costs far less than the proxy in front of it.
import net from "node:net";
import type { BenchWire } from "./wire";

export interface Upstream {
  port: number;
  /** Requests answered, and malformed input seen (the connection is closed then). */
  answered: number;
  errors: string[];
  close(): Promise<void>;
}

export async function startUpstream(wire: BenchWire): Promise<Upstream> {
  const sockets = new Set<net.Socket>();
  const up: Upstream = { port: 0, answered: 0, errors: [], close: async () => {} };
  const maxReply = Math.max(wire.reply.length, 64);
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.setNoDelay(true);
    let rest: Buffer | null = null;
    sock.on("data", (chunk: Buffer) => {
      const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
      rest = null;
      let off = 0;
      // A request is at least 16 bytes: this bounds the replies one read can need.
      const out = Buffer.allocUnsafe(Math.ceil(buf.length / 16) * maxReply);
      let n = 0;
      try {
        while (off < buf.length) {
          const len = wire.frameLength(buf, off, buf.length);
          if (len < 0 || off + len > buf.length) break;
          n += wire.answer(buf, off, out, n);
          off += len;
          up.answered++;
        }
      } catch (e) {
        up.errors.push((e as Error).message);
        sock.destroy();
        return;
      }
      if (off < buf.length) rest = Buffer.from(buf.subarray(off));
      if (n > 0) sock.write(out.subarray(0, n));
    });
    sock.on("error", () => {});
    sock.on("close", () => sockets.delete(sock));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  up.port = (server.address() as net.AddressInfo).port;
  up.close = () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); });
  return up;
}
