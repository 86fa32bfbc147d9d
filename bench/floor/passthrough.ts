// The floor of the cost bars: a proxy-wasm network filter that does the least any filter that looks at
// the bytes must do. On every read and every write it reads the whole buffer once
// (proxy_get_buffer_bytes) and lets it through unchanged: no decode, no state, no other host call.
// What it adds to tcp_proxy or to a native proxy in Envoy (arms 7 and 8, bench/envoy/arms.ts) is the
// price of a Wasm network filter in stock Envoy: the callbacks into the VM and one host call each.
// Meltemi cannot cost less than this; a bar that this module misses cannot be met by any Wasm filter.
// Built by scripts/build.sh into build/floor.wasm (not part of the product).

@external("env", "proxy_get_buffer_bytes")
declare function proxy_get_buffer_bytes(bufferType: u32, start: u32, length: u32, ptrOut: usize, sizeOut: usize): u32;

const DOWNSTREAM_DATA: u32 = 2;
const UPSTREAM_DATA: u32 = 3;
const CONTINUE: u32 = 0;

// The host allocates the bytes it hands over through malloc; one reused block serves every read that
// fits (the same scheme as the filter's abi/memory.ts), so the floor pays no allocator work either.
const BLOCK: usize = 64 << 10;
let block: usize = 0;
let blockTaken = false;
const out = memory.data(8);

export function malloc(size: usize): usize {
  if (size <= BLOCK && !blockTaken) {
    if (block == 0) block = heap.alloc(BLOCK);
    blockTaken = true;
    return block;
  }
  return heap.alloc(size);
}

function readOnce(bufferType: u32, length: u32): void {
  if (length == 0) return;
  if (proxy_get_buffer_bytes(bufferType, 0, length, out, out + 4) != 0) return;
  const ptr = load<usize>(out);
  // Touch the bytes, as a decoder would start to.
  if (load<u8>(ptr) == 0xff) store<u8>(out, 0);
  if (ptr == block) blockTaken = false;
  else heap.free(ptr);
}

export function proxy_abi_version_0_2_1(): void {}
export function proxy_on_context_create(id: u32, parentId: u32): void {}
export function proxy_on_vm_start(rootId: u32, size: u32): u32 { return 1; }
export function proxy_on_configure(rootId: u32, size: u32): u32 { return 1; }
export function proxy_on_new_connection(id: u32): u32 { return CONTINUE; }
export function proxy_on_downstream_data(id: u32, length: u32, endOfStream: u32): u32 {
  readOnce(DOWNSTREAM_DATA, length);
  return CONTINUE;
}
export function proxy_on_upstream_data(id: u32, length: u32, endOfStream: u32): u32 {
  readOnce(UPSTREAM_DATA, length);
  return CONTINUE;
}
export function proxy_on_downstream_connection_close(id: u32, peerType: u32): void {}
export function proxy_on_upstream_connection_close(id: u32, peerType: u32): void {}
export function proxy_on_done(id: u32): u32 { return 1; }
export function proxy_on_log(id: u32): void {}
export function proxy_on_delete(id: u32): void {}
