// Memory the host allocates inside the module to hand us data (buffers, properties, shared data).
// It is unmanaged memory: the module frees it after reading (freeHostMemory), so host reads never
// create GC objects. Envoy looks for `malloc` first, then `proxy_on_memory_allocate`.
//
// Most host allocations are a connection's read, one at a time, freed before the callback returns:
// a fixed block serves them, so a read costs no allocator search, split and merge (those were ~5% of
// the module's time per request in the Node host). A second allocation while the block is taken, or
// a larger one, comes from the allocator.
export function malloc(size: usize): usize {
  return hostAlloc(size);
}

export function proxy_on_memory_allocate(size: usize): usize {
  return hostAlloc(size);
}

/** Host allocations up to this size use the reused block. */
export const REUSED_BLOCK_BYTES: usize = 16 << 10;

let reusedBlock: usize = 0;
let reusedBlockTaken = false;

function hostAlloc(size: usize): usize {
  if (size <= REUSED_BLOCK_BYTES && !reusedBlockTaken) {
    if (reusedBlock == 0) reusedBlock = heap.alloc(REUSED_BLOCK_BYTES);
    reusedBlockTaken = true;
    return reusedBlock;
  }
  return heap.alloc(size);
}

/** Frees what the host allocated through malloc (and nothing else). */
export function freeHostMemory(ptr: usize): void {
  if (ptr == reusedBlock && ptr != 0) reusedBlockTaken = false;
  else heap.free(ptr);
}
