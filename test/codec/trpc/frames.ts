// tRPC frames for tests, written from trpc-go's codec.go and trpc.proto (see filter/codec/trpc/protocol.ts),
// independently of the codec: a 16-byte frame head, a protobuf RequestProtocol, the body.

function varint(v: number): Buffer {
  const out: number[] = [];
  while (v >= 0x80) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return Buffer.from(out);
}
const varintField = (field: number, v: number) => (v === 0 ? Buffer.alloc(0) : Buffer.concat([varint(field << 3), varint(v)]));
const bytesField = (field: number, b: Buffer) => Buffer.concat([varint((field << 3) | 2), varint(b.length), b]);

/** A unary (or oneway) call: request_id, caller, callee, func, trans_info, content_type 4 (noop). */
export function trpcRequest(id: number, func: string, opts: { oneway?: boolean; callee?: string; transInfo?: Record<string, string>; body?: Buffer } = {}): Buffer {
  const entries = Object.entries(opts.transInfo ?? {}).map(([k, v]) =>
    bytesField(9, Buffer.concat([bytesField(1, Buffer.from(k)), bytesField(2, Buffer.from(v))])));
  const header = Buffer.concat([
    varintField(2, opts.oneway ? 1 : 0), varintField(3, id), varintField(4, 3000),
    bytesField(5, Buffer.from("trpc.meltemi.test.client")), bytesField(6, Buffer.from(opts.callee ?? "trpc.meltemi.test.Greeter")),
    bytesField(7, Buffer.from(func)), ...entries, varintField(10, 4),
  ]);
  const body = opts.body ?? Buffer.from("hello");
  return framed(id, header, body);
}

/** The 16-byte frame head (magic 0x0930, total size, header size, stream id = `id`, version 1) before `header` and `body`. */
function framed(id: number, header: Buffer, body: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt16BE(0x0930, 0);
  head.writeUInt32BE(16 + header.length + body.length, 4);
  head.writeUInt16BE(header.length, 8);
  head.writeUInt32BE(id, 10);
  head[14] = 1;
  return Buffer.concat([head, header, body]);
}

/** An answer (ResponseProtocol): request_id, ret (framework) or func_ret (business), error_msg when failed, trans_info. */
export function trpcResponse(id: number, opts: { ret?: number; funcRet?: number; transInfo?: Record<string, string>; body?: Buffer } = {}): Buffer {
  const entries = Object.entries(opts.transInfo ?? {}).map(([k, v]) =>
    bytesField(8, Buffer.concat([bytesField(1, Buffer.from(k)), bytesField(2, Buffer.from(v))])));
  const failed = (opts.ret ?? 0) !== 0 || (opts.funcRet ?? 0) !== 0;
  const header = Buffer.concat([
    varintField(3, id), varintField(4, opts.ret ?? 0), varintField(5, opts.funcRet ?? 0),
    failed ? bytesField(6, Buffer.from("failed")) : Buffer.alloc(0), ...entries, varintField(9, 4),
  ]);
  const body = opts.body ?? Buffer.from("answer");
  return framed(id, header, body);
}

/** A successful answer to `request` (its id: the frame head's stream id, which trpc-go sets to the request id). */
export function trpcAnswer(request: Buffer): Buffer {
  return trpcResponse(request.readUInt32BE(10));
}

/** Cuts a byte stream of whole frames into frames (by the head's total length). */
export function trpcFrames(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 16 <= data.length;) {
    const total = data.readUInt32BE(at + 4);
    out.push(data.subarray(at, at + total));
    at += total;
  }
  return out;
}

/** An answer's request_id, ret and error_msg, read from its ResponseProtocol (fields 3, 4, 6). */
export function trpcAnswerFields(frame: Buffer): { requestId: number; ret: number; errorMsg: string } {
  const end = 16 + frame.readUInt16BE(8);
  let at = 16;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = frame[at++];
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
    }
  };
  const r = { requestId: 0, ret: 0, errorMsg: "" };
  while (at < end) {
    const key = varint();
    if ((key & 7) === 0) {
      const v = varint();
      if (key >> 3 === 3) r.requestId = v;
      if (key >> 3 === 4) r.ret = v;
    } else if ((key & 7) === 2) {
      const n = varint();
      if (key >> 3 === 6) r.errorMsg = frame.toString("utf8", at, at + n);
      at += n;
    } else throw new Error(`unexpected wire type in ${frame.toString("hex")}`);
  }
  return r;
}
