// A fast YAML writer for plain JSON data (objects, arrays, strings, numbers, booleans, null) that emits
// exactly the bytes of the `yaml` package's
//   stringify(value, { lineWidth: 0, aliasDuplicateObjects: false })
// (yaml 2.x defaults: YAML 1.2 core schema, block style, two-space indent, sequences indented under
// their key). The `yaml` package first builds a node tree and a context object per value: for the
// 10,000-service benchmark (controller/bench/render.ts --compare) it is 15-18x slower.
//
// It covers what the translation produces. Anything else in a document (multi-line strings, control
// characters, long keys, non-plain objects, undefined in arrays...) makes that document go to the
// caller's fallback, i.e. the `yaml` package itself, so the output never depends on which path wrote it.
// The rules mirror yaml's src/stringify/stringifyString.ts (plainString, quotedString),
// stringifyNumber.ts, stringifyPair.ts and stringifyCollection.ts for these options.
import { Document } from "yaml";

/** Thrown inside the writer when a value is outside what it mirrors exactly; never escapes this module. */
class Unsupported extends Error {}
const UNSUPPORTED = new Unsupported("value outside the plain YAML writer's subset");

// Strings that yaml writes double-quoted whatever else they contain (with YAML escapes of its own).
const FORCES_DOUBLE_QUOTES = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;
// Strings that cannot be plain scalars: an indicator first, "-" or "?" alone or before a space, ": ",
// " #", a trailing space or ":" (yaml's plainString test).
const NOT_PLAIN = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
// yaml quotes the keys of the top-level mapping that start like a document marker.
const DOCUMENT_MARKER = /^(?:%|---|\.\.\.)/;
// yaml writes keys longer than this as explicit `? key` entries.
const MAX_IMPLICIT_KEY = 1024;

/**
 * Plain strings that the core schema would read back as another type (null, booleans, ints, floats):
 * taken from yaml's own schema, so that they are exactly the ones yaml quotes.
 */
const RESOLVES_TO_OTHER_TYPE: RegExp = (() => {
  const tests: string[] = [];
  for (const tag of new Document().schema.tags) {
    if (!tag.default || tag.tag === "tag:yaml.org,2002:str" || !("test" in tag) || !(tag.test instanceof RegExp)) continue;
    if (tag.test.flags !== "") throw new Error(`yaml tag ${tag.tag} has a test with flags "${tag.test.flags}"; plain_yaml.ts assumes none`);
    tests.push(`(?:${tag.test.source})`);
  }
  if (tests.length === 0) throw new Error("yaml's schema has no scalar tests; plain_yaml.ts cannot mirror its quoting");
  // The leading ^ lets the engine try position 0 only (every test is anchored anyway).
  return new RegExp(`^(?:${tests.join("|")})`);
})();

// Printable ASCII characters that make a string non-plain when they come first.
const FIRST_INDICATOR = new Uint8Array(128);
for (const c of " ,[]{}#&*!|>'\"%@`") FIRST_INDICATOR[c.charCodeAt(0)] = 1;
const SPACE = 0x20;
const COLON = 0x3a;
const HASH = 0x23;
const DASH = 0x2d;
const QUESTION = 0x3f;

function quoted(s: string): string {
  // yaml prefers double quotes; single quotes when only double quotes occur inside.
  if (s.includes('"') && !s.includes("'")) return `'${s}'`;
  return JSON.stringify(s);
}

/** yaml's decision by its own regular expressions: the reference, and the path for non-ASCII strings. */
export function scalarStringByRules(s: string, rootKey: boolean): string | undefined {
  if (s.includes("\n") || FORCES_DOUBLE_QUOTES.test(s)) return undefined;
  if (NOT_PLAIN.test(s) || RESOLVES_TO_OTHER_TYPE.test(s) || (rootKey && DOCUMENT_MARKER.test(s))) return quoted(s);
  return s;
}

/**
 * How yaml writes a string on one line (plain or quoted); undefined when outside this writer. One pass
 * over printable ASCII strings; anything else goes by the regular expressions.
 */
