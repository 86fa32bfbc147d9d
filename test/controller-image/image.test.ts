// The controller image, as a user gets it: assembled without a container engine (controller-image/),
// pushed to a real registry (Debian's docker-registry), inspected and pulled back with skopeo, its
// layers unpacked into a root filesystem, and the controller started from it under chroot (as the
// image's unprivileged user; in a user namespace when not root): `--help` works and /healthz answers
// while the API server is still unreachable. The second assembly (by the push command) gives the same
// digest as the first: the image is reproducible.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { digestOf } from "../../wasm-build/digest";
import { packControllerImage } from "../../controller-image/image";
import { BUNDLE, NODE, USER } from "../../controller-image/rootfs";
import { freePort, provisionRegistryTools, repoRoot, skopeo, startRegistry } from "../wasm-build/registry";

const bundle = path.join(repoRoot, "build/meltemi.js");

/** argv that runs `argv` with `root` as its root directory: as the image's user when we are root, else in a user namespace. */
function chrooted(root: string, argv: string[]): [string, ...string[]] {
  return process.getuid?.() === 0
    ? ["/usr/sbin/chroot", `--userspec=${USER}:${USER}`, root, ...argv]
    : ["unshare", "--map-root-user", "/usr/sbin/chroot", root, ...argv];
}

/** The image's environment only (nothing of this process's, such as NODE_OPTIONS). */
const imageEnv = { PATH: "/usr/local/bin:/usr/bin:/bin", NODE_ENV: "production" };

test("the controller image: reproducible, pushed, inspected, pulled, and started from its root filesystem", { timeout: 900_000 }, async (t) => {
  assert.ok(fs.existsSync(bundle), "build/meltemi.js (npm run build)");
  provisionRegistryTools();
  const runtimeDir = execFileSync(path.join(repoRoot, "scripts/provision/controller-runtime.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  const image = await packControllerImage({ runtimeDir, bundleFile: bundle, annotations: { "org.opencontainers.image.title": "meltemi-controller" } });

  const registry = await startRegistry({ kind: "none" });
  t.after(() => registry.stop());
  const ref = `${registry.host}/meltemi/controller:test`;
  const pushed = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "controller-image/cli.ts", "push", "--image", ref, "--insecure-http", "--json"], { cwd: repoRoot, encoding: "utf8", timeout: 600_000 }));
  assert.equal(pushed.digest, image.manifestDigest, "the push command's own assembly has the same digest");
  assert.equal(pushed.pinned, `${registry.host}/meltemi/controller@${image.manifestDigest}`);

  // skopeo, independent of our registry client: the manifest it serves and the config it describes.
  const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]);
  assert.equal(digestOf(new TextEncoder().encode(raw)), image.manifestDigest);
  const config = JSON.parse(await skopeo(["inspect", "--config", "--tls-verify=false", `docker://${ref}`]));
  assert.deepEqual(config.config.Entrypoint, [NODE, BUNDLE]);
  assert.equal(config.config.User, `${USER}:${USER}`);
  assert.equal(config.architecture, "amd64");
  assert.equal(config.os, "linux");

  // Pull it back into an OCI layout and unpack the layers, in order, into a root filesystem.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-controller-image-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  await skopeo(["copy", "--src-tls-verify=false", `docker://${ref}`, `oci:${dir}/oci:test`]);
  const index = JSON.parse(fs.readFileSync(path.join(dir, "oci/index.json"), "utf8"));
  const blobPath = (digest: string) => path.join(dir, "oci/blobs", ...digest.split(":"));
  const manifest = JSON.parse(fs.readFileSync(blobPath(index.manifests[0].digest), "utf8"));
  const root = path.join(dir, "rootfs");
  fs.mkdirSync(root);
  for (const layer of manifest.layers) execFileSync("tar", ["-xzf", blobPath(layer.digest), "-C", root]);
  assert.ok(fs.existsSync(path.join(root, NODE)) && fs.existsSync(path.join(root, BUNDLE)));
  assert.ok(!fs.existsSync(path.join(root, "bin/sh")), "no shell in the image");

  // `meltemi --help` from the image's files alone.
  const [cmd, ...args] = chrooted(root, [NODE, BUNDLE, "--help"]);
  const help = execFileSync(cmd, args, { env: imageEnv, encoding: "utf8", timeout: 60_000 });
  assert.match(help, /Usage: meltemi/);
  assert.match(help, /controller/);

  // `meltemi controller`: /healthz answers while the API server (a closed port) cannot be read yet.
  const closed = await freePort();
  fs.writeFileSync(path.join(root, "tmp/kubeconfig"), [
    "apiVersion: v1", "kind: Config", "current-context: c",
    `clusters: [{name: c, cluster: {server: "https://127.0.0.1:${closed}", insecure-skip-tls-verify: true}}]`,
    "users: [{name: u, user: {token: x}}]", "contexts: [{name: c, context: {cluster: c, user: u}}]", "",
  ].join("\n"), { mode: 0o644 });
  const probes = await freePort();
  const argv = chrooted(root, [NODE, BUNDLE, "controller", "--kubeconfig", "/tmp/kubeconfig", "--health-probe-bind-address", `127.0.0.1:${probes}`,
    "--metrics-bind-address", "0", "--wasm-url", `oci://${registry.host}/meltemi/filter@sha256:${"0".repeat(64)}`]);
  const [exe, ...rest] = argv;
  const child: ChildProcess = spawn(exe, rest, { env: imageEnv, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (d) => { log += d; });
  child.stderr!.on("data", (d) => { log += d; });
  const exited = new Promise((r) => child.on("exit", r));
  t.after(async () => { child.kill("SIGTERM"); await exited; });
  const deadline = Date.now() + 60_000;
  let healthz: Response | undefined;
  while (!healthz) {
    assert.ok(Date.now() < deadline, `no /healthz within 60 s:\n${log}`);
    assert.equal(child.exitCode, null, `the controller exited:\n${log}`);
    healthz = await fetch(`http://127.0.0.1:${probes}/healthz`).catch(() => undefined);
    if (!healthz) await new Promise((r) => setTimeout(r, 100)); // poll until the port answers
  }
  assert.equal(healthz.status, 200, log);
  const readyz = await fetch(`http://127.0.0.1:${probes}/readyz`);
  assert.equal(readyz.status, 503, "not ready: the API server cannot be read");
  assert.match(await readyz.text(), /inputs not listed yet/);
  assert.match(log, /cannot read the API yet/);
  t.diagnostic(`image ${pushed.pinned}, ${manifest.layers[0].size} bytes compressed`);
});
