// The README's commands after an upgrade (issue 21): a checkout set up once whose package-lock.json then
// changed (a pull) runs the set-up again through `npm run`, then builds. Under `npm run`,
// node_modules/.bin comes first on PATH, so an npm that a dependency brings along there must not be the
// one that reinstalls (npm 6 from npm-install-peers emptied node_modules, then failed on the v3
// lockfile, and every later command failed); and the dependency tree brings no npm at all.
// The clone is of the committed HEAD: uncommitted changes are not part of what this tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "../repo_root";

/** The npm running this test (`npm test` names itself in npm_execpath), else the one on PATH. */
const npm: [string, ...string[]] = process.env.npm_execpath?.endsWith("npm-cli.js")
  ? [process.execPath, process.env.npm_execpath]
  : ["npm"];

// From the local npm cache where it has the packages (bounds the time of each `npm ci`).
const env = { ...process.env, npm_config_prefer_offline: "true", npm_config_update_notifier: "false" };

function run(cwd: string, argv: [string, ...string[]]): { ok: boolean; out: string } {
  const [command, ...args] = argv;
  const r = spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 10 * 60_000 });
  return { ok: r.status === 0, out: `$ ${argv.join(" ")} (exit ${r.status ?? r.signal})\n${r.stdout}${r.stderr}` };
}

test("package-lock.json holds no npm package (a dependency's npm would shadow the user's under npm run)", () => {
  const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as { packages: Record<string, unknown> };
  const npms = Object.keys(lock.packages).filter((p) => /(^|\/)node_modules\/npm$/.test(p));
  assert.deepEqual(npms, []);
});

test("after a lockfile change, the set-up through npm run reinstalls with the user's npm and the build works", { timeout: 20 * 60_000 }, (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-upgrade-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const clone = path.join(dir, "meltemi");
  const head = spawnSync("git", ["-C", repoRoot, "rev-parse", "HEAD"], { encoding: "utf8" }).stdout.trim();
  const steps: [string, ...string[]][] = [["git", "clone", "--quiet", "--no-checkout", repoRoot, clone], ["git", "-C", clone, "checkout", "--quiet", head]];
  for (const step of steps) {
    const r = run(dir, step);
    assert.ok(r.ok, r.out);
  }
  // The pinned Envoy the set-up also provisions: the checkout's own (a fresh download is not the point here).
  const tools = path.join(repoRoot, ".tools");
  if (fs.existsSync(tools)) fs.symlinkSync(fs.realpathSync(tools), path.join(clone, ".tools"));

  // The first set-up, as on a fresh machine.
  let r = run(clone, [...npm, "run", "setup"]);
  assert.ok(r.ok, r.out);
  const modules = path.join(clone, "node_modules");
  assert.ok(!fs.existsSync(path.join(modules, ".bin", "npm")), "the dependency tree put an npm into node_modules/.bin");

  // The state an older install leaves: an npm of a dependency in node_modules/.bin (this one only records
  // that it ran and fails), and a stamp of another lockfile.
  const ranMarker = path.join(dir, "stale-npm-ran");
  fs.writeFileSync(path.join(modules, ".bin", "npm"), `#!/bin/sh\necho "stale npm: $*" >&2\ntouch '${ranMarker}'\nexit 1\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(modules, ".meltemi-lock-sha"), "the stamp of an older package-lock.json\n");

  r = run(clone, [...npm, "run", "setup"]);
  assert.ok(!fs.existsSync(ranMarker), `the npm in node_modules/.bin did the install:\n${r.out}`);
  assert.ok(r.ok, r.out);
  const lockSha = crypto.createHash("sha256").update(fs.readFileSync(path.join(clone, "package-lock.json"))).digest("hex");
  assert.equal(fs.readFileSync(path.join(modules, ".meltemi-lock-sha"), "utf8").trim(), lockSha, "the stamp names the installed lockfile");
  assert.ok(!fs.existsSync(path.join(modules, ".bin", "npm")), "node_modules/.bin/npm is still there after the reinstall");
  for (const bin of ["asc", "esbuild", "tsx", "asp"]) {
    assert.ok(fs.existsSync(path.join(modules, ".bin", bin)), `node_modules/.bin/${bin} is missing after the reinstall`);
  }

  r = run(clone, [...npm, "run", "build"]);
  assert.ok(r.ok, r.out);
  for (const out of ["meltemi.wasm", "meltemi.js"]) {
    assert.ok(fs.statSync(path.join(clone, "build", out)).size > 0, `build/${out} is empty`);
  }
});
