import { canonicalJsonBytes, type Json } from "./canonical-json.js";
import { compatLayer } from "./compat-layer.js";
import { digestOf, type Digest } from "./digest.js";
import * as mt from "./media-types.js";
import type { WasmModule } from "./module.js";

export type ImageFormat = "wasm" | "compat";
export const IMAGE_FORMATS: readonly ImageFormat[] = ["wasm", "compat"];

export interface Blob {
  mediaType: string;
  digest: Digest;
  size: number;
  bytes: Uint8Array;
}

/** An image ready to write to an OCI layout or push: the manifest bytes are final. */
export interface PackedImage {
  /** rootfs: a container image, not a Wasm module (the controller's, controller-image/). */
  format: ImageFormat | "rootfs";
  manifestMediaType: string;
  manifest: Uint8Array;
  manifestDigest: Digest;
  /** Every blob the manifest references (config and layers), each once. */
  blobs: Blob[];
}

export interface PackOptions {
  format: ImageFormat;
  /** Root ids the module registers, recorded in the runtime config (solo-io spec `config.root_ids`). */
  rootIds?: string[];
  /** Manifest annotations (org.opencontainers.image.*); values must not depend on the clock. */
  annotations?: Record<string, string>;
  /** Image creation time; omitted unless given (the CLI takes it from SOURCE_DATE_EPOCH). */
  created?: Date;
}

function blob(mediaType: string, bytes: Uint8Array): Blob {
  return { mediaType, digest: digestOf(bytes), size: bytes.length, bytes };
}

function descriptor(b: Blob, annotations?: Record<string, string>): Json {
  const d: { [k: string]: Json } = { mediaType: b.mediaType, digest: b.digest, size: b.size };
  if (annotations) d.annotations = annotations;
  return d;
}

/** RFC 3339 without fractional seconds, as the OCI image spec's `created` examples. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The solo-io runtime config: which runtime and proxy-wasm ABI the module is for. */
function runtimeConfig(module: WasmModule, rootIds?: string[]): Uint8Array {
  const cfg: { [k: string]: Json } = { type: "envoy_proxy", abiVersions: module.abiVersions };
  if (rootIds && rootIds.length > 0) cfg.config = { root_ids: [...rootIds].sort() };
  return canonicalJsonBytes(cfg);
}

/**
 * Packs a module as an OCI image manifest istio-agent accepts (rules and sources: wasm-build/README.md).
 * Deterministic: the same module and options give the same manifest bytes, so the same digest.
 */
export async function packImage(module: WasmModule, opts: PackOptions): Promise<PackedImage> {
  const annotations: Record<string, string> = { ...(opts.annotations ?? {}) };
  if (opts.created) annotations[mt.ANNOTATION_CREATED] = rfc3339(opts.created);
  const runtime = blob(mt.WASM_CONFIG, runtimeConfig(module, opts.rootIds));

  let config: Blob;
  let layers: { blob: Blob; annotations?: Record<string, string> }[];
  if (opts.format === "wasm") {
    // Istio's oci-variant rule: exactly two layers, one of them the raw module. The other is the
    // runtime config (as in istio's own imagefetcher_test.go), which also serves as manifest config.
    config = runtime;
    layers = [
      { blob: runtime, annotations: { [mt.ANNOTATION_TITLE]: mt.COMPAT_RUNTIME_CONFIG_FILE } },
      { blob: blob(mt.WASM_CONTENT_LAYER, module.bytes), annotations: { [mt.ANNOTATION_TITLE]: mt.COMPAT_MODULE_FILE } },
    ];
  } else {
    const layer = await compatLayer([
      { name: mt.COMPAT_MODULE_FILE, bytes: module.bytes },
      { name: mt.COMPAT_RUNTIME_CONFIG_FILE, bytes: runtime.bytes },
    ]);
    const imageConfig: { [k: string]: Json } = {
      // The wasm/wasip1 platform pair is the CNCF Wasm OCI artifact convention; istio-agent ignores it.
      architecture: "wasm",
      os: "wasip1",
      config: {},
      rootfs: { type: "layers", diff_ids: [digestOf(layer.tar)] },
    };
    if (opts.created) imageConfig.created = rfc3339(opts.created);
    config = blob(mt.OCI_IMAGE_CONFIG, canonicalJsonBytes(imageConfig));
    layers = [{ blob: blob(mt.OCI_LAYER_TAR_GZIP, layer.gzip) }];
    annotations[mt.VARIANT_ANNOTATION] = "compat";
  }

  const manifest: { [k: string]: Json } = {
    schemaVersion: 2,
    mediaType: mt.OCI_MANIFEST,
    config: descriptor(config),
    layers: layers.map((l) => descriptor(l.blob, l.annotations)),
  };
  if (Object.keys(annotations).length > 0) manifest.annotations = annotations;
  const manifestBytes = canonicalJsonBytes(manifest);

  const blobs = new Map<Digest, Blob>();
  for (const b of [config, ...layers.map((l) => l.blob)]) blobs.set(b.digest, b);
  return {
    format: opts.format,
    manifestMediaType: mt.OCI_MANIFEST,
    manifest: manifestBytes,
    manifestDigest: digestOf(manifestBytes),
    blobs: [...blobs.values()],
  };
}
