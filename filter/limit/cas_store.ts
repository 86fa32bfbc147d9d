// Where a token bucket (or a global limit's descriptor record, filter/global/global_record.ts) keeps its
// state: a small fixed-size record under a key with compare-and-swap, so that every Envoy worker (one VM
// each) works on ONE record per proxy. In Envoy this is the proxy-wide shared data
// (shared_data_store.ts); tests use MemoryCasStore.
export const BUCKET_STATE_BYTES: u32 = 16;

export abstract class CasStore {
  /** Copies the record of `key` (`size` bytes) to `into`; returns its CAS, or -1 when absent (or of another size). */
  abstract read(key: ArrayBuffer, into: usize, size: u32 = BUCKET_STATE_BYTES): i64;
  /**
   * Writes the record if its CAS is still `cas` (0: unconditionally, as in Envoy).
   * Returns false on a CAS mismatch: someone else wrote first; read again and retry.
   */
  abstract write(key: ArrayBuffer, from: usize, cas: u32, size: u32 = BUCKET_STATE_BYTES): bool;
}

/** An in-memory store with Envoy's CAS rules, for unit tests. */
export class MemoryCasStore extends CasStore {
  private values: Map<string, StaticArray<u8>> = new Map();
  private versions: Map<string, u32> = new Map();
  /** Writes that should fail with a mismatch before succeeding (to test the retry path). */
  injectMismatches: i32 = 0;

  read(keyUtf8: ArrayBuffer, into: usize, size: u32 = BUCKET_STATE_BYTES): i64 {
    const key = String.UTF8.decode(keyUtf8);
    if (!this.values.has(key)) return -1;
    const value = this.values.get(key);
    if (<u32>value.length != size) return -1;
    memory.copy(into, changetype<usize>(value), size);
    return <i64>this.versions.get(key);
  }

  write(keyUtf8: ArrayBuffer, from: usize, cas: u32, size: u32 = BUCKET_STATE_BYTES): bool {
    const key = String.UTF8.decode(keyUtf8);
    if (this.injectMismatches > 0) { this.injectMismatches--; return false; }
    const current: u32 = this.versions.has(key) ? this.versions.get(key) : 0;
    if (cas != 0 && cas != current) return false;
    const copy = new StaticArray<u8>(<i32>size);
    memory.copy(changetype<usize>(copy), from, size);
    this.values.set(key, copy);
    this.versions.set(key, current + 1);
    return true;
  }
}
