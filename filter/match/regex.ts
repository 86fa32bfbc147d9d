// Regular expressions that match in linear time, for user-supplied patterns in routes and policies.
//
// Semantics follow Envoy's `safe_regex` (RE2): the pattern must match the WHOLE value. The pattern is
// compiled once (at configuration time) to a Thompson NFA program and run as a Pike VM: every input
// byte advances a set of at most program-length threads, so matching is O(len(value) * len(program))
// with no backtracking, whatever the pattern (RE2's guarantee; Russ Cox, "Regular Expression
// Matching: the Virtual Machine Approach"). Matching allocates nothing.
//
// Supported syntax (an RE2 subset, byte-oriented; non-ASCII bytes match literally and `.` matches
// one byte): literals, `.`, classes `[a-z0-9_]` / `[^...]`, escapes `\d \w \s \D \W \S` and escaped
// metacharacters, groups `( )` and `(?: )`, alternation `|`, quantifiers `* + ? {n} {n,} {n,m}`
// (lazy forms accepted, same verdict), anchors `^` at the start and `$` at the end (implicit anyway).
// Backreferences and lookaround are rejected: they cannot be matched in linear time.
//
// Cheaper still: a pattern of up to MAX_DFA_PROGRAM instructions is also turned, at configuration time,
// into a DFA over byte classes (subset construction of the program above), kept when it stays within
// MAX_DFA_CELLS; matching is then one table lookup per byte. The cost model that bounds the matching
// work of a request is in match_budget.ts; controller/translate/regex_check.ts computes the same.
import { MAX_DFA_CELLS, MAX_DFA_PROGRAM, MAX_REGEX_PROGRAM, MAX_REGEX_REPEAT, NFA_STEP_WEIGHT } from "./match_budget";

enum Op { Byte, Class, Any, Split, Jmp, Match }

const MAX_PROGRAM = MAX_REGEX_PROGRAM;
const MAX_REPEAT = MAX_REGEX_REPEAT;
/** The DFA's dead state: no thread left, the value cannot match. */
const DEAD: i32 = 0;

class Inst {
  constructor(public op: Op, public x: i32 = 0, public y: i32 = 0, public cls: StaticArray<u8> | null = null) {}
}

enum NodeKind { Byte, Class, Any, Concat, Alternation, Repeat, Empty }

// The parsed pattern (recursive descent), compiled to instructions by Regex.emit.
class Node {
  kind: NodeKind = NodeKind.Empty;
  byte: u8 = 0;
  cls: StaticArray<u8> | null = null;
  children: Array<Node> = [];
  min: i32 = 0;
  max: i32 = 0; // -1: unbounded
}

export class Regex {
  error: string = "";
  private prog: Array<Inst> = [];
  // Thread lists reused across matches: dense arrays of pcs plus a generation mark per pc.
  private clist: StaticArray<i32> = new StaticArray<i32>(0);
  private nlist: StaticArray<i32> = new StaticArray<i32>(0);
  private mark: StaticArray<u32> = new StaticArray<u32>(0);
  private gen: u32 = 0;
  /**
   * Instructions visited by the last match: each is visited at most once per input position, so at
   * most (value length + 1) x program length (tests check it); each visit pushes at most two more.
   */
  steps: u32 = 0;
  private stack: StaticArray<i32> = new StaticArray<i32>(0);
  /** byte -> its class (bytes no instruction tells apart share one). */
  private classOf: StaticArray<u8> = new StaticArray<u8>(256);
  private classCount: i32 = 1;
  /** The DFA, or null: next state at [state x classCount + class]; state 0 is DEAD, 1 the start. */
  private dfa: StaticArray<u16> | null = null;
  private accepting: StaticArray<u8> = new StaticArray<u8>(0);

