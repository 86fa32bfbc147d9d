// The template language of Slime's SmartLimiter conditions and quotas, evaluated safely: a tokenizer
// and a recursive-descent parser into a small tree, then a walk over it. No eval, no Function.
//
// What Slime accepts (slime-io/slime framework/util calculator, read for facts): a Go template whose
// `{{.a.b.c}}` references are replaced by metric values ("_base.pod", "v2.cpu.sum"), then an integer
// calculator over digits, `.`, `( ) + - * / > < & |`; "true" / "false" as whole conditions. Operands
// are truncated to integers, `/` rounds up, a division by zero gives 0, a condition holds when it
// evaluates to 1.
//
// Meltemi's language is a superset with these differences, chosen so that a typo cannot silently
// become a limit:
// - arithmetic is in float64; comparisons are exact (`0.9 > 0.8` holds; Slime truncates both to 0);
//   the QUOTA is rounded up to a whole number at the end (so `100/{{._base.pod}}` with 3 pods is 34,
//   as Slime's rounding-up division gives);
// - `&&` `||` `>=` `<=` `==` `!=` `!` and unary minus are accepted besides Slime's `&` `|` `>` `<`;
// - whitespace is allowed;
// - types are checked: a condition must be a comparison or logic (a boolean), a quota a number;
// - a division by zero, an unknown metric, a non-finite value is an error with the reason, not 0.

export type Value = number | boolean;
export type ValueType = "number" | "boolean";

export type Node =
  | { kind: "number"; value: number }
  | { kind: "boolean"; value: boolean }
  | { kind: "metric"; name: string }
  | { kind: "unary"; op: "-" | "!"; operand: Node }
  | { kind: "binary"; op: BinaryOp; left: Node; right: Node };

type BinaryOp = "+" | "-" | "*" | "/" | ">" | "<" | ">=" | "<=" | "==" | "!=" | "&&" | "||";

export class ExpressionError extends Error {
  constructor(message: string, readonly position?: number) {
    super(position === undefined ? message : `${message} (at character ${position + 1})`);
  }
}

export const MAX_EXPRESSION_LENGTH = 1024;
const MAX_DEPTH = 32;
/** A metric name inside {{ }}: dot-separated words (`_base.cpu.sum`, `v2.pod`, `rt99`). */
const METRIC_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)*$/;

type Token =
  | { kind: "number"; value: number; pos: number }
  | { kind: "metric"; name: string; pos: number }
  | { kind: "word"; word: string; pos: number }
  | { kind: "op"; op: string; pos: number }
  | { kind: "end"; pos: number };