export function scalarString(s: string, rootKey: boolean): string | undefined {
  const n = s.length;
  let notPlain = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < SPACE || c > 0x7e) return scalarStringByRules(s, rootKey);
    if (c === SPACE) {
      if (s.charCodeAt(i + 1) === HASH) notPlain = true;
    } else if (c === COLON) {
      if (s.charCodeAt(i + 1) === SPACE) notPlain = true;
    }
  }
  if (n > 0) {
    const first = s.charCodeAt(0);
    const last = s.charCodeAt(n - 1);
    if (FIRST_INDICATOR[first] === 1 || last === SPACE || last === COLON) notPlain = true;
    else if ((first === DASH || first === QUESTION) && (n === 1 || s.charCodeAt(1) === SPACE)) notPlain = true;
  }
  if (notPlain || RESOLVES_TO_OTHER_TYPE.test(s) || (rootKey && DOCUMENT_MARKER.test(s))) return quoted(s);
  return s;
}

function numberText(n: number): string {
  if (Number.isFinite(n)) return Object.is(n, -0) ? "-0" : String(n);
  return Number.isNaN(n) ? ".nan" : n < 0 ? "-.inf" : ".inf";
}

/** "\n" and the indentation of each depth, and the same followed by a sequence item's "- ". */
const newlines: string[] = [];
const itemLines: string[] = [];
function ensureDepth(depth: number): void {
  while (newlines.length <= depth) {
    const nl = `\n${"  ".repeat(newlines.length)}`;
    newlines.push(nl);
    itemLines.push(`${nl}- `);
  }
}

/** A key's text in its four placements: first or later line, before a block or before a scalar. */
interface KeyParts {
  first: string;
  firstSpace: string;
  next: string;
  nextSpace: string;
  /** Whole later lines `key: value` for string values seen with this key (most values repeat). */
  lines: Map<string, string>;
}

// Keys repeat across objects and documents, and so do many `key: value` lines: both are cached (keys
// per depth), across calls. Bounded: at most 64 lines per key, and everything is dropped past 20,000
// entries (the translation's output has fewer than 100 distinct keys).
const MAX_LINES_PER_KEY = 64;
const MAX_CACHED = 20_000;
let cached = 0;
let keyCaches: Map<string, KeyParts>[] = [];

function remember(): void {
  if (++cached > MAX_CACHED) {
    keyCaches = [];
    cached = 0;
  }
}

function keyParts(k: string, depth: number): KeyParts {
  let cache = keyCaches[depth];
  if (!cache) {
    cache = new Map();
    keyCaches[depth] = cache;
  }
  let parts = cache.get(k);
  if (parts === undefined) {
    // The top-level mapping is the only one at depth 0.
    const text = scalarString(k, depth === 0);
    if (text === undefined || text.length > MAX_IMPLICIT_KEY) throw UNSUPPORTED;
    ensureDepth(depth);
    const next = `${newlines[depth]}${text}:`;
    parts = { first: `${text}:`, firstSpace: `${text}: `, next, nextSpace: `${next} `, lines: new Map() };
    remember();
    cache.set(k, parts);
  }
  return parts;
}

/** A later line `key: value` for a string value. */
function stringLine(kp: KeyParts, v: string): string {
  let line = kp.lines.get(v);
  if (line === undefined) {
    const text = scalarString(v, false);
    if (text === undefined) throw UNSUPPORTED;
    line = kp.nextSpace + text;
    if (kp.lines.size < MAX_LINES_PER_KEY) {
      remember();
      kp.lines.set(v, line);
    }
  }
  return line;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  // yaml writes any object with a Symbol.iterator as a sequence.
  return (proto === Object.prototype || proto === null) && !(Symbol.iterator in v);
}

/**
 * Writes documents as a list of pieces, joined by the caller. The pieces are mostly strings that already
 * exist (cached keys, lines and indentation, the input's own strings), so writing allocates little.
 * Building the text with `+=` instead, or as UTF-8 bytes in a Buffer, measured 2x slower.
 */
class Writer {
  readonly parts: string[] = [];

  /** A scalar's text, or "[]" for an empty array; undefined for a non-empty array or a mapping. */
  private inline(v: unknown): string | undefined {
    switch (typeof v) {
      case "string": {
        const text = scalarString(v, false);
        if (text === undefined) throw UNSUPPORTED;
        return text;
      }
      case "number":
        return numberText(v);
      case "boolean":
        return v ? "true" : "false";
      case "object":
        if (v === null) return "null";
        if (Array.isArray(v)) {
          if (Object.getPrototypeOf(v) !== Array.prototype) throw UNSUPPORTED;
          return v.length === 0 ? "[]" : undefined;
        }
        if (!isPlainObject(v)) throw UNSUPPORTED;
        return undefined;
      default:
        throw UNSUPPORTED;
    }
  }

