// Memory the host allocates inside the module to hand us data (buffers, properties, shared data).
// It is unmanaged memory: the module frees it after reading (HostBytes.release in host.ts), so host
// reads never create GC objects. Envoy looks for `malloc` first, then `proxy_on_memory_allocate`.
export function malloc(size: usize): usize {
  return heap.alloc(size);
}

export function proxy_on_memory_allocate(size: usize): usize {
  return heap.alloc(size);
}
