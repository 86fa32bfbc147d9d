// Error replies waiting for the upstream's answer to a probe (see Codec.encodeProbe): request id ->
// the bytes to write to the client instead of that answer. Small and linear: a connection rarely has
// more than a few rejected requests in flight. Memory is unmanaged and reused.
import { ByteWriter } from "../codec/bytes";

export class PendingReplies {
  private ids: Array<i64> = [];
  private replies: Array<ByteWriter> = [];
  private spare: Array<ByteWriter> = [];

  get size(): i32 { return this.ids.length; }

  /** A writer for the reply to `requestId`; fill it before the next call. */
  add(requestId: i64): ByteWriter {
    const w = this.spare.length > 0 ? this.spare.pop() : new ByteWriter();
    w.clear();
    this.ids.push(requestId);
    this.replies.push(w);
    return w;
  }

  indexOf(requestId: i64): i32 {
    for (let i = 0; i < this.ids.length; i++) if (unchecked(this.ids[i]) == requestId) return i;
    return -1;
  }

  replyAt(i: i32): ByteWriter { return this.replies[i]; }

  /** Forgets entry i (its writer is kept for reuse). */
  remove(i: i32): void {
    const last = this.ids.length - 1;
    const w = this.replies[i];
    this.ids[i] = this.ids[last];
    this.replies[i] = this.replies[last];
    this.ids.pop();
    this.replies.pop();
    this.spare.push(w);
  }

  free(): void {
    for (let i = 0; i < this.replies.length; i++) this.replies[i].free();
    for (let i = 0; i < this.spare.length; i++) this.spare[i].free();
    this.ids = [];
    this.replies = [];
    this.spare = [];
  }
}