  get ok(): bool { return this.error.length == 0; }
  get programLength(): i32 { return this.prog.length; }
  /** The DFA's state count (dead state included), or 0 when matching runs the Pike VM. */
  get dfaStates(): i32 { return this.dfa !== null ? this.accepting.length : 0; }
  /** The most steps one input byte costs (match_budget.ts). */
  get stepsPerByte(): i32 { return this.dfa !== null ? 1 : NFA_STEP_WEIGHT * this.prog.length; }
  /** The most steps a value of up to `maxLen` bytes costs. */
  costFor(maxLen: u32): f64 { return <f64>this.stepsPerByte * (<f64>maxLen + 1); }

  /** `dfa`: false keeps the Pike VM whatever the size (tests compare the two). */
  static compile(pattern: string, dfa: bool = true): Regex {
    const re = new Regex();
    const p = new RegexParser(String.UTF8.encode(pattern, false));
    const node = p.parse();
    if (node === null || p.error.length > 0) {
      re.error = p.error.length > 0 ? p.error : "invalid pattern";
      return re;
    }
    re.emit(node);
    re.prog.push(new Inst(Op.Match));
    if (re.prog.length > MAX_PROGRAM) {
      re.error = "pattern too large (more than " + MAX_PROGRAM.toString() + " instructions)";
      re.prog = [];
      return re;
    }
    const n = re.prog.length;
    re.clist = new StaticArray<i32>(n);
    re.nlist = new StaticArray<i32>(n);
    re.mark = new StaticArray<u32>(n);
    re.stack = new StaticArray<i32>(n * 2 + 2);
    if (dfa && n <= MAX_DFA_PROGRAM) re.buildDfa();
    return re;
  }

  /** Splits the 256 byte values into classes that every instruction treats alike. */
  private buildByteClasses(): void {
    const classOf = this.classOf;
    let count = 1;
    const remap = new StaticArray<i32>(512);
    const next = new StaticArray<u8>(256);
    for (let pc = 0; pc < this.prog.length; pc++) {
      const inst = this.prog[pc];
      if (inst.op != Op.Byte && inst.op != Op.Class) continue;
      for (let k = 0; k < count * 2; k++) remap[k] = -1;
      let fresh = 0;
      for (let b = 0; b < 256; b++) {
        const member = inst.op == Op.Byte ? (<i32>inst.x == b ? 1 : 0) : <i32>(inst.cls as StaticArray<u8>)[b];
        const key = <i32>classOf[b] * 2 + member;
        if (remap[key] < 0) remap[key] = fresh++;
        next[b] = <u8>remap[key];
      }
      for (let b = 0; b < 256; b++) classOf[b] = next[b];
      count = fresh;
    }
    this.classCount = count;
  }

  /**
   * The sorted set of consuming (and Match) instructions reached through splits and jumps: from each of
   * `pcs` itself when `byte` < 0, else from past each of `pcs` that consumes `byte`.
   */
  private closure(pcs: Array<i32>, byte: i32): Array<i32> {
    this.gen++;
    let n = 0;
    for (let i = 0; i < pcs.length; i++) {
      const pc = pcs[i];
      if (byte < 0) { n = this.addThread(this.nlist, n, pc); continue; }
      const inst = this.prog[pc];
      let step = false;
      if (inst.op == Op.Byte) step = inst.x == byte;
      else if (inst.op == Op.Any) step = true;
      else if (inst.op == Op.Class) step = (inst.cls as StaticArray<u8>)[byte] != 0;
      if (step) n = this.addThread(this.nlist, n, pc + 1);
    }
    // Sorted without Array#sort (its TimSort is ~1.2 KB of the module): the list holds exactly the
    // non-Split/Jmp instructions marked in this generation, so one pass over the program finds them in order.
    const out = new Array<i32>(n);
    let j = 0;
    for (let pc = 0; pc < this.prog.length && j < n; pc++) {
      const op = this.prog[pc].op;
      if (this.mark[pc] == this.gen && op != Op.Jmp && op != Op.Split) out[j++] = pc;
    }
    return out;
  }

