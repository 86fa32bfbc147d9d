// The fast YAML writer (controller/render/plain_yaml.ts) against the `yaml` package it mirrors: the same
// bytes as stringify(value, { lineWidth: 0, aliasDuplicateObjects: false }) on every golden case, on the
// benchmark's objects, on adversarial and random data; and what it writes parses back to the input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { benchOptions, benchSnapshot } from "../../controller/bench/snapshot";
import { toYaml } from "../../controller/render/output";
import { plainYaml, plainYamlDocuments, scalarString, scalarStringByRules } from "../../controller/render/plain_yaml";
import { translate } from "../../controller/translate/translate";
import { prng } from "../support/prng";
import { loadCase, testdata } from "./support";

const yamlOf = (v: unknown): string => stringify(v, { lineWidth: 0, aliasDuplicateObjects: false });
const reference = (values: readonly unknown[]): string => values.map(yamlOf).join("---\n");
const parsedBack = (text: string): unknown[] =>
  parseAllDocuments(text).map((d) => {
    assert.deepEqual(d.errors, [], "the output parses without errors");
    return d.toJS();
  });
/** What the documents mean as JSON (yaml leaves out undefined values in mappings, as JSON does). */
const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** Same bytes as yaml, every document written by the fast path, and it parses back to the input. */
function assertMirrorsYaml(values: readonly unknown[], what: string, roundTrip = true): void {
  const text = plainYamlDocuments(values, () => assert.fail(`${what}: a document fell back to the yaml package`));
  assert.equal(text, reference(values), `${what}: bytes differ from the yaml package`);
  if (roundTrip) assert.deepEqual(parsedBack(text), values.map(asJson), `${what}: does not parse back to the input`);
}

test("plain_yaml: every golden case's output, byte for byte", () => {
  const cases = readdirSync(testdata).filter((d) => existsSync(path.join(testdata, d, "input.yaml")));
  assert.ok(cases.length >= 10);
  let documents = 0;
  for (const name of cases) {
    const { snapshot, options } = loadCase(name);
    const { objects } = translate(snapshot, options);
    assertMirrorsYaml(objects, name);
    assert.equal(toYaml(objects), reference(objects), `${name}: toYaml`);
    documents += objects.length;
  }
  assert.ok(documents > 20, `only ${documents} documents in the golden cases`);
});

test("plain_yaml: the benchmark's objects (thrift and dubbo, EnvoyFilters with JSON configs)", () => {
  const { objects } = translate(benchSnapshot(60), benchOptions);
  assert.equal(objects.length, 120);
  assertMirrorsYaml(objects, "bench");
});

// Strings whose YAML form depends on yaml's quoting rules, YAML 1.2 core types and YAML 1.1 look-alikes.
const ADVERSARIAL = [
  "", " ", "  ", "a", "a b", " a", "a ", " a ", "a  b",
  "'", '"', "''", '""', "a'b", 'a"b', `'"`, `"'`, "it's", 'say "hi"', `'both" kinds`,
  ":", "a:", ":a", "a:b", "a: b", "a :b", "a::b", "http://x:80/y", "10.0.0.1:20880", "a:\tb",
  "#", "#a", "a#", "a#b", "a #b", "a\t#b", "# comment", "a #",
  "-", "--", "---", "---a", "--- a", "-a", "- a", "-\ta", "- ", "a - b", "a-",
  "?", "??", "?a", "? a", "a?", "...", "....", "...a",
  "%", "%YAML", "@a", "`a", "!a", "!!str", "&a", "*a", "|", "|-", ">", ">-", "{", "}", "[", "]", "{}", "[]", ",", "a,b", ",a", "a,",
  "yes", "no", "Yes", "NO", "on", "off", "On", "OFF", "y", "n", "Y", "N",
  "true", "false", "True", "False", "TRUE", "FALSE", "tRue",
  "null", "Null", "NULL", "nULL", "~", "~a",
  "0", "1", "-1", "+1", "010", "0o10", "0o8", "0x10", "0X10", "0xg", "0b101", "1_000", "1,000", "1:20", "1:20:30",
  "1e3", "1E3", "1e+3", "1e-3", "-1e3", "1.5e3", ".5e3", "1.e3", "e3", "1e", "1.5", ".5", "5.", "-.5", "+.5", "1.2.3", "0.1",
  ".inf", "-.inf", "+.inf", ".Inf", ".INF", "-.Inf", ".nan", ".NaN", ".NAN", "inf", "nan", "NaN", "Infinity", "-Infinity",
  "\\", "\\n", "a\\nb", "C:\\path", "\\u0041",
  "\t", "\ta", "a\t", "a\tb", "\t#",
  "\n", "a\nb", "a\n", "\na", "a\n\nb", " a\n b ", "a\r\nb", "\r",
  "\u0000", "\u0007", "\u0008", "\u000b", "\u000c", "\u001b", "\u007f", "\u0085", "\u0090", "\u009f",
  "\u00a0", "a\u00a0", "\u2028", "\u2029", "\ufeff", "\ufeffa",
  "é", "naïve", "日本語", "😀", "a😀b", "\ud800", "a\udc00", "\udc00\ud800",
  "a".repeat(2000), `${"b ".repeat(500)}c`,
];

