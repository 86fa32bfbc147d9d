// The floor of the cost bars: a proxy-wasm network filter that does the least any filter that looks at
// the bytes must do. On every read and every write it reads the whole buffer once
// (proxy_get_buffer_bytes) and lets it through unchanged: no decode, no state, no other host call.
// What it adds to tcp_proxy or to a native proxy in Envoy (arms 7 and 8, bench/envoy/arms.ts) is the
// price of a Wasm network filter in stock Envoy: the callbacks into the VM and one host call each.
// Meltemi cannot cost less than this; a bar that this module misses cannot be met by any Wasm filter.
// Built by scripts/build.sh into build/floor.wasm (not part of the product).
//
// Configured with the JSON string "telemetry:<n>" (arm 10; n: the bytes of one answer of the load, whose
// answers are all the same size), it also makes the host calls Meltemi's telemetry makes in
// perConnection mode (bench/micro/host-calls.ts counts them): a clock read in each callback, and per
// callback that carries answers one request counter increment (Meltemi adds a callback's counts up)
// and one duration histogram record per answer. It counts answers without parsing them: all bytes that
// came from upstreams, in any connection of the VM, divided by n. arm 1 / arm 10 is then the ceiling of
// the perConnection bar for any filter that times and counts every request in Envoy's stats as it goes.

@external("env", "proxy_get_buffer_bytes")
declare function proxy_get_buffer_bytes(bufferType: u32, start: u32, length: u32, ptrOut: usize, sizeOut: usize): u32;
@external("env", "proxy_get_current_time_nanoseconds")
declare function proxy_get_current_time_nanoseconds(timeOut: usize): u32;
@external("env", "proxy_define_metric")
declare function proxy_define_metric(type: u32, namePtr: usize, nameSize: usize, idOut: usize): u32;
@external("env", "proxy_increment_metric")
declare function proxy_increment_metric(id: u32, delta: i64): u32;
@external("env", "proxy_record_metric")
declare function proxy_record_metric(id: u32, value: u64): u32;

const DOWNSTREAM_DATA: u32 = 2;
const UPSTREAM_DATA: u32 = 3;
const PLUGIN_CONFIGURATION: u32 = 7;
const CONTINUE: u32 = 0;
const COUNTER: u32 = 0;
const HISTOGRAM: u32 = 2;

// The host allocates the bytes it hands over through malloc; one reused block serves every read that
// fits (the same scheme as the filter's abi/memory.ts), so the floor pays no allocator work either.
const BLOCK: usize = 64 << 10;
let block: usize = 0;
let blockTaken = false;
const out = memory.data(16);

// The telemetry mode's state: its two metrics, and the clock at the last request.
let telemetry = false;
let counter: u32 = 0;
let histogram: u32 = 0;
let started: u64 = 0;
let answerBytes: u32 = 0;
/** Bytes from upstreams not yet counted as an answer (of every connection: only their total matters). */
let pending: u64 = 0;

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
  release(ptr);
}

function release(ptr: usize): void {
  if (ptr == block) blockTaken = false;
  else heap.free(ptr);
}

function now(): u64 {
  proxy_get_current_time_nanoseconds(out + 8);
  return load<u64>(out + 8);
}

function define(type: u32, name: string): u32 {
  const bytes = String.UTF8.encode(name);
  proxy_define_metric(type, changetype<usize>(bytes), bytes.byteLength, out);
  return load<u32>(out);
}

export function proxy_abi_version_0_2_1(): void {}
export function proxy_on_context_create(id: u32, parentId: u32): void {}
export function proxy_on_vm_start(rootId: u32, size: u32): u32 { return 1; }
export function proxy_on_configure(rootId: u32, size: u32): u32 {
  if (size == 0 || proxy_get_buffer_bytes(PLUGIN_CONFIGURATION, 0, size, out, out + 4) != 0) return 1;
  const ptr = load<usize>(out);
  const text = String.UTF8.decodeUnsafe(ptr, size);
  release(ptr);
  const prefix = "\"telemetry:";
  if (!text.startsWith(prefix) || !text.endsWith("\"")) return 1;
  answerBytes = I32.parseInt(text.slice(prefix.length, text.length - 1));
  telemetry = answerBytes > 0;
  if (telemetry) {
    counter = define(COUNTER, "floor_requests_total");
    histogram = define(HISTOGRAM, "floor_request_duration_milliseconds");
  }
  return 1;
}
export function proxy_on_new_connection(id: u32): u32 { return CONTINUE; }
export function proxy_on_downstream_data(id: u32, length: u32, endOfStream: u32): u32 {
  readOnce(DOWNSTREAM_DATA, length);
  if (telemetry && length > 0) started = now();
  return CONTINUE;
}
export function proxy_on_upstream_data(id: u32, length: u32, endOfStream: u32): u32 {
  readOnce(UPSTREAM_DATA, length);
  if (telemetry && length > 0) {
    const took = now() - started;
    pending += length;
    let answers: i64 = 0;
    while (pending >= <u64>answerBytes) {
      pending -= answerBytes;
      answers++;
      proxy_record_metric(histogram, took / 1000000);
    }
    if (answers > 0) proxy_increment_metric(counter, answers);
  }
  return CONTINUE;
}
export function proxy_on_downstream_connection_close(id: u32, peerType: u32): void {}
export function proxy_on_upstream_connection_close(id: u32, peerType: u32): void {}
export function proxy_on_done(id: u32): u32 { return 1; }
export function proxy_on_log(id: u32): void {}
export function proxy_on_delete(id: u32): void {}
