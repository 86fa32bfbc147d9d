// Test helper: builds Metadata from "key", "value", ... pairs. The UTF-8 buffers are kept alive in
// `keepAlive` because Metadata holds raw spans the GC does not see.
import { Metadata } from "../codec/metadata";

const keepAlive: Array<ArrayBuffer> = [];

export function mdOf(pairs: Array<string>): Metadata {
  const md = new Metadata();
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const k = String.UTF8.encode(pairs[i], false);
    const v = String.UTF8.encode(pairs[i + 1], false);
    keepAlive.push(k);
    keepAlive.push(v);
    md.add(changetype<usize>(k), <u32>k.byteLength, changetype<usize>(v), <u32>v.byteLength);
  }
  return md;
}
