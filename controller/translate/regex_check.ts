// Whether the filter will accept a user-supplied regular expression. The filter compiles patterns to a
// Thompson NFA and runs them in linear time (filter/match/regex.ts); the JSON schema cannot express
// what it rejects (backreferences, lookaround, huge repetitions), so the controller checks the same
// grammar here and reports a diagnostic instead of handing the filter a configuration it would refuse.
//
// Grammar (byte-oriented, whole-value match): literals, `.`, classes `[...]` / `[^...]`, escapes
// `\d \w \s \D \W \S \n \t \r` and escaped punctuation, groups `( )` / `(?: )`, alternation `|`,
// quantifiers `* + ? {n} {n,} {n,m}` (lazy forms too, counts <= 100, never two in a row), `^` only
// first and `$` only last. The compiled program must stay within 4096 instructions.
//
// Cost: the filter bounds the matching work of a request (filter/match/match_budget.ts, shared with this
// file): a pattern costs (value bytes + 1) steps when it compiles to a DFA within the caps there, else
// NFA_STEP_WEIGHT x program length per byte. regexCost builds the same program and runs the same subset
// construction to know which, so the controller refuses exactly the configurations the filter refuses.
import {
  MATCH_STEP_BUDGET, MAX_DFA_CELLS, MAX_DFA_PROGRAM, MAX_REGEX_PROGRAM, MAX_REGEX_REPEAT, NFA_STEP_WEIGHT,
} from "../../filter/match/match_budget";

const MAX_PROGRAM = MAX_REGEX_PROGRAM;
const MAX_REPEAT = MAX_REGEX_REPEAT;
const MAX_DEPTH = 100;
export { MATCH_STEP_BUDGET };
/** The filter's default limits.maxMetadataValueBytes (filter/codec/codec.ts Limits). */
export const DEFAULT_MAX_METADATA_VALUE_BYTES = 8192;

class RegexSyntaxError extends Error {}

/** An instruction of the filter's program: a byte set to consume (256 flags), or a control op. */
type Inst =
  | { op: "set"; bytes: Uint8Array }
  | { op: "split"; x: number; y: number }
  | { op: "jmp"; x: number }
  | { op: "match" };

/** A parsed piece: appends its instructions like filter/match/regex.ts Regex.emit does. */
type Emit = (prog: Inst[]) => void;

class ProgramTooLarge extends Error {}
const tooLarge = (prog: Inst[]): void => { if (prog.length > MAX_PROGRAM) throw new ProgramTooLarge(); };

const byteSet = (...bytes: number[]): Uint8Array => { const s = new Uint8Array(256); for (const b of bytes) s[b] = 1; return s; };
const ANY = new Uint8Array(256).fill(1);

class Checker {
  private pos = 0;
  constructor(private readonly src: Uint8Array) {}

  private peek(): number { return this.pos < this.src.length ? this.src[this.pos]! : -1; }
  private next(): number { const c = this.peek(); if (c >= 0) this.pos++; return c; }
  private fail(msg: string): never { throw new RegexSyntaxError(`${msg} at offset ${this.pos}`); }

  parse(): Emit {
    if (this.peek() === 0x5e) this.pos++;
    const e = this.alternation(0);
    if (this.pos < this.src.length) this.fail("unexpected ')'");
    return e;
  }

  private alternation(depth: number): Emit {
    if (depth > MAX_DEPTH) this.fail("nesting too deep");
    const branches = [this.concat(depth)];
    while (this.peek() === 0x7c) {
      this.pos++;
      branches.push(this.concat(depth));
    }
    if (branches.length === 1) return branches[0]!;
    return (prog) => {
      const jumps: number[] = [];
      branches.forEach((b, i) => {
        if (i === branches.length - 1) { b(prog); return; }
        const split = { op: "split" as const, x: prog.length + 1, y: 0 };
        prog.push(split);
        b(prog);
        const jmp = { op: "jmp" as const, x: 0 };
        jumps.push(prog.length);
        prog.push(jmp);
        split.y = prog.length;
      });
      for (const j of jumps) (prog[j] as { x: number }).x = prog.length;
      tooLarge(prog);
    };
  }

  private concat(depth: number): Emit {
    const parts: Emit[] = [];
    for (;;) {
      const c = this.peek();
      if (c < 0 || c === 0x7c || c === 0x29) break;
      if (c === 0x24 && this.pos === this.src.length - 1) { this.pos++; break; }
      parts.push(this.quantified(this.atom(depth)));
    }
    return (prog) => { for (const p of parts) { p(prog); tooLarge(prog); } };
  }

  private number(): number {
    let n = -1;
    while (this.peek() >= 0x30 && this.peek() <= 0x39) {
      n = (n < 0 ? 0 : n) * 10 + (this.next() - 0x30);
      if (n > 100000) return 100001;
    }
    return n;
  }