  /**
   * The entries of a mapping at `depth`; the first key continues the current line unless newlineFirst.
   * Returns false when there were none to write (no keys, or only undefined values, which yaml skips).
   * for-in visits the same keys in the same order as yaml's Object.keys (own enumerable string keys:
   * plainYamlDocuments makes sure Object.prototype adds none) and is faster on objects of many shapes.
   */
  map(map: Record<string, unknown>, depth: number, newlineFirst: boolean): boolean {
    const parts = this.parts;
    let onNewLine = newlineFirst;
    let wrote = false;
    for (const k in map) {
      const v = map[k];
      if (v === undefined) continue;
      const kp = keyParts(k, depth);
      if (onNewLine && typeof v === "string") parts.push(stringLine(kp, v));
      else {
        const text = this.inline(v);
        if (text !== undefined) parts.push(onNewLine ? kp.nextSpace : kp.firstSpace, text);
        else {
          const at = parts.length;
          parts.push(onNewLine ? kp.next : kp.first);
          const nonEmpty = Array.isArray(v) ? (this.seq(v, depth + 1, true), true) : this.map(v as Record<string, unknown>, depth + 1, true);
          if (!nonEmpty) {
            // An empty mapping: `{}` on the key's line.
            parts[at] = onNewLine ? kp.nextSpace : kp.firstSpace;
            parts.push("{}");
          }
        }
      }
      onNewLine = true;
      wrote = true;
    }
    return wrote;
  }

  /** A non-empty sequence at `depth`; its first "- " continues the current line unless newlineFirst. */
  seq(seq: readonly unknown[], depth: number, newlineFirst: boolean): void {
    const parts = this.parts;
    ensureDepth(depth);
    const itemLine = itemLines[depth]!;
    for (let i = 0; i < seq.length; i++) {
      const v = seq[i];
      if (v === undefined) throw UNSUPPORTED;
      parts.push(i > 0 || newlineFirst ? itemLine : "- ");
      const text = this.inline(v);
      if (text !== undefined) parts.push(text);
      else if (Array.isArray(v)) this.seq(v, depth + 1, false);
      else if (!this.map(v as Record<string, unknown>, depth + 1, false)) parts.push("{}");
    }
  }

  /** One document (a top-level object or array) ending with a newline. */
  document(value: unknown): void {
    if (typeof value !== "object" || value === null) throw UNSUPPORTED;
    const text = this.inline(value);
    if (text !== undefined) this.parts.push(text);
    else if (Array.isArray(value)) this.seq(value, 0, false);
    else if (!this.map(value as Record<string, unknown>, 0, false)) this.parts.push("{}");
    this.parts.push("\n");
  }
}

/** for-in also visits inherited enumerable keys: only Object.prototype's could be there, normally none. */
function prototypeAddsKeys(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}

// Pieces per join: about 300 KB of text, so each chunk string is allocated outside V8's young generation
// (objects over 128 KiB are), which the garbage collector would otherwise copy twice.
const CHUNK_PARTS = 16_384;

/**
 * Multi-document YAML (documents separated by `---`), as yaml would write each value, joined. Values
 * this writer does not cover go to `fallback` (the `yaml` package's stringify with the same options).
 */
export function plainYamlDocuments(values: readonly unknown[], fallback: (value: unknown) => string): string {
  if (prototypeAddsKeys()) return values.map(fallback).join("---\n");
  const w = new Writer();
  const parts = w.parts;
  const chunks: string[] = [];
  for (let i = 0; i < values.length; i++) {
    if (i > 0) parts.push("---\n");
    const mark = parts.length;
    try {
      w.document(values[i]);
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err;
      parts.length = mark;
      parts.push(fallback(values[i])); // yaml's stringify(undefined) is undefined, which join writes as ""
    }
    if (parts.length >= CHUNK_PARTS) {
      chunks.push(parts.join(""));
      parts.length = 0;
    }
  }
  chunks.push(parts.join(""));
  return chunks.join("");
}

/** One document for a top-level object or array, or undefined when the value is outside this writer. */
export function plainYaml(value: unknown): string | undefined {
  if (prototypeAddsKeys()) return undefined;
  const w = new Writer();
  try {
    w.document(value);
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  return w.parts.join("");
}
