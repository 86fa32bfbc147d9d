// Loopback TCP peers for tests.
import net from "node:net";
import { randomBytes } from "node:crypto";

/**
 * An upstream that reads `expect` bytes from each connection, then answers with its own `reply`
 * bytes and keeps the connection open until the client closes it.
 */
export async function startSinkReplyServer(expect: number, reply: Buffer): Promise<{ port: number; received: Buffer[]; close(): Promise<void> }> {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    const chunks: Buffer[] = [];
    let n = 0;
    sock.on("data", (d) => {
      chunks.push(d);
      n += d.length;
      if (n === expect) {
        received.push(Buffer.concat(chunks));
        sock.write(reply);
      }
    });
    sock.on("error", () => {});
    sock.on("close", () => sockets.delete(sock));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/**
 * Connects, writes `payload` in chunks of random sizes, reads until `expectBack` bytes arrived.
 * Resolves with what came back and the still-open socket.
 */
export async function exchange(port: number, payload: Buffer, expectBack: number, timeoutMs = 20_000): Promise<{ back: Buffer; socket: net.Socket }> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => { socket.once("connect", resolve); socket.once("error", reject); });
  const back: Buffer[] = [];
  let n = 0;
  const done = new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout: ${n} of ${expectBack} bytes back`)), timeoutMs);
    socket.on("data", (d) => {
      back.push(d);
      n += d.length;
      if (n >= expectBack) { clearTimeout(timer); resolve(Buffer.concat(back)); }
    });
    socket.once("error", (e) => { clearTimeout(timer); reject(e); });
    socket.once("close", () => { if (n < expectBack) { clearTimeout(timer); reject(new Error(`closed after ${n} of ${expectBack} bytes`)); } });
  });
  for (let off = 0; off < payload.length;) {
    const size = Math.min(payload.length - off, 1 + Math.floor(Math.random() * 65536));
    if (!socket.write(payload.subarray(off, off + size))) await new Promise((r) => socket.once("drain", r));
    off += size;
  }
  return { back: await done, socket };
}

export function closeSocket(socket: net.Socket): Promise<void> {
  return new Promise((r) => { socket.once("close", () => r()); socket.end(); setTimeout(() => socket.destroy(), 1000); });
}

export const random = (n: number): Buffer => randomBytes(n);

/**
 * A loopback port that was free a moment ago, for servers that cannot bind port 0 and report what they
 * got (docker-registry, kube-apiserver, Java peers). Racy by nature: callers retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}
