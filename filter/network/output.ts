// What one callback passes on, copy-on-write: as long as every frame goes on as it came, the output is
// a span of the bytes the frames were decoded from (nothing copied); the first frame that changes
// turns it into a copy (the unchanged prefix, then the change), and later frames are appended to it.
// When the span covers exactly what Envoy's buffer holds, the connection leaves Envoy's buffer alone
// (no set_buffer_bytes, no copy).
import { ByteWriter } from "../codec/bytes";
import { Codec, EncodeContext, Encoded } from "../codec/codec";
import { Metadata } from "../codec/metadata";

export class Output {
  /** The unchanged span, while not copying. */
  private spanPtr: usize = 0;
  private spanLen: u32 = 0;
  private copying: bool = false;

  /**
   * `out` is shared by every connection of the VM: it is filled and handed to Envoy within a single
   * callback, and a VM runs one callback at a time. Per connection, each would keep the size of the
   * largest read it ever saw (Wasm memory never shrinks).
   */
  constructor(private readonly out: ByteWriter) {}

  begin(): void {
    this.spanPtr = 0;
    this.spanLen = 0;
    this.copying = false;
    this.out.clear();
  }

  /** Bytes that go on as they are. */
  keep(ptr: usize, len: u32): void {
    if (len == 0) return;
    if (!this.copying) {
      if (this.spanLen == 0) { this.spanPtr = ptr; this.spanLen = len; return; }
      if (this.spanPtr + this.spanLen == ptr) { this.spanLen += len; return; }
      this.startCopy();
    }
    this.out.bytes(ptr, len);
  }

  /** The frame at `ptr` as `ctx` asks (Codec.encode): kept as a span when the codec leaves it unchanged. */
  encode(codec: Codec, ptr: usize, md: Metadata, ctx: EncodeContext): Encoded {
    if (this.copying) {
      const r = codec.encode(ptr, md, ctx, this.out);
      if (r == Encoded.Unchanged) this.out.bytes(ptr, md.frameLength);
      return r;
    }
    // Not copying: `out` is empty, so the codec writes the changed frame at its start; the span that
    // precedes it is moved in front (one move of the first changed frame per callback).
    const r = codec.encode(ptr, md, ctx, this.out);
    if (r == Encoded.Unchanged) { this.keep(ptr, md.frameLength); return r; }
    const n = this.out.length;
    const p = this.spanLen;
    if (p > 0) {
      this.out.ensure(p);
      memory.copy(this.out.ptr + p, this.out.ptr, n);
      memory.copy(this.out.ptr, this.spanPtr, p);
      this.out.length = p + n;
    }
    this.copying = true;
    return r;
  }

  /** A writer to append new bytes to (a probe), after what was kept so far. */
  get writer(): ByteWriter {
    if (!this.copying) this.startCopy();
    return this.out;
  }

  private startCopy(): void {
    this.copying = true;
    this.out.clear();
    if (this.spanLen > 0) this.out.bytes(this.spanPtr, this.spanLen);
  }

  get ptr(): usize { return this.copying ? this.out.ptr : this.spanPtr; }
  get length(): u32 { return this.copying ? this.out.length : this.spanLen; }

  /** The output is exactly the bytes [ptr, ptr+len) as they came: Envoy's buffer need not change. */
  isExactly(ptr: usize, len: u32): bool {
    return !this.copying && this.spanLen == len && (len == 0 || this.spanPtr == ptr);
  }
}
