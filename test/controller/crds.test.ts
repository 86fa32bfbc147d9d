// The CRDs: generated from the one schema source and committed up to date; structural (what the API
// server requires of apiextensions.k8s.io/v1 schemas); and they admit valid objects and refuse bad ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { generatedFiles } from "../../controller/api/generate";
import { crdDefinitions } from "../../controller/api/schema/index";
import { checkMeltemiObject } from "../../controller/translate/schema_check";
import { rpcRouter } from "../../controller/api/schema/rpc_router";
import { rpcRateLimit } from "../../controller/api/schema/rpc_rate_limit";
import { rpcProtocol } from "../../controller/api/schema/rpc_protocol";
import { rpcAuthorizationPolicy } from "../../controller/api/schema/rpc_authorization_policy";
import { repoRoot } from "./support";

test("manifests/crds and controller/api/types.gen.ts are what controller/api/generate.ts produces", async () => {
  const files = await generatedFiles();
  assert.equal(files.size, crdDefinitions.length + 1);
  for (const [rel, content] of files) {
    assert.equal(readFileSync(path.join(repoRoot, rel), "utf8"), content, `${rel} is stale: run node --import tsx controller/api/generate.ts`);
  }
});

// Keywords the CRD API does not accept, or that break structural schemas.
const FORBIDDEN = ["$ref", "$defs", "definitions", "const", "propertyNames", "patternProperties", "dependencies", "$schema", "id"];
const NOT_IN_JUNCTORS = ["type", "description", "default", "additionalProperties", "nullable", "properties", "items"];

function checkStructural(node: any, where: string, problems: string[]): void {
  if (node === null || typeof node !== "object") return;
  for (const k of FORBIDDEN) if (k in node) problems.push(`${where}: ${k}`);
  if (node.uniqueItems === true) problems.push(`${where}: uniqueItems true`);
  if (!node.type && !node["x-kubernetes-int-or-string"] && !node["x-kubernetes-preserve-unknown-fields"]) problems.push(`${where}: no type`);
  if (node.properties && node.additionalProperties) problems.push(`${where}: properties and additionalProperties`);
  for (const junctor of ["oneOf", "anyOf", "allOf"]) {
    for (const [i, sub] of (node[junctor] ?? []).entries()) {
      for (const k of NOT_IN_JUNCTORS) if (k in sub) problems.push(`${where}.${junctor}[${i}]: ${k}`);
      for (const r of sub.required ?? []) if (!node.properties?.[r]) problems.push(`${where}.${junctor}[${i}]: requires undeclared ${r}`);
    }
  }
  for (const rule of node["x-kubernetes-validations"] ?? []) {
    if (!rule.rule || !rule.message) problems.push(`${where}: validation rule without rule/message`);
  }
  if (node.type === "array" && node.maxItems === undefined && node["x-kubernetes-validations"]) problems.push(`${where}: CEL over an unbounded list`);
  for (const [k, v] of Object.entries(node.properties ?? {})) checkStructural(v, `${where}.${k}`, problems);
  if (typeof node.additionalProperties === "object") checkStructural(node.additionalProperties, `${where}.*`, problems);
  if (node.items) checkStructural(node.items, `${where}[]`, problems);
}

test("every CRD is apiextensions.k8s.io/v1 with a structural schema, a status subresource and printer columns", async () => {
  for (const [rel, content] of await generatedFiles()) {
    if (!rel.startsWith("manifests/crds/")) continue;
    const crd = parse(content);
    assert.equal(crd.apiVersion, "apiextensions.k8s.io/v1");
    assert.equal(crd.metadata.name, `${crd.spec.names.plural}.meltemi.dev`);
    const [version] = crd.spec.versions;
    assert.equal(version.name, "v1alpha1");
    assert.deepEqual(version.subresources, { status: {} });
    const columns = version.additionalPrinterColumns.map((c: { name: string }) => c.name);
    for (const c of ["Ready", "Reason", "Age"]) assert.ok(columns.includes(c), `${rel}: column ${c}`);
    const problems: string[] = [];
    checkStructural(version.schema.openAPIV3Schema, crd.spec.names.kind, problems);
    assert.deepEqual(problems, [], rel);
    const conditions = version.schema.openAPIV3Schema.properties.status.properties.conditions;
    assert.equal(conditions["x-kubernetes-list-type"], "map");
  }
});

test("the structural checker itself finds what it looks for", () => {
  const problems: string[] = [];
  checkStructural({ type: "object", properties: { a: { description: "no type" } }, oneOf: [{ type: "object" }, { required: ["b"] }], additionalProperties: { type: "string" } }, "x", problems);
  assert.ok(problems.some((p) => p.includes("x.a: no type")));
  assert.ok(problems.some((p) => p.includes("oneOf[0]: type")));
  assert.ok(problems.some((p) => p.includes("undeclared b")));
  assert.ok(problems.some((p) => p.includes("properties and additionalProperties")));
});

