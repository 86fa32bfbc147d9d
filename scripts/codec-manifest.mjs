// Writes filter/codec/manifest.json, the codec manifest the controller reads (controller/translate/codecs.ts),
// from the codecs themselves: the codec harness (build/codec-harness.js, the filter's registry and
// codecs compiled for Node; scripts/build.sh builds it) renders what each codec says of itself.
// `--check` writes nothing and exits 1 when the file is not what the codecs say (test/codec/manifest.test.ts
// does the same check in the suite).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const file = path.join(root, "filter/codec/manifest.json");
const harness = await import(pathToFileURL(path.join(root, "build/codec-harness.js")).href);
const text = JSON.stringify(JSON.parse(harness.codecManifest()), null, 2) + "\n";
const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
if (process.argv.includes("--check")) {
  if (current !== text) {
    console.error(`${path.relative(root, file)} is not what the codecs say; run: node scripts/codec-manifest.mjs`);
    process.exit(1);
  }
} else if (current !== text) {
  fs.writeFileSync(file, text);
  console.log(`wrote ${path.relative(root, file)}`);
}
