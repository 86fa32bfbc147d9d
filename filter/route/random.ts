// A small, fast pseudo-random generator (xorshift64*) for weighted picks and fault percentages.
// Not for anything secret. Each VM seeds its own from the clock, or from the configuration's randomSeed
// (filter/network/connection.ts vmRandom) so that a test's draws can be replayed.
export class Random {
  private state: u64;
  constructor(seed: u64) { this.state = seed != 0 ? seed : 0x9e3779b97f4a7c15; }

  next(): u64 {
    let x = this.state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    this.state = x;
    return x * 0x2545f4914f6cdd1d;
  }

  /** Uniform in [0, n) for n > 0 (the modulo bias is below 2^-32 for the n we use). */
  below(n: u32): u32 { return <u32>((this.next() >> 16) % <u64>n); }
}

/** FNV-1a over bytes: the consistent hash of a metadata value. */
export function fnv1a(ptr: usize, len: u32): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i: u32 = 0; i < len; i++) {
    h ^= <u64>load<u8>(ptr + i);
    h *= 0x100000001b3;
  }
  return h;
}
