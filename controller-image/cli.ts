// The controller image without a Docker engine (controller-image/README.md):
//   node --import tsx controller-image/cli.ts build --out out/controller-oci     # OCI layout
//   node --import tsx controller-image/cli.ts push --image 127.0.0.1:5000/meltemi/controller:0.1.0 --insecure-http
// Both need build/meltemi.js (npm run build) and take the runtime from scripts/provision/controller-runtime.sh.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { writeLayout } from "../wasm-build/oci-layout.js";
import { pushImage } from "../wasm-build/push.js";
import { parseImageReference } from "../wasm-build/reference.js";
import { packControllerImage } from "./image.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function pack(bundle: string) {
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build first`);
  const runtimeDir = execFileSync(path.join(repoRoot, "scripts/provision/controller-runtime.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  // SOURCE_DATE_EPOCH, when set, is the only time the image records (reproducible-builds.org convention).
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return packControllerImage({
    runtimeDir,
    bundleFile: bundle,
    annotations: { "org.opencontainers.image.title": "meltemi-controller" },
    created: epoch ? new Date(Number(epoch) * 1000) : undefined,
  });
}

const program = new Command("controller-image").description("the Meltemi controller's OCI image, assembled without a container engine");
program.command("build")
  .description("assemble the image into an OCI layout directory")
  .requiredOption("--out <dir>", "the OCI layout to write")
  .option("--bundle <file>", "the controller bundle", path.join(repoRoot, "build/meltemi.js"))
  .action(async (flags: { out: string; bundle: string }) => {
    const image = await pack(flags.bundle);
    writeLayout(flags.out, image);
    console.log(`controller image in ${flags.out}\ndigest: ${image.manifestDigest}`);
  });
program.command("push")
  .description("assemble the image and push it to a registry (distribution API)")
  .requiredOption("--image <ref>", "host[:port]/repository[:tag]")
  .option("--bundle <file>", "the controller bundle", path.join(repoRoot, "build/meltemi.js"))
  .option("--insecure-http", "plain HTTP to the registry (default: HTTPS)")
  .option("--json", "print JSON")
  .action(async (flags: { image: string; bundle: string; insecureHttp?: boolean; json?: boolean }) => {
    const image = await pack(flags.bundle);
    const credentials = {
      username: process.env.MELTEMI_REGISTRY_USERNAME,
      password: process.env.MELTEMI_REGISTRY_PASSWORD,
      token: process.env.MELTEMI_REGISTRY_TOKEN,
    };
    const result = await pushImage(image, parseImageReference(flags.image), { plainHttp: !!flags.insecureHttp, credentials });
    const pinned = `${result.image.replace(/:[^:/]+$/, "")}@${result.digest}`;
    if (flags.json) console.log(JSON.stringify({ image: result.image, digest: result.digest, pinned }));
    else console.log(`pushed ${result.image}\ndigest: ${result.digest}\nimage: ${pinned}`);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`controller-image: ${(e as Error).message}`);
  process.exit(1);
}
