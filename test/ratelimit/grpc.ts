// ShouldRateLimit over gRPC with the messages encoded by hand: the wire form the filter will have to
// produce and read (docs/global-rate-limit.md), checked here against the real service. Node's own
// http2 carries it (no gRPC library): a unary call is one POST of a length-prefixed message, answered
// by one length-prefixed message and a `grpc-status` trailer.
//
// Field numbers: envoy/service/ratelimit/v3/rls.proto (RateLimitRequest, RateLimitResponse) and
// envoy/extensions/common/ratelimit/v3/ratelimit.proto (RateLimitDescriptor) in envoyproxy/envoy.
import http2 from "node:http2";

// --- protobuf, the few wire forms these messages use ----------------------------------------------
const VARINT = 0;
const LEN = 2;

function varint(n: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return out;
}

const tag = (field: number, wire: number): number[] => varint(BigInt((field << 3) | wire));
const lenField = (field: number, bytes: Uint8Array | number[]): number[] => [...tag(field, LEN), ...varint(BigInt(bytes.length)), ...bytes];
const stringField = (field: number, s: string): number[] => lenField(field, Buffer.from(s, "utf8"));
const varintField = (field: number, n: number | bigint): number[] => [...tag(field, VARINT), ...varint(BigInt(n))];

export interface GrpcDescriptor {
  entries: [string, string][];
  /** RateLimitDescriptor.hits_addend (a UInt64Value: present with 0 means "only ask"). */
  hitsAddend?: number;
}

/** RateLimitRequest {1 domain, 2 descriptors, 3 hits_addend}. */
export function encodeRateLimitRequest(domain: string, descriptors: GrpcDescriptor[], hitsAddend?: number): Buffer {
  const out: number[] = [...stringField(1, domain)];
  for (const d of descriptors) {
    // RateLimitDescriptor {1 entries {1 key, 2 value}, 3 hits_addend UInt64Value {1 value}}.
    const desc: number[] = [];
    for (const [k, v] of d.entries) desc.push(...lenField(1, [...stringField(1, k), ...stringField(2, v)]));
    if (d.hitsAddend !== undefined) desc.push(...lenField(3, d.hitsAddend === 0 ? [] : varintField(1, d.hitsAddend)));
    out.push(...lenField(2, desc));
  }
  if (hitsAddend !== undefined && hitsAddend !== 0) out.push(...varintField(3, hitsAddend));
  return Buffer.from(out);
}

export interface ResponseStatus {
  code: keyof typeof CodeNumber;
  currentLimit?: { requestsPerUnit: number; unit: keyof typeof UnitNumber };
  limitRemaining?: number;
  durationUntilResetS?: number;
}

const CodeNumber = { UNKNOWN: 0, OK: 1, OVER_LIMIT: 2 } as const;
const UnitNumber = { UNKNOWN: 0, SECOND: 1, MINUTE: 2, HOUR: 3, DAY: 4, MONTH: 5, YEAR: 6 } as const;

/** RateLimitResponse, as the service writes it (zero values omitted), for tests that play the service. */
export function encodeRateLimitResponse(overall: keyof typeof CodeNumber, statuses: ResponseStatus[]): Buffer {
  const out: number[] = [];
  if (CodeNumber[overall] !== 0) out.push(...varintField(1, CodeNumber[overall]));
  for (const s of statuses) {
    const st: number[] = [];
    if (CodeNumber[s.code] !== 0) st.push(...varintField(1, CodeNumber[s.code]));
    if (s.currentLimit) st.push(...lenField(2, [...varintField(1, s.currentLimit.requestsPerUnit), ...varintField(2, UnitNumber[s.currentLimit.unit])]));
    if (s.limitRemaining) st.push(...varintField(3, s.limitRemaining));
    if (s.durationUntilResetS) st.push(...lenField(4, varintField(1, s.durationUntilResetS)));
    out.push(...lenField(2, st));
  }
  return Buffer.from(out);
}

type Fields = Map<number, (bigint | Buffer)[]>;

