// The controller rejects exactly the regular expressions the filter's linear-time matcher rejects
// (filter/match/regex.ts), which the JSON schema cannot express.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { matchBudgetProblem, regexCost, regexProblem } from "../../controller/translate/regex_check";
import { WasmHost } from "../host/index";
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
    const config = JSON.parse(readFileSync(path.join(dir, f), "utf8"));
    const syntax = regexes.some((r) => regexProblem(r) !== null);
    assert.ok(syntax || matchBudgetProblem(config) !== null, `${f}: neither a pattern nor the budget is refused`);
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

/** The filter's verdict on a configuration (the built module in the Node host). */
async function filterError(config: unknown): Promise<string | null> {
  const vm = await WasmHost.load(path.join(repoRoot, "build/meltemi.wasm"), { pluginName: "budget" });
  vm.configure(JSON.stringify(config));
  if (vm.logs.some((l) => l.message.endsWith("configuration accepted"))) return null;
  return vm.logs.map((l) => l.message).join("; ");
}

test("the matching budget: the controller and the filter refuse the same configurations, naming the pattern", async () => {
  // DFA patterns cost one step per byte; ".*a.{12}" has no DFA within the caps and costs per instruction.
  assert.equal(regexCost("(?:[a-z]*){100}N"), 8193);
  assert.equal(regexCost(".*a.{12}", 128), 64 * 17 * 129);
  assert.equal(regexCost("(a)\\1"), null);
  const patterns = ["(?:[a-z]*){100}N", "get.*", ".*foo", ".*a.{12}", "(get|list)(User|Order)s?", "[a-f0-9]{32}", "(a|b)*a(a|b){8}"];
  for (const pattern of patterns) {
    for (const [count, maxValueBytes] of [[1, 8192], [30, 8192], [1, 64], [60, 512], [1, 180], [1, 190], [24, 0], [25, 0]] as const) {
      const config = {
        version: 1,
        protocol: "thrift",
        // 0: no limits field, the filter's default (DEFAULT_MAX_METADATA_VALUE_BYTES must be it).
        ...(maxValueBytes > 0 ? { limits: { maxMetadataValueBytes: maxValueBytes } } : {}),
        routes: Array.from({ length: count }, (_, i) => ({ name: `r${i}`, match: { method: { regex: pattern } }, destinations: [{ cluster: "c" }] })),
      };
      const controller = matchBudgetProblem(config);
      const filter = await filterError(config);
      const what = `${count} x ${pattern} at ${maxValueBytes || "default"} bytes: controller ${controller ?? "accepts"}, filter ${filter ?? "accepts"}`;
      assert.equal(controller === null, filter === null, what);
      if (controller !== null) {
        assert.match(controller, /regex ".*" costs up to \d+ matching steps/);
        assert.ok(filter!.includes(`regex ${JSON.stringify(pattern)} costs up to`), what);
        assert.ok(controller.includes(JSON.stringify(pattern)), what);
      }
    }
  }
});
