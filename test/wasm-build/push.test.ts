// Pushing to a real registry (Debian's docker-registry on loopback): anonymous, htpasswd Basic, and
// token (Bearer) auth; monolithic and chunked uploads; both formats. Each image is read back with
// skopeo, pulled back by digest with `skopeo copy`, and unpacked by istio-agent's rules: the result
// must be exactly the module that was built.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { packImage } from "../../wasm-build/image.js";
import { checkModule } from "../../wasm-build/module.js";
import { builtModule, imageFromLayout, runCli, tempDir } from "./helpers.js";
import { istioUnpack } from "./istio-unpack.js";
import { provisionRegistryTools, type Registry, type RegistryAuth, sha256Hex, skopeo, skopeoCreds, startRegistry, tagExists } from "./registry.js";

interface PushJson { image: string; digest: string; url: string; sha256: string; format: string; moduleSha256: string; blobsUploaded: string[]; blobsAlreadyPresent: string[] }

const user = { username: "meltemi-ci", password: "s3cret-Pa55" };
const setups: { name: string; auth: RegistryAuth; chunkSize?: number }[] = [
  { name: "anonymous", auth: { kind: "none" } },
  { name: "basic auth (htpasswd), chunked upload", auth: { kind: "basic", user }, chunkSize: 8192 },
  { name: "bearer token auth", auth: { kind: "token", user } },
];

describe("wasm-build push to docker-registry", () => {
  let module: { bytes: Uint8Array; file: string };
  before(() => {
    provisionRegistryTools();
    module = builtModule();
  });
  after(() => { if (module) fs.rmSync(path.dirname(module.file), { recursive: true, force: true }); });

  for (const setup of setups) {
    describe(setup.name, () => {
      let reg: Registry;
      const dirs: string[] = [];
      before(async () => { reg = await startRegistry(setup.auth); });
      after(async () => {
        await reg?.stop();
        for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
      });
      const env = () => setup.auth.kind === "none" ? {} : { MELTEMI_REGISTRY_USERNAME: user.username, MELTEMI_REGISTRY_PASSWORD: user.password };

      for (const format of ["compat", "wasm"] as const) {
        test(`${format}: push, skopeo reads it back, pulled by digest it unpacks by istio's rules to the built module`, async () => {
          const repo = `meltemi/${format}`;
          const args = ["push", module.file, "--image", `${reg.host}/${repo}:v1`, "--insecure-http", "--format", format, "--json", "--verbose"];
          if (setup.chunkSize) args.push("--chunk-size", String(setup.chunkSize));
          const res = await runCli(args, env());
          assert.equal(res.code, 0, res.stderr);
          // Every blob went up the way asked: monolithic, or in PATCH chunks of --chunk-size.
          const uploads = [...res.stderr.matchAll(/\((\d+) bytes\) uploaded in (one request|(\d+) chunks)/g)];
          assert.ok(uploads.length >= 2, res.stderr);
          for (const [, size, , chunks] of uploads) {
            assert.equal(chunks === undefined ? undefined : Number(chunks), setup.chunkSize ? Math.ceil(Number(size) / setup.chunkSize) : undefined);
          }
          const pushed = JSON.parse(res.stdout) as PushJson;

          // The digest is the one packing computes for this module, and the printed WasmPlugin fields agree.
          const expected = await packImage(checkModule(module.bytes), { format });
          assert.equal(pushed.digest, expected.manifestDigest);
          assert.equal(pushed.url, `oci://${reg.host}/${repo}@${expected.manifestDigest}`);
          assert.equal(`sha256:${pushed.sha256}`, pushed.digest);
          assert.equal(pushed.moduleSha256, sha256Hex(module.bytes));
          assert.equal(pushed.blobsUploaded.length, expected.blobs.length);

          // skopeo, by digest: the raw manifest hashes to the digest; for the compat image (a standard
          // image) the full inspect works too. skopeo refuses a full inspect of non-image artifacts.
          const byDigest = `docker://${reg.host}/${repo}@${pushed.digest}`;
          const creds = skopeoCreds(setup.auth);
          const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", ...creds, byDigest]);
          assert.equal(`sha256:${sha256Hex(Buffer.from(raw))}`, pushed.digest);
          if (format === "compat") {
            const info = JSON.parse(await skopeo(["inspect", "--tls-verify=false", ...creds, `docker://${reg.host}/${repo}:v1`])) as { Digest: string; RepoTags: string[] };
            assert.equal(info.Digest, pushed.digest);
            assert.deepEqual(info.RepoTags, ["v1"]);
          }
          assert.equal(await tagExists(reg, repo, "v1"), true);

          // Pull by digest with skopeo into an OCI layout, then unpack as istio-agent would, pinning
          // the sha256 WasmPlugin would carry.
          const dir = tempDir("pulled");
          dirs.push(dir);
          await skopeo(["copy", "--src-tls-verify=false", ...(creds.length ? ["--src-creds", creds[1]] : []), byDigest, `oci:${dir}:pulled`]);
          const pulled = imageFromLayout(dir);
          for (const compatRule of ["last", "only"] as const) {
            const out = await istioUnpack(pulled, { expectedSha256: pushed.sha256, compatRule });
            assert.equal(out.path, format === "wasm" ? "oci-artifact" : "oci-compat");
            assert.deepEqual(Buffer.from(out.module), Buffer.from(module.bytes), "unpacked module differs from the built one");
          }

          // Pushing the same module again is a no-op for blobs and gives the same digest.
          const again = await runCli(args, env());
          assert.equal(again.code, 0, again.stderr);
          const second = JSON.parse(again.stdout) as PushJson;
          assert.equal(second.digest, pushed.digest);
          assert.deepEqual(second.blobsUploaded, []);
          assert.equal(second.blobsAlreadyPresent.length, expected.blobs.length);
        });
      }

      test("push --layout publishes exactly what pack wrote, human-readable output names the WasmPlugin fields", async () => {
        const dir = tempDir("layout");
        dirs.push(dir);
        const packed = await runCli(["pack", module.file, "--format", "wasm", "--out", dir, "--json"]);
        assert.equal(packed.code, 0, packed.stderr);
        const { digest } = JSON.parse(packed.stdout) as { digest: string };
        const res = await runCli(["push", "--layout", dir, "--image", `${reg.host}/meltemi/from-layout:v2`, "--insecure-http"], env());
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, new RegExp(`^digest: ${digest}$`, "m"));
        assert.match(res.stdout, new RegExp(`^WasmPlugin url: oci://${reg.host}/meltemi/from-layout@${digest}$`, "m"));
        assert.match(res.stdout, new RegExp(`^WasmPlugin sha256: ${digest.slice(7)}$`, "m"));
        const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", ...skopeoCreds(setup.auth), `docker://${reg.host}/meltemi/from-layout:v2`]);
        assert.equal(`sha256:${sha256Hex(Buffer.from(raw))}`, digest);
        assert.deepEqual(Buffer.from(raw), fs.readFileSync(path.join(dir, "blobs", "sha256", digest.slice(7))));
      });
    });
  }
});
