// Label values taken from the wire (service and method names) must not break the metric name: the
// separators `=.=` and `;.;` must not appear, and a client must not be able to make them huge. Bytes
// outside [A-Za-z0-9_.:/$-] become `_` (that also removes `=` and `;`), at most MAX_LABEL_VALUE_BYTES
// are kept, and an empty value is `unknown`. Runs once per new label set, not per request.
export const MAX_LABEL_VALUE_BYTES: u32 = 128;
export const UNKNOWN = "unknown";

function safe(c: u32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
    c == 0x5f || c == 0x2e || c == 0x3a || c == 0x2f || c == 0x24 || c == 0x2d;
}

export function labelValue(ptr: usize, len: u32): string {
  if (len == 0) return UNKNOWN;
  const n = len < MAX_LABEL_VALUE_BYTES ? len : MAX_LABEL_VALUE_BYTES;
  const buf = new ArrayBuffer(<i32>n);
  const out = changetype<usize>(buf);
  for (let i: u32 = 0; i < n; i++) {
    const c = <u32>load<u8>(ptr + i);
    store<u8>(out + i, safe(c) ? <u8>c : 0x5f);
  }
  return String.UTF8.decode(buf);
}