function placements(s: string): unknown[] {
  return [
    { value: s },
    { [s]: "value" },
    { nested: { [s]: s, list: [s, { [s]: [s] }] } },
    [s],
    [[s, s], { a: s }, { [s]: { [s]: s } }],
    { k: { [s]: { [s]: s } } },
  ];
}

/** One-line strings without control characters, lone surrogates or overlong keys are the fast path's. */
const fastPathCovers = (s: string): boolean => !s.includes("\n") && !/[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u.test(s) && s.length < 1000;

test("plain_yaml: adversarial strings as keys, values and items, byte for byte", () => {
  let fast = 0;
  for (const s of ADVERSARIAL) {
    for (const doc of placements(s)) {
      const what = `${JSON.stringify(s).slice(0, 40)} in ${JSON.stringify(doc).slice(0, 60)}`;
      const single = plainYaml(doc);
      const expected = yamlOf(doc);
      if (fastPathCovers(s)) {
        assert.equal(single, expected, what);
        fast++;
      } else if (single !== undefined) assert.equal(single, expected, what);
      // Through toYaml either path gives yaml's bytes, and the text reads back as the input.
      const text = toYaml([doc as object]);
      assert.equal(text, expected, `${what}: toYaml`);
      // yaml itself writes a leading U+FEFF plainly, and its parser takes it for a byte order mark at
      // the very start of a document: the same bytes, a known yaml round-trip gap, not the writer's.
      if (!text.startsWith("\ufeff")) assert.deepEqual(parsedBack(text), [asJson(doc)], `${what}: parse back`);
    }
  }
  assert.ok(fast > 1000, `only ${fast} documents went through the fast path`);
});

test("plain_yaml: the one-pass string scan decides exactly as yaml's regular expressions", () => {
  // Every string of up to 3 characters over an alphabet of what matters to the rules.
  const alphabet = [" ", "\t", ":", "#", "-", "?", ".", ",", "'", '"', "0", "1", "e", "x", "n", "a", "~", "+", "%", "!", "\n", "é"];
  let strings = [""];
  let all = [""];
  for (let len = 1; len <= 3; len++) {
    strings = strings.flatMap((s) => alphabet.map((c) => s + c));
    all = all.concat(strings);
  }
  for (const s of all) {
    for (const rootKey of [false, true]) assert.equal(scalarString(s, rootKey), scalarStringByRules(s, rootKey), JSON.stringify(s));
  }
  // And those yaml writes: the ones the writer covers, as values and as top-level and nested keys (in
  // mappings of 100 keys: yaml's parser checks duplicate keys in quadratic time).
  const covered = all.filter(fastPathCovers);
  const docs: unknown[] = [covered];
  for (let i = 0; i < covered.length; i += 100) {
    const some = covered.slice(i, i + 100);
    docs.push(Object.fromEntries(some.map((s) => [s, s])), { n: Object.fromEntries(some.map((s) => [s, [s]])) });
  }
  assertMirrorsYaml(docs, "exhaustive short strings");
});

function randomValue(next: () => number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const randomString = (): string => {
    const pieces = ["a", "b", " ", ":", "#", "-", "?", "'", '"', "0", "1", ".", "e", "x", "yes", "null", "true", "\t", "/", "|", "@", "%", "é", "😀", "---", "..."];
    let s = "";
    const n = Math.floor(next() * 6);
    for (let i = 0; i < n; i++) s += pick(pieces);
    return s;
  };
  const r = next();
  if (depth > 4 || r < 0.45) {
    return pick<() => unknown>([
      randomString,
      randomString,
      randomString,
      () => Math.floor(next() * 2000) - 1000,
      () => (next() - 0.5) * 10 ** Math.floor(next() * 30 - 10),
      () => pick([0, 1, 0.1, 1e21, 1e-7, 123456789012, -3.5]),
      () => next() < 0.5,
      () => null,
    ])();
  }
  const n = Math.floor(next() * 4);
  if (r < 0.7) return Array.from({ length: n }, () => randomValue(next, depth + 1));
  const map: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) map[next() < 0.2 ? String(Math.floor(next() * 100)) : randomString()] = next() < 0.1 ? undefined : randomValue(next, depth + 1);
  return map;
}

