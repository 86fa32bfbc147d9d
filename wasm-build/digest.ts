import { createHash } from "node:crypto";

/** An OCI content digest, "sha256:<64 hex>". */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function digestOf(bytes: Uint8Array): Digest {
  return `sha256:${sha256Hex(bytes)}`;
}

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

/** Accepts "sha256:<hex>" or bare hex (what WasmPlugin's `sha256` field holds). */
export function parseDigest(s: string): Digest | undefined {
  const d = s.startsWith("sha256:") ? s : `sha256:${s}`;
  return isDigest(d) ? d : undefined;
}
