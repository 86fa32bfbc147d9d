// The SmartLimiter template language: Slime's documented forms, Meltemi's additions, and the errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, compileCondition, compileQuota, evaluate, evaluateQuota, ExpressionError } from "../../controller/adaptive/expression";

const m = (o: Record<string, number>) => new Map(Object.entries(o));

test("Slime's documented examples", () => {
  // doc/en/smart_limiter.md: condition '{{.v2.cpu.sum}}>10' with v2.cpu.sum 178.349446242 holds
  assert.equal(evaluate(compileCondition("{{.v2.cpu.sum}}>10"), m({ "v2.cpu.sum": 178.349446242 })), true);
  assert.equal(evaluate(compileCondition("{{.v2.cpu.sum}}>100"), m({ "v2.cpu.sum": 99 })), false);
  // quota 3/{{._base.pod}} with 3 pods is 1 per pod; 100/{{._base.pod}} with 2 pods is 50
  assert.equal(evaluateQuota(compileQuota("3/{{._base.pod}}"), m({ "_base.pod": 3 })), 1);
  assert.equal(evaluateQuota(compileQuota("100/{{._base.pod}}"), m({ "_base.pod": 2 })), 50);
  // Slime's division rounds up
  assert.equal(evaluateQuota(compileQuota("10/{{._base.pod}}"), m({ "_base.pod": 3 })), 4);
  assert.equal(evaluate(compileCondition("true"), m({})), true);
  assert.equal(evaluate(compileCondition("false"), m({})), false);
  assert.equal(evaluateQuota(compileQuota("100"), m({})), 100);
});

test("precedence, parentheses, Slime's & | and && ||", () => {
  const v = m({ "a.x": 5, "a.y": 2 });
  assert.equal(evaluateQuota(compileQuota("1+2*3"), v), 7);
  assert.equal(evaluateQuota(compileQuota("(1+2)*3"), v), 9);
  assert.equal(evaluateQuota(compileQuota("10-{{.a.x}}-{{.a.y}}"), v), 3, "left associative");
  assert.equal(evaluate(compileCondition("{{.a.x}}>4&{{.a.y}}<1"), v), false);
  assert.equal(evaluate(compileCondition("{{.a.x}}>4 | {{.a.y}}<1"), v), true);
  assert.equal(evaluate(compileCondition("{{.a.x}} >= 5 && {{.a.y}} != 3"), v), true);
  assert.equal(evaluate(compileCondition("!({{.a.x}} == 5)"), v), false);
  assert.equal(evaluate(compileCondition("0.9 > 0.8"), v), true, "exact comparisons (Slime truncates both to 0)");
  assert.equal(evaluateQuota(compileQuota("-{{.a.y}} + 10"), v), 8);
  assert.equal(evaluateQuota(compileQuota("0.1*3"), v), 1, "0.30000000000000004 is not 2 requests... nor 0: rounded up once");
  assert.deepEqual(compile("{{._base.cpu.sum}} > {{._base.pod}} * 100 || {{._base.cpu.sum}}>1").metrics, ["_base.cpu.sum", "_base.pod"]);
});

test("bad templates are errors with the reason, never a value", () => {
  const bad: [string, RegExp][] = [
    ["{{._base.cpu.sum}", /unclosed \{\{/],
    ["{{_base.pod}}>1", /must start with a dot/],
    ["{{.a b}}>1", /not a metric reference/],
    ["1 >", /expected a number/],
    ["(1 > 2", /expected "\)"/],
    ["1 > 2 > 3", /cannot be chained/],
    ["process.exit(1)", /unknown word "process"/],
    ["1 ; 2", /unexpected ";"/],
    ["", /empty/],
    ["1 && 2", /joins comparisons/],
    ["x".repeat(2000), /longer than/],
    ["(".repeat(100) + "1" + ")".repeat(100), /nested deeper/],
  ];
  for (const [src, re] of bad) assert.throws(() => compile(src), (e: unknown) => e instanceof ExpressionError && re.test(e.message), src);
  assert.throws(() => compileCondition("{{._base.pod}}"), /a condition must be a comparison/);
  assert.throws(() => compileQuota("{{._base.pod}} > 1"), /a quota must be a number/);
  assert.throws(() => evaluate(compileQuota("100/{{._base.pod}}"), m({ "_base.pod": 0 })), /division by zero/);
  assert.throws(() => evaluate(compileCondition("{{._base.cpu.sum}}>1"), m({})), /no value for \{\{\._base\.cpu\.sum\}\}/);
  assert.throws(() => evaluateQuota(compileQuota("1-5"), m({})), /negative/);
  assert.throws(() => evaluate(compileQuota("1e308*10"), m({})), /not a finite number/);
});
