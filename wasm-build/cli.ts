// wasm-build: build the Meltemi module, pack it as an OCI image istio-agent accepts, push it, and
// print the digest-pinned reference WasmPlugin takes. Run: node --import tsx wasm-build/cli.ts --help
import fs from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { buildRelease, repoRoot, twoCleanBuilds } from "./build.js";
import { parseDigest, type Digest } from "./digest.js";
import { WasmBuildError } from "./errors.js";
import { IMAGE_FORMATS, packImage, type ImageFormat, type PackedImage, type PackOptions } from "./image.js";
import * as mt from "./media-types.js";
import { readModule } from "./module.js";
import { readLayout, writeLayout } from "./oci-layout.js";
import { pushImage } from "./push.js";
import { parseImageReference } from "./reference.js";
import type { Credentials } from "./registry/credentials.js";

interface PackFlags {
  format: ImageFormat;
  rootId?: string[];
  source?: string;
  revision?: string;
  imageVersion?: string;
}

function formatOption(): Option {
  return new Option("--format <format>", "wasm: two-layer Wasm artifact; compat: image whose layer is a tar.gz holding plugin.wasm")
    .choices(IMAGE_FORMATS as string[]).default("compat");
}

function addPackOptions(cmd: Command): Command {
  return cmd
    .addOption(formatOption())
    .option("--root-id <id...>", "root ids the module registers (runtime config root_ids)")
    .option("--source <url>", "annotation org.opencontainers.image.source")
    .option("--revision <rev>", "annotation org.opencontainers.image.revision (e.g. $(git rev-parse HEAD))")
    .option("--image-version <v>", "annotation org.opencontainers.image.version");
}

/** SOURCE_DATE_EPOCH (reproducible-builds.org) sets the image's created time; unset, it is omitted. */
function sourceDateEpoch(): Date | undefined {
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw)) throw new WasmBuildError(`SOURCE_DATE_EPOCH must be a whole number of seconds, got "${raw}"`);
  return new Date(Number(raw) * 1000);
}

function packOptions(flags: PackFlags): PackOptions {
  const annotations: Record<string, string> = {};
  if (flags.source) annotations[mt.ANNOTATION_SOURCE] = flags.source;
  if (flags.revision) annotations[mt.ANNOTATION_REVISION] = flags.revision;
  if (flags.imageVersion) annotations[mt.ANNOTATION_VERSION] = flags.imageVersion;
  return { format: flags.format, rootIds: flags.rootId, annotations, created: sourceDateEpoch() };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive whole number of bytes");
  return n;
}

function digestArg(value: string): Digest {
  const d = parseDigest(value);
  if (!d) throw new InvalidArgumentError("expected sha256:<64 hex digits> or the 64 hex digits");
  return d;
}

