// The spans of one connection's requests that are decided but not ended yet, oldest first, matched to
// their end by request id (the first with that id: ends come in the order InFlight ends requests).
// Bounded: past MAX_OPEN the oldest is dropped (counted), so calls that never end cannot fill it.
import { Span } from "./span";

export const MAX_OPEN: i32 = 256;

export class OpenSpans {
  private spans: Array<Span> = [];

  /** Adds a span; returns the one it displaced (dropped), if any. */
  add(span: Span): Span | null {
    this.spans.push(span);
    return this.spans.length > MAX_OPEN ? this.spans.shift() : null;
  }

  /** Removes and returns the oldest open span of `requestId`, or null. */
  take(requestId: i64): Span | null {
    const n = this.spans.length;
    for (let i = 0; i < n; i++) {
      const s = unchecked(this.spans[i]);
      if (s.requestId == requestId) {
        if (i == 0) this.spans.shift();
        else this.spans.splice(i, 1);
        return s;
      }
    }
    return null;
  }

  get size(): i32 { return this.spans.length; }
}
