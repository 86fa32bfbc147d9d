// Whether the filter will accept a user-supplied regular expression. The filter compiles patterns to a
// Thompson NFA and runs them in linear time (filter/match/regex.ts); the JSON schema cannot express
// what it rejects (backreferences, lookaround, huge repetitions), so the controller checks the same
// grammar here and reports a diagnostic instead of handing the filter a configuration it would refuse.
//
// Grammar (byte-oriented, whole-value match): literals, `.`, classes `[...]` / `[^...]`, escapes
// `\d \w \s \D \W \S \n \t \r` and escaped punctuation, groups `( )` / `(?: )`, alternation `|`,
// quantifiers `* + ? {n} {n,} {n,m}` (lazy forms too, counts <= 100, never two in a row), `^` only
// first and `$` only last. The compiled program must stay within 4096 instructions.

const MAX_PROGRAM = 4096;
const MAX_REPEAT = 100;
const MAX_DEPTH = 100;

class RegexSyntaxError extends Error {}

/** The instruction count of a parsed piece (the filter's program size, to check its limit). */
type Size = number;

class Checker {
  private pos = 0;
  constructor(private readonly src: Uint8Array) {}

  private peek(): number { return this.pos < this.src.length ? this.src[this.pos]! : -1; }
  private next(): number { const c = this.peek(); if (c >= 0) this.pos++; return c; }
  private fail(msg: string): never { throw new RegexSyntaxError(`${msg} at offset ${this.pos}`); }

  parse(): Size {
    if (this.peek() === 0x5e) this.pos++;
    const size = this.alternation(0);
    if (this.pos < this.src.length) this.fail("unexpected ')'");
    return size + 1;
  }

  private alternation(depth: number): Size {
    if (depth > MAX_DEPTH) this.fail("nesting too deep");
    let size = this.concat(depth);
    let branches = 1;
    while (this.peek() === 0x7c) {
      this.pos++;
      size += this.concat(depth);
      branches++;
    }
    return size + 2 * (branches - 1);
  }

  private concat(depth: number): Size {
    let size = 0;
    for (;;) {
      const c = this.peek();
      if (c < 0 || c === 0x7c || c === 0x29) return size;
      if (c === 0x24 && this.pos === this.src.length - 1) { this.pos++; return size; }
      size += this.quantified(this.atom(depth));
      if (size > MAX_PROGRAM) this.fail(`pattern too large (more than ${MAX_PROGRAM} instructions)`);
    }
  }

  private number(): number {
    let n = -1;
    while (this.peek() >= 0x30 && this.peek() <= 0x39) {
      n = (n < 0 ? 0 : n) * 10 + (this.next() - 0x30);
      if (n > 100000) return 100001;
    }
    return n;
  }

  private quantified(atom: Size): Size {
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === 0x2a) { this.pos++; min = 0; max = -1; }
    else if (c === 0x2b) { this.pos++; min = 1; max = -1; }
    else if (c === 0x3f) { this.pos++; min = 0; max = 1; }
    else if (c === 0x7b) {
      const save = this.pos++;
      min = this.number();
      if (min < 0) { this.pos = save; return atom; } // a literal '{'
      max = min;
      if (this.peek() === 0x2c) { this.pos++; max = this.number(); }
      if (this.next() !== 0x7d) this.fail("invalid repetition");
      if (min > MAX_REPEAT || max > MAX_REPEAT) this.fail(`repetition count above ${MAX_REPEAT}`);
      if (max >= 0 && max < min) this.fail("invalid repetition range");
    } else return atom;
    if (this.peek() === 0x3f) this.pos++; // lazy
    const after = this.peek();
    if (after === 0x2a || after === 0x2b || after === 0x3f || (after === 0x7b && this.isCountedRepeat())) this.fail("nested quantifier");
    return min * atom + (max < 0 ? atom + 2 : (max - min) * (atom + 1));
  }

  /** At a '{': whether it opens a repetition (digits follow) rather than a literal brace. */
  private isCountedRepeat(): boolean {
    const d = this.src[this.pos + 1];
    return d !== undefined && d >= 0x30 && d <= 0x39;
  }

  private atom(depth: number): Size {
    const c = this.next();
    if (c === 0x28) {
      if (this.peek() === 0x3f) {
        this.pos++;
        if (this.next() !== 0x3a) this.fail("unsupported group (lookaround and flags cannot run in linear time)");
      }
      const inner = this.alternation(depth + 1);
      if (this.next() !== 0x29) this.fail("missing ')'");
      return inner;
    }
    if (c === 0x2e) return 1;
    if (c === 0x5b) { this.charClass(); return 1; }
    if (c === 0x5c) { this.escape(); return 1; }
    if (c === 0x2a || c === 0x2b || c === 0x3f) this.fail("quantifier without operand");
    if (c === 0x5e || c === 0x24) this.fail("anchors are only supported at the ends");
    return 1;
  }

  /** After a backslash: returns the literal byte, or -1 for a class escape. */
  private escape(): number {
    const c = this.next();
    if (c < 0) this.fail("trailing backslash");
    if ([0x64, 0x44, 0x77, 0x57, 0x73, 0x53].includes(c)) return -1;
    if (c === 0x6e) return 0x0a;
    if (c === 0x74) return 0x09;
    if (c === 0x72) return 0x0d;
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) {
      this.fail(`unsupported escape \\${String.fromCharCode(c)}${c >= 0x31 && c <= 0x39 ? " (backreferences cannot run in linear time)" : ""}`);
    }
    return c;
  }

  private charClass(): void {
    if (this.peek() === 0x5e) this.pos++;
    let first = true;
    for (;;) {
      const c = this.next();
      if (c < 0) this.fail("missing ']'");
      if (c === 0x5d && !first) return;
      first = false;
      if (c === 0x5c) { this.escape(); continue; }
      if (this.peek() === 0x2d && this.pos + 1 < this.src.length && this.src[this.pos + 1] !== 0x5d) {
        this.pos++;
        let hi = this.next();
        if (hi === 0x5c) hi = this.next();
        if (hi < c) this.fail("invalid class range");
      }
    }
  }
}

/** null when the filter accepts `pattern`, else the reason it would reject it. */
export function regexProblem(pattern: string): string | null {
  try {
    const size = new Checker(new TextEncoder().encode(pattern)).parse();
    if (size > MAX_PROGRAM) return `pattern too large (more than ${MAX_PROGRAM} instructions)`;
    return null;
  } catch (err) {
    if (err instanceof RegexSyntaxError) return err.message;
    throw err;
  }
}
