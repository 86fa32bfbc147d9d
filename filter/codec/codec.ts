// The codec interface: what a protocol implements, and nothing more (docs/design.md, modelled on
// Envoy's generic_proxy codec and Aeraki's MetaProtocol codec): decode a frame; encode it as an
// encoding context asks (or say it is unchanged); respond to a request with the protocol's error
// reply; write a probe. A codec knows frame boundaries, message kinds, request ids, routable
// metadata and its own routing key. Routing, limits and policies live elsewhere.
//
// One codec instance serves one connection (a codec may remember what it detected, e.g. Thrift's
// transport). Codecs never abort on bad input: they return Invalid with a typed DecodeError.
import { ByteWriter, sameMemory } from "./bytes";
import { KEY_SERVICE, LaterPart, Metadata } from "./metadata";

export enum DecodeStatus {
  /** The bytes hold no complete frame yet. */
  NeedMore = 0,
  /** A frame starts at offset 0; Metadata is filled and frameLength says where it ends. */
  Frame = 1,
  /** The bytes violate the protocol or a limit; see Codec.error. The stream cannot be resynchronised. */
  Invalid = 2,
}

export enum DecodeError {
  None = 0,
  /** The wire does not follow the protocol (bad magic, unknown type, impossible length...). */
  Malformed = 1,
  FrameTooLarge = 2,
  TooDeep = 3,
  TooManyMetadataEntries = 4,
  MetadataValueTooLarge = 5,
  /** Valid for the protocol, but a variant this codec does not implement. */
  Unsupported = 6,
}

export function decodeErrorName(e: DecodeError): string {
  switch (e) {
    case DecodeError.None: return "none";
    case DecodeError.Malformed: return "malformed";
    case DecodeError.FrameTooLarge: return "frame_too_large";
    case DecodeError.TooDeep: return "too_deep";
    case DecodeError.TooManyMetadataEntries: return "too_many_metadata_entries";
    case DecodeError.MetadataValueTooLarge: return "metadata_value_too_large";
    default: return "unsupported";
  }
}

/** Why Meltemi rejects a request; each codec maps it to its protocol's error reply. */
export enum ErrorKind {
  OverLimit = 0,
  Unauthorized = 1,
  FaultAbort = 2,
  NoRoute = 3,
  BadRequest = 4,
}

export function errorKindName(k: ErrorKind): string {
  switch (k) {
    case ErrorKind.OverLimit: return "over_limit";
    case ErrorKind.Unauthorized: return "unauthorized";
    case ErrorKind.FaultAbort: return "fault_abort";
    case ErrorKind.NoRoute: return "no_route";
    default: return "bad_request";
  }
}

export class Limits {
  /** Largest frame accepted (header + body). */
  maxFrameBytes: u32 = 4 << 20;
  /** Deepest nesting of structs/containers a codec will walk. */
  maxDepth: u32 = 32;
  /** Most metadata entries per frame (attachments, THeader headers...). */
  maxMetadataEntries: u32 = 64;
  /** Longest single metadata value. */
  maxMetadataValueBytes: u32 = 8192;
}

/** Keys to add or overwrite on encode (Aeraki's requestMutation / responseMutation). */
export class Mutation {
  keys: Array<string> = [];
  values: Array<string> = [];
  set(key: string, value: string): Mutation {
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] == key) { this.values[i] = value; return this; }
    }
    this.keys.push(key);
    this.values.push(value);
    return this;
  }
  get isEmpty(): bool { return this.keys.length == 0; }
  /** The index of the key whose UTF-8 bytes are [ptr, ptr+len), or -1 (mutation path only: encodes the keys). */
  indexOfUtf8(ptr: usize, len: u32): i32 {
    for (let i = 0; i < this.keys.length; i++) {
      const k = unchecked(this.keys[i]);
      if (<u32>String.UTF8.byteLength(k, false) != len) continue;
      if (sameMemory(changetype<usize>(String.UTF8.encode(k, false)), ptr, len)) return i;
    }
    return -1;
  }
}

/**
 * The metadata key that carries the chosen cluster to the native router behind the filter in
 * perRequest mode, for codecs whose router matches it as a header (Dubbo attachments, Thrift THeader
 * headers). The controller builds the route table from the same name: controller/translate/envoy/routing_key.ts.
 */
export const ROUTING_KEY = "x-meltemi-cluster";

const routedScratch = new Mutation();