  private quantified(atom: Emit): Emit {
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
    return (prog) => {
      for (let i = 0; i < min; i++) { atom(prog); tooLarge(prog); }
      if (max < 0) {
        const loop = prog.length;
        const split = { op: "split" as const, x: loop + 1, y: 0 };
        prog.push(split);
        atom(prog);
        prog.push({ op: "jmp", x: loop });
        split.y = prog.length;
      } else {
        const splits: { y: number }[] = [];
        for (let i = min; i < max; i++) {
          const split = { op: "split" as const, x: prog.length + 1, y: 0 };
          splits.push(split);
          prog.push(split);
          atom(prog);
          tooLarge(prog);
        }
        for (const s of splits) s.y = prog.length;
      }
    };
  }

  /** At a '{': whether it opens a repetition (digits follow) rather than a literal brace. */
  private isCountedRepeat(): boolean {
    const d = this.src[this.pos + 1];
    return d !== undefined && d >= 0x30 && d <= 0x39;
  }

  private atom(depth: number): Emit {
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
    if (c === 0x2a || c === 0x2b || c === 0x3f) this.fail("quantifier without operand");
    if (c === 0x5e || c === 0x24) this.fail("anchors are only supported at the ends");
    let bytes: Uint8Array;
    if (c === 0x2e) bytes = ANY;
    else if (c === 0x5b) bytes = this.charClass();
    else if (c === 0x5c) bytes = this.escape();
    else bytes = byteSet(c);
    return (prog) => { prog.push({ op: "set", bytes }); };
  }

  /** After a backslash: the bytes it stands for. */
  private escape(): Uint8Array {
    const c = this.next();
    if (c < 0) this.fail("trailing backslash");
    const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
    let cls: Uint8Array | null = null;
    if (c === 0x64 || c === 0x44) cls = byteSet(...range(0x30, 0x39));
    else if (c === 0x77 || c === 0x57) cls = byteSet(...range(0x30, 0x39), ...range(0x41, 0x5a), ...range(0x61, 0x7a), 0x5f);
    else if (c === 0x73 || c === 0x53) cls = byteSet(0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d);
    if (cls !== null) {
      if (c === 0x44 || c === 0x57 || c === 0x53) for (let b = 0; b < 256; b++) cls[b] = cls[b] ? 0 : 1;
      return cls;
    }
    if (c === 0x6e) return byteSet(0x0a);
    if (c === 0x74) return byteSet(0x09);
    if (c === 0x72) return byteSet(0x0d);
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) {
      this.fail(`unsupported escape \\${String.fromCharCode(c)}${c >= 0x31 && c <= 0x39 ? " (backreferences cannot run in linear time)" : ""}`);
    }
    return byteSet(c);
  }

  private charClass(): Uint8Array {
    const cls = new Uint8Array(256);
    let negate = false;
    if (this.peek() === 0x5e) { negate = true; this.pos++; }
    let first = true;
    for (;;) {
      const c = this.next();
      if (c < 0) this.fail("missing ']'");
      if (c === 0x5d && !first) break;
      first = false;
      if (c === 0x5c) { this.escape().forEach((v, b) => { if (v) cls[b] = 1; }); continue; }
      if (this.peek() === 0x2d && this.pos + 1 < this.src.length && this.src[this.pos + 1] !== 0x5d) {
        this.pos++;
        let hi = this.next();
        if (hi === 0x5c) hi = this.next();
        if (hi < c) this.fail("invalid class range");
        for (let b = c; b <= hi; b++) cls[b] = 1;
        continue;
      }
      cls[c] = 1;
    }
    if (negate) for (let b = 0; b < 256; b++) cls[b] = cls[b] ? 0 : 1;
    return cls;
  }
}

/** The consuming (and match) instructions reached from `pc` through splits and jumps. */
function addThread(prog: Inst[], pc0: number, seen: Set<number>, out: number[]): void {
  const stack = [pc0];
  while (stack.length > 0) {
    const pc = stack.pop()!;
    if (seen.has(pc)) continue;
    seen.add(pc);
    const inst = prog[pc]!;
    if (inst.op === "jmp") stack.push(inst.x);
    else if (inst.op === "split") stack.push(inst.y, inst.x);
    else out.push(pc);
  }
}

