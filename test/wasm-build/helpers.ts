// Shared by the wasm-build tests: the module under test, the CLI as a child process, and reading an
// image back from an OCI layout that skopeo wrote.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "./registry.js";

/**
 * The release module, read once into memory (others may rebuild build/ while tests run) and copied
 * to a temp file for the CLI. Built with the project's locked build command if missing.
 */
export function builtModule(): { bytes: Uint8Array; file: string } {
  const built = path.join(repoRoot, "build", "meltemi.wasm");
  if (!fs.existsSync(built)) {
    execFileSync("flock", [".build.lock", "npx", "asc", "filter/index.ts", "--target", "release"], { cwd: repoRoot, stdio: "inherit" });
  }
  const bytes = new Uint8Array(fs.readFileSync(built));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-module-")), "meltemi.wasm");
  fs.writeFileSync(file, bytes);
  return { bytes, file };
}

/** A different but valid module: the same bytes plus a custom section (id 0) naming `tag`. */
export function variantModule(bytes: Uint8Array, tag: string): Uint8Array {
  const name = Buffer.from(tag);
  const payload = Buffer.concat([Buffer.from([name.length]), name]);
  return new Uint8Array(Buffer.concat([bytes, Buffer.from([0, payload.length]), payload]));
}

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Runs `node --import tsx wasm-build/cli.ts ...args` and waits for it to exit. */
/** Runs the wasm-build CLI; killed after `killAfterMs` (a bound on a hung run, not a timing check). */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}, killAfterMs = 180_000): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ["MELTEMI_REGISTRY_USERNAME", "MELTEMI_REGISTRY_PASSWORD", "MELTEMI_REGISTRY_TOKEN", "SOURCE_DATE_EPOCH"]) delete childEnv[k];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "wasm-build", "cli.ts"), ...args], {
    cwd: repoRoot, env: childEnv, stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => { stdout += d; });
  child.stderr.on("data", (d: Buffer) => { stderr += d; });
  const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** An image in an OCI layout dir (as `skopeo copy ... oci:<dir>` writes it), for istioUnpack. */
export function imageFromLayout(dir: string): { manifest: Uint8Array; blob(digest: string): Promise<Uint8Array> } {
  const index = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const blobFile = (digest: string) => path.join(dir, "blobs", ...digest.split(":"));
  return {
    manifest: new Uint8Array(fs.readFileSync(blobFile(index.manifests[0].digest))),
    blob: async (digest) => new Uint8Array(fs.readFileSync(blobFile(digest))),
  };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `meltemi-${prefix}-`));
}
