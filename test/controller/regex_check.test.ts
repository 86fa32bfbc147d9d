// The controller rejects exactly the regular expressions the filter's linear-time matcher rejects
// (filter/match/regex.ts), which the JSON schema cannot express.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { regexProblem } from "../../controller/translate/regex_check";
import { repoRoot } from "./support";

function regexesIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => regexesIn(v, out));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "regex" && typeof v === "string") out.push(v);
      else regexesIn(v, out);
    }
  }
  return out;
}

test("the regexes of the filter's filter-only-invalid fixtures are rejected", () => {
  const dir = path.join(repoRoot, "test/config/fixtures/filter-only-invalid");
  const files = readdirSync(dir);
  assert.ok(files.length > 0);
  for (const f of files) {
    const regexes = regexesIn(JSON.parse(readFileSync(path.join(dir, f), "utf8")));
    assert.ok(regexes.length > 0, f);
    for (const r of regexes) assert.notEqual(regexProblem(r), null, `${f}: ${r}`);
  }
});

test("the regexes of the filter's valid fixtures are accepted", () => {
  const dir = path.join(repoRoot, "test/config/fixtures/valid");
  for (const f of readdirSync(dir)) {
    let parsed: unknown;
    try { parsed = JSON.parse(readFileSync(path.join(dir, f), "utf8")); } catch { continue; }
    for (const r of regexesIn(parsed)) assert.equal(regexProblem(r), null, `${f}: ${r}`);
  }
});

test("accepted syntax", () => {
  for (const r of ["", "abc", "a.c", "[a-z0-9_]+", "[^.]*", "\\d{3}-\\d{4}", "(?:get|set)[A-Z]\\w*", "^1\\.[0-9]+$", "a{2,}", "a{,3}", "x{", "(a+)+", "a*?", "[]a]", "\\.\\*\\(", "é+"]) {
    assert.equal(regexProblem(r), null, r);
  }
});

test("rejected syntax, with the filter's reasons", () => {
  const cases: [string, RegExp][] = [
    ["(a)\\1", /backreferences/],
    ["(?=a)b", /lookaround/],
    ["(?i)abc", /unsupported group/],
    ["a**", /nested quantifier/],
    ["a+{2}", /nested quantifier/],
    ["*a", /quantifier without operand/],
    ["a^b", /anchors/],
    ["a$b", /anchors/],
    ["a{101}", /repetition count/],
    ["a{3,2}", /invalid repetition range/],
    ["(ab", /missing '\)'/],
    ["ab)", /unexpected '\)'/],
    ["[abc", /missing '\]'/],
    ["[z-a]", /invalid class range/],
    ["\\p{L}", /unsupported escape/],
    ["abc\\", /trailing backslash/],
    ["(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))", /nesting too deep/],
    ["(a{100}){100}", /too large/],
  ];
  for (const [r, reason] of cases) assert.match(regexProblem(r) ?? "accepted", reason, r);
});