/**
 * `mutation` plus ROUTING_KEY = `cluster`, in a scratch Mutation (one per VM: valid until the next
 * call; a VM runs one callback at a time). For codecs whose routing key is a key/value.
 */
export function withRoutingKey(mutation: Mutation | null, cluster: string): Mutation {
  const m = routedScratch;
  m.keys.length = 0;
  m.values.length = 0;
  if (mutation !== null) {
    for (let i = 0; i < mutation.keys.length; i++) m.set(unchecked(mutation.keys[i]), unchecked(mutation.values[i]));
  }
  return m.set(ROUTING_KEY, cluster);
}

/** Which way a frame travels: from the client (requests) or to it (answers). */
export enum Direction { Request = 0, Response = 1 }

/** What Codec.encode did with a frame. */
export enum Encoded {
  /** Nothing written: the frame goes on byte for byte as it came (the caller need not copy it). */
  Unchanged = 0,
  /** The frame, changed, was appended to `out`. */
  Written = 1,
}

/**
 * What the filter asks of one frame on its way through (Envoy generic_proxy's encoding context): set
 * `mutation`'s keys, and in perRequest mode route the request to `cluster` the way the native Envoy
 * router behind the filter reads it. The codec answers Unchanged when no byte has to change, and
 * sets `dropped` when the protocol (or this client's wire format) cannot carry what was asked: the
 * frame then goes on without it.
 */
export class EncodeContext {
  direction: Direction = Direction.Request;
  /** Keys to add or overwrite (the route's request or response mutation); null: none. */
  mutation: Mutation | null = null;
  /** perRequest mode, requests only: the cluster the native router must forward this request to. */
  cluster: string | null = null;
  /** Set by the codec: the mutation or the routing key could not be carried. */
  dropped: bool = false;

  set(direction: Direction, mutation: Mutation | null, cluster: string | null): EncodeContext {
    this.direction = direction;
    this.mutation = mutation !== null && mutation.isEmpty ? null : mutation;
    this.cluster = cluster;
    this.dropped = false;
    return this;
  }
}

export abstract class Codec extends LaterPart {
  error: DecodeError = DecodeError.None;
  /**
   * Set by the filter when nothing it will do with this connection's frames needs their whole body
   * decoded up front (config.ts FilterConfig.decodesLazily): a codec may then stop after the fields
   * every request needs and leave the rest to Metadata's first lookup that may need it (LaterPart).
   * Codecs whose full decode is cheap ignore it.
   */
  lazy: bool = false;
  /** A short static explanation of the last error, for the log line. */
  errorDetail: string = "";
  /**
   * Progress on an incomplete frame, as an offset from its start: FrameStream sets it before each
   * decode (0 outside FrameStream.next) and keeps what a NeedMore leaves here for the next decode of
   * the same frame, so a codec that has to walk a frame to find its end (unframed Thrift) does not
   * walk again what it walked on the last read. Codecs that read a length ignore it.
   */
  resumeAt: u32 = 0;

  /**
   * Which way the frame being decoded travels: FrameStream sets it before each decode from its own
   * direction (the connection's request stream or its response stream). A codec whose frames say it
   * themselves (Dubbo's request bit, Thrift's message type, Bolt's type) ignores it; tRPC's do not:
   * its frame header is the same both ways and only the direction tells a RequestProtocol header
   * from a ResponseProtocol one (trpc/codec.ts).
   */
  decoding: Direction = Direction.Request;

  constructor(public readonly limits: Limits) { super(); }

  /** No undecoded part (codecs that never defer); see `lazy`. */
  mayHoldLater(keyPtr: usize, keyLen: u32): bool { return false; }
  decodeLater(md: Metadata): bool { return true; }

  /**
   * The metadata key that names a request's service for telemetry and spans: one the codec decodes
   * up front, from the frame's own service field (never a client-chosen attachment or header).
   */
  get serviceKey(): ArrayBuffer { return KEY_SERVICE; }

  /** The protocol's name, as in the filter configuration and in the codec manifest (registry.ts). */
  abstract get name(): string;

  /**
   * The native Envoy network filter that routes this protocol per request behind the filter, by the
   * routing key encode() writes ("": none, so perConnection mode only). For the codec manifest.
   */
  get nativeRouter(): string { return ""; }

  /** Where encode() writes the cluster for the native router, in words (codec manifest). */
  get routingKey(): string { return ""; }

  /** What respond()'s code is (codec manifest): e.g. Dubbo's response status. */
  abstract get errorCodeField(): string;

