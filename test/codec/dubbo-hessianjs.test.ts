// The Dubbo codec against an independent hessian2 implementation: hessian.js (npm, the encoder
// behind Node Dubbo clients) writes request bodies with argument values of every kind it knows,
// in one stream as Dubbo does (class definitions and references numbered across the body). The codec
// must skip them all to reach the attachments; and hessian.js must read the bodies Meltemi mutates.
// Real Apache Dubbo bytes are covered by dubbo-decode-java.test.ts; this adds shapes Java rarely writes
// (typed maps, fixed typed lists, type references, deep nesting...).
import { test } from "node:test";
import assert from "node:assert/strict";
import hessian from "hessian.js";
import { decode, encodeMutated } from "./harness";

const SERVICE = "org.example.Greeter";

function pojo(name: string, child: unknown = null): unknown {
  return { $class: "org.example.Pojo", $: { name, count: { $class: "int", $: 7 }, child } };
}

function deepList(depth: number): unknown {
  let v: unknown = "bottom";
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

const shared = { $class: "org.example.Shared", $: { id: { $class: "long", $: 42 } } };

/** Argument values, each a hessian2 shape. */
const VALUES: Array<[string, unknown]> = [
  ["null", null],
  ["booleans", [true, false]],
  ["ints", [0, -16, 47, 48, -2048, 2047, 262143, -262144, 2147483647, -2147483648]],
  ["longs", [0, 15, -8, 2047, 262143, 2 ** 40, -(2 ** 40)].map(($) => ({ $class: "long", $ }))],
  ["doubles", [0.0, 1.0, 3.25, -128.0, 32767.0, 0.1, 1e300]],
  ["date", new Date(1_700_000_000_000)],
  ["short string", "hi"],
  ["1000-unit string", "s".repeat(1000)],
  ["chunked string", "c".repeat(70_000)],
  ["unicode strings", ["é", "日本語", "a\u{1F600}b"]],
  ["small binary", Buffer.from([1, 2, 3])],
  ["1000-byte binary", Buffer.alloc(1000, 7)],
  ["chunked binary", Buffer.alloc(70_000, 9)],
  ["typed int array", { $class: "[int", $: [1, 2, 3] }],
  ["typed list", { $class: "java.util.ArrayList", $: ["a", 1, null] }],
  ["typed string array", { $class: "[java.lang.String", $: ["x", "y"] }],
  ["untyped map", { a: 1, b: "two", c: [3] }],
  ["hash map", { $class: "java.util.HashMap", $: { k: "v" } }],
  ["typed map", { $class: "java.util.TreeMap", $: { k: "v", n: 1 } }],
  ["object", pojo("one")],
  ["nested objects (class defined once)", pojo("outer", pojo("inner", pojo("innermost")))],
  ["repeated reference", [shared, shared, shared]],
  ["enum-like object", { $class: "org.example.Color", $: { name: "RED" } }],
  ["deep nesting", deepList(20)],
];

/** A two-way Dubbo request (hessian2) whose body hessian.js writes in one stream. */
function request(args: unknown[], attachments: Record<string, string>, id = 1n): Buffer {
  const enc = new hessian.EncoderV2();
  for (const s of ["2.0.2", SERVICE, "1.0.0", "greet", "Ljava/lang/Object;".repeat(args.length)]) enc.write(s);
  for (const a of args) enc.write(a);
  enc.write(attachments);
  const body: Buffer = enc.get();
  const header = Buffer.alloc(16);
  header.writeUInt16BE(0xdabb, 0);
  header[2] = 0xc2;
  header.writeBigInt64BE(id, 4);
  header.writeUInt32BE(body.length, 12);
  return Buffer.concat([header, body]);
}

function readBody(frame: Buffer, args: number): { head: unknown[]; args: unknown[]; attachments: Record<string, unknown> } {
  const dec = new hessian.DecoderV2(frame.subarray(16));
  const head = [dec.read(), dec.read(), dec.read(), dec.read(), dec.read()];
  const values = [];
  for (let i = 0; i < args; i++) values.push(dec.read());
  return { head, args: values, attachments: dec.read() as Record<string, unknown> };
}

for (const [label, value] of VALUES) {
  test(`an argument of hessian.js's ${label} is skipped to reach the attachments`, async () => {
    const frame = request([value], { group: "g", "x-k": "v" });
    const d = await decode("dubbo", frame);
    assert.equal(d.error, "");
    assert.equal(d.frames.length, 1);
    assert.deepEqual(d.frames[0].metadata, { interface: SERVICE, version: "1.0.0", method: "greet", group: "g", "x-k": "v" });
  });
}

test("all the shapes as arguments of one request (definitions and references across the body)", async () => {
  const frame = request(VALUES.map(([, v]) => v), { group: "g" });
  const d = await decode("dubbo", frame);
  assert.equal(d.error, "");
  assert.equal(d.frames[0].metadata.group, "g");
  assert.equal(d.frames[0].frameLength, frame.length);
});

test("the depth limit stops deep nesting with a typed error", async () => {
  const frame = request([deepList(40)], { group: "g" });
  const d = await decode("dubbo", frame, [], { maxDepth: 32 });
  assert.match(d.error, /^too_deep: /);
  assert.equal((await decode("dubbo", frame, [], { maxDepth: 64 })).error, "");
});

test("hessian.js reads a body Meltemi mutated: arguments untouched, attachments added and overwritten", async () => {
  const args = VALUES.map(([, v]) => v);
  const frame = request(args, { group: "g", "x-user": "alice" });
  const mutated = await encodeMutated("dubbo", frame, { "x-user": "bob", "x-route": "canary", astral: "\u{1F680}" });
  assert.equal(mutated.readUInt32BE(12), mutated.length - 16, "body length fixed");
  const before = readBody(frame, args.length);
  const after = readBody(mutated, args.length);
  assert.deepEqual(after.head, before.head);
  assert.deepEqual(after.args, before.args);
  assert.deepEqual(after.attachments, { group: "g", "x-user": "bob", "x-route": "canary", astral: "\u{1F680}" });
});
