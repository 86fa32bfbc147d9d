// A small JSON parser (RFC 8259) that reports malformed input instead of aborting.
//
// Why not a library: AssemblyScript has no exceptions, and the AssemblyScript JSON libraries
// (assemblyscript-json, json-as) abort on malformed input, which traps the VM. The plugin configuration
// comes from users, so a syntax error must become a log line, not a dead filter. Not on the hot path:
// it runs once per configuration.

export enum JsonKind { Null, Bool, Number, String, Array, Object }

const NO_ITEMS: Array<JsonValue> = [];
const NO_KEYS: Array<string> = [];

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  boolValue: bool = false;
  numberValue: f64 = 0;
  stringValue: string = "";
  /** Array items, or object values (in the order of `keys`). Scalars share empty ones (never changed). */
  items: Array<JsonValue> = NO_ITEMS;
  keys: Array<string> = NO_KEYS;

  /** The value of an object member, or null. */
  get(key: string): JsonValue | null {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.items[i];
    return null;
  }

  kindName(): string {
    switch (this.kind) {
      case JsonKind.Null: return "null";
      case JsonKind.Bool: return "boolean";
      case JsonKind.Number: return "number";
      case JsonKind.String: return "string";
      case JsonKind.Array: return "array";
      default: return "object";
    }
  }
}

export class JsonResult {
  value: JsonValue | null = null;
  /** Empty when parsing succeeded. */
  error: string = "";
}

const MAX_DEPTH = 64;
/**
 * Values a text may hold. Each costs a few hundred bytes of Wasm memory while the text is read, and
 * Wasm memory never shrinks: with this bound and the filter's size bound (plugin.ts MAX_CONFIG_BYTES),
 * even a refused text costs the VM about 16 MiB at most (measured: test/filter/config-size.test.ts).
 * A configuration of 1,000 routes (the schema's maximum) takes about 10 values per route.
 */
export const MAX_VALUES = 32768;

class Parser {
  pos: i32 = 0;
  error: string = "";
  values: i32 = 0;
  constructor(private text: string) {}

  fail(message: string): JsonValue | null {
    if (this.error.length == 0) this.error = message + " at offset " + this.pos.toString();
    return null;
  }

  peek(): i32 { return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1; }

  skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  literal(word: string): bool {
    if (this.text.substr(this.pos, word.length) != word) return false;
    this.pos += word.length;
    return true;
  }

  value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail("nesting deeper than " + MAX_DEPTH.toString());
    if (++this.values > MAX_VALUES) return this.fail("more than " + MAX_VALUES.toString() + " values");
    this.skipSpace();
    const c = this.peek();
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    const v = new JsonValue();
    if (c == 0x22) {
      const s = this.string();
      if (s === null) return null;
      v.kind = JsonKind.String;
      v.stringValue = s;
      return v;
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.literal("true")) { v.kind = JsonKind.Bool; v.boolValue = true; return v; }
    if (this.literal("false")) { v.kind = JsonKind.Bool; return v; }
    if (this.literal("null")) return v;
    return this.fail(c < 0 ? "unexpected end of input" : "unexpected character '" + String.fromCharCode(c) + "'");
  }

  digits(): i32 {
    const start = this.pos;
    while (this.peek() >= 0x30 && this.peek() <= 0x39) this.pos++;
    return this.pos - start;
  }

  number(): JsonValue | null {
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    if (this.peek() == 0x30) this.pos++;
    else if (this.digits() == 0) return this.fail("invalid number");
    if (this.peek() == 0x2e) {
      this.pos++;
      if (this.digits() == 0) return this.fail("invalid number");
    }
    if (this.peek() == 0x65 || this.peek() == 0x45) {
      this.pos++;
      if (this.peek() == 0x2b || this.peek() == 0x2d) this.pos++;
      if (this.digits() == 0) return this.fail("invalid number");
    }
    const v = new JsonValue();
    v.kind = JsonKind.Number;
    v.numberValue = decimalValue(this.text, start, this.pos);
    return v;
  }

  hex4(): i32 {
    if (this.pos + 4 > this.text.length) return -1;
    let n = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.text.charCodeAt(this.pos + i);
      let d: i32;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else return -1;
      n = (n << 4) | d;
    }
    this.pos += 4;
    return n;
  }

  string(): string | null {
    this.pos++; // opening quote
    let out = "";
    let runStart = this.pos;
    while (true) {
      const c = this.peek();
      if (c < 0) { this.fail("unterminated string"); return null; }
      if (c == 0x22) break;
      if (c < 0x20) { this.fail("control character in string"); return null; }
      if (c != 0x5c) { this.pos++; continue; }
      out += this.text.substring(runStart, this.pos);
      this.pos++;
      const e = this.peek();
      this.pos++;
      if (e == 0x22) out += "\"";
      else if (e == 0x5c) out += "\\";
      else if (e == 0x2f) out += "/";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x6e) out += "\n";
      else if (e == 0x72) out += "\r";
      else if (e == 0x74) out += "\t";
      else if (e == 0x75) {
        const u = this.hex4();
        if (u < 0) { this.fail("invalid \\u escape"); return null; }
        out += String.fromCharCode(u);
      } else { this.pos--; this.fail("invalid escape"); return null; }
      runStart = this.pos;
    }
    out += this.text.substring(runStart, this.pos);
    this.pos++; // closing quote
    return out;
  }

  array(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Array;
    this.skipSpace();
    if (this.peek() == 0x5d) { this.pos++; return v; }
    v.items = [];
    while (true) {
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c == 0x5d) return v;
      if (c != 0x2c) { this.pos--; return this.fail("expected ',' or ']'"); }
    }
  }

  object(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Object;
    v.items = [];
    v.keys = [];
    this.skipSpace();
    if (this.peek() == 0x7d) { this.pos++; return v; }
    while (true) {
      this.skipSpace();
      if (this.peek() != 0x22) return this.fail("expected a member name");
      const key = this.string();
      if (key === null) return null;
      if (v.get(key) !== null) return this.fail("duplicate member \"" + key + "\"");
      this.skipSpace();
      if (this.peek() != 0x3a) return this.fail("expected ':'");
      this.pos++;
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.keys.push(key);
      v.items.push(item);
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c == 0x7d) return v;
      if (c != 0x2c) { this.pos--; return this.fail("expected ',' or '}'"); }
    }
  }
}

