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
  }

  @inline private at(i: i32): usize { return changetype<usize>(this.entries) + (<usize>i << ENTRY_SHIFT); }

  /** Adds (or, for an existing key, overwrites) an entry; false when the capacity is exhausted. */
  @inline add(keyPtr: usize, keyLen: u32, valPtr: usize, valLen: u32): bool {
    let i = this.indexOfSpan(keyPtr, keyLen);
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

  indexOfSpan(ptr: usize, len: u32): i32 {
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
