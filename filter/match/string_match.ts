// One string condition on a metadata value: Aeraki's StringMatch (exact | prefix | regex; an empty
// match means "present"), plus suffix and invert as Slime's matches have. Values are compared as
// UTF-8 bytes, straight from the frame (no string is built per request).
import { sameMemory, utf8Of } from "../codec/bytes";
import { Regex } from "./regex";

export enum MatchKind { Exact, Prefix, Suffix, Regex, Present }

export class StringMatch {
  kind: MatchKind = MatchKind.Present;
  invert: bool = false;
  private bytes: ArrayBuffer = new ArrayBuffer(0);
  private regex: Regex | null = null;
  /**
   * The longest value a regex is matched against: the limit its cost was priced at (match_budget.ts).
   * A longer value arrives only on a connection opened under an earlier configuration with a larger
   * limits.maxMetadataValueBytes (an open connection keeps its codec); it matches no regex, inverted or
   * not, like an absent key, so the matching work of a request stays within the budget.
   */
  maxLen: u32 = u32.MAX_VALUE;

  static exact(v: string): StringMatch { return StringMatch.of(MatchKind.Exact, v); }
  static prefix(v: string): StringMatch { return StringMatch.of(MatchKind.Prefix, v); }
  static suffix(v: string): StringMatch { return StringMatch.of(MatchKind.Suffix, v); }
  static present(): StringMatch { return new StringMatch(); }

  /** A regex match; check `error` (non-empty when the pattern is not accepted). */
  static regex(pattern: string): StringMatch {
    const m = new StringMatch();
    m.kind = MatchKind.Regex;
    m.regex = Regex.compile(pattern);
    return m;
  }

  private static of(kind: MatchKind, v: string): StringMatch {
    const m = new StringMatch();
    m.kind = kind;
    m.bytes = utf8Of(v);
    return m;
  }

  get error(): string { return this.regex !== null ? (this.regex as Regex).error : ""; }

  /** The most matching steps a value of up to `maxLen` bytes costs (match_budget.ts); 0 for a non-regex. */
  costFor(maxLen: u32): f64 { return this.regex !== null ? (this.regex as Regex).costFor(maxLen) : 0; }

  /** Steps of the last regex match (tests). */
  get lastSteps(): u32 { return this.regex !== null ? (this.regex as Regex).steps : 0; }

  /** Does a present value [ptr, ptr+len) match? (An absent key never matches, inverted or not.) */
  matches(ptr: usize, len: u32): bool {
    if (len > this.maxLen) return false;
    return this.test(ptr, len) != this.invert;
  }

  private test(ptr: usize, len: u32): bool {
    const want = changetype<usize>(this.bytes);
    const n = <u32>this.bytes.byteLength;
    switch (this.kind) {
      case MatchKind.Exact: return len == n && sameMemory(ptr, want, n);
      case MatchKind.Prefix: return len >= n && sameMemory(ptr, want, n);
      case MatchKind.Suffix: return len >= n && sameMemory(ptr + len - n, want, n);
      case MatchKind.Regex: return (this.regex as Regex).matchBytes(ptr, len);
      default: return true;
    }
  }
}
