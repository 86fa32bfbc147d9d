import { WasmBuildError } from "./errors.js";
import type { Digest } from "./digest.js";

/** `host[:port]/repository[:tag]`, the target of a push. */
export interface ImageReference {
  /** Registry host with optional port, as written ("127.0.0.1:5000", "ghcr.io"). */
  registry: string;
  repository: string;
  tag?: string;
}

// Grammar from the distribution reference package (docker/distribution reference/regexp.go).
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const REPOSITORY_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const HOST_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d+)?$/;

export function parseImageReference(input: string): ImageReference {
  const ref = input.startsWith("oci://") ? input.slice("oci://".length) : input;
  if (ref.includes("@")) {
    throw new WasmBuildError(`--image ${input}: give a tag (or none), not a digest; the digest is computed from the image`);
  }
  const slash = ref.indexOf("/");
  const registry = slash > 0 ? ref.slice(0, slash) : "";
  // Like docker: the first component is a registry only if it has a dot, a port or is localhost.
  if (!registry || !(registry.includes(".") || registry.includes(":") || registry === "localhost") || !HOST_RE.test(registry)) {
    throw new WasmBuildError(`--image ${input}: expected host[:port]/repository[:tag], e.g. 127.0.0.1:5000/meltemi:v1`);
  }
  let rest = ref.slice(slash + 1);
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new WasmBuildError(`--image ${input}: invalid tag "${tag}"`);
  }
  if (!REPOSITORY_RE.test(rest) || rest.length > 255) {
    throw new WasmBuildError(`--image ${input}: invalid repository "${rest}" (lower case letters, digits, separators . _ - and /)`);
  }
  return { registry, repository: rest, tag };
}

export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}`;
}

/** The pinned form WasmPlugin's `url` takes: `oci://host/repo@sha256:...`. */
export function pinnedUrl(ref: ImageReference, digest: Digest): string {
  return `oci://${ref.registry}/${ref.repository}@${digest}`;
}
