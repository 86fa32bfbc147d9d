/**
 * Canonical JSON for manifests and configs: object keys sorted by code unit, no whitespace. For the
 * values wasm-build writes (strings, safe integers, arrays, objects) this is exactly RFC 8785 (JCS),
 * so the same image always serializes to the same bytes and so the same digest.
 */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new Error(`canonicalJson: only safe integers are supported, got ${value}`);
  }
  return JSON.stringify(value);
}

export function canonicalJsonBytes(value: Json): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
