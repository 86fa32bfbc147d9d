// Counts the parameters in a request's parameter-types string, which says how many argument values
// follow it in the body. It is a concatenation of JVM field descriptors (JVMS 4.3.2), as Dubbo writes
// it (ReflectUtils.getDesc): e.g. "Ljava/lang/String;[IJ" is three parameters.

/** The number of descriptors in [ptr, ptr+len), or -1 when the bytes are not descriptors. */
export function countParameters(ptr: usize, len: u32): i32 {
  let count = 0;
  let i: u32 = 0;
  while (i < len) {
    let c = <u32>load<u8>(ptr + i);
    while (c == 0x5b) { // '[' array of the type that follows
      if (++i >= len) return -1;
      c = <u32>load<u8>(ptr + i);
    }
    if (c == 0x4c) { // 'L' class name up to ';'
      while (i < len && <u32>load<u8>(ptr + i) != 0x3b) i++;
      if (i >= len) return -1;
    } else if (!isPrimitive(c)) {
      return -1;
    }
    i++;
    count++;
  }
  return count;
}

/** B C D F I J S Z (and V, which Dubbo never sends but ReflectUtils accepts). */
function isPrimitive(c: u32): bool {
  return c == 0x42 || c == 0x43 || c == 0x44 || c == 0x46 || c == 0x49 || c == 0x4a || c == 0x53 || c == 0x5a || c == 0x56;
}
