// Dubbo frames for tests, written with hessian.js (an independent hessian2 implementation).
import hessian from "hessian.js";

/** A Dubbo frame: the 16-byte header (magic, `flags` with serialization id 2: hessian2, `status`, `id`, length) and `body`. */
export function dubboFrame(flags: number, status: number, id: bigint, body: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt16BE(0xdabb, 0);
  header[2] = flags | 2; // serialization id 2: hessian2
  header[3] = status;
  header.writeBigInt64BE(id, 4);
  header.writeUInt32BE(body.length, 12);
  return Buffer.concat([header, body]);
}

/**
 * A two-way request to `service.method(String)` with `attachments`. Its body's version is the `version`
 * attachment's, as a consumer writes it (else 0.0.0); `bodyVersion` makes them differ.
 */
export function dubboRequest(id: bigint, method: string, attachments: Record<string, string> = {}, service = "org.example.Greeter", arg = "hi", bodyVersion = attachments.version ?? "0.0.0"): Buffer {
  const enc = new hessian.EncoderV2();
  for (const s of ["2.0.2", service, bodyVersion, method, "Ljava/lang/String;", arg]) enc.write(s);
  enc.write({ path: service, interface: service, ...attachments });
  return dubboFrame(0x80 | 0x40, 0, id, enc.get());
}

/** What a provider answers: OK with a string value for a request, the heartbeat reply for a heartbeat. */
export function dubboAnswer(request: Buffer): Buffer {
  const id = request.readBigInt64BE(4);
  const heartbeat = (request[2] & 0x20) !== 0;
  const enc = new hessian.EncoderV2();
  if (heartbeat) enc.write(null);
  else { enc.write(1); enc.write("hello"); }
  return dubboFrame(heartbeat ? 0x20 : 0, 20, id, enc.get());
}

/** Cuts a Dubbo byte stream into frames on the test's side (16-byte header, body length at offset 12). */
export class DubboFrameReader {
  private pending = Buffer.alloc(0);
  push(data: Buffer): Buffer[] {
    this.pending = Buffer.concat([this.pending, data]);
    const frames: Buffer[] = [];
    while (this.pending.length >= 16) {
      const total = 16 + this.pending.readUInt32BE(12);
      if (this.pending.length < total) break;
      frames.push(this.pending.subarray(0, total));
      this.pending = this.pending.subarray(total);
    }
    return frames;
  }
}
