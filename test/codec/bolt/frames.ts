// SOFA Bolt (RpcProtocol v1) frames for tests, written from the layout in sofa-bolt's RpcCommandEncoder
// (see filter/codec/bolt/protocol.ts), independently of the codec: request header 22 bytes, response 20,
// then class name, header (SOFA RPC's map: i32 length-prefixed key and value), content.

function headerMap(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(headers)) {
    for (const s of [k, v]) {
      const b = Buffer.from(s, "utf8");
      const len = Buffer.alloc(4);
      len.writeInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

const SOFA_REQUEST = "com.alipay.sofa.rpc.core.request.SofaRequest";

/** A request: two-way (type 1) or oneway (type 2), cmdcode 1, SOFA RPC's service and method headers. */
export function boltRequest(id: number, method: string, headers: Record<string, string> = {}, opts: { oneway?: boolean; service?: string; content?: Buffer } = {}): Buffer {
  const cls = Buffer.from(SOFA_REQUEST);
  const hdr = headerMap({ service: opts.service ?? "org.example.Greeter:1.0", sofa_head_method_name: method, ...headers });
  const content = opts.content ?? Buffer.from("content");
  const h = Buffer.alloc(22);
  h[0] = 1; h[1] = opts.oneway ? 2 : 1; h.writeUInt16BE(1, 2); h[4] = 1; h.writeInt32BE(id, 5); h[9] = 1;
  h.writeInt32BE(3000, 10); h.writeUInt16BE(cls.length, 14); h.writeUInt16BE(hdr.length, 16); h.writeInt32BE(content.length, 18);
  return Buffer.concat([h, cls, hdr, content]);
}

/** A heartbeat request (cmdcode 0), as sofa-bolt's HeartbeatCommand is written. */
export function boltHeartbeat(id: number): Buffer {
  const h = Buffer.alloc(22);
  h[0] = 1; h[1] = 1; h.writeUInt16BE(0, 2); h[4] = 1; h.writeInt32BE(id, 5); h[9] = 1;
  return h;
}

export function boltResponse(id: number, status: number, cmdcode = 2, content = Buffer.from("ok")): Buffer {
  const cls = cmdcode === 2 ? Buffer.from("java.lang.String") : Buffer.alloc(0);
  const body = cmdcode === 2 ? content : Buffer.alloc(0);
  const h = Buffer.alloc(20);
  h[0] = 1; h[1] = 0; h.writeUInt16BE(cmdcode, 2); h[4] = 1; h.writeInt32BE(id, 5); h[9] = 1;
  h.writeUInt16BE(status, 10); h.writeUInt16BE(cls.length, 12); h.writeUInt16BE(0, 14); h.writeInt32BE(body.length, 16);
  return Buffer.concat([h, cls, body]);
}

/** What a server answers: the heartbeat ack (cmdcode 0) for a heartbeat, SUCCESS for a request. */
export function boltAnswer(request: Buffer): Buffer {
  const id = request.readInt32BE(5);
  return request.readUInt16BE(2) === 0 ? boltResponse(id, 0, 0) : boltResponse(id, 0);
}

/** Cuts a Bolt byte stream into frames on the test's side. */
export function boltFrames(data: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let at = 0;
  while (data.length - at >= 20) {
    const size = data[at + 1] === 0 ? 20 : 22;
    const lens = at + (data[at + 1] === 0 ? 12 : 14);
    if (data.length - at < size) break;
    const total = size + data.readUInt16BE(lens) + data.readUInt16BE(lens + 2) + data.readInt32BE(lens + 4);
    if (data.length - at < total) break;
    frames.push(data.subarray(at, at + total));
    at += total;
  }
  return frames;
}
