// Packing, offline: deterministic images in both formats that istio-agent's rules unpack to the module,
// an OCI layout skopeo reads, and refusal of what is not Wasm or does not match its digest.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { packImage, type PackedImage } from "../../wasm-build/image.js";
import { checkModule } from "../../wasm-build/module.js";
import { readLayout, writeLayout } from "../../wasm-build/oci-layout.js";
import { builtModule, runCli, tempDir, variantModule } from "./helpers.js";
import { istioUnpack } from "./istio-unpack.js";
import { provisionRegistryTools, sha256Hex, skopeo } from "./registry.js";

const fromMemory = (image: PackedImage) => ({
  manifest: image.manifest,
  blob: async (digest: string) => {
    const b = image.blobs.find((x) => x.digest === digest);
    if (!b) throw new Error(`no blob ${digest}`);
    return b.bytes;
  },
});

describe("wasm-build pack", () => {
  let module: { bytes: Uint8Array; file: string };
  const dirs: string[] = [];
  before(() => {
    provisionRegistryTools();
    module = builtModule();
  });
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    if (module) fs.rmSync(path.dirname(module.file), { recursive: true, force: true });
  });

  for (const format of ["wasm", "compat"] as const) {
    test(`${format}: same module gives the same manifest bytes and digest; another module another digest`, async () => {
      const a = await packImage(checkModule(new Uint8Array(module.bytes)), { format });
      const b = await packImage(checkModule(Buffer.from(module.bytes)), { format });
      assert.equal(a.manifestDigest, b.manifestDigest);
      assert.deepEqual(Buffer.from(a.manifest), Buffer.from(b.manifest));
      assert.deepEqual(a.blobs.map((x) => x.digest), b.blobs.map((x) => x.digest));
      assert.equal(a.manifestDigest, `sha256:${sha256Hex(a.manifest)}`);
      const other = await packImage(checkModule(variantModule(module.bytes, "other")), { format });
      assert.notEqual(other.manifestDigest, a.manifestDigest);
    });

    test(`${format}: istio-agent's rules take exactly the module back out (current and older istio)`, async () => {
      const image = await packImage(checkModule(module.bytes), { format, rootIds: ["meltemi"] });
      for (const compatRule of ["last", "only"] as const) {
        const out = await istioUnpack(fromMemory(image), { compatRule, expectedSha256: sha256Hex(image.manifest) });
        assert.equal(out.path, format === "wasm" ? "oci-artifact" : "oci-compat");
        assert.deepEqual(Buffer.from(out.module), Buffer.from(module.bytes));
      }
    });
  }

  test("manifests carry the media types and annotations of the specs", async () => {
    const wasm = JSON.parse(Buffer.from((await packImage(checkModule(module.bytes), { format: "wasm" })).manifest).toString());
    assert.equal(wasm.mediaType, "application/vnd.oci.image.manifest.v1+json");
    assert.equal(wasm.config.mediaType, "application/vnd.module.wasm.config.v1+json");
    assert.deepEqual(wasm.layers.map((l: { mediaType: string }) => l.mediaType),
      ["application/vnd.module.wasm.config.v1+json", "application/vnd.module.wasm.content.layer.v1+wasm"]);
    assert.equal(wasm.layers[1].digest, `sha256:${sha256Hex(module.bytes)}`);

    const compatImage = await packImage(checkModule(module.bytes), {
      format: "compat",
      annotations: { "org.opencontainers.image.revision": "abc123" },
      created: new Date(1_700_000_000_000),
    });
    const compat = JSON.parse(Buffer.from(compatImage.manifest).toString());
    assert.equal(compat.config.mediaType, "application/vnd.oci.image.config.v1+json");
    assert.deepEqual(compat.layers.map((l: { mediaType: string }) => l.mediaType), ["application/vnd.oci.image.layer.v1.tar+gzip"]);
    assert.equal(compat.annotations["module.wasm.image/variant"], "compat");
    assert.equal(compat.annotations["org.opencontainers.image.revision"], "abc123");
    assert.equal(compat.annotations["org.opencontainers.image.created"], "2023-11-14T22:13:20Z");
    // Canonical JSON: what was parsed re-serializes with sorted keys and no whitespace to the same bytes.
    assert.doesNotMatch(Buffer.from(compatImage.manifest).toString(), /\s/);
  });

  test("compat layer: tar with epoch mtimes, root owner, sorted names; gzip header mtime 0, OS Unix", async () => {
    const image = await packImage(checkModule(module.bytes), { format: "compat" });
    const layer = image.blobs.find((b) => b.mediaType === "application/vnd.oci.image.layer.v1.tar+gzip")!;
    const gz = Buffer.from(layer.bytes);
    assert.deepEqual([...gz.subarray(0, 3)], [0x1f, 0x8b, 8]);
    assert.equal(gz.readUInt32LE(4), 0, "gzip MTIME");
    assert.equal(gz[9], 3, "gzip OS byte");
    const dir = tempDir("layer");
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, "layer.tar.gz"), gz);
    // GNU tar reads it independently of the tar library that wrote it.
    const listing = execFileSync("tar", ["--numeric-owner", "--full-time", "-tvzf", path.join(dir, "layer.tar.gz")], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } })
      .trim().split("\n").map((l) => l.split(/\s+/));
    assert.deepEqual(listing.map((f) => f[5]), ["plugin.wasm", "runtime-config.json"]);
    for (const f of listing) {
      assert.equal(f[0], "-rw-r--r--");
      assert.equal(f[1], "0/0");
      assert.equal(`${f[3]} ${f[4]}`, "1970-01-01 00:00:00");
    }
    assert.equal(Number(listing[0][2]), module.bytes.length);
    // The image config names the uncompressed layer by its diff_id.
    const config = JSON.parse(Buffer.from(image.blobs.find((b) => b.mediaType === "application/vnd.oci.image.config.v1+json")!.bytes).toString());
    const tarBytes = execFileSync("gzip", ["-dc", path.join(dir, "layer.tar.gz")]);
    assert.deepEqual(config.rootfs.diff_ids, [`sha256:${sha256Hex(tarBytes)}`]);
  });

  test("CLI pack writes an OCI layout skopeo reads, with the digest the CLI printed", async () => {
    for (const format of ["compat", "wasm"]) {
      const dir = tempDir(`layout-${format}`);
      dirs.push(dir);
      const res = await runCli(["pack", module.file, "--format", format, "--out", dir, "--json"], { SOURCE_DATE_EPOCH: "0" });
      assert.equal(res.code, 0, res.stderr);
      const printed = JSON.parse(res.stdout) as { digest: string; moduleSha256: string };
      assert.equal(printed.moduleSha256, sha256Hex(module.bytes));
      const raw = await skopeo(["inspect", "--raw", `oci:${dir}`]);
      assert.equal(`sha256:${sha256Hex(Buffer.from(raw))}`, printed.digest);
      if (format === "compat") {
        const info = JSON.parse(await skopeo(["inspect", `oci:${dir}`])) as { Digest: string; Created: string; Layers: string[] };
        assert.equal(info.Digest, printed.digest);
        assert.equal(info.Created, "1970-01-01T00:00:00Z");
        assert.equal(info.Layers.length, 1);
      }
      assert.equal(readLayout(dir).manifestDigest, printed.digest);
    }
  });

  test("a layout whose blob no longer matches its digest is refused", async () => {
    const dir = tempDir("tampered");
    dirs.push(dir);
    const image = await packImage(checkModule(module.bytes), { format: "wasm" });
    writeLayout(dir, image);
    const wasmBlob = path.join(dir, "blobs", "sha256", sha256Hex(module.bytes));
    const bytes = fs.readFileSync(wasmBlob);
    bytes[100] ^= 1;
    fs.writeFileSync(wasmBlob, bytes);
    assert.throws(() => readLayout(dir), /does not match its digest/);
  });

  test("what is not WebAssembly is refused with a clear message and nothing is written", async () => {
    const dir = tempDir("notwasm");
    dirs.push(dir);
    const bad = path.join(dir, "bad.wasm");
    fs.writeFileSync(bad, "this is not wasm");
    const truncated = path.join(dir, "truncated.wasm");
    fs.writeFileSync(truncated, module.bytes.subarray(0, module.bytes.length - 7));
    for (const [file, why] of [[bad, /does not start with the \\0asm header/], [truncated, /has the \\0asm header but does not validate/]] as const) {
      const out = path.join(dir, `out-${path.basename(file)}`);
      const res = await runCli(["pack", file, "--out", out]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /is not a valid WebAssembly module/);
      assert.match(res.stderr, why);
      assert.equal(fs.existsSync(out), false);
    }
  });

  test("the istio restatement is not a rubber stamp: it rejects what istio-agent rejects", async () => {
    const image = await packImage(checkModule(module.bytes), { format: "compat" });
    await assert.rejects(istioUnpack(fromMemory(image), { expectedSha256: "0".repeat(64) }), /digest does not match/);
    const manifest = JSON.parse(Buffer.from(image.manifest).toString());
    // One tar+gzip layer without plugin.wasm, and a lone Wasm layer (the artifact needs two layers).
    const emptyTarGz = execFileSync("sh", ["-c", "tar -cz -T /dev/null"]);
    const asManifest = (layers: object[]) => new TextEncoder().encode(JSON.stringify({ ...manifest, layers }));
    const blobs = new Map<string, Uint8Array>([[`sha256:${sha256Hex(emptyTarGz)}`, emptyTarGz], [`sha256:${sha256Hex(module.bytes)}`, module.bytes]]);
    for (const b of image.blobs) blobs.set(b.digest, b.bytes);
    const get = async (d: string) => blobs.get(d)!;
    await assert.rejects(istioUnpack({ manifest: asManifest([{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${sha256Hex(emptyTarGz)}`, size: emptyTarGz.length }]), blob: get }),
      /plugin.wasm not found/);
    await assert.rejects(istioUnpack({ manifest: asManifest([{ mediaType: "application/vnd.module.wasm.content.layer.v1+wasm", digest: `sha256:${sha256Hex(module.bytes)}`, size: module.bytes.length }]), blob: get }),
      /number of layers must be 2 but got 1/);
    // Older istio wanted exactly one compat layer; the current one takes the last of several.
    const twoLayers = asManifest([manifest.layers[0], manifest.layers[0]]);
    await assert.rejects(istioUnpack({ manifest: twoLayers, blob: get }, { compatRule: "only" }), /number of layers must be 1 but got 2/);
    assert.equal((await istioUnpack({ manifest: twoLayers, blob: get }, { compatRule: "last" })).path, "oci-compat");
  });
});
