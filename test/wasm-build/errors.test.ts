// What goes wrong on a push, run through the CLI as a child process against a real docker-registry:
// each case must end with a clear message, a non-zero exit, and no tag pointing at a half-published
// or wrong image (checked with skopeo, not with wasm-build's own client).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { builtModule, runCli, tempDir, variantModule } from "./helpers.js";
import {
  freePort, provisionRegistryTools, type Registry, sha256Hex, skopeo, skopeoCreds, startRegistry,
  startTamperingProxy, tagExists, type Tamper,
} from "./registry.js";

const user = { username: "meltemi-ci", password: "right-password" };

describe("wasm-build push errors", () => {
  let module: { bytes: Uint8Array; file: string };
  let otherModule: string;
  let dir: string;
  const registries: Registry[] = [];
  let anon: Registry;
  let basic: Registry;
  let token: Registry;

  before(async () => {
    provisionRegistryTools();
    module = builtModule();
    dir = tempDir("errors");
    otherModule = path.join(dir, "other.wasm");
    fs.writeFileSync(otherModule, variantModule(module.bytes, "second release"));
    registries.push(anon = await startRegistry({ kind: "none" }));
    registries.push(basic = await startRegistry({ kind: "basic", user }));
    registries.push(token = await startRegistry({ kind: "token", user }));
  });
  after(async () => {
    for (const r of registries) await r.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (module) fs.rmSync(path.dirname(module.file), { recursive: true, force: true });
  });

  async function taggedDigest(reg: Registry, repo: string, tag: string): Promise<string> {
    const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", ...skopeoCreds(reg.auth), `docker://${reg.host}/${repo}:${tag}`]);
    return `sha256:${sha256Hex(Buffer.from(raw))}`;
  }

  test("registry down: connection refused is reported", async () => {
    const port = await freePort(); // nothing listens there
    const res = await runCli(["push", module.file, "--image", `127.0.0.1:${port}/meltemi:v1`, "--insecure-http"]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`cannot reach registry http://127\\.0\\.0\\.1:${port} .*connection refused`));
    assert.doesNotMatch(res.stderr, /\n\s+at /, "no stack trace for a user error");
  });

  for (const [name, reg, expected] of [
    ["Basic", () => basic, /registry 127\.0\.0\.1:\d+ rejected the credentials of user "meltemi-ci" .*\(401/],
    ["token", () => token, /token server http:\/\/127\.0\.0\.1:\d+\/token rejected the credentials of user "meltemi-ci" \(401\)/],
  ] as const) {
    test(`wrong credentials (${name} auth): rejected, nothing tagged`, async () => {
      const res = await runCli(["push", module.file, "--image", `${reg().host}/meltemi/wrong-creds:v1`, "--insecure-http"],
        { MELTEMI_REGISTRY_USERNAME: user.username, MELTEMI_REGISTRY_PASSWORD: "wrong-password" });
      assert.equal(res.code, 1);
      assert.match(res.stderr, expected);
      assert.equal(await tagExists(reg(), "meltemi/wrong-creds", "v1"), false);
    });
  }

  test("no credentials for a registry that needs them: says how to give them", async () => {
    const res = await runCli(["push", module.file, "--image", `${basic.host}/meltemi/anonymous:v1`, "--insecure-http"]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /requires authentication .*--username/);
    assert.equal(await tagExists(basic, "meltemi/anonymous", "v1"), false);
  });

  test("plain HTTP is not used unless asked for", async () => {
    const res = await runCli(["push", module.file, "--image", `${anon.host}/meltemi/https-only:v1`]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`cannot reach registry https://${anon.host.replace(/\./g, "\\.")} .*pass --insecure-http`));
    assert.equal(await tagExists(anon, "meltemi/https-only", "v1"), false);
  });

  for (const [tamper, expected] of [
    ["corrupt-blob-upload", /answered upload of blob sha256:[0-9a-f]{64} with HTTP 400 \(DIGEST_INVALID/],
    ["rewrite-manifest-digest", /digest mismatch: registry .* stored the manifest as sha256:0{64}, expected sha256:[0-9a-f]{64}; the tag was not updated/],
  ] as [Tamper, RegExp][]) {
    test(`digest mismatch (${tamper}): the push fails and the tag keeps pointing at the last good image`, async () => {
      const repo = `meltemi/${tamper}`;
      const good = await runCli(["push", module.file, "--image", `${anon.host}/${repo}:v1`, "--insecure-http", "--json"]);
      assert.equal(good.code, 0, good.stderr);
      const goodDigest = (JSON.parse(good.stdout) as { digest: string }).digest;

      const proxy = await startTamperingProxy(anon.host, tamper);
      try {
        const res = await runCli(["push", otherModule, "--image", `${proxy.host}/${repo}:v1`, "--insecure-http"]);
        assert.equal(res.code, 1);
        assert.match(res.stderr, expected);
      } finally {
        await proxy.stop();
      }
      assert.equal(await taggedDigest(anon, repo, "v1"), goodDigest);
    });
  }

  test("--expect-digest: a different digest fails before anything is pushed; the right one publishes", async () => {
    const repo = "meltemi/pinned";
    const packed = await runCli(["pack", module.file, "--out", path.join(dir, "pinned"), "--json"]);
    const { digest } = JSON.parse(packed.stdout) as { digest: string };
    const wrong = await runCli(["push", otherModule, "--image", `${anon.host}/${repo}:v1`, "--insecure-http", "--expect-digest", digest]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, new RegExp(`digest mismatch: the image's manifest digest is sha256:[0-9a-f]{64}, but ${digest} was expected; nothing was pushed`));
    assert.equal(await tagExists(anon, repo, "v1"), false);
    const right = await runCli(["push", module.file, "--image", `${anon.host}/${repo}:v1`, "--insecure-http", "--expect-digest", digest.slice(7)]);
    assert.equal(right.code, 0, right.stderr);
    assert.equal(await taggedDigest(anon, repo, "v1"), digest);
  });

  test("a tampered OCI layout is refused before anything is pushed", async () => {
    const layout = path.join(dir, "tampered");
    assert.equal((await runCli(["pack", module.file, "--format", "wasm", "--out", layout])).code, 0);
    const blob = path.join(layout, "blobs", "sha256", sha256Hex(module.bytes));
    const bytes = fs.readFileSync(blob);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(blob, bytes);
    const res = await runCli(["push", "--layout", layout, "--image", `${anon.host}/meltemi/tampered:v1`, "--insecure-http"]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /layer in .* does not match its digest.*refusing to push it/);
    assert.equal(await tagExists(anon, "meltemi/tampered", "v1"), false);
  });

  test("a file that is not valid Wasm is refused before anything is pushed", async () => {
    const bad = path.join(dir, "bad.wasm");
    fs.writeFileSync(bad, Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), Buffer.from("garbage section")]));
    const res = await runCli(["push", bad, "--image", `${anon.host}/meltemi/not-wasm:v1`, "--insecure-http"]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /bad\.wasm is not a valid WebAssembly module .*nothing was packed or pushed/);
    assert.equal(await tagExists(anon, "meltemi/not-wasm", "v1"), false);
  });
});