/** One message's fields, by number, in order (varints as bigint, length-delimited as bytes). */
export function readFields(buf: Buffer): Fields {
  const fields: Fields = new Map();
  let i = 0;
  const readVarint = (): bigint => {
    let n = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (i >= buf.length || shift > 63n) throw new Error("truncated or oversized varint");
      const b = buf[i++]!;
      n |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return n;
    }
  };
  while (i < buf.length) {
    const key = Number(readVarint());
    const field = key >> 3;
    const wire = key & 7;
    let value: bigint | Buffer;
    if (wire === VARINT) value = readVarint();
    else if (wire === LEN) {
      const len = Number(readVarint());
      if (i + len > buf.length) throw new Error("truncated field");
      value = buf.subarray(i, i + len);
      i += len;
    } else throw new Error(`wire type ${wire} not used by these messages`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const num = (f: Fields, n: number): number => Number((f.get(n)?.[0] as bigint | undefined) ?? 0n);
const msg = (f: Fields, n: number): Fields | undefined => {
  const v = f.get(n)?.[0];
  return v instanceof Buffer ? readFields(v) : undefined;
};

export const Code = { 0: "UNKNOWN", 1: "OK", 2: "OVER_LIMIT" } as const;
export const Unit = { 0: "UNKNOWN", 1: "SECOND", 2: "MINUTE", 3: "HOUR", 4: "DAY", 5: "MONTH", 6: "YEAR" } as const;

export interface DescriptorStatus {
  code: string;
  /** Absent when no limit of the service's config matched the descriptor. */
  currentLimit?: { requestsPerUnit: number; unit: string };
  limitRemaining: number;
  durationUntilResetS: number;
}

/** RateLimitResponse {1 overall_code, 2 statuses {1 code, 2 current_limit {1 rpu, 2 unit}, 3 limit_remaining, 4 duration_until_reset}}. */
export function decodeRateLimitResponse(buf: Buffer): { overallCode: string; statuses: DescriptorStatus[] } {
  const f = readFields(buf);
  const statuses = (f.get(2) ?? []).map((raw) => {
    const s = readFields(raw as Buffer);
    const limit = msg(s, 2);
    const reset = msg(s, 4);
    return {
      code: Code[num(s, 1) as keyof typeof Code] ?? `code ${num(s, 1)}`,
      ...(limit ? { currentLimit: { requestsPerUnit: num(limit, 1), unit: Unit[num(limit, 2) as keyof typeof Unit] ?? `unit ${num(limit, 2)}` } } : {}),
      limitRemaining: num(s, 3),
      durationUntilResetS: reset ? num(reset, 1) : 0,
    };
  });
  return { overallCode: Code[num(f, 1) as keyof typeof Code] ?? `code ${num(f, 1)}`, statuses };
}

// --- gRPC unary call over http2 ---------------------------------------------------------------------
export interface GrpcReply {
  grpcStatus: number;
  grpcMessage: string;
  message?: Buffer;
}

export function grpcUnary(port: number, path: string, request: Buffer, timeoutMs = 10_000): Promise<GrpcReply> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const done = (err: Error | null, reply?: GrpcReply): void => {
      clearTimeout(timer);
      session.close();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => { session.destroy(); reject(new Error(`gRPC ${path}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
    session.on("error", (e) => done(e));
    const frame = Buffer.alloc(5 + request.length);
    frame.writeUInt8(0, 0); // not compressed
    frame.writeUInt32BE(request.length, 1);
    request.copy(frame, 5);
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => { headers = h; });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("trailers", (t) => { headers = { ...headers, ...t }; });
    stream.on("error", (e) => done(e));
    stream.on("end", () => {
      const body = Buffer.concat(chunks);
      let message: Buffer | undefined;
      if (body.length >= 5) {
        const len = body.readUInt32BE(1);
        if (body[0] !== 0 || 5 + len > body.length) return done(new Error(`gRPC ${path}: unexpected frame (${body.length} bytes)`));
        message = body.subarray(5, 5 + len);
      }
      // A call that fails before any message carries grpc-status in the headers ("trailers-only").
      done(null, { grpcStatus: Number(headers["grpc-status"] ?? -1), grpcMessage: String(headers["grpc-message"] ?? ""), message });
    });
    stream.end(frame);
  });
}

export const SHOULD_RATE_LIMIT = "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit";
