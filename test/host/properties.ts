// Property values as Envoy serializes them for proxy_get_property (context.cc serializeValue): strings
// and bytes raw, integers as 8 bytes little-endian, booleans as one byte. Paths are the segments joined
// by NUL, e.g. "source\0address"; Envoy's parser ignores one trailing NUL, so the host does too.

export type PropertyValue = string | Uint8Array | number | bigint | boolean;

export function encodeProperty(value: PropertyValue): Buffer {
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === "boolean") return Buffer.from([value ? 1 : 0]);
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)));
  return b;
}

export function propertyPath(path: string): string {
  return path.endsWith("\0") ? path.slice(0, -1) : path;
}

export function propertyMap(entries: Record<string, PropertyValue> = {}): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (const [path, value] of Object.entries(entries)) map.set(propertyPath(path), encodeProperty(value));
  return map;
}
