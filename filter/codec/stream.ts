// Cuts a byte stream that arrives in arbitrary pieces into frames, for any codec: a frame may span
// many pieces, one piece may hold many (pipelined) frames.
//
// A read is decoded in place (begin): while no bytes of an earlier read are pending, the frames are
// read straight from the bytes the host handed over, and only the incomplete frame at the end of the
// read is copied (keepRest) to wait for the rest. When bytes are pending, the read is appended to them
// (a frame spans reads) and decoded from there.
import { ByteWriter } from "./bytes";
import { Codec, DecodeStatus, Direction } from "./codec";
import { Metadata } from "./metadata";

export class FrameStream {
  /** Bytes not yet consumed; [offset, pending.length) is the unread part. */
  pending: ByteWriter = new ByteWriter();
  offset: u32 = 0;
  /** The read being decoded in place (inPlace): [readPtr + offset, readPtr + readLen) is unread. */
  private inPlace: bool = false;
  private readPtr: usize = 0;
  private readLen: u32 = 0;
  /** The codec's progress on the incomplete frame at head (Codec.resumeAt). */
  private resumeAt: u32 = 0;

  /** `direction`: which way this stream's frames travel, told to the codec before each decode (Codec.decoding). */
  constructor(public readonly direction: Direction = Direction.Request) {}

  /** Appends a piece of the stream (copied). */
  push(ptr: usize, len: u32): void {
    this.keepRest();
    this.compact();
    this.pending.bytes(ptr, len);
  }

  /**
   * Starts decoding a read at [ptr, ptr+len), which must stay valid until keepRest(): in place when no
   * bytes are pending; else appended to them. `growthFor(len)` tells beforehand what appending costs.
   */
  begin(ptr: usize, len: u32): void {
    if (this.inPlace || this.buffered > 0) { this.push(ptr, len); return; }
    this.pending.clear();
    this.inPlace = true;
    this.readPtr = ptr;
    this.readLen = len;
    this.offset = 0;
  }

  /**
   * Capacity the pending buffer must add for begin() to take `extra` more bytes (0 when it fits). With
   * nothing pending, begin() decodes the read in place and copies nothing: 0 (what stays of it is
   * admitted as restGrowth). Most reads are such: an admission of the whole read would charge, and
   * then release, the connection's budget on every read for nothing.
   */
  growthFor(extra: u32): u32 {
    if (this.inPlace || this.buffered == 0) return 0;
    const need = this.buffered + extra;
    return need <= this.pending.capacity ? 0 : this.pending.growthFor(need - this.pending.length);
  }

  /** Capacity keepRest() will add (an in-place read's unread bytes are copied). */
  get restGrowth(): u32 {
    if (!this.inPlace) return 0;
    const rest = this.buffered;
    return rest <= this.pending.capacity ? 0 : this.pending.growthFor(rest);
  }

  /** Ends an in-place read: its unread bytes (an incomplete frame) are copied, the read may go. */
  keepRest(): void {
    if (!this.inPlace) return;
    const ptr = this.readPtr + this.offset;
    const rest = this.readLen - this.offset;
    this.inPlace = false;
    this.readPtr = 0;
    this.readLen = 0;
    this.offset = 0;
    this.pending.clear();
    if (rest > 0) this.pending.bytes(ptr, rest);
  }

  /** How far the codec has walked the incomplete frame at head (0: from its start). For tests. */
  get progress(): u32 { return this.resumeAt; }

  get buffered(): u32 { return this.inPlace ? this.readLen - this.offset : this.pending.length - this.offset; }

  /** Start of the unread bytes (valid until the next push, begin or keepRest). */
  get head(): usize { return this.inPlace ? this.readPtr + this.offset : this.pending.ptr + this.offset; }

  /**
   * Decodes the next frame into `md`. On Frame, the frame is at `head` with length md.frameLength;
   * call consume() once done with it.
   */
  next(codec: Codec, md: Metadata): DecodeStatus {
    md.reset();
    if (this.buffered == 0) return DecodeStatus.NeedMore;
    codec.resumeAt = this.resumeAt;
    codec.decoding = this.direction;
    const status = codec.decode(this.head, this.buffered, md);
    this.resumeAt = status == DecodeStatus.NeedMore ? codec.resumeAt : 0;
    codec.resumeAt = 0;
    return status;
  }

  consume(n: u32): void {
    this.offset += n <= this.buffered ? n : this.buffered;
    this.resumeAt = 0;
  }

  /** Moves unread bytes to the front. */
  compact(): void {
    if (this.inPlace || this.offset == 0) return;
    const rest = this.buffered;
    if (rest > 0) memory.copy(this.pending.ptr, this.pending.ptr + this.offset, rest);
    this.pending.length = rest;
    this.offset = 0;
  }

  /**
   * After a read is done: a pending buffer larger than `keep` that now holds at most `keep` unread
   * bytes goes back to the allocator (Wasm memory never shrinks: per-connection buffers sized by the
   * largest read would make the VM's peak grow with the number of connections under a backlog).
   */
  trim(keep: u32): void {
    this.keepRest();
    if (this.pending.capacity <= keep || this.buffered > keep) return;
    this.compact();
    this.pending.shrink(keep);
  }

  /** Drops every unread byte (an in-place read is let go). */
  clear(): void {
    this.resumeAt = 0;
    this.inPlace = false;
    this.readPtr = 0;
    this.readLen = 0;
    this.pending.clear();
    this.offset = 0;
  }

  /** Drops every byte and gives the buffer back to the allocator. */
  free(): void {
    this.clear();
    this.pending.free();
  }
}
