import { mdOf } from "../../__tests__/metadata.include";
import { ErrorKind } from "../../codec/codec";
import { parseConfig } from "../../config/config";
import { MemoryCasStore } from "../../limit/cas_store";
import { Caller } from "../../policy/authorization";
import { Random } from "../../route/random";
import { Decision, Verdict, decide } from "../decision";

const SECOND: u64 = 1_000_000_000;

const config = parseConfig('{"version":1,"name":"t",' +
  '"authorization":[{"action":"DENY","rules":[{"to":[{"methods":["admin*"]}]}]}],' +
  '"localRateLimit":{"tokenBucket":{"maxTokens":2,"tokensPerFill":2,"fillIntervalMs":1000}},' +
  '"faults":[{"match":{"method":{"exact":"flaky"}},"abort":{"percent":100,"message":"injected"}}],' +
  '"routes":[{"name":"hello","match":{"method":{"exact":"sayHello"}},"destinations":[{"cluster":"v1"}]}]}').config!;

describe("decide", () => {
  it("applies authorization, then the rate limit, then faults, then routes", () => {
    const store = new MemoryCasStore();
    const rng = new Random(1);
    const out = new Decision();
    const anyone = new Caller();

    decide(config, mdOf(["method", "adminReset"]), anyone, store, 0, rng, out);
    expect(out.verdict).toBe(Verdict.Reject);
    expect(out.kind).toBe(ErrorKind.Unauthorized);

    decide(config, mdOf(["method", "sayHello"]), anyone, store, 0, rng, out);
    expect(out.verdict).toBe(Verdict.Forward);
    expect(out.destination!.cluster).toBe("v1");

    decide(config, mdOf(["method", "flaky"]), anyone, store, 0, rng, out);
    expect(out.kind).toBe(ErrorKind.FaultAbort);
    expect(out.message).toBe("injected");

    decide(config, mdOf(["method", "sayHello"]), anyone, store, 0, rng, out);
    expect(out.kind).toBe(ErrorKind.OverLimit);

    decide(config, mdOf(["method", "other"]), anyone, store, SECOND, rng, out);
    expect(out.kind).toBe(ErrorKind.NoRoute);
  });
});