test("plain_yaml: random documents (seeded), byte for byte, and they parse back", () => {
  const next = prng(20260601);
  const docs: unknown[] = [];
  while (docs.length < 3000) {
    const v = randomValue(next, 0);
    if (v !== null && typeof v === "object") docs.push(v);
  }
  assertMirrorsYaml(docs, "random documents");
});

test("plain_yaml: numbers yaml writes its own way (-0, NaN, infinities, exponents)", () => {
  const doc = { values: [-0, 0, NaN, Infinity, -Infinity, 1e21, 1e-7, -1e-7, 0.1, 2 ** 53, -(2 ** 31), 5e-324, 1.7976931348623157e308], negZero: -0 };
  assertMirrorsYaml([doc], "numbers", false);
});

test("plain_yaml: what the fast path leaves to the yaml package still comes out as yaml writes it", () => {
  class Custom {
    a = 1;
  }
  const outside: object[] = [
    { multiLine: "first\nsecond\n" },
    { control: "bell\u0007" },
    { lone: "\ud800" },
    { date: new Date(0) },
    { map: new Map([["a", 1]]) },
    { custom: new Custom() },
    { holes: [1, undefined, 3] },
    { [`k${"e".repeat(1100)}`]: "an explicit key" },
    { iterable: { *[Symbol.iterator]() { yield 1; } } },
    new Custom(),
  ];
  for (const doc of outside) assert.equal(plainYaml(doc), undefined, `${Object.keys(doc)[0]}: the fast path claims it`);
  const mixed = [{ a: 1 }, ...outside, { b: [2] }];
  assert.equal(plainYamlDocuments(mixed, yamlOf), reference(mixed));
  assert.equal(toYaml(mixed), reference(mixed));
});

test("plain_yaml: empty collections and undefined values as yaml writes them", () => {
  const docs = [{}, [], { a: {} }, { a: [] }, { a: { b: undefined } }, [{}, []], [[[]]], { a: undefined }, { a: [{ b: undefined }, { c: {} }] }, Object.create(null)];
  assertMirrorsYaml(docs, "empty collections");
});

test("plain_yaml: an enumerable property on Object.prototype does not leak into the output", () => {
  const docs = [{ a: 1, b: { c: "x" } }];
  Object.defineProperty(Object.prototype, "polluted", { value: "oops", enumerable: true, configurable: true, writable: true });
  try {
    assert.equal(plainYamlDocuments(docs, yamlOf), reference(docs));
  } finally {
    delete (Object.prototype as Record<string, unknown>).polluted;
  }
});
