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
});
