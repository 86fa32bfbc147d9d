// The module's linear memory as the host sees it: bounds-checked reads and writes (Envoy answers
// InvalidMemoryAccess instead of touching memory out of range) and allocation through the module's own
// `malloc` export, which is how every buffer the host hands over gets into the module.
// Views are re-created on every access: memory.grow detaches the old ArrayBuffer.

export class VmMemory {
  constructor(private readonly memory: WebAssembly.Memory, private readonly malloc: (size: number) => number) {}

  get size(): number {
    return this.memory.buffer.byteLength;
  }

  /** A copy of [ptr, ptr + size), or null when out of bounds. */
  read(ptr: number, size: number): Buffer | null {
    if (!this.inBounds(ptr, size)) return null;
    return Buffer.from(new Uint8Array(this.memory.buffer, ptr, size));
  }

  write(ptr: number, bytes: Uint8Array): boolean {
    if (!this.inBounds(ptr, bytes.length)) return false;
    new Uint8Array(this.memory.buffer).set(bytes, ptr);
    return true;
  }

  /** wasm32: a pointer or size ("Word") is written as 4 bytes little-endian. */
  writeU32(ptr: number, value: number): boolean {
    if (!this.inBounds(ptr, 4)) return false;
    new DataView(this.memory.buffer).setUint32(ptr, value >>> 0, true);
    return true;
  }

  writeU64(ptr: number, value: bigint): boolean {
    if (!this.inBounds(ptr, 8)) return false;
    new DataView(this.memory.buffer).setBigUint64(ptr, BigInt.asUintN(64, value), true);
    return true;
  }

  readU32(ptr: number): number | null {
    if (!this.inBounds(ptr, 4)) return null;
    return new DataView(this.memory.buffer).getUint32(ptr, true);
  }

  /** Copies `bytes` into memory the module allocates; null when malloc fails or returns a bad pointer. */
  allocate(bytes: Uint8Array): number | null {
    const ptr = this.malloc(bytes.length) >>> 0;
    if (ptr === 0 || !this.write(ptr, bytes)) return null;
    return ptr;
  }

  /**
   * proxy-wasm-cpp-host's copyToPointerSize: allocate and copy `bytes`, then store the pointer and size
   * at the given out-parameters. Empty data is handed over as pointer 0, size 0 (no allocation).
   */
  copyOut(bytes: Uint8Array, ptrPtr: number, sizePtr: number): boolean {
    let ptr = 0;
    if (bytes.length > 0) {
      const p = this.allocate(bytes);
      if (p === null) return false;
      ptr = p;
    }
    return this.writeU32(ptrPtr, ptr) && this.writeU32(sizePtr, bytes.length);
  }

  private inBounds(ptr: number, size: number): boolean {
    return ptr >= 0 && size >= 0 && ptr + size <= this.memory.buffer.byteLength;
  }
}
