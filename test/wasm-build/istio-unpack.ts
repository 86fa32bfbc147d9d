// How istio-agent picks the Wasm module out of an image, restated from istio/istio
// pkg/wasm/imagefetcher.go (ImageFetcher.PrepareFetch and the extract* functions; rules and sources in
// wasm-build/README.md). Used by the tests to prove that what wasm-build pushes unpacks, by Istio's
// rules, to exactly the module that was built. Written from the rules, not translated from the code.
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import tar from "tar-stream";

export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
export const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
export const WASM_LAYER = "application/vnd.module.wasm.content.layer.v1+wasm";
const INDEX_TYPES = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];

export interface PulledImage {
  /** The manifest bytes exactly as the registry served them. */
  manifest: Uint8Array;
  /** Fetches a blob by digest (istio-agent's client checks each blob against its digest). */
  blob(digest: string): Promise<Uint8Array>;
}

export interface UnpackOptions {
  /** WasmPlugin `sha256`: hex of the manifest digest; compared with the pulled manifest when set. */
  expectedSha256?: string;
  /**
   * Which compat-layer rule to apply: "last" (current istio: the last of one or more layers) or
   * "only" (older istio releases: exactly one layer). An image meant for every release passes both.
   */
  compatRule?: "last" | "only";
}

export interface Unpacked {
  module: Uint8Array;
  /** Which of istio-agent's three paths accepted the image. */
  path: "docker" | "oci-compat" | "oci-artifact";
  manifestSha256: string;
}

interface Descriptor { mediaType?: string; digest: string; size: number }
interface Manifest { mediaType?: string; layers?: Descriptor[] }

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function verifiedBlob(image: PulledImage, d: Descriptor): Promise<Uint8Array> {
  const bytes = await image.blob(d.digest);
  if (`sha256:${sha256(bytes)}` !== d.digest) throw new Error(`blob ${d.digest} does not match its digest`);
  return bytes;
}

/** Base name as Go's filepath.Base: trailing slashes dropped, then what follows the last slash. */
function baseName(name: string): string {
  const trimmed = name.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** The first tar entry (in archive order) whose base name is plugin.wasm, from a gzip'd tar. */
async function pluginFromTarGz(gz: Uint8Array): Promise<Uint8Array> {
  let tarBytes: Buffer;
  try {
    tarBytes = gunzipSync(gz);
  } catch (e) {
    throw new Error(`failed to parse layer as tar.gz: ${(e as Error).message}`);
  }
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      if (baseName(entry.header.name) === "plugin.wasm") return new Uint8Array(Buffer.concat(chunks));
    }
    throw new Error("plugin.wasm not found in the archive");
  })();
  extract.end(tarBytes);
  return done;
}

function compatLayer(manifest: Manifest, rule: "last" | "only", mediaType: string): Descriptor {
  const layers = manifest.layers ?? [];
  if (rule === "only" && layers.length !== 1) throw new Error(`number of layers must be 1 but got ${layers.length}`);
  if (layers.length === 0) throw new Error("number of layers must be greater than zero");
  const layer = layers[layers.length - 1];
  if (layer.mediaType !== mediaType) throw new Error(`invalid media type ${layer.mediaType} (expect ${mediaType})`);
  return layer;
}

export async function istioUnpack(image: PulledImage, opts: UnpackOptions = {}): Promise<Unpacked> {
  const rule = opts.compatRule ?? "last";
  const manifestSha256 = sha256(image.manifest);
  if (opts.expectedSha256 !== undefined && opts.expectedSha256 !== manifestSha256) {
    throw new Error(`fetched image's digest does not match the expected one: got ${manifestSha256}, want ${opts.expectedSha256}`);
  }
  const manifest = JSON.parse(new TextDecoder().decode(image.manifest)) as Manifest;
  if (manifest.mediaType && INDEX_TYPES.includes(manifest.mediaType)) {
    throw new Error("an image index: istio-agent would resolve it to one platform's image first; not restated here");
  }

  // 1. A Docker schema 2 manifest (by the manifest's own mediaType field) takes the Docker path only.
  if (manifest.mediaType === DOCKER_MANIFEST) {
    const layer = compatLayer(manifest, rule, DOCKER_LAYER);
    return { module: await pluginFromTarGz(await verifiedBlob(image, layer)), path: "docker", manifestSha256 };
  }
  // 2. Otherwise the compat variant with an OCI tar+gzip layer is tried first...
  let compatError: Error;
  try {
    const layer = compatLayer(manifest, rule, OCI_LAYER);
    return { module: await pluginFromTarGz(await verifiedBlob(image, layer)), path: "oci-compat", manifestSha256 };
  } catch (e) {
    compatError = e as Error;
  }
  // 3. ...then the Wasm artifact: exactly two layers, the first of the Wasm media type is the raw module.
  const layers = manifest.layers ?? [];
  if (layers.length !== 2) {
    throw new Error(`invalid format: compat: ${compatError.message}; oci: number of layers must be 2 but got ${layers.length}`);
  }
  const wasm = layers.find((l) => l.mediaType === WASM_LAYER);
  if (!wasm) throw new Error(`invalid format: compat: ${compatError.message}; oci: could not find the layer of type ${WASM_LAYER}`);
  return { module: await verifiedBlob(image, wasm), path: "oci-artifact", manifestSha256 };
}