function print(json: boolean, data: object, lines: string[]): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${lines.join("\n")}\n`);
}

async function credentials(flags: { username?: string; password?: string; passwordStdin?: boolean; token?: string }): Promise<Credentials> {
  const username = flags.username ?? process.env.MELTEMI_REGISTRY_USERNAME;
  let password = flags.password ?? process.env.MELTEMI_REGISTRY_PASSWORD;
  if (flags.passwordStdin) {
    password = fs.readFileSync(0, "utf8").replace(/\r?\n$/, "");
  }
  const token = flags.token ?? process.env.MELTEMI_REGISTRY_TOKEN;
  if (token && (username || password)) throw new WasmBuildError("give either --token or --username/--password, not both");
  if ((username === undefined) !== (password === undefined)) {
    throw new WasmBuildError("--username and a password (--password-stdin or MELTEMI_REGISTRY_PASSWORD) go together");
  }
  return { username, password, token };
}

const program = new Command("wasm-build")
  .description("Build the Meltemi Wasm module and publish it as an OCI image for Istio's WasmPlugin")
  .showHelpAfterError();

program.command("build")
  .description("run the AssemblyScript release build and check the output is valid WebAssembly")
  .option("--out <file>", "write the module here instead of asconfig.json's release outFile")
  .option("--json", "print JSON")
  .action(async (flags: { out?: string; json?: boolean }) => {
    const { file, module } = await buildRelease(repoRoot, flags.out);
    print(!!flags.json, { file, sha256: module.sha256, size: module.bytes.length, abiVersions: module.abiVersions },
      [`built ${file} (${module.bytes.length} bytes)`, `sha256: ${module.sha256}`]);
  });

addPackOptions(program.command("repro")
  .description("build twice from clean copies of the source tree and check modules and manifest digests are identical"))
  .option("--work-dir <dir>", "where to put the two copies (default: a new temp dir)")
  .option("--json", "print JSON")
  .action(async (flags: PackFlags & { workDir?: string; json?: boolean }) => {
    const builds = await twoCleanBuilds(repoRoot, flags.workDir);
    const results: { dir: string; file: string; sha256: string; manifestDigests: Record<string, string> }[] = [];
    for (const b of builds) {
      const digests: Record<string, string> = {};
      for (const format of IMAGE_FORMATS) digests[format] = (await packImage(b.module, { ...packOptions(flags), format })).manifestDigest;
      results.push({ dir: b.dir, file: b.file, sha256: b.module.sha256, manifestDigests: digests });
    }
    const identical = results.every((r) => JSON.stringify([r.sha256, r.manifestDigests]) === JSON.stringify([results[0].sha256, results[0].manifestDigests]));
    print(!!flags.json, { identical, builds: results }, [
      ...results.map((r) => `${r.file}: sha256 ${r.sha256}, manifest wasm ${r.manifestDigests.wasm}, compat ${r.manifestDigests.compat}`),
      identical ? "reproducible: both clean builds are byte-identical and pack to the same manifest digests"
        : "NOT reproducible: the two clean builds differ",
    ]);
    if (!identical) process.exitCode = 1;
  });

addPackOptions(program.command("pack")
  .description("pack a module as an OCI image layout directory (deterministic: same module, same digest)")
  .argument("<module>", "the .wasm file, e.g. build/meltemi.wasm"))
  .requiredOption("--out <dir>", "OCI layout directory to write (skopeo: oci:<dir>)")
  .option("--tag <name>", "ref name in the layout's index.json", "latest")
  .option("--json", "print JSON")
  .action(async (file: string, flags: PackFlags & { out: string; tag: string; json?: boolean }) => {
    const module = readModule(file);
    const image = await packImage(module, packOptions(flags));
    writeLayout(flags.out, image, flags.tag);
    print(!!flags.json, { layout: flags.out, format: image.format, digest: image.manifestDigest, moduleSha256: module.sha256 },
      [`packed ${file} as ${image.format} image in ${flags.out}`, `digest: ${image.manifestDigest}`]);
  });

addPackOptions(program.command("push")
  .description("push a module (packed on the fly) or an OCI layout to a registry over the distribution API")
  .argument("[module]", "the .wasm file to pack and push"))
  .requiredOption("--image <ref>", "host[:port]/repository[:tag]")
  .option("--layout <dir>", "push this OCI layout (from `pack`) instead of a module")
  .option("--insecure-http", "talk plain HTTP to the registry (default: HTTPS)")
  .option("--username <name>", "user for Basic auth or the token server (env MELTEMI_REGISTRY_USERNAME)")
  .option("--password-stdin", "read the password from standard input (or env MELTEMI_REGISTRY_PASSWORD)")
  .addOption(new Option("--password <password>", "password (prefer --password-stdin)").hideHelp())
  .option("--token <token>", "registry bearer token, sent as is (env MELTEMI_REGISTRY_TOKEN)")
  .option("--chunk-size <bytes>", "upload blobs in chunks (PATCH) of this size; default one monolithic PUT", positiveInt)
  .option("--expect-digest <digest>", "fail unless the manifest digest is this one", digestArg)
  .option("-v, --verbose", "log each step to stderr")
  .option("--json", "print JSON")
  .action(async (file: string | undefined, flags: PackFlags & {
    image: string; layout?: string; insecureHttp?: boolean; username?: string; password?: string; passwordStdin?: boolean;
    token?: string; chunkSize?: number; expectDigest?: Digest; verbose?: boolean; json?: boolean;
  }) => {
    if ((file === undefined) === (flags.layout === undefined)) throw new WasmBuildError("push takes either a module file or --layout <dir>");
    const ref = parseImageReference(flags.image);
    const creds = await credentials(flags);
    let image: PackedImage;
    let moduleSha256: string | undefined;
    if (file !== undefined) {
      const module = readModule(file);
      moduleSha256 = module.sha256;
      image = await packImage(module, packOptions(flags));
    } else {
      image = readLayout(flags.layout!);
    }
    const result = await pushImage(image, ref, {
      plainHttp: !!flags.insecureHttp,
      credentials: creds,
      chunkSize: flags.chunkSize,
      expectDigest: flags.expectDigest,
      log: flags.verbose ? (l) => process.stderr.write(`wasm-build: ${l}\n`) : undefined,
    });
    print(!!flags.json, { ...result, moduleSha256 }, [
      `pushed ${result.image} (${result.format} format)`,
      `digest: ${result.digest}`,
      `WasmPlugin url: ${result.url}`,
      `WasmPlugin sha256: ${result.sha256}`,
    ]);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof WasmBuildError) {
    process.stderr.write(`wasm-build: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`wasm-build: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 2;
  }
}
