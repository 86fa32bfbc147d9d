import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmBuildError } from "./errors.js";
import { readModule, type WasmModule } from "./module.js";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The release target's output, as asconfig.json names it. */
export function releaseOutFile(root: string): string {
  const config = JSON.parse(fs.readFileSync(path.join(root, "asconfig.json"), "utf8")) as {
    targets?: { release?: { outFile?: string } };
  };
  return path.resolve(root, config.targets?.release?.outFile ?? "build/meltemi.wasm");
}

/**
 * Runs the AssemblyScript release build (`asc --config asconfig.json --target release`) in `root`,
 * then checks the output is valid WebAssembly.
 */
export async function buildRelease(root: string, outFile?: string): Promise<{ file: string; module: WasmModule }> {
  const asc = path.join(root, "node_modules", "assemblyscript", "bin", "asc.js");
  if (!fs.existsSync(asc)) throw new WasmBuildError(`AssemblyScript compiler not found at ${asc}; run npm ci first`);
  const args = [asc, "--config", "asconfig.json", "--target", "release"];
  if (outFile) args.push("--outFile", outFile);
  const output: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d: Buffer) => output.push(d));
    child.stderr.on("data", (d: Buffer) => output.push(d));
    child.on("error", reject);
    child.on("exit", resolve);
  });
  if (code !== 0) {
    const tail = Buffer.concat(output).toString("utf8").split("\n").slice(-30).join("\n");
    throw new WasmBuildError(`release build failed (asc exit ${code}):\n${tail}`);
  }
  const file = outFile ? path.resolve(root, outFile) : releaseOutFile(root);
  return { file, module: readModule(file) };
}

/**
 * The files a clean checkout of this commit has, plus new files not yet committed (git's own view:
 * tracked and untracked-but-not-ignored), so build/ and node_modules/ are left out. Read-only git.
 */
function sourceFiles(root: string): string[] {
  try {
    const out = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root });
    return out.toString("utf8").split("\0").filter((f) => f !== "");
  } catch (e) {
    throw new WasmBuildError(`the reproducibility check copies the source tree with git ls-files, which failed in ${root}: ${(e as Error).message}`);
  }
}

/** Copies the source tree into `dir` (no build output) with node_modules linked, for a clean build. */
export function cleanCopy(root: string, dir: string): void {
  for (const rel of sourceFiles(root)) {
    const from = path.join(root, rel);
    if (!fs.existsSync(from) || !fs.statSync(from).isFile()) continue; // deleted in the work tree
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(dir, rel));
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
}

export interface ReproBuild {
  dir: string;
  file: string;
  module: WasmModule;
}

/**
 * Two clean release builds from the same sources, in two fresh copies at different paths (so a
 * build that embeds its path or reuses old output would show up), returned for comparison.
 */
export async function twoCleanBuilds(root: string, workDir?: string): Promise<ReproBuild[]> {
  const base = workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-repro-"));
  const builds: ReproBuild[] = [];
  for (const name of ["first", "second-build"]) {
    const dir = path.join(base, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    cleanCopy(root, dir);
    const { file, module } = await buildRelease(dir);
    builds.push({ dir, file, module });
  }
  return builds;
}
