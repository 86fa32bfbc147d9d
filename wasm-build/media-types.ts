// Media types and annotation keys of the two image formats istio-agent accepts (wasm-build/README.md
// cites the sources: istio/istio pkg/wasm/imagefetcher.go and the solo-io/wasm image spec).

/** OCI image manifest; the only manifest type wasm-build writes. */
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
/** Docker schema 2 manifest: istio-agent reads it too (unpacking only; we never write it). */
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

/** "wasm" format (solo-io "oci" variant): the config layer, then the raw module layer. */
export const WASM_CONFIG = "application/vnd.module.wasm.config.v1+json";
export const WASM_CONTENT_LAYER = "application/vnd.module.wasm.content.layer.v1+wasm";

/** "compat" format: a standard image whose one layer is a tar.gz holding plugin.wasm. */
export const OCI_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const DOCKER_LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/** The file istio-agent looks for (by base name) in a compat layer. */
export const COMPAT_MODULE_FILE = "plugin.wasm";
export const COMPAT_RUNTIME_CONFIG_FILE = "runtime-config.json";
/** Required on compat images with the OCI layer media type (solo-io/wasm spec/spec-compat.md). */
export const VARIANT_ANNOTATION = "module.wasm.image/variant";

export const ANNOTATION_TITLE = "org.opencontainers.image.title";
export const ANNOTATION_CREATED = "org.opencontainers.image.created";
export const ANNOTATION_SOURCE = "org.opencontainers.image.source";
export const ANNOTATION_REVISION = "org.opencontainers.image.revision";
export const ANNOTATION_VERSION = "org.opencontainers.image.version";
export const ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name";
