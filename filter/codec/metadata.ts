// What a codec extracts from one frame: its kind, request id, length on the wire, and the routable
// string metadata (key/value pairs) that routes, limits and policies match on.
//
// Keys and values are spans (pointer + length) into the frame bytes or into static strings, so that
// decoding a request allocates nothing. A span is valid while the frame's buffer is held, i.e. during
// the callback that decoded it. Use keyString/valueString only off the hot path (logs, tests).
import { utf8Of } from "./bytes";

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
  private keyPtr: StaticArray<usize>;
  private keyLen: StaticArray<u32>;
  private valPtr: StaticArray<usize>;
  private valLen: StaticArray<u32>;

  constructor(public readonly capacity: i32 = 64) {
    this.keyPtr = new StaticArray<usize>(capacity);
    this.keyLen = new StaticArray<u32>(capacity);
    this.valPtr = new StaticArray<usize>(capacity);
    this.valLen = new StaticArray<u32>(capacity);
  }

  reset(): void {
    this.kind = MessageKind.Request;
    this.requestId = 0;
    this.frameLength = 0;
    this.twoWay = true;
    this.codecFlags = 0;
    this.count = 0;
  }

  /** Adds (or, for an existing key, overwrites) an entry; false when the capacity is exhausted. */
  add(keyPtr: usize, keyLen: u32, valPtr: usize, valLen: u32): bool {
    let i = this.indexOfSpan(keyPtr, keyLen);
    if (i < 0) {
      if (this.count >= this.capacity) return false;
      i = this.count++;
      unchecked(this.keyPtr[i] = keyPtr);
      unchecked(this.keyLen[i] = keyLen);
    }
    unchecked(this.valPtr[i] = valPtr);
    unchecked(this.valLen[i] = valLen);
    return true;
  }

  /** Adds an entry whose key is a pre-encoded constant (see keys below). */
  @inline addKey(key: ArrayBuffer, valPtr: usize, valLen: u32): bool {
    return this.add(changetype<usize>(key), <u32>key.byteLength, valPtr, valLen);
  }

  indexOfSpan(ptr: usize, len: u32): i32 {
    for (let i = 0; i < this.count; i++) {
      if (unchecked(this.keyLen[i]) == len && memory.compare(unchecked(this.keyPtr[i]), ptr, len) == 0) return i;
    }
    return -1;
  }

  @inline indexOf(key: ArrayBuffer): i32 {
    return this.indexOfSpan(changetype<usize>(key), <u32>key.byteLength);
  }

  @inline keyPtrAt(i: i32): usize { return unchecked(this.keyPtr[i]); }
  @inline keyLenAt(i: i32): u32 { return unchecked(this.keyLen[i]); }
  @inline valuePtrAt(i: i32): usize { return unchecked(this.valPtr[i]); }
  @inline valueLenAt(i: i32): u32 { return unchecked(this.valLen[i]); }

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
