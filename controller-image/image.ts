// The controller's OCI image: one layer (the root filesystem of rootfs.ts), an image config that runs
// the bundle with the pinned Node as the unprivileged user, and a manifest. Deterministic: the same
// bundle and runtime give the same bytes, so the same digest (no timestamps unless asked for).
import { canonicalJsonBytes, type Json } from "../wasm-build/canonical-json.js";
import { digestOf, type Digest } from "../wasm-build/digest.js";
import { rfc3339, type Blob, type PackedImage } from "../wasm-build/image.js";
import * as mt from "../wasm-build/media-types.js";
import { rootfsLayer } from "./layer.js";
import { BUNDLE, NODE, USER, rootfsEntries } from "./rootfs.js";

export interface ControllerImageOptions {
  /** scripts/provision/controller-runtime.sh's directory. */
  runtimeDir: string;
  /** build/meltemi.js */
  bundleFile: string;
  /** Manifest annotations (org.opencontainers.image.*). */
  annotations?: Record<string, string>;
  created?: Date;
}

function blob(mediaType: string, bytes: Uint8Array): Blob {
  return { mediaType, digest: digestOf(bytes), size: bytes.length, bytes };
}

export async function packControllerImage(opts: ControllerImageOptions): Promise<PackedImage> {
  const layer = await rootfsLayer(rootfsEntries(opts.runtimeDir, opts.bundleFile));
  const imageConfig: { [k: string]: Json } = {
    architecture: "amd64",
    os: "linux",
    config: {
      User: `${USER}:${USER}`,
      Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production"],
      // `meltemi controller ...` in the Deployment: the arguments after the entrypoint.
      Entrypoint: [NODE, BUNDLE],
      Cmd: ["--help"],
      WorkingDir: "/home/nonroot",
    },
    rootfs: { type: "layers", diff_ids: [digestOf(layer.tar)] },
  };
  if (opts.created) imageConfig.created = rfc3339(opts.created);
  const config = blob(mt.OCI_IMAGE_CONFIG, canonicalJsonBytes(imageConfig));
  const layerBlob = blob(mt.OCI_LAYER_TAR_GZIP, layer.gzip);
  const annotations: Record<string, string> = { ...(opts.annotations ?? {}) };
  if (opts.created) annotations[mt.ANNOTATION_CREATED] = rfc3339(opts.created);
  const manifest: { [k: string]: Json } = {
    schemaVersion: 2,
    mediaType: mt.OCI_MANIFEST,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: [{ mediaType: layerBlob.mediaType, digest: layerBlob.digest, size: layerBlob.size }],
  };
  if (Object.keys(annotations).length > 0) manifest.annotations = annotations;
  const manifestBytes = canonicalJsonBytes(manifest);
  return {
    format: "rootfs",
    manifestMediaType: mt.OCI_MANIFEST,
    manifest: manifestBytes,
    manifestDigest: digestOf(manifestBytes) as Digest,
    blobs: [config, layerBlob],
  };
}