export function parseJson(text: string): JsonResult {
  const p = new Parser(text);
  const result = new JsonResult();
  const v = p.value(0);
  if (v !== null) {
    p.skipSpace();
    if (p.pos != text.length) p.fail("trailing characters");
  }
  if (p.error.length > 0) result.error = p.error;
  else result.value = v;
  return result;
}

/**
 * The value of a JSON number text[from, to) (already checked against the grammar). Not `parseFloat`:
 * its general `strtod` and tables are ~1.5 KB of the module. Exact (correctly rounded) for up to 15
 * significant digits with a decimal exponent within +-22 (Clinger's fast path: both operands exact,
 * one rounding), which covers every integer limit and percentage of the schema; longer or larger
 * numbers (e.g. a percentage written with 17 digits) may be off by an ulp or two, which no check of
 * the configuration can see (limits are integers, percentages are rounded to parts per million);
 * within a whisker of f64's largest value (~1.8e308) the result may overflow to Infinity.
 */
export function decimalValue(text: string, from: i32, to: i32): f64 {
  let i = from;
  const negative = text.charCodeAt(i) == 0x2d;
  if (negative) i++;
  let mantissa: u64 = 0;
  let digits = 0; // significant digits kept in mantissa (at most 19: a u64 holds them exactly)
  let exponent: i32 = 0;
  let fraction = false;
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x2e) { fraction = true; continue; }
    if (c < 0x30 || c > 0x39) break;
    if (digits < 19) {
      mantissa = mantissa * 10 + <u64>(c - 0x30);
      if (mantissa > 0) digits++;
      if (fraction) exponent--;
    } else if (!fraction) exponent++; // a dropped integer digit still scales the value
  }
  if (i < to) { // e|E [+-] digits
    i++;
    const minus = text.charCodeAt(i) == 0x2d;
    if (minus || text.charCodeAt(i) == 0x2b) i++;
    let e: i32 = 0;
    for (; i < to; i++) if (e < 100000) e = e * 10 + (text.charCodeAt(i) - 0x30);
    exponent += minus ? -e : e;
  }
  let value = <f64>mantissa;
  if (mantissa == 0) exponent = 0;
  // 10^-k for k > 308 is 0 in f64, but mantissa x 10^-k need not be (down to 10^-343 for 19 digits).
  while (exponent < -300) { value /= 1e300; exponent += 300; }
  if (exponent != 0) {
    // 10^|exponent| by squaring: exact up to 10^22.
    let k = exponent < 0 ? -exponent : exponent;
    let power = 1.0;
    let base = 10.0;
    while (k > 0) {
      if (k & 1) power *= base;
      base *= base;
      k >>= 1;
    }
    value = exponent < 0 ? value / power : value * power;
  }
  return negative ? -value : value;
}
