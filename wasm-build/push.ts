import { digestOf, type Digest } from "./digest.js";
import { WasmBuildError } from "./errors.js";
import type { PackedImage } from "./image.js";
import { formatReference, pinnedUrl, type ImageReference } from "./reference.js";
import { RegistryClient } from "./registry/client.js";
import type { Credentials } from "./registry/credentials.js";

export interface PushOptions {
  plainHttp: boolean;
  credentials: Credentials;
  /** Upload blobs in PATCH chunks of this many bytes; monolithic PUT when absent. */
  chunkSize?: number;
  /** Refuse to publish unless the manifest digest is this one (e.g. the digest a WasmPlugin pins). */
  expectDigest?: Digest;
  log?: (line: string) => void;
}

export interface PushResult {
  /** host/repo:tag as pushed (no tag: pushed by digest only). */
  image: string;
  digest: Digest;
  /** For WasmPlugin `url`. */
  url: string;
  /** For WasmPlugin `sha256`: the manifest digest's hex, which istio-agent compares. */
  sha256: string;
  format: string;
  mediaType: string;
  blobsUploaded: Digest[];
  blobsAlreadyPresent: Digest[];
}

/**
 * Publishes an image so that a tag never points at something incomplete: every blob is uploaded and
 * checked present with the right size, the manifest is PUT by digest and read back byte for byte,
 * and only then is the tag PUT. Any failure before that leaves the tag untouched.
 */
export async function pushImage(image: PackedImage, ref: ImageReference, opts: PushOptions): Promise<PushResult> {
  const log = opts.log ?? (() => {});
  if (digestOf(image.manifest) !== image.manifestDigest) {
    throw new WasmBuildError(`digest mismatch: the manifest's content is ${digestOf(image.manifest)}, not ${image.manifestDigest}`);
  }
  if (opts.expectDigest && opts.expectDigest !== image.manifestDigest) {
    throw new WasmBuildError(`digest mismatch: the image's manifest digest is ${image.manifestDigest}, but ${opts.expectDigest} was expected; nothing was pushed`);
  }
  for (const b of image.blobs) {
    if (digestOf(b.bytes) !== b.digest) throw new WasmBuildError(`digest mismatch: blob ${b.digest} has content ${digestOf(b.bytes)}; nothing was pushed`);
  }

  const client = new RegistryClient({
    registry: ref.registry,
    repository: ref.repository,
    plainHttp: opts.plainHttp,
    credentials: opts.credentials,
  });
  try {
    await client.ping();
    const uploaded: Digest[] = [];
    const present: Digest[] = [];
    for (const b of image.blobs) {
      if ((await client.blobSize(b.digest)) === b.size) {
        present.push(b.digest);
        log(`blob ${b.digest} (${b.size} bytes) already present`);
        continue;
      }
      const chunks = await client.uploadBlob(b, opts.chunkSize);
      const size = await client.blobSize(b.digest);
      if (size !== b.size) {
        throw new WasmBuildError(`registry ${ref.registry} does not show blob ${b.digest} after upload (size ${size ?? "missing"}, expected ${b.size})`);
      }
      uploaded.push(b.digest);
      log(`blob ${b.digest} (${b.size} bytes) uploaded ${chunks > 0 ? `in ${chunks} chunks` : "in one request"}`);
    }

    const stored = await client.putManifest(image.manifestDigest, image.manifest, image.manifestMediaType);
    if (stored !== undefined && stored !== image.manifestDigest) {
      throw new WasmBuildError(`digest mismatch: registry ${ref.registry} stored the manifest as ${stored}, expected ${image.manifestDigest}; the tag was not updated`);
    }
    const readBack = await client.getManifest(image.manifestDigest, [image.manifestMediaType]);
    if (!readBack || !readBack.bytes.equals(Buffer.from(image.manifest))) {
      throw new WasmBuildError(`registry ${ref.registry} does not serve back the manifest ${image.manifestDigest} as pushed; the tag was not updated`);
    }
    log(`manifest ${image.manifestDigest} stored and read back`);

    if (ref.tag) {
      const tagged = await client.putManifest(ref.tag, image.manifest, image.manifestMediaType);
      if (tagged !== undefined && tagged !== image.manifestDigest) {
        throw new WasmBuildError(`digest mismatch: registry ${ref.registry} tagged ${ref.tag} as ${tagged}, expected ${image.manifestDigest}`);
      }
      log(`tag ${ref.tag} -> ${image.manifestDigest}`);
    }
    return {
      image: formatReference(ref),
      digest: image.manifestDigest,
      url: pinnedUrl(ref, image.manifestDigest),
      sha256: image.manifestDigest.slice("sha256:".length),
      format: image.format,
      mediaType: image.manifestMediaType,
      blobsUploaded: uploaded,
      blobsAlreadyPresent: present,
    };
  } finally {
    await client.close();
  }
}
