import { parseConfig } from "../config";
import { KEY_METHOD, Metadata } from "../../codec/metadata";
import { RouteTable } from "../../route/route_table";
import { JsonKind, decimalValue, parseJson } from "../json";

/** The name of the route `routes` picks for a request of `method` ("" for none). */
function routeOf(routes: RouteTable, method: string): string {
  const bytes = String.UTF8.encode(method);
  const md = new Metadata(4);
  md.addKey(KEY_METHOD, changetype<usize>(bytes), <u32>bytes.byteLength);
  const found = routes.match(md);
  return found !== null ? found.name : "";
}

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

  it("reads numbers as parseFloat does: exactly up to 15 digits, within an ulp or two past that", () => {
    const exact = ["0", "-0", "7", "12.5", "0.001", "1e3", "-2.5E+3", "4294967295", "9007199254740993", "0.1", "123456789012345e-22", "5e-5", "1e22"];
    for (let i = 0; i < exact.length; i++) {
      const t = exact[i];
      expect(decimalValue(t, 0, t.length)).toBe(parseFloat(t), t);
    }
    const near = ["33.333333333333336", "123456789012345678901234", "1.2345678901234567e200", "2.2250738585072014e-308", "0.30000000000000004"];
    for (let i = 0; i < near.length; i++) {
      const t = near[i];
      const want = parseFloat(t);
      expect(Math.abs(decimalValue(t, 0, t.length) - want) <= Math.abs(want) * 4.5e-16).toBe(true, t);
    }
    expect(decimalValue("1e400", 0, 5)).toBe(Infinity);
    expect(decimalValue("1e-400", 0, 6)).toBe(0.0);
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

describe("parseConfig: traffic sections", () => {
  it("builds routes, buckets, faults and policies", () => {
    const r = parseConfig('{"version":1,"name":"svc","protocol":"dubbo","routingMode":"perRequest",' +
      '"routes":[{"name":"a","match":{"method":{"exact":"m"}},"destinations":[{"cluster":"c1","weight":3},{"cluster":"c2"}],"hashKey":"u",' +
      '"requestMutation":[{"key":"k","value":"v"}]}],' +
      '"localRateLimit":{"tokenBucket":{"maxTokens":5,"fillIntervalMs":1000},"conditions":[{"match":{"method":{"prefix":"x"}},"tokenBucket":{"maxTokens":1,"tokensPerFill":1,"fillIntervalMs":10}}]},' +
      '"faults":[{"abort":{"percent":12.5,"message":"boom"},"delay":{"percent":100,"fixedDelayMs":7}}],' +
      '"authorization":[{"name":"p","action":"DENY","rules":[{"to":[{"methods":["admin*"]}]}]}],"accessLog":{"enabled":true}}');
    expect(r.error).toBe("");
    const c = r.config!;
    expect(c.protocol).toBe("dubbo");
    expect(c.routes.routes.length).toBe(1);
    expect(c.routes.routes[0].totalWeight).toBe(4);
    expect(c.routes.routes[0].requestMutation.keys[0]).toBe("k");
    expect(c.defaultBucket!.maxTokens).toBe(5);
    expect(c.defaultBucket!.tokensPerFill).toBe(1);
    expect(c.defaultBucket!.key).toBe("meltemi.rl/svc/default");
    expect(c.rateLimitConditions[0].bucket.fillIntervalNs).toBe(10_000_000);
    expect(c.faults[0].abortPerMillion).toBe(125000);
    expect(c.faults[0].abortMessage).toBe("boom");
    expect(c.faults[0].delayMs).toBe(7);
    expect(c.authorizer.policies[0].name).toBe("p");
    expect(c.accessLog).toBe(true);
  });

  it("names the JSON path of the first violation", () => {
    expect(parseConfig('{"version":1,"routes":[{"destinations":[{"cluster":"a"}]},{"destinations":[{"cluster":"b","weight":-1}]}]}').error)
      .toBe("routes[1].destinations[0].weight: must be an integer in [0, 1000000]");
    expect(parseConfig('{"version":1,"routes":[{"match":{"m":{"exact":"a","prefix":"b"}},"destinations":[{"cluster":"a"}]}]}').error)
      .toBe("routes[0].match.m: must have exactly one of exact, prefix, suffix, regex, present");
    expectIncludes(parseConfig('{"version":1,"routes":[{"match":{"m":{"regex":"(a)\\\\1"}},"destinations":[{"cluster":"a"}]}]}').error,
      "routes[0].match.m.regex: unsupported regex: unsupported escape \\1");
    expect(parseConfig('{"version":1,"authorization":[{"action":"AUDIT"}]}').error).toBe("authorization[0].action: must be one of ALLOW, DENY");
    expect(parseConfig('{"version":1,"localRateLimit":{"tokenBucket":{"maxTokens":1}}}').error).toBe("localRateLimit.tokenBucket: must have maxTokens and fillIntervalMs");
  });

  it("refuses patterns over the matching budget, naming the pattern, at the configuration's value limit", () => {
    // The DFA pattern costs 8193 steps at the default 8192-byte limit: 24 fit in 200,000, 25 do not.
    const routes = (n: i32, pattern: string): string => {
      let s = "";
      for (let i = 0; i < n; i++) s += (i > 0 ? "," : "") + '{"match":{"method":{"regex":"' + pattern + '"}},"destinations":[{"cluster":"a"}]}';
      return s;
    };
    expect(parseConfig('{"version":1,"routes":[' + routes(24, "(?:[a-z]*){100}N") + "]}").error).toBe("");
    const over = parseConfig('{"version":1,"routes":[' + routes(25, "(?:[a-z]*){100}N") + "]}").error;
    expectIncludes(over, "routes[24].match.method.regex: regex \"(?:[a-z]*){100}N\" costs up to 8193 matching steps");
    expectIncludes(over, "over the budget of 200000 per request");
    // A Pike VM pattern is priced per instruction: one is already over at the default limit...
    expectIncludes(parseConfig('{"version":1,"routes":[' + routes(1, ".*a.{12}") + "]}").error, "regex \".*a.{12}\" costs up to");
    // ...and fits once the values it can see are short.
    expect(parseConfig('{"version":1,"limits":{"maxMetadataValueBytes":128},"routes":[' + routes(1, ".*a.{12}") + "]}").error).toBe("");
  });

  it("matches each regex only on values up to the limit it was priced at (an older connection's codec may allow longer ones)", () => {
    const r = parseConfig('{"version":1,"limits":{"maxMetadataValueBytes":8},"routes":[' +
      '{"name":"as","match":{"method":{"regex":"a*"}},"destinations":[{"cluster":"a"}]},' +
      '{"name":"not-b","match":{"method":{"regex":"b*","invert":true}},"destinations":[{"cluster":"b"}]},' +
      '{"name":"rest","destinations":[{"cluster":"c"}]}]}');
    expect(r.error).toBe("");
    const routes = r.config!.routes;
    expect(routeOf(routes, "aaaaaaaa")).toBe("as");
    expect(routeOf(routes, "aaaaaaaaa")).toBe("rest"); // 9 bytes: neither regex (nor its inversion) matches
    expect(routeOf(routes, "xyz")).toBe("not-b");
  });
});
