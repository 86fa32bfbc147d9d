import { mdOf } from "../../__tests__/metadata.include";
import { Mutation } from "../../codec/codec";
import { Incoming, extract, inject } from "../propagation";
import { FORMAT_B3_MULTI, FORMAT_B3_SINGLE, FORMAT_W3C, Sampling, hex } from "../trace_context";
import { jsonString } from "../zipkin";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

function read(pairs: Array<string>): Incoming {
  const inc = new Incoming();
  extract(mdOf(pairs), inc);
  return inc;
}

describe("extract", () => {
  it("reads W3C traceparent: ids and the sampled flag", () => {
    const inc = read(["traceparent", "00-" + TRACE + "-" + PARENT + "-01"]);
    expect(inc.formats).toBe(FORMAT_W3C);
    expect(hex(inc.ctx.traceHi, 16) + hex(inc.ctx.traceLo, 16)).toBe(TRACE);
    expect(hex(inc.ctx.spanId, 16)).toBe(PARENT);
    expect(inc.ctx.sampling).toBe(Sampling.Accept);
    expect(read(["traceparent", "00-" + TRACE + "-" + PARENT + "-00"]).ctx.sampling).toBe(Sampling.Deny);
  });

  it("refuses malformed traceparent values: wrong length, version ff, zero ids, non-hex, version 00 with more", () => {
    expect(read(["traceparent", "00-" + TRACE + "-" + PARENT + "-0"]).found).toBe(false);
    expect(read(["traceparent", "ff-" + TRACE + "-" + PARENT + "-01"]).found).toBe(false);
    expect(read(["traceparent", "00-00000000000000000000000000000000-" + PARENT + "-01"]).found).toBe(false);
    expect(read(["traceparent", "00-" + TRACE + "-0000000000000000-01"]).found).toBe(false);
    expect(read(["traceparent", "00-" + TRACE + "-" + PARENT + "-0g"]).found).toBe(false);
    expect(read(["traceparent", "00-" + TRACE + "-" + PARENT + "-01-extra"]).found).toBe(false);
    // A later version may carry more fields after a dash.
    expect(read(["traceparent", "01-" + TRACE + "-" + PARENT + "-01-extra"]).found).toBe(true);
  });

  it("reads b3 single with and without sampling and parent, 64-bit trace ids, sampling only", () => {
    const full = read(["b3", TRACE + "-" + PARENT + "-1-1111111111111111"]);
    expect(full.formats).toBe(FORMAT_B3_SINGLE);
    expect(full.ctx.sampling).toBe(Sampling.Accept);
    expect(hex(full.ctx.spanId, 16)).toBe(PARENT);
    const deferred = read(["b3", "a3ce929d0e0e4736-" + PARENT]);
    expect(deferred.ctx.sampling).toBe(Sampling.Defer);
    expect(deferred.ctx.shortTraceId).toBe(true);
    expect(read(["b3", TRACE + "-" + PARENT + "-d"]).ctx.sampling).toBe(Sampling.Accept);
    const only = read(["b3", "0"]);
    expect(only.found).toBe(true);
    expect(only.ctx.hasIds).toBe(false);
    expect(only.ctx.sampling).toBe(Sampling.Deny);
    expect(read(["b3", TRACE + "-" + PARENT + "-x"]).found).toBe(false);
    expect(read(["b3", TRACE]).found).toBe(false);
  });

  it("reads B3 multi in any case; debug flag implies sampled; true/false of older tracers", () => {
    const inc = read(["X-B3-TraceId", TRACE, "X-B3-SpanId", PARENT, "X-B3-Sampled", "1"]);
    expect(inc.formats).toBe(FORMAT_B3_MULTI);
    expect(inc.ctx.sampling).toBe(Sampling.Accept);
    expect(read(["x-b3-traceid", TRACE, "x-b3-spanid", PARENT]).ctx.sampling).toBe(Sampling.Defer);
    expect(read(["x-b3-traceid", TRACE, "x-b3-spanid", PARENT, "x-b3-flags", "1"]).ctx.sampling).toBe(Sampling.Accept);
    expect(read(["X-B3-TraceId", TRACE, "X-B3-SpanId", PARENT, "X-B3-Sampled", "false"]).ctx.sampling).toBe(Sampling.Deny);
    expect(read(["X-B3-TraceId", TRACE]).found).toBe(false); // the span id is required
  });

  it("prefers traceparent over b3 over B3 multi and remembers every format present", () => {
    const inc = read(["X-B3-TraceId", "1111111111111111", "X-B3-SpanId", "2222222222222222", "traceparent", "00-" + TRACE + "-" + PARENT + "-01"]);
    expect(inc.formats).toBe(FORMAT_W3C | FORMAT_B3_MULTI);
    expect(hex(inc.ctx.spanId, 16)).toBe(PARENT);
  });

  it("ignores unrelated keys of the same lengths", () => {
    expect(read(["interface", "x", "b4", "1", "x-b3-tracei_", TRACE, "method", "echo"]).found).toBe(false);
  });
});

describe("inject", () => {
  it("writes a new trace as traceparent only", () => {
    const md = mdOf(["method", "echo"]);
    const inc = new Incoming();
    extract(md, inc);
    const out = new Mutation();
    inject(md, inc, 1, 2, 3, out);
    expect(out.keys.length).toBe(1);
    expect(out.keys[0]).toBe("traceparent");
    expect(out.values[0]).toBe("00-00000000000000010000000000000002-0000000000000003-01");
  });

  it("writes every format the caller used, under its keys, with Meltemi's span as the new parent", () => {
    const md = mdOf(["b3", "a3ce929d0e0e4736-" + PARENT + "-1", "X-B3-TraceId", "a3ce929d0e0e4736", "X-B3-SpanId", PARENT]);
    const inc = new Incoming();
    extract(md, inc);
    const out = new Mutation();
    inject(md, inc, inc.ctx.traceHi, inc.ctx.traceLo, 0xabc, out);
    expect(out.keys.join(",")).toBe("b3,X-B3-TraceId,X-B3-SpanId,X-B3-ParentSpanId,X-B3-Sampled");
    expect(out.values.join(",")).toBe("a3ce929d0e0e4736-0000000000000abc-1-" + PARENT + ",a3ce929d0e0e4736,0000000000000abc," + PARENT + ",1");
  });
});

describe("jsonString", () => {
  it("escapes quotes, backslashes and control characters", () => {
    expect(jsonString("a\"b\\c\nd\u0001")).toBe("\"a\\\"b\\\\c\\nd\\u0001\"");
    expect(jsonString("plain")).toBe("\"plain\"");
  });
});
