// Reproducible builds: two clean release builds of the same sources (fresh copies at different paths,
// no build output carried over) give byte-identical modules and the same manifest digests. The CLI's
// `repro` does the builds; this test re-reads the two outputs and checks them itself.
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, test } from "node:test";
import { packImage } from "../../wasm-build/image.js";
import { checkModule } from "../../wasm-build/module.js";
import { runCli, tempDir } from "./helpers.js";
import { sha256Hex } from "./registry.js";

const workDir = tempDir("repro");
after(() => fs.rmSync(workDir, { recursive: true, force: true }));

test("two clean builds give the same module hash and the same manifest digests", async () => {
  // Two full compiler runs: on a loaded machine (the unit tier runs files in parallel) this can take
  // minutes, so the bound on a hung run is wide.
  const res = await runCli(["repro", "--work-dir", workDir, "--json"], { SOURCE_DATE_EPOCH: "1700000000" }, 900_000);
  assert.equal(res.code, 0, `exit ${res.code} (null: killed after 900 s)\n${res.stdout}\n${res.stderr}`);
  const report = JSON.parse(res.stdout) as { identical: boolean; builds: { dir: string; file: string; sha256: string; manifestDigests: Record<string, string> }[] };
  assert.equal(report.builds.length, 2);
  const [a, b] = report.builds;
  assert.notEqual(a.dir, b.dir);
  assert.ok(!fs.existsSync(`${a.dir}/build/meltemi.debug.wasm`), "the copy was not clean");

  const bytesA = fs.readFileSync(a.file);
  const bytesB = fs.readFileSync(b.file);
  assert.ok(WebAssembly.validate(bytesA));
  assert.equal(sha256Hex(bytesA), a.sha256);
  assert.equal(sha256Hex(bytesB), b.sha256);
  assert.deepEqual(bytesA, bytesB, "the two clean builds differ");

  const created = new Date(1_700_000_000_000);
  for (const format of ["wasm", "compat"] as const) {
    const fromA = await packImage(checkModule(bytesA), { format, created });
    const fromB = await packImage(checkModule(bytesB), { format, created });
    assert.equal(fromA.manifestDigest, fromB.manifestDigest);
    assert.equal(a.manifestDigests[format], fromA.manifestDigest);
    assert.equal(b.manifestDigests[format], fromA.manifestDigest);
  }
  assert.equal(report.identical, true);
});