  /**
   * Subset construction over byte classes; gives up (dfa stays null) past MAX_DFA_CELLS. Done once per
   * pattern at configuration time: at most MAX_DFA_CELLS x MAX_DFA_PROGRAM instruction visits.
   */
  private buildDfa(): void {
    this.buildByteClasses();
    const k = this.classCount;
    const representative = new StaticArray<i32>(k);
    for (let b = 255; b >= 0; b--) representative[this.classOf[b]] = b;
    // The states found so far, each with a hash of its set; a new set is looked up by hash, then compared
    // (no Map<string, i32> keyed by the joined set: one hash map instantiation less in the module).
    const sets: Array<Array<i32>> = [[]]; // DEAD
    const hashes: Array<u32> = [setHash([])];
    const start = this.closure([0], -1);
    sets.push(start);
    hashes.push(setHash(start));
    const cells: Array<u16> = [];
    for (let c = 0; c < k; c++) cells.push(<u16>DEAD);
    for (let s = 1; s < sets.length; s++) {
      for (let c = 0; c < k; c++) {
        const next = this.closure(sets[s], representative[c]);
        let id = DEAD;
        if (next.length > 0) {
          const h = setHash(next);
          id = -1;
          for (let t = 1; t < sets.length; t++) {
            if (hashes[t] == h && sameSet(sets[t], next)) { id = t; break; }
          }
          if (id < 0) {
            id = sets.length;
            if ((id + 1) * k > MAX_DFA_CELLS) { this.steps = 0; return; } // too large: the Pike VM runs it
            sets.push(next);
            hashes.push(h);
          }
        }
        cells.push(<u16>id);
      }
    }
    const table = new StaticArray<u16>(cells.length);
    for (let i = 0; i < cells.length; i++) table[i] = cells[i];
    const accepting = new StaticArray<u8>(sets.length);
    for (let s = 1; s < sets.length; s++) {
      const set = sets[s];
      for (let i = 0; i < set.length; i++) if (this.prog[set[i]].op == Op.Match) accepting[s] = 1;
    }
    this.dfa = table;
    this.accepting = accepting;
    this.steps = 0;
  }

  private emit(node: Node): void {
    switch (node.kind) {
      case NodeKind.Byte: this.prog.push(new Inst(Op.Byte, node.byte)); break;
      case NodeKind.Class: this.prog.push(new Inst(Op.Class, 0, 0, node.cls)); break;
      case NodeKind.Any: this.prog.push(new Inst(Op.Any)); break;
      case NodeKind.Concat: for (let i = 0; i < node.children.length; i++) this.emit(node.children[i]); break;
      case NodeKind.Alternation: {
        // split L1, L2 ; L1: a ; jmp end ; L2: b ...
        const jumps: Array<i32> = [];
        for (let i = 0; i < node.children.length; i++) {
          if (i < node.children.length - 1) {
            const split = this.prog.length;
            this.prog.push(new Inst(Op.Split, split + 1, 0));
            this.emit(node.children[i]);
            jumps.push(this.prog.length);
            this.prog.push(new Inst(Op.Jmp));
            this.prog[split].y = this.prog.length;
          } else {
            this.emit(node.children[i]);
          }
        }
        for (let i = 0; i < jumps.length; i++) this.prog[jumps[i]].x = this.prog.length;
        break;
      }
      case NodeKind.Repeat: {
        const sub = node.children[0];
        for (let i = 0; i < node.min; i++) {
          this.emit(sub);
          if (this.prog.length > MAX_PROGRAM) return;
        }
        if (node.max < 0) {
          // L: split body, end ; body ; jmp L
          const loop = this.prog.length;
          this.prog.push(new Inst(Op.Split, loop + 1, 0));
          this.emit(sub);
          this.prog.push(new Inst(Op.Jmp, loop));
          this.prog[loop].y = this.prog.length;
        } else {
          const splits: Array<i32> = [];
          for (let i = node.min; i < node.max; i++) {
            splits.push(this.prog.length);
            this.prog.push(new Inst(Op.Split, this.prog.length + 1, 0));
            this.emit(sub);
            if (this.prog.length > MAX_PROGRAM) return;
          }
          for (let i = 0; i < splits.length; i++) this.prog[splits[i]].y = this.prog.length;
        }
        break;
      }
      default: break; // empty
    }
  }