  /** The protocol's code in respond()'s reply for `kind` (codec manifest). */
  abstract errorCode(kind: ErrorKind): i32;

  /**
   * Answers come back in the order of their calls on one connection (Thrift's processors answer one
   * call at a time), so an answer that overtakes an older call shows that call is oneway (oneway.ts).
   */
  get answersInOrder(): bool { return false; }

  /**
   * Whether new metadata keys can be added to this request without changing its wire form (tracing
   * forwards its context only then). A mutation a route asks for may change the form (Thrift converts
   * a framed call to THeader); keys the caller did not ask for must not.
   */
  addsKeysInPlace(md: Metadata): bool { return true; }

  /**
   * Looks for one frame at the start of [ptr, ptr+len). Never reads outside that range, never aborts.
   * Metadata spans point into the range.
   */
  abstract decode(ptr: usize, len: u32, md: Metadata): DecodeStatus;

  /**
   * The frame at `ptr` (decoded into `md`) as `ctx` asks: Unchanged (nothing written) when no byte
   * changes, else the changed frame appended to `out`, every length field fixed. Each codec owns its
   * routing-key strategy for `ctx.cluster` (Dubbo: an attachment dubbo_proxy matches as a header;
   * Thrift: a service-name prefix thrift_proxy matches and strips).
   */
  abstract encode(ptr: usize, md: Metadata, ctx: EncodeContext, out: ByteWriter): Encoded;

  /**
   * Every reply the filter makes (a rejection, a fault abort, a protocol error): the answer to
   * `request` that a client of this protocol surfaces as a failed call carrying `message`, with the
   * protocol's own status for `kind`.
   */
  abstract respond(kind: ErrorKind, message: string, request: Metadata, out: ByteWriter): void;

  /**
   * Writes a harmless request that any peer of this protocol answers promptly with the SAME request
   * id (Dubbo: a heartbeat; Thrift: a call to a method no service has). The filter sends it upstream
   * in place of a request it rejects, then rewrites the answer into respond()'s reply: Envoy gives a
   * network filter no way to write to the client on its own (docs/platform.md). `cluster` (perRequest
   * mode) routes it like encode routes a request, for native routers that close the connection on
   * "no route" (thrift_proxy). Returns false when the protocol has no such request; the filter then
   * closes the connection instead.
   */
  probe(request: Metadata, cluster: string | null, out: ByteWriter): bool { return false; }

  /**
   * After decode said Invalid: reads what it can of the refused frame at [ptr, ptr+len) into `md`.
   * True when `md` now names a two-way request (kind, requestId, codecFlags, and the method where the
   * protocol's error reply carries it) that respond() can answer, so the client learns why before the
   * connection closes; false (the default) when the frame does not say enough.
   */
  identify(ptr: usize, len: u32, md: Metadata): bool { return false; }

  /**
   * encode() of a codec without a native Envoy router (`ctx.cluster` never comes: the configuration
   * parser refuses perRequest for it): the mutation applied by `encodeMutated`, else Unchanged, and
   * `ctx.dropped` when the codec cannot apply it.
   */
  protected encodeMutationOnly(ptr: usize, md: Metadata, ctx: EncodeContext, out: ByteWriter): Encoded {
    const mutation = ctx.mutation;
    if (mutation === null) return Encoded.Unchanged;
    if (this.encodeMutated(ptr, md, mutation, out)) return Encoded.Written;
    ctx.dropped = true;
    return Encoded.Unchanged;
  }

  /** The frame at `ptr` with `mutation` applied, appended to `out`; false when it cannot be. */
  encodeMutated(ptr: usize, md: Metadata, mutation: Mutation, out: ByteWriter): bool { return false; }

  /** Adds a metadata entry within the limit; past it, fails with `overLimit` as the detail. */
  protected addWithinLimit(md: Metadata, keyPtr: usize, keyLen: u32, valuePtr: usize, valueLen: u32, overLimit: string): bool {
    if (<u32>md.count >= this.limits.maxMetadataEntries || !md.add(keyPtr, keyLen, valuePtr, valueLen)) {
      this.fail(DecodeError.TooManyMetadataEntries, overLimit);
      return false;
    }
    return true;
  }

  protected fail(error: DecodeError, detail: string): DecodeStatus {
    this.error = error;
    this.errorDetail = detail;
    return DecodeStatus.Invalid;
  }
}
