// A Wasm entry for the codec micro-benchmarks (bench/micro/codec.ts): the filter's own codecs, built
// with the filter's release options, decoding one frame in a loop inside the VM (one call from JS per
// measurement, so the JS-to-Wasm call does not count per decode). Built twice: with the filter's
// runtime (incremental) for timing, and with the stub runtime (a bump allocator that never frees) to
// count the bytes a decode allocates: heapMark() before and after the loop.
import { Codec, DecodeStatus, Limits } from "../../../filter/codec/codec";
import { Metadata } from "../../../filter/codec/metadata";
import { CODEC_NAMES, createCodec } from "../../../filter/codec/registry";

let codec: Codec | null = null;
let md: Metadata | null = null;

/** Room for a frame the caller copies in. */
export function alloc(len: u32): usize {
  return heap.alloc(<usize>len);
}

/**
 * Selects the codec CODEC_NAMES[protocol] (the registry's order, which the codec manifest keeps) and a
 * Metadata, as a connection of the filter holds them.
 */
export function setup(protocol: i32): bool {
  if (protocol < 0 || protocol >= CODEC_NAMES.length) return false;
  const c = createCodec(CODEC_NAMES[protocol], new Limits());
  if (c === null) return false;
  codec = c;
  md = new Metadata(<i32>c.limits.maxMetadataEntries);
  return true;
}

/** Decodes the frame at [ptr, ptr+len) `iterations` times; its metadata count, or -1 if a decode failed. */
export function decodeLoop(ptr: usize, len: u32, iterations: i32): i32 {
  const c = codec!;
  const m = md!;
  let ok = 0;
  for (let i = 0; i < iterations; i++) {
    m.reset();
    if (c.decode(ptr, len, m) == DecodeStatus.Frame) ok++;
  }
  return ok == iterations ? m.count : -1;
}

/** Where the allocator is: with the stub runtime, the distance between two marks is what was allocated in between (plus one mark). */
export function heapMark(): usize {
  return heap.alloc(16);
}