  /** Adds pc and everything reachable from it through Split/Jmp to `list`, once per generation. */
  private addThread(list: StaticArray<i32>, count: i32, pc0: i32): i32 {
    let sp = 0;
    unchecked(this.stack[sp++] = pc0);
    while (sp > 0) {
      const pc = unchecked(this.stack[--sp]);
      if (unchecked(this.mark[pc]) == this.gen) continue;
      unchecked(this.mark[pc] = this.gen);
      this.steps++;
      const inst = unchecked(this.prog[pc]);
      if (inst.op == Op.Jmp) {
        unchecked(this.stack[sp++] = inst.x);
      } else if (inst.op == Op.Split) {
        unchecked(this.stack[sp++] = inst.y);
        unchecked(this.stack[sp++] = inst.x);
      } else {
        unchecked(list[count++] = pc);
      }
    }
    return count;
  }

  /** True when the whole of [ptr, ptr+len) matches. */
  matchBytes(ptr: usize, len: u32): bool {
    if (!this.ok) return false;
    if (this.dfa !== null) return this.matchDfa(ptr, len);
    return this.matchNfa(ptr, len);
  }

  /** One lookup per byte; `steps` counts the bytes read (the dead state ends it early). */
  private matchDfa(ptr: usize, len: u32): bool {
    const table = this.dfa as StaticArray<u16>;
    const classOf = this.classOf;
    const k = this.classCount;
    let state: i32 = 1;
    let i: u32 = 0;
    for (; i < len && state != DEAD; i++) {
      state = <i32>unchecked(table[state * k + <i32>unchecked(classOf[load<u8>(ptr + i)])]);
    }
    this.steps = i + 1;
    return unchecked(this.accepting[state]) != 0;
  }

  private matchNfa(ptr: usize, len: u32): bool {
    this.steps = 0;
    this.gen++;
    let clist = this.clist;
    let nlist = this.nlist;
    let ccount = this.addThread(clist, 0, 0);
    for (let i: u32 = 0; i < len && ccount > 0; i++) {
      const b = load<u8>(ptr + i);
      this.gen++;
      let ncount = 0;
      for (let t = 0; t < ccount; t++) {
        const pc = unchecked(clist[t]);
        const inst = unchecked(this.prog[pc]);
        let step = false;
        if (inst.op == Op.Byte) step = <u8>inst.x == b;
        else if (inst.op == Op.Any) step = true;
        else if (inst.op == Op.Class) step = unchecked((inst.cls as StaticArray<u8>)[b]) != 0;
        if (step) ncount = this.addThread(nlist, ncount, pc + 1);
      }
      const tmp = clist; clist = nlist; nlist = tmp;
      ccount = ncount;
    }
    for (let t = 0; t < ccount; t++) {
      if (unchecked(this.prog[unchecked(clist[t])]).op == Op.Match) return true;
    }
    return false;
  }

  matches(s: string): bool {
    const utf8 = String.UTF8.encode(s, false);
    return this.matchBytes(changetype<usize>(utf8), <u32>utf8.byteLength);
  }
}

class RegexParser {
  pos: i32 = 0;
  error: string = "";
  constructor(private src: ArrayBuffer) {}

  private get len(): i32 { return this.src.byteLength; }
  private peek(): i32 { return this.pos < this.len ? <i32>load<u8>(changetype<usize>(this.src) + this.pos) : -1; }
  private next(): i32 { const c = this.peek(); if (c >= 0) this.pos++; return c; }

