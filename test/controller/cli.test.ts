// `meltemi render` as a user runs it: YAML in, YAML or JSON out, diagnostics on stderr, exit codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { DIGEST, repoRoot, testdata } from "./support";
import { CODEC_NAMES } from "../../controller/translate/codecs";

function meltemi(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "controller/cli.ts", ...args], { cwd: repoRoot, input, encoding: "utf8", timeout: 60_000, killSignal: "SIGKILL" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const wasm = ["--wasm-url", `oci://registry.example/meltemi/filter@sha256:${DIGEST}`];

test("render: a YAML file in, multi-document YAML out, exit 0", () => {
  const r = meltemi(["render", "-f", path.join(testdata, "aeraki-thrift-traffic-split", "input.yaml"), ...wasm]);
  assert.equal(r.code, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
  assert.deepEqual(docs.map((d) => d.kind), ["WasmPlugin", "EnvoyFilter"]);
  assert.equal(docs[0].spec.sha256, DIGEST, "sha256 taken from the url's @sha256:");
  assert.match(r.stderr, /info: not Meltemi inputs, left out: 1 apps\/v1 Deployment/);
});

test("render: -o json, stdin, --traffic-extension, --status", () => {
  const input = `apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  clusterIP: 10.0.0.1\n  selector: {app: s}\n  ports: [{name: tcp-metaprotocol-dubbo, port: 20880}]\n`;
  const r = meltemi(["render", "-f", "-", "-o", "json", "--traffic-extension", "--status", ...wasm], input);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout);
  assert.equal(list.kind, "List");
  assert.deepEqual(list.items.map((i: any) => [i.kind, i.metadata.namespace]), [["TrafficExtension", "default"]]);
  assert.equal(list.items[0].spec.wasm.type, "NETWORK");
});

test("render: invalid input exits 1 with the file and line", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "meltemi-render-"));
  try {
    const file = path.join(dir, "bad.yaml");
    writeFileSync(file, "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\nkey: [unclosed\n");
    const r = meltemi(["render", "-f", file, ...wasm]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`error: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+: `));
    assert.equal(r.stdout, "");
    writeFileSync(file, "kind: Service\nmetadata: {name: a}\n");
    assert.match(meltemi(["render", "-f", file, ...wasm]).stderr, /apiVersion and kind are required/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("render: invalid objects exit 1, the valid rest is still rendered", () => {
  const r = meltemi(["render", "-f", path.join(testdata, "invalid-inputs", "input.yaml"), ...wasm]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: RpcRouter store\/backreference: .*UnsupportedRegex/);
  assert.ok(parseAllDocuments(r.stdout).length >= 1);
});

test("render: regexes over the filter's matching budget exit 1 with RegexBudget, naming the pattern", () => {
  const routes = Array.from({ length: 25 }, () => `    - match:\n        method: { regex: "(?:[a-z]*){100}N" }\n      destinations:\n        - subset: v1\n`).join("");
  const input = `apiVersion: v1\nkind: Service\nmetadata: {name: catalog, namespace: store}\nspec:\n  clusterIP: 10.96.50.1\n  selector: {app: catalog}\n  ports: [{name: tcp-metaprotocol-thrift, port: 9090}]\n` +
    `---\napiVersion: meltemi.dev/v1alpha1\nkind: RpcRouter\nmetadata: {name: costly, namespace: store}\nspec:\n  host: catalog\n  routes:\n${routes}`;
  const r = meltemi(["render", "-f", "-", ...wasm], input);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error: RpcRouter store\/costly: .*RegexBudget.*regex "\(\?:\[a-z\]\*\)\{100\}N" costs up to 8193 matching steps/);
  // 24 of them fit.
  const fits = meltemi(["render", "-f", "-", ...wasm], input.replace(/    - match:[\s\S]*?subset: v1\n/, ""));
  assert.equal(fits.code, 0, fits.stderr);
});

test("render: missing file, bad flags, mismatched digest", () => {
  assert.match(meltemi(["render", "-f", "/nonexistent/x.yaml", ...wasm]).stderr, /no such file or directory/);
  assert.equal(meltemi(["render", "-f", testdata, "-o", "xml"]).code, 1);
  const mismatch = meltemi(["render", "-f", path.join(testdata, "aeraki-thrift-traffic-split", "input.yaml"), ...wasm, "--wasm-sha256", "1".repeat(64)]);
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.stderr, /pins sha256/);
  assert.match(meltemi(["render", "-f", path.join(testdata, "aeraki-thrift-traffic-split", "input.yaml")]).stderr, /no --wasm-url/);
});

test("render: --codecs names only codecs of the codec manifest", () => {
  const input = path.join(testdata, "aeraki-thrift-traffic-split", "input.yaml");
  const unknown = meltemi(["render", "-f", input, ...wasm, "--codecs", "dubbo,no-such-codec"]);
  assert.equal(unknown.code, 1);
  assert.ok(unknown.stderr.includes(`--codecs: no-such-codec not in the codec manifest (filter/codec/manifest.json: ${CODEC_NAMES.join(", ")})`), unknown.stderr);
  // A module built with fewer codecs: services of the missing one are refused with CodecNotAvailable.
  const fewer = meltemi(["render", "-f", input, ...wasm, "--codecs", "dubbo", "--status"]);
  assert.match(fewer.stdout + fewer.stderr, /MetaRouter meta-thrift\/test-metaprotocol-thrift-route: Ready=False CodecNotAvailable/);
});

test("render: directories are read recursively, in name order", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "meltemi-render-"));
  try {
    const sub = path.join(dir, "b");
    mkdirSync(sub);
    writeFileSync(path.join(dir, "a.yaml"), `apiVersion: v1\nkind: Service\nmetadata: {name: one, namespace: x}\nspec:\n  clusterIP: 10.0.0.1\n  selector: {app: one}\n  ports: [{name: tcp-metaprotocol-thrift, port: 9090}]\n`);
    writeFileSync(path.join(sub, "c.yml"), `apiVersion: v1\nkind: Service\nmetadata: {name: two, namespace: x}\nspec:\n  selector: {app: two}\n  ports: [{name: tcp-metaprotocol-dubbo, port: 20880}]\n`);
    writeFileSync(path.join(sub, "notes.txt"), "not yaml: [");
    const r = meltemi(["render", "-f", dir, "-o", "json", ...wasm]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).items.map((i: any) => i.metadata.name), ["meltemi-server-one-9090", "meltemi-server-two-20880"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("controller: --help lists the runtime flags; a missing --wasm-url or inconsistent lease timing is refused", () => {
  const help = meltemi(["controller", "--help"]);
  assert.equal(help.code, 0, help.stderr);
  for (const flag of ["--kubeconfig", "--wasm-url", "--health-probe-bind-address", "--metrics-bind-address", "--leader-election-namespace", "--leader-election-id", "--no-leader-elect", "--log-level"]) {
    assert.match(help.stdout, new RegExp(flag));
  }
  const noUrl = meltemi(["controller"]);
  assert.equal(noUrl.code, 1);
  assert.match(noUrl.stderr, /--wasm-url is required/);
  const timing = meltemi(["controller", ...wasm, "--lease-duration", "5", "--renew-deadline", "5"]);
  assert.equal(timing.code, 1);
  assert.match(timing.stderr, /--renew-deadline must be shorter than --lease-duration/);
  const badDigest = meltemi(["controller", "--wasm-url", "oci://r/m:latest", "--kubeconfig", "/nonexistent"]);
  assert.equal(badDigest.code, 1);
  assert.match(badDigest.stderr, /--wasm-sha256 is required/);
});
