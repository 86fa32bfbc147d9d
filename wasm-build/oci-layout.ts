import fs from "node:fs";
import path from "node:path";
import { canonicalJsonBytes } from "./canonical-json.js";
import { digestOf, isDigest, type Digest } from "./digest.js";
import { WasmBuildError } from "./errors.js";
import type { Blob, ImageFormat, PackedImage } from "./image.js";
import * as mt from "./media-types.js";

// OCI image layout (opencontainers/image-spec image-layout.md): `oci-layout`, `index.json` and
// content-addressed `blobs/sha256/<hex>`. skopeo reads it as `oci:<dir>`.

function blobPath(dir: string, digest: Digest): string {
  return path.join(dir, "blobs", "sha256", digest.slice("sha256:".length));
}

/** Writes the image as an OCI layout with one manifest, tagged `refName` when given. */
export function writeLayout(dir: string, image: PackedImage, refName?: string): void {
  fs.mkdirSync(path.join(dir, "blobs", "sha256"), { recursive: true });
  for (const b of image.blobs) fs.writeFileSync(blobPath(dir, b.digest), b.bytes);
  fs.writeFileSync(blobPath(dir, image.manifestDigest), image.manifest);
  const entry: Record<string, string | number | Record<string, string>> = {
    mediaType: image.manifestMediaType,
    digest: image.manifestDigest,
    size: image.manifest.length,
  };
  if (refName) entry.annotations = { [mt.ANNOTATION_REF_NAME]: refName };
  fs.writeFileSync(path.join(dir, "oci-layout"), canonicalJsonBytes({ imageLayoutVersion: "1.0.0" }));
  fs.writeFileSync(path.join(dir, "index.json"), canonicalJsonBytes({
    schemaVersion: 2,
    mediaType: mt.OCI_INDEX,
    manifests: [entry],
  }));
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

function readVerified(dir: string, d: Descriptor, what: string): Uint8Array {
  if (!isDigest(d.digest)) throw new WasmBuildError(`${what} in ${dir} has an unsupported digest ${d.digest}`);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(blobPath(dir, d.digest));
  } catch {
    throw new WasmBuildError(`${what} ${d.digest} is missing from ${dir}`);
  }
  const actual = digestOf(bytes);
  if (actual !== d.digest || bytes.length !== d.size) {
    throw new WasmBuildError(`${what} in ${dir} does not match its digest: descriptor says ${d.digest} (${d.size} bytes), content is ${actual} (${bytes.length} bytes); refusing to push it`);
  }
  return bytes;
}

/** Reads back a layout written by writeLayout, verifying every digest and size on the way. */
export function readLayout(dir: string): PackedImage {
  let index: { manifests?: Descriptor[] };
  try {
    index = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8"));
  } catch (e) {
    throw new WasmBuildError(`${dir} is not an OCI layout (index.json: ${(e as Error).message})`);
  }
  const manifests = index.manifests ?? [];
  if (manifests.length !== 1) throw new WasmBuildError(`${dir}/index.json must list exactly one manifest, it lists ${manifests.length}`);
  const md = manifests[0];
  if (md.mediaType !== mt.OCI_MANIFEST) throw new WasmBuildError(`${dir}: manifest media type ${md.mediaType} is not ${mt.OCI_MANIFEST}`);
  const manifestBytes = readVerified(dir, md, "manifest");
  const manifest = JSON.parse(new TextDecoder().decode(manifestBytes)) as { config: Descriptor; layers: Descriptor[]; annotations?: Record<string, string> };
  const blobs = new Map<Digest, Blob>();
  for (const d of [manifest.config, ...manifest.layers]) {
    const bytes = readVerified(dir, d, d === manifest.config ? "config" : "layer");
    blobs.set(d.digest as Digest, { mediaType: d.mediaType, digest: d.digest as Digest, size: d.size, bytes });
  }
  const format: ImageFormat = manifest.annotations?.[mt.VARIANT_ANNOTATION] === "compat" ? "compat" : "wasm";
  return {
    format,
    manifestMediaType: md.mediaType,
    manifest: manifestBytes,
    manifestDigest: md.digest as Digest,
    blobs: [...blobs.values()],
  };
}