const meta = { name: "x", namespace: "ns" };
const router = (spec: unknown) => ({ apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: meta, spec });

test("RpcRouter schema: admits a full router, refuses what the filter could not take", () => {
  const ok = checkMeltemiObject(rpcRouter, router({
    host: "reviews",
    port: 9090,
    routingMode: "perRequest",
    clients: { namespaces: ["web"], selector: { matchLabels: { app: "web" } } },
    routes: [{ name: "r", match: { method: { exact: "a" }, v: { present: true, invert: true } }, destinations: [{ subset: "v1", weight: 3 }], hashKey: "k", requestMutation: [{ key: "a", value: "" }] }],
    faults: [{ abort: { percent: 0.5 } }, { delay: { percent: 100, fixedDelay: "1.5s" } }],
  }));
  assert.deepEqual(ok, { errors: [], unknownFields: [] });
  const bad: [string, unknown][] = [
    ["no host", { routes: [] }],
    ["bad host", { host: "Reviews_Svc" }],
    ["port 0", { host: "a", port: 0 }],
    ["unknown mode", { host: "a", routingMode: "perPacket" }],
    ["no destinations", { host: "a", routes: [{ destinations: [] }] }],
    ["two match kinds", { host: "a", routes: [{ match: { m: { exact: "a", prefix: "b" } }, destinations: [{}] }] }],
    ["no match kind", { host: "a", routes: [{ match: { m: { invert: true } }, destinations: [{}] }] }],
    ["present false", { host: "a", routes: [{ match: { m: { present: false } }, destinations: [{}] }] }],
    ["weight too big", { host: "a", routes: [{ destinations: [{ weight: 1000001 }] }] }],
    ["fault over 100", { host: "a", faults: [{ abort: { percent: 101 } }] }],
    ["bad duration", { host: "a", faults: [{ delay: { percent: 1, fixedDelay: "10" } }] }],
    ["empty mutation key", { host: "a", routes: [{ destinations: [{}], requestMutation: [{ key: "", value: "v" }] }] }],
  ];
  for (const [what, spec] of bad) assert.ok(checkMeltemiObject(rpcRouter, router(spec)).errors.length > 0, what);
  const unknown = checkMeltemiObject(rpcRouter, router({ host: "a", colour: "blue" }));
  assert.deepEqual(unknown.errors, []);
  assert.deepEqual(unknown.unknownFields, ['spec.colour']);
});

test("RpcRateLimit, RpcProtocol, RpcAuthorizationPolicy schemas", () => {
  const obj = (kind: string, spec: unknown, name = "x") => ({ apiVersion: "meltemi.dev/v1alpha1", kind, metadata: { name }, spec });
  assert.deepEqual(checkMeltemiObject(rpcRateLimit, obj("RpcRateLimit", { host: "a", local: { tokenBucket: { maxTokens: 10, fillInterval: "1s" } } })).errors, []);
  assert.ok(checkMeltemiObject(rpcRateLimit, obj("RpcRateLimit", { host: "a", local: { tokenBucket: { maxTokens: -1, fillInterval: "1s" } } })).errors.length > 0);
  assert.ok(checkMeltemiObject(rpcRateLimit, obj("RpcRateLimit", { host: "a" })).errors.length > 0, "local or adaptive is required");
  assert.deepEqual(checkMeltemiObject(rpcProtocol, obj("RpcProtocol", { codec: "thrift", thrift: { transport: "FRAMED" } }, "legacy")).errors, []);
  assert.ok(checkMeltemiObject(rpcProtocol, obj("RpcProtocol", { codec: "thrift" }, "has-dash")).errors.length > 0, "protocol names cannot hold '-' (port names split on it)");
  assert.ok(checkMeltemiObject(rpcProtocol, obj("RpcProtocol", { codec: "Thrift" }, "t")).errors.length > 0);
  assert.deepEqual(checkMeltemiObject(rpcAuthorizationPolicy, obj("RpcAuthorizationPolicy", { action: "DENY", rules: [{ from: [{ source: { namespaces: ["dev"] } }], to: [{ operation: { methods: ["*"] } }] }] })).errors, []);
  assert.ok(checkMeltemiObject(rpcAuthorizationPolicy, obj("RpcAuthorizationPolicy", { action: "AUDIT" })).errors.length > 0);
  assert.ok(checkMeltemiObject(rpcAuthorizationPolicy, obj("RpcAuthorizationPolicy", { rules: [{ from: [{ source: { principals: [""] } }] }] })).errors.length > 0);
});
