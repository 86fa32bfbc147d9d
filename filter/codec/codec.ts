// The codec interface: what a protocol implements, and nothing more (docs/design.md, modelled on
// Envoy's generic_proxy codec and Aeraki's MetaProtocol codec). A codec knows frame boundaries,
// message kinds, request ids, routable metadata, how to re-encode a frame with a mutation, and how
// to write an error reply or a heartbeat reply. Routing, limits and policies live elsewhere.
//
// One codec instance serves one connection (a codec may remember what it detected, e.g. Thrift's
// transport). Codecs never abort on bad input: they return Invalid with a typed DecodeError.
import { ByteWriter } from "./bytes";
import { Metadata } from "./metadata";

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
}

/**
 * The metadata key that carries the chosen cluster to the native router behind the filter in
 * perRequest mode (a Dubbo attachment that dubbo_proxy routes match as a header). The controller
 * builds the route table from the same name: controller/translate/envoy/routing_key.ts.
 */
export const ROUTING_KEY = "x-meltemi-cluster";

export abstract class Codec {
  error: DecodeError = DecodeError.None;
  /** A short static explanation of the last error, for the log line. */
  errorDetail: string = "";
  /**
   * Progress on an incomplete frame, as an offset from its start: FrameStream sets it before each
   * decode (0 outside FrameStream.next) and keeps what a NeedMore leaves here for the next decode of
   * the same frame, so a codec that has to walk a frame to find its end (unframed Thrift) does not
   * walk again what it walked on the last read. Codecs that read a length ignore it.
   */
  resumeAt: u32 = 0;

  constructor(public readonly limits: Limits) {}

  abstract get name(): string;

  /**
   * Looks for one frame at the start of [ptr, ptr+len). Never reads outside that range, never aborts.
   * Metadata spans point into the range.
   */
  abstract decode(ptr: usize, len: u32, md: Metadata): DecodeStatus;

  /**
   * Writes the frame at `ptr` (decoded into `md`) to `out` with `mutation` applied, fixing any
   * length fields. Returns false when the protocol cannot carry the mutation (then nothing is written).
   */
  abstract encodeMutated(ptr: usize, md: Metadata, mutation: Mutation, out: ByteWriter): bool;

  /**
   * perRequest mode: writes the request with `routed` applied, which is the route's request mutation
   * plus ROUTING_KEY = `cluster`. A protocol whose native router reads the cluster elsewhere (Thrift:
   * a service-name prefix) overrides this.
   */
  encodeRouted(ptr: usize, md: Metadata, routed: Mutation, cluster: string, out: ByteWriter): bool {
    return this.encodeMutated(ptr, md, routed, out);
  }

  /**
   * Writes the response frame at `ptr` (decoded into `md`) with the route's response mutation applied,
   * in the form the client speaks. Returns false when the protocol, or this client's wire format,
   * cannot carry keys on a response (then nothing is written and the frame goes on as it is).
   */
  encodeResponseMutated(ptr: usize, md: Metadata, mutation: Mutation, out: ByteWriter): bool {
    return this.encodeMutated(ptr, md, mutation, out);
  }

  /** Writes an error reply to the request described by `md`, that the client surfaces with `message`. */
  abstract encodeError(md: Metadata, kind: ErrorKind, message: string, out: ByteWriter): void;

  /** Writes the reply to the heartbeat request described by `md`. */
  abstract encodeHeartbeatReply(md: Metadata, out: ByteWriter): void;

  /**
   * Writes a harmless request that any peer of this protocol answers promptly with the SAME request
   * id (Dubbo: a heartbeat; Thrift: a call to a method no service has). The filter sends it upstream
   * in place of a request it rejects, then rewrites the answer into the error reply: Envoy gives a
   * network filter no way to write to the client on its own (docs/platform.md). Returns false when the
   * protocol has no such request; the filter then closes the connection instead.
   */
  encodeProbe(md: Metadata, out: ByteWriter): bool { return false; }

  /**
   * perRequest mode: the probe, routed to `cluster` the way encodeRouted routes requests, for native
   * routers that do not answer it themselves and close the connection on "no route" (thrift_proxy).
   * Default: the plain probe (dubbo_proxy answers heartbeats itself).
   */
  encodeRoutedProbe(md: Metadata, cluster: string, out: ByteWriter): bool { return this.encodeProbe(md, out); }

  /**
   * Writes a response frame in the form the client speaks when the filter changed the form of its
   * requests on the way up (Thrift: a request converted to THeader gets a THeader reply). Returns false
   * when the frame goes to the client as it is.
   */
  encodeResponseForClient(ptr: usize, md: Metadata, out: ByteWriter): bool { return false; }

  protected fail(error: DecodeError, detail: string): DecodeStatus {
    this.error = error;
    this.errorDetail = detail;
    return DecodeStatus.Invalid;
  }
}