  private fail(msg: string): Node | null {
    if (this.error.length == 0) this.error = msg + " at offset " + this.pos.toString();
    return null;
  }

  parse(): Node | null {
    if (this.peek() == 0x5e) this.pos++; // leading ^ : matching is anchored anyway
    const n = this.alternation(0);
    if (n === null) return null;
    if (this.pos < this.len) return this.fail("unexpected ')'");
    return n;
  }

  private alternation(depth: i32): Node | null {
    if (depth > 100) return this.fail("nesting too deep");
    const first = this.concat(depth);
    if (first === null) return null;
    if (this.peek() != 0x7c) return first;
    const alt = new Node();
    alt.kind = NodeKind.Alternation;
    alt.children.push(first);
    while (this.peek() == 0x7c) {
      this.pos++;
      const n = this.concat(depth);
      if (n === null) return null;
      alt.children.push(n);
    }
    return alt;
  }

  private concat(depth: i32): Node | null {
    const cat = new Node();
    cat.kind = NodeKind.Concat;
    while (true) {
      const c = this.peek();
      if (c < 0 || c == 0x7c || c == 0x29) break;
      if (c == 0x24 && this.pos == this.len - 1) { this.pos++; break; } // trailing $
      const atom = this.atom(depth);
      if (atom === null) return null;
      const q = this.quantified(atom);
      if (q === null) return null;
      cat.children.push(q);
    }
    if (cat.children.length == 0) { return new Node(); }
    return cat.children.length == 1 ? cat.children[0] : cat;
  }

  private number(): i32 {
    let n = -1;
    while (this.peek() >= 0x30 && this.peek() <= 0x39) {
      n = (n < 0 ? 0 : n) * 10 + (this.next() - 0x30);
      if (n > 100000) return 100001;
    }
    return n;
  }

  private quantified(atom: Node): Node | null {
    let node = atom;
    while (true) {
      const c = this.peek();
      let min = -1, max = -1;
      if (c == 0x2a) { this.pos++; min = 0; max = -1; }
      else if (c == 0x2b) { this.pos++; min = 1; max = -1; }
      else if (c == 0x3f) { this.pos++; min = 0; max = 1; }
      else if (c == 0x7b) {
        const save = this.pos;
        this.pos++;
        min = this.number();
        if (min < 0) { this.pos = save; return node; } // a literal '{' (RE2 accepts it)
        max = min;
        if (this.peek() == 0x2c) { this.pos++; max = this.number(); }
        if (this.next() != 0x7d) return this.fail("invalid repetition");
        if (min > MAX_REPEAT || max > MAX_REPEAT) return this.fail("repetition count above " + MAX_REPEAT.toString());
        if (max >= 0 && max < min) return this.fail("invalid repetition range");
      } else return node;
      if (this.peek() == 0x3f) this.pos++; // lazy: same match/no-match verdict
      if (node.kind == NodeKind.Repeat) return this.fail("nested quantifier");
      const r = new Node();
      r.kind = NodeKind.Repeat;
      r.min = min;
      r.max = max;
      r.children.push(node);
      node = r;
    }
  }

  private atom(depth: i32): Node | null {
    const c = this.next();
    const n = new Node();
    if (c == 0x28) { // (
      if (this.peek() == 0x3f) {
        this.pos++;
        if (this.next() != 0x3a) return this.fail("unsupported group (lookaround and flags cannot run in linear time here)");
      }
      const inner = this.alternation(depth + 1);
      if (inner === null) return null;
      if (this.next() != 0x29) return this.fail("missing ')'");
      // Wrapped, so a quantifier on a group such as (a+)+ is not taken for a doubled quantifier (a++).
      const group = new Node();
      group.kind = NodeKind.Concat;
      group.children.push(inner);
      return group;
    }
    if (c == 0x2e) { n.kind = NodeKind.Any; return n; }
    if (c == 0x5b) return this.charClass();
    if (c == 0x5c) return this.escape(false, null);
    if (c == 0x2a || c == 0x2b || c == 0x3f) return this.fail("quantifier without operand");
    if (c == 0x5e || c == 0x24) return this.fail("anchors are only supported at the ends");
    n.kind = NodeKind.Byte;
    n.byte = <u8>c;
    return n;
  }

