import { parseConfig } from "../config";
import { JsonKind, parseJson } from "../json";

function expectIncludes(actual: string, part: string): void {
  expect(actual.includes(part)).toBe(true, actual + " should include " + part);
}

describe("parseJson", () => {
  it("parses nested values", () => {
    const r = parseJson(' {"a": [1, -2.5e3, true, null, "x\\u00e9\\n"], "b": {}} ');
    expect(r.error).toBe("");
    const v = r.value!;
    expect(v.kind).toBe(JsonKind.Object);
    const a = v.get("a")!;
    expect(a.items.length).toBe(5);
    expect(a.items[1].numberValue).toBe(-2500.0);
    expect(a.items[4].stringValue).toBe("x\u00e9\n");
  });

  it("reports malformed input without aborting", () => {
    const bad = ["", "{", "{\"a\":}", "[1,]", "01", "\"\\q\"", "{\"a\":1,\"a\":2}", "tru", "1 2", "\"abc", "-", "1.", "1e"];
    for (let i = 0; i < bad.length; i++) {
      const r = parseJson(bad[i]);
      expect(r.value === null).toBe(true, bad[i]);
      expect(r.error.length).toBeGreaterThan(0, bad[i]);
    }
  });

  it("bounds nesting depth", () => {
    let deep = "";
    for (let i = 0; i < 100; i++) deep += "[";
    for (let i = 0; i < 100; i++) deep += "]";
    expectIncludes(parseJson(deep).error, "nesting");
  });
});

describe("parseConfig", () => {
  it("accepts version 1 with a name", () => {
    const r = parseConfig('{"version":1,"name":"reviews:9090"}');
    expect(r.error).toBe("");
    expect(r.config!.name).toBe("reviews:9090");
  });

  it("rejects unknown versions, unknown fields and wrong types", () => {
    expectIncludes(parseConfig('{"version":2}').error, "unknown schema version 2");
    expectIncludes(parseConfig('{"name":"x"}').error, "missing \"version\"");
    expectIncludes(parseConfig('{"version":1,"extra":true}').error, "unknown field");
    expectIncludes(parseConfig('{"version":1,"name":5}').error, "must be a string");
    expectIncludes(parseConfig('[1]').error, "expected a JSON object");
    expectIncludes(parseConfig('not json').error, "invalid JSON");
  });
});
