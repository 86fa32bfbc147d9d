// A Dubbo client connection speaking raw frames for Envoy tests: send echo requests by id, collect
// each response's outcome (OK or an error reply) by id.
import net from "node:net";
import { DubboFrameReader, dubboRequest } from "../codec/dubbo/frames";

export interface Outcome { id: bigint; ok: boolean; body: string }

/** A Dubbo connection speaking raw frames: send requests, collect responses by id. */
export class DubboConnection {
  readonly outcomes = new Map<bigint, Outcome>();
  private readonly frames = new DubboFrameReader();
  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (d) => {
      for (const f of this.frames.push(d)) {
        const id = f.readBigInt64BE(4);
        const event = (f[2] & 0x20) !== 0;
        if (!event) this.outcomes.set(id, { id, ok: f[3] === 20, body: f.subarray(16).toString("latin1") });
      }
    });
  }
  static open(port: number, host = "127.0.0.1"): Promise<DubboConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(new DubboConnection(s)));
      s.once("error", reject);
    });
  }
  /** Sends `method` (echo by default) of the peers' EchoService with request id `id`. */
  send(id: bigint, method = "echo"): void { this.socket.write(dubboRequest(id, method, {}, "meltemi.peers.dubbo.EchoService", `call ${id}`)); }
  get closed(): boolean { return this.socket.destroyed; }
  close(): void { this.socket.destroy(); }
}
