import assert from "node:assert/strict";
import { test } from "node:test";
import { parseChallenges } from "../../wasm-build/registry/challenge.js";

test("WWW-Authenticate: registry Bearer challenge with quoted, comma-holding scope", () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), [
    { scheme: "bearer", params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull,push" } },
  ]);
});

test("WWW-Authenticate: several challenges, token values, escapes, case-insensitive names", () => {
  assert.deepEqual(parseChallenges('Basic realm="say \\"hi\\"", charset=UTF-8, Bearer Realm=x'), [
    { scheme: "basic", params: { realm: 'say "hi"', charset: "UTF-8" } },
    { scheme: "bearer", params: { realm: "x" } },
  ]);
  assert.deepEqual(parseChallenges("Basic"), [{ scheme: "basic", params: {} }]);
  assert.deepEqual(parseChallenges(""), []);
});
