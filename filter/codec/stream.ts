// Cuts a byte stream that arrives in arbitrary pieces into frames, for any codec: a frame may span
// many pieces, one piece may hold many (pipelined) frames. Bytes are copied only when a frame is
// incomplete at the end of a piece.
import { ByteWriter } from "./bytes";
import { Codec, DecodeStatus } from "./codec";
import { Metadata } from "./metadata";

export class FrameStream {
  /** Bytes not yet consumed; [offset, pending.length) is the unread part. */
  pending: ByteWriter = new ByteWriter();
  offset: u32 = 0;

  /** Appends a piece of the stream. */
  push(ptr: usize, len: u32): void {
    this.compact();
    this.pending.bytes(ptr, len);
  }

  get buffered(): u32 { return this.pending.length - this.offset; }

  /** Start of the unread bytes (valid until the next push). */
  get head(): usize { return this.pending.ptr + this.offset; }

  /**
   * Decodes the next frame into `md`. On Frame, the frame is at `head` with length md.frameLength;
   * call consume() once done with it.
   */
  next(codec: Codec, md: Metadata): DecodeStatus {
    md.reset();
    if (this.buffered == 0) return DecodeStatus.NeedMore;
    return codec.decode(this.head, this.buffered, md);
  }

  consume(n: u32): void {
    this.offset += n <= this.buffered ? n : this.buffered;
  }

  /** Moves unread bytes to the front. */
  compact(): void {
    if (this.offset == 0) return;
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
    if (this.pending.capacity <= keep || this.buffered > keep) return;
    this.compact();
    this.pending.shrink(keep);
  }

  clear(): void {
    this.pending.clear();
    this.offset = 0;
  }
}