const OPERATORS = ["&&", "||", ">=", "<=", "==", "!=", "+", "-", "*", "/", ">", "<", "&", "|", "!", "(", ")"];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (text.startsWith("{{", i)) {
      const end = text.indexOf("}}", i + 2);
      if (end < 0) throw new ExpressionError("unclosed {{", i);
      const inner = text.slice(i + 2, end).trim();
      if (!inner.startsWith(".")) throw new ExpressionError(`a reference must start with a dot, as {{.${inner}}}`, i);
      const name = inner.slice(1);
      if (!METRIC_NAME.test(name)) throw new ExpressionError(`"${inner}" is not a metric reference like {{._base.cpu.sum}}`, i);
      tokens.push({ kind: "metric", name, pos: i });
      i = end + 2;
      continue;
    }
    if ((c >= "0" && c <= "9") || c === ".") {
      const m = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i));
      if (!m) throw new ExpressionError(`unexpected "${c}"`, i);
      tokens.push({ kind: "number", value: Number(m[0]), pos: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      const m = /^[A-Za-z]+/.exec(text.slice(i))!;
      if (m[0] !== "true" && m[0] !== "false") throw new ExpressionError(`unknown word "${m[0]}" (metrics are written {{.name}})`, i);
      tokens.push({ kind: "word", word: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw new ExpressionError(`unexpected "${c}"`, i);
    tokens.push({ kind: "op", op, pos: i });
    i += op.length;
  }
  tokens.push({ kind: "end", pos: text.length });
  return tokens;
}

/** Precedence climbing: || < && < comparison < + - < * / < unary. Slime's `&` `|` are `&&` `||`. */
class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.or(0);
    const t = this.peek();
    if (t.kind !== "end") throw new ExpressionError(`unexpected ${describe(t)}`, t.pos);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.at]!;
  }
  private isOp(...ops: string[]): string | null {
    const t = this.peek();
    return t.kind === "op" && ops.includes(t.op) ? t.op : null;
  }
  private depth(d: number): number {
    if (d > MAX_DEPTH) throw new ExpressionError(`nested deeper than ${MAX_DEPTH}`, this.peek().pos);
    return d + 1;
  }

  private or(d: number): Node {
    let left = this.and(this.depth(d));
    while (this.isOp("||", "|")) {
      this.at++;
      left = { kind: "binary", op: "||", left, right: this.and(this.depth(d)) };
    }
    return left;
  }
  private and(d: number): Node {
    let left = this.comparison(this.depth(d));
    while (this.isOp("&&", "&")) {
      this.at++;
      left = { kind: "binary", op: "&&", left, right: this.comparison(this.depth(d)) };
    }
    return left;
  }
  private comparison(d: number): Node {
    const left = this.additive(this.depth(d));
    const op = this.isOp(">", "<", ">=", "<=", "==", "!=");
    if (!op) return left;
    this.at++;
    const right = this.additive(this.depth(d));
    const next = this.isOp(">", "<", ">=", "<=", "==", "!=");
    if (next) throw new ExpressionError("comparisons cannot be chained; use && between them", this.peek().pos);
    return { kind: "binary", op: op as BinaryOp, left, right };
  }
  private additive(d: number): Node {
    let left = this.multiplicative(this.depth(d));
    for (let op = this.isOp("+", "-"); op; op = this.isOp("+", "-")) {
      this.at++;
      left = { kind: "binary", op: op as BinaryOp, left, right: this.multiplicative(this.depth(d)) };
    }
    return left;
  }
  private multiplicative(d: number): Node {
    let left = this.unary(this.depth(d));
    for (let op = this.isOp("*", "/"); op; op = this.isOp("*", "/")) {
      this.at++;
      left = { kind: "binary", op: op as BinaryOp, left, right: this.unary(this.depth(d)) };
    }
    return left;
  }
  private unary(d: number): Node {
    const op = this.isOp("-", "!");
    if (op) {
      this.at++;
      return { kind: "unary", op: op as "-" | "!", operand: this.unary(this.depth(d)) };
    }
    return this.primary(this.depth(d));
  }
  private primary(d: number): Node {
    const t = this.peek();
    if (t.kind === "number") {
      this.at++;
      return { kind: "number", value: t.value };
    }
    if (t.kind === "metric") {
      this.at++;
      return { kind: "metric", name: t.name };
    }
    if (t.kind === "word" && (t.word === "true" || t.word === "false")) {
      this.at++;
      return { kind: "boolean", value: t.word === "true" };
    }
    if (t.kind === "op" && t.op === "(") {
      this.at++;
      const inner = this.or(this.depth(d));
      if (!this.isOp(")")) throw new ExpressionError(`expected ")" but found ${describe(this.peek())}`, this.peek().pos);
      this.at++;
      return inner;
    }
    if (t.kind === "word") throw new ExpressionError(`unknown word "${t.word}" (metrics are written {{.name}})`, t.pos);
    throw new ExpressionError(`expected a number, a {{.metric}} or "(" but found ${describe(t)}`, t.pos);
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case "end": return "the end";
    case "number": return `number ${t.value}`;
    case "metric": return `{{.${t.name}}}`;
    case "word": return `"${t.word}"`;
    case "op": return `"${t.op}"`;
  }
}

