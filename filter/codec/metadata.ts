// What a codec extracts from one frame: its kind, request id, length on the wire, and the routable
// string metadata (key/value pairs) that routes, limits and policies match on.
//
// Keys and values are spans (pointer + length) into the frame bytes or into static strings, so that
// decoding a request allocates nothing. A span is valid while the frame's buffer is held, i.e. during
// the callback that decoded it. Use keyString/valueString only off the hot path (logs, tests).
import { sameMemory, utf8Of } from "./bytes";

// One entry of Metadata.entries: four usize fields.
const KEY_PTR: usize = 0;
const KEY_LEN: usize = sizeof<usize>();
const VAL_PTR: usize = 2 * sizeof<usize>();
const VAL_LEN: usize = 3 * sizeof<usize>();
const ENTRY_BYTES: usize = 4 * sizeof<usize>();
const ENTRY_SHIFT: usize = sizeof<usize>() == 8 ? 5 : 4;

export enum MessageKind { Request = 0, Oneway = 1, Response = 2, Error = 3, Heartbeat = 4 }

/**
 * The part of a frame a codec may leave undecoded until something looks for a key it may hold (a
 * Dubbo request's arguments and attachments: Codec.lazy). Metadata asks for it on the first lookup
 * that misses such a key, so every reader sees the same entries as with a full decode, and a frame
 * nobody asks about costs only its eager part (the header and the fields every request needs).
 */
export abstract class LaterPart {
  /**
   * Whether the undecoded part may hold `key`, or contradict its entry decoded up front (a lookup then
   * decodes the rest first, and a contradiction makes the frame invalid).
   */
  abstract mayHoldLater(keyPtr: usize, keyLen: u32): bool;
  /** Decodes the rest of the frame `md` came from into `md`; false when it is invalid (the codec's error says why). */
  abstract decodeLater(md: Metadata): bool;
}

export class Metadata {
  kind: MessageKind = MessageKind.Request;
  /** Dubbo's 64-bit request id, Thrift's seqid (sign-extended). */
  requestId: i64 = 0;
  /** Whole frame on the wire (header + body), set with DecodeStatus.Frame. */
  frameLength: u32 = 0;
  /** True for a heartbeat/event frame that expects a reply (Dubbo two-way event). */
  twoWay: bool = true;
  /** Codec-specific facts the encoder needs later (e.g. Thrift's detected protocol), opaque to callers. */
  codecFlags: u32 = 0;
  count: i32 = 0;
  /**
   * Set when the part decoded on demand (LaterPart) was invalid: the frame is refused as if decode had
   * said Invalid, and lookups that needed that part missed. Whoever reads the metadata of a frame
   * must check it before acting on what it read (network/connection.ts does, after the decision).
   */
  laterFailed: bool = false;
  /** The codec that can still decode the rest of this frame (a span of it: valid during the callback that decoded it), or null. */
  private later: LaterPart | null = null;
  /**
   * The entries, flat: per entry key pointer, key length, value pointer, value length (ENTRY_BYTES).
   * One array read with plain loads: the decoders add an entry per string and the policies look keys
   * up per request, so this is hot.
   */
  private entries: StaticArray<usize>;

  constructor(public readonly capacity: i32 = 64) {
    this.entries = new StaticArray<usize>(capacity * 4);
  }

  reset(): void {
    this.kind = MessageKind.Request;
    this.requestId = 0;
    this.frameLength = 0;
    this.twoWay = true;
    this.codecFlags = 0;
    this.count = 0;
    this.laterFailed = false;
    this.later = null;
  }

  /** Called by a codec: the rest of the frame is decoded on demand by `part` (see LaterPart). */
  deferLater(part: LaterPart): void { this.later = part; }

  /** Whether part of the frame is still undecoded. */
  @inline get hasLater(): bool { return this.later !== null; }

  /** Whether a lookup of `key` would decode the frame's undecoded part (it may hold or contradict the key). */
  mayDecodeFor(key: ArrayBuffer): bool {
    const part = this.later;
    return part !== null && part.mayHoldLater(changetype<usize>(key), <u32>key.byteLength);
  }

