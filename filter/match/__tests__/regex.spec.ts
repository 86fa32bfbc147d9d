import { Regex } from "../regex";

function full(pattern: string, value: string): bool {
  const re = Regex.compile(pattern);
  expect(re.error).toBe("", pattern);
  return re.matches(value);
}

describe("Regex (RE2 subset, full match)", () => {
  it("matches the whole value only", () => {
    expect(full("sayHello", "sayHello")).toBe(true);
    expect(full("say", "sayHello")).toBe(false);
    expect(full("say.*", "sayHello")).toBe(true);
    expect(full("^say.*$", "sayHello")).toBe(true);
    expect(full("", "")).toBe(true);
    expect(full("", "x")).toBe(false);
  });

  it("supports classes, escapes, groups, alternation and counted repetition", () => {
    expect(full("[a-c]+\\d{2,3}", "abca12")).toBe(true);
    expect(full("[a-c]+\\d{2,3}", "abca1234")).toBe(false);
    expect(full("[^0-9]*", "abc")).toBe(true);
    expect(full("[^0-9]*", "ab1")).toBe(false);
    expect(full("(get|list)(User|Order)s?", "listOrders")).toBe(true);
    expect(full("(?:get|list)(User|Order)s?", "deleteUser")).toBe(false);
    expect(full("org\\.apache\\.dubbo\\..*Service", "org.apache.dubbo.demo.GreetingService")).toBe(true);
    expect(full("org\\.apache\\.dubbo\\..*Service", "orgXapache.dubbo.demo.GreetingService")).toBe(false);
    expect(full("\\w+\\s\\S+", "v1 canary")).toBe(true);
    expect(full("a{3}", "aaa")).toBe(true);
    expect(full("a{3}", "aa")).toBe(false);
    expect(full("a{2,}", "aaaaa")).toBe(true);
    expect(full("x?y*z+", "z")).toBe(true);
    expect(full("[-a]+", "-a-")).toBe(true);
    expect(full("a|", "")).toBe(true);
  });

  it("stays linear on patterns that make backtracking engines explode", () => {
    let value = "";
    for (let i = 0; i < 5000; i++) value += "a";
    value += "b";
    const patterns = ["(a+)+", "(a|a)*", "(a*)*c", "(a|aa)+", "(.*a){20}"];
    for (let i = 0; i < patterns.length; i++) {
      const re = Regex.compile(patterns[i]);
      expect(re.error).toBe("", patterns[i]);
      expect(re.matches(value)).toBe(false, patterns[i]);
      const bound = <u32>(value.length + 1) * <u32>re.programLength;
      expect(re.steps <= bound).toBe(true, patterns[i] + ": " + re.steps.toString() + " steps > " + bound.toString());
    }
  });

  it("rejects what cannot run in linear time, and bad syntax, with a reason", () => {
    const bad = ["(a)\\1", "(?=a)", "(?!a)", "(?<=a)b", "a{1000}", "(ab", "ab)", "[ab", "*a", "a**", "a{3,2}", "\\", "a^b"];
    for (let i = 0; i < bad.length; i++) {
      const re = Regex.compile(bad[i]);
      expect(re.ok).toBe(false, bad[i]);
      expect(re.error.length > 0).toBe(true, bad[i]);
      expect(re.matches("a")).toBe(false, bad[i]);
    }
  });

  it("runs a DFA where one fits: one step per byte, the same verdicts as the Pike VM", () => {
    const patterns = ["(?:[a-z]*){100}N", "get.*", ".*foo", "(get|list)(User|Order)s?", "[^0-9]*", "a{2,5}b?", "\\w+\\s\\S+", "(a|ab)(c|bcd)(d*)", "x?y*z+", "", "a|"];
    const alphabet = "abcdxyzNfo01 _";
    let seed: u32 = 12345;
    for (let i = 0; i < patterns.length; i++) {
      const dfa = Regex.compile(patterns[i]);
      const nfa = Regex.compile(patterns[i], false);
      expect(dfa.dfaStates > 0).toBe(true, patterns[i]);
      expect(dfa.stepsPerByte).toBe(1, patterns[i]);
      expect(nfa.dfaStates).toBe(0, patterns[i]);
      for (let k = 0; k < 400; k++) {
        let v = "";
        seed = seed * 1103515245 + 12345;
        const n = (seed >> 16) % 12;
        for (let j: u32 = 0; j < n; j++) {
          seed = seed * 1103515245 + 12345;
          v += alphabet.charAt((seed >> 16) % alphabet.length);
        }
        expect(dfa.matches(v)).toBe(nfa.matches(v), patterns[i] + " on \"" + v + "\"");
        expect(dfa.steps <= <u32>v.length + 1).toBe(true, patterns[i]);
      }
    }
  });

  it("matches the pathological pattern of issue 13 in one step per byte", () => {
    let value = "";
    for (let i = 0; i < 8000; i++) value += "a";
    const re = Regex.compile("(?:[a-z]*){100}N");
    expect(re.dfaStates <= 4).toBe(true, re.dfaStates.toString());
    expect(re.matches(value)).toBe(false);
    expect(re.steps).toBe(8001);
    expect(re.matches(value + "N")).toBe(true);
    const nfa = Regex.compile("(?:[a-z]*){100}N", false);
    expect(nfa.matches(value)).toBe(false);
    expect(nfa.steps > 100 * 8000).toBe(true, nfa.steps.toString()); // what the DFA saves
    expect(re.costFor(8192)).toBe(8193);
    expect(nfa.costFor(8192)).toBe(<f64>64 * <f64>nfa.programLength * 8193);
  });

  it("keeps the Pike VM for a pattern whose DFA would be too large, and prices it per instruction", () => {
    const re = Regex.compile(".*a.{12}"); // 2^13 subsets of positions
    expect(re.ok).toBe(true);
    expect(re.dfaStates).toBe(0);
    expect(re.stepsPerByte).toBe(64 * re.programLength);
    let v = "";
    for (let i = 0; i < 100; i++) v += i % 3 == 0 ? "a" : "b";
    const nfa = Regex.compile(".*a.{12}", false);
    expect(re.matches(v)).toBe(nfa.matches(v));
    expect(re.steps <= <u32>(v.length + 1) * <u32>re.programLength).toBe(true);
  });
});