function typeOf(node: Node): ValueType {
  switch (node.kind) {
    case "number":
    case "metric":
      return "number";
    case "boolean":
      return "boolean";
    case "unary": {
      const want: ValueType = node.op === "-" ? "number" : "boolean";
      if (typeOf(node.operand) !== want) throw new ExpressionError(`"${node.op}" needs a ${want}`);
      return want;
    }
    case "binary": {
      const l = typeOf(node.left);
      const r = typeOf(node.right);
      if (node.op === "&&" || node.op === "||") {
        if (l !== "boolean" || r !== "boolean") throw new ExpressionError(`"${node.op}" joins comparisons, e.g. {{.a}}>1 && {{.b}}<2`);
        return "boolean";
      }
      if (node.op === "==" || node.op === "!=") {
        if (l !== r) throw new ExpressionError(`"${node.op}" compares a ${l} with a ${r}`);
        return "boolean";
      }
      if (l !== "number" || r !== "number") throw new ExpressionError(`"${node.op}" needs numbers`);
      return node.op === "+" || node.op === "-" || node.op === "*" || node.op === "/" ? "number" : "boolean";
    }
  }
}

export interface Expression {
  source: string;
  tree: Node;
  type: ValueType;
  /** Every metric name the expression reads, in order of first use. */
  metrics: string[];
}

/** Parses a condition or quota; throws ExpressionError with the reason. */
export function compile(source: string): Expression {
  if (source.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`longer than ${MAX_EXPRESSION_LENGTH} characters`);
  if (source.trim() === "") throw new ExpressionError("empty");
  const tree = new Parser(tokenize(source)).parse();
  const metrics: string[] = [];
  const collect = (n: Node): void => {
    if (n.kind === "metric" && !metrics.includes(n.name)) metrics.push(n.name);
    else if (n.kind === "unary") collect(n.operand);
    else if (n.kind === "binary") {
      collect(n.left);
      collect(n.right);
    }
  };
  collect(tree);
  return { source, tree, type: typeOf(tree), metrics };
}

export function compileCondition(source: string): Expression {
  const e = compile(source);
  if (e.type !== "boolean") throw new ExpressionError(`a condition must be a comparison or "true" (e.g. {{._base.cpu.sum}}>100), "${source}" is a number`);
  return e;
}

export function compileQuota(source: string): Expression {
  const e = compile(source);
  if (e.type !== "number") throw new ExpressionError(`a quota must be a number or arithmetic (e.g. 100/{{._base.pod}}), "${source}" is a comparison`);
  return e;
}

/** Evaluates with metric values by name; throws ExpressionError on a missing metric or a bad result. */
export function evaluate(e: Expression, metrics: ReadonlyMap<string, number>): Value {
  const walk = (n: Node): Value => {
    switch (n.kind) {
      case "number":
      case "boolean":
        return n.value;
      case "metric": {
        const v = metrics.get(n.name);
        if (v === undefined) throw new ExpressionError(`no value for {{.${n.name}}}`);
        return v;
      }
      case "unary": {
        const v = walk(n.operand);
        return n.op === "-" ? -(v as number) : !(v as boolean);
      }
      case "binary": {
        if (n.op === "&&") return (walk(n.left) as boolean) && (walk(n.right) as boolean);
        if (n.op === "||") return (walk(n.left) as boolean) || (walk(n.right) as boolean);
        const l = walk(n.left);
        const r = walk(n.right);
        switch (n.op) {
          case "+": return (l as number) + (r as number);
          case "-": return (l as number) - (r as number);
          case "*": return (l as number) * (r as number);
          case "/":
            if (r === 0) throw new ExpressionError("division by zero");
            return (l as number) / (r as number);
          case ">": return l > r;
          case "<": return l < r;
          case ">=": return l >= r;
          case "<=": return l <= r;
          case "==": return l === r;
          case "!=": return l !== r;
        }
      }
    }
  };
  const v = walk(e.tree);
  if (typeof v === "number" && !Number.isFinite(v)) throw new ExpressionError(`"${e.source}" is not a finite number`);
  return v;
}

/** A quota as a whole number of requests: rounded up (Slime's division rounds up), at least 0. */
export function evaluateQuota(e: Expression, metrics: ReadonlyMap<string, number>): number {
  const v = evaluate(e, metrics) as number;
  if (v < 0) throw new ExpressionError(`quota "${e.source}" is negative (${v})`);
  // 1e-9 of slack: 0.1*3 is 0.30000000000000004 in float64, which must not become 1 request more.
  return Math.max(0, Math.ceil(v - 1e-9));
}