/** Whether the filter keeps a DFA for `prog` (the same subset construction as filter/match/regex.ts). */
function fitsDfa(prog: Inst[]): boolean {
  if (prog.length > MAX_DFA_PROGRAM) return false;
  // Byte classes: the common refinement of every consuming instruction's byte set.
  let classOf = new Uint8Array(256);
  let classes = 1;
  for (const inst of prog) {
    if (inst.op !== "set") continue;
    const remap = new Map<number, number>();
    const next = new Uint8Array(256);
    for (let b = 0; b < 256; b++) {
      const key = classOf[b]! * 2 + inst.bytes[b]!;
      if (!remap.has(key)) remap.set(key, remap.size);
      next[b] = remap.get(key)!;
    }
    classOf = next;
    classes = remap.size;
  }
  const representative: number[] = [];
  for (let b = 255; b >= 0; b--) representative[classOf[b]!] = b;
  const closure = (pcs: number[], byte: number): number[] => {
    const seen = new Set<number>();
    const out: number[] = [];
    for (const pc of pcs) {
      if (byte < 0) { addThread(prog, pc, seen, out); continue; }
      const inst = prog[pc]!;
      if (inst.op === "set" && inst.bytes[byte]) addThread(prog, pc + 1, seen, out);
    }
    return out.sort((a, b) => a - b);
  };
  const sets: number[][] = [[], closure([0], -1)];
  const known = new Set<string>(["", sets[1]!.join(",")]);
  for (let s = 1; s < sets.length; s++) {
    for (let c = 0; c < classes; c++) {
      const next = closure(sets[s]!, representative[c]!);
      const key = next.join(",");
      if (next.length === 0 || known.has(key)) continue;
      if ((sets.length + 1) * classes > MAX_DFA_CELLS) return false;
      known.add(key);
      sets.push(next);
    }
  }
  return true;
}

/** The filter's compiled program for `pattern`: throws RegexSyntaxError when the filter refuses it. */
function compile(pattern: string): Inst[] {
  const emit = new Checker(new TextEncoder().encode(pattern)).parse();
  const prog: Inst[] = [];
  try {
    emit(prog);
  } catch (err) {
    if (err instanceof ProgramTooLarge) throw new RegexSyntaxError(`pattern too large (more than ${MAX_PROGRAM} instructions)`);
    throw err;
  }
  prog.push({ op: "match" });
  if (prog.length > MAX_PROGRAM) throw new RegexSyntaxError(`pattern too large (more than ${MAX_PROGRAM} instructions)`);
  return prog;
}

/** null when the filter accepts `pattern`, else the reason it would reject it. */
export function regexProblem(pattern: string): string | null {
  try {
    compile(pattern);
    return null;
  } catch (err) {
    if (err instanceof RegexSyntaxError) return err.message;
    throw err;
  }
}

/**
 * The most matching steps the filter spends on `pattern` for a value of up to `maxValueBytes` bytes
 * (filter/match/match_budget.ts); null when the pattern is refused anyway (see regexProblem).
 */
export function regexCost(pattern: string, maxValueBytes: number = DEFAULT_MAX_METADATA_VALUE_BYTES): number | null {
  let prog: Inst[];
  try {
    prog = compile(pattern);
  } catch (err) {
    if (err instanceof RegexSyntaxError) return null;
    throw err;
  }
  const perByte = fitsDfa(prog) ? 1 : NFA_STEP_WEIGHT * prog.length;
  return perByte * (maxValueBytes + 1);
}

/**
 * The filter's matching budget over a whole filter configuration: every string match's regex, priced at
 * the configuration's limits.maxMetadataValueBytes, in the order the filter parses them (routes,
 * localRateLimit, faults, authorization). null when within budget, else the problem, naming the
 * pattern that crosses it (as the filter's parser does).
 */
export function matchBudgetProblem(config: unknown): string | null {
  const root = config as { limits?: { maxMetadataValueBytes?: number } } & Record<string, unknown>;
  const maxValueBytes = root.limits?.maxMetadataValueBytes ?? DEFAULT_MAX_METADATA_VALUE_BYTES;
  let total = 0;
  let problem: string | null = null;
  const walk = (v: unknown, path: string): void => {
    if (problem !== null || v === null || typeof v !== "object") return;
    if (Array.isArray(v)) { v.forEach((item, i) => walk(item, `${path}[${i}]`)); return; }
    for (const [key, value] of Object.entries(v)) {
      const at = path === "" ? key : `${path}.${key}`;
      if (key === "regex" && typeof value === "string") {
        const cost = regexCost(value, maxValueBytes);
        if (cost === null) continue; // reported by regexProblem
        total += cost;
        if (total > MATCH_STEP_BUDGET) {
          problem = `${at}: regex ${JSON.stringify(value)} costs up to ${cost} matching steps on a value of ${maxValueBytes} bytes ` +
            `(limits.maxMetadataValueBytes), bringing the configuration to ${total}, over the filter's budget of ${MATCH_STEP_BUDGET} per request; ` +
            "simplify the pattern, use fewer patterns or lower limits.maxMetadataValueBytes";
          return;
        }
      } else walk(value, at);
    }
  };
  for (const section of ["routes", "localRateLimit", "faults", "authorization"]) walk(root[section], section);
  return problem;
}