  /** After a backslash. In a class, `into` receives the bytes and null is returned on success. */
  private escape(inClass: bool, into: StaticArray<u8> | null): Node | null {
    const c = this.next();
    if (c < 0) return this.fail("trailing backslash");
    const cls = new StaticArray<u8>(256);
    let isClass = true;
    if (c == 0x64 || c == 0x44) { for (let b = 0x30; b <= 0x39; b++) cls[b] = 1; }
    else if (c == 0x77 || c == 0x57) {
      for (let b = 0x30; b <= 0x39; b++) cls[b] = 1;
      for (let b = 0x41; b <= 0x5a; b++) cls[b] = 1;
      for (let b = 0x61; b <= 0x7a; b++) cls[b] = 1;
      cls[0x5f] = 1;
    } else if (c == 0x73 || c == 0x53) { cls[0x20] = 1; cls[0x09] = 1; cls[0x0a] = 1; cls[0x0b] = 1; cls[0x0c] = 1; cls[0x0d] = 1; }
    else isClass = false;
    if (isClass && (c == 0x44 || c == 0x57 || c == 0x53)) for (let b = 0; b < 256; b++) cls[b] = cls[b] ? 0 : 1;

    let literal: i32 = -1;
    if (!isClass) {
      if (c == 0x6e) literal = 0x0a;
      else if (c == 0x74) literal = 0x09;
      else if (c == 0x72) literal = 0x0d;
      else if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) {
        return this.fail("unsupported escape \\" + String.fromCharCode(c) + (c >= 0x31 && c <= 0x39 ? " (backreferences cannot run in linear time)" : ""));
      } else literal = c; // escaped punctuation
    }
    if (inClass) {
      const target = into as StaticArray<u8>;
      if (isClass) { for (let b = 0; b < 256; b++) if (cls[b]) target[b] = 1; }
      else target[literal] = 1;
      return null;
    }
    const n = new Node();
    if (isClass) { n.kind = NodeKind.Class; n.cls = cls; }
    else { n.kind = NodeKind.Byte; n.byte = <u8>literal; }
    return n;
  }

  private charClass(): Node | null {
    const cls = new StaticArray<u8>(256);
    let negate = false;
    if (this.peek() == 0x5e) { negate = true; this.pos++; }
    let first = true;
    while (true) {
      let c = this.next();
      if (c < 0) return this.fail("missing ']'");
      if (c == 0x5d && !first) break;
      first = false;
      if (c == 0x5c) {
        const before = this.error.length;
        this.escape(true, cls);
        if (this.error.length != before) return null;
        continue;
      }
      if (this.peek() == 0x2d && this.pos + 1 < this.len && load<u8>(changetype<usize>(this.src) + this.pos + 1) != 0x5d) {
        this.pos++;
        let hi = this.next();
        if (hi == 0x5c) { hi = this.next(); }
        if (hi < c) return this.fail("invalid class range");
        for (let b = c; b <= hi; b++) cls[b] = 1;
        continue;
      }
      cls[c] = 1;
    }
    if (negate) for (let b = 0; b < 256; b++) cls[b] = cls[b] ? 0 : 1;
    const n = new Node();
    n.kind = NodeKind.Class;
    n.cls = cls;
    return n;
  }
}

/** FNV-1a over a DFA state's instruction set. */
function setHash(set: Array<i32>): u32 {
  let h: u32 = 2166136261;
  for (let i = 0; i < set.length; i++) h = (h ^ <u32>set[i]) * 16777619;
  return h;
}

function sameSet(a: Array<i32>, b: Array<i32>): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
  return true;
}