  /**
   * Decodes the undecoded part now, if any (a reader that walks every entry, not one key, calls this
   * first). False when the frame turned out invalid (laterFailed).
   */
  complete(): bool {
    const part = this.later;
    if (part !== null) {
      this.later = null;
      if (!part.decodeLater(this)) this.laterFailed = true;
    }
    return !this.laterFailed;
  }

  @inline private at(i: i32): usize { return changetype<usize>(this.entries) + (<usize>i << ENTRY_SHIFT); }

  /** Adds (or, for an existing key, overwrites) an entry; false when the capacity is exhausted. */
  @inline add(keyPtr: usize, keyLen: u32, valPtr: usize, valLen: u32): bool {
    let i = this.indexOfDecoded(keyPtr, keyLen);
    if (i < 0) {
      if (this.count >= this.capacity) return false;
      i = this.count++;
      const e = this.at(i);
      store<usize>(e, keyPtr, KEY_PTR);
      store<usize>(e, <usize>keyLen, KEY_LEN);
    }
    const e = this.at(i);
    store<usize>(e, valPtr, VAL_PTR);
    store<usize>(e, <usize>valLen, VAL_LEN);
    return true;
  }

  /** Adds an entry whose key is a pre-encoded constant (see keys below). */
  @inline addKey(key: ArrayBuffer, valPtr: usize, valLen: u32): bool {
    return this.add(changetype<usize>(key), <u32>key.byteLength, valPtr, valLen);
  }

  /**
   * The entry holding key [ptr, ptr+len), or -1. Decodes the frame's undecoded part first when it may
   * hold the key or contradict an entry decoded up front (LaterPart.mayHoldLater), even if one is found.
   */
  indexOfSpan(ptr: usize, len: u32): i32 {
    const part = this.later;
    if (part !== null && part.mayHoldLater(ptr, len) && !this.complete()) return -1;
    return this.indexOfDecoded(ptr, len);
  }

  /**
   * `key`'s entry among those decoded so far, never decoding more: for telemetry, whose labels must not
   * cost a decode (a frame whose rest contradicts them is refused if a decision reads it).
   */
  @inline indexOfDecodedKey(key: ArrayBuffer): i32 {
    return this.indexOfDecoded(changetype<usize>(key), <u32>key.byteLength);
  }

  /** indexOfSpan among the entries decoded so far (what a codec uses while it adds them). */
  private indexOfDecoded(ptr: usize, len: u32): i32 {
    const n = this.count;
    let e = changetype<usize>(this.entries);
    for (let i = 0; i < n; i++, e += ENTRY_BYTES) {
      // Length first, then the first byte: most keys differ there, without a call to memory.compare.
      if (<u32>load<usize>(e, KEY_LEN) != len) continue;
      const k = load<usize>(e, KEY_PTR);
      if (len == 0 || (load<u8>(k) == load<u8>(ptr) && sameMemory(k, ptr, len))) return i;
    }
    return -1;
  }

  @inline indexOf(key: ArrayBuffer): i32 {
    return this.indexOfSpan(changetype<usize>(key), <u32>key.byteLength);
  }

  @inline keyPtrAt(i: i32): usize { return load<usize>(this.at(i), KEY_PTR); }
  @inline keyLenAt(i: i32): u32 { return <u32>load<usize>(this.at(i), KEY_LEN); }
  @inline valuePtrAt(i: i32): usize { return load<usize>(this.at(i), VAL_PTR); }
  @inline valueLenAt(i: i32): u32 { return <u32>load<usize>(this.at(i), VAL_LEN); }

  keyString(i: i32): string { return String.UTF8.decodeUnsafe(this.keyPtrAt(i), this.keyLenAt(i)); }
  valueString(i: i32): string { return String.UTF8.decodeUnsafe(this.valuePtrAt(i), this.valueLenAt(i)); }

  /** The value of `key` as a string, or null (off the hot path). */
  get(key: string): string | null {
    const i = this.indexOf(utf8Of(key));
    return i < 0 ? null : this.valueString(i);
  }
}

// Well-known metadata keys, shared by codecs and by the policies that match on them.
export const KEY_SERVICE = utf8Of("service");
export const KEY_INTERFACE = utf8Of("interface");
export const KEY_METHOD = utf8Of("method");
export const KEY_VERSION = utf8Of("version");
export const KEY_GROUP = utf8Of("group");
