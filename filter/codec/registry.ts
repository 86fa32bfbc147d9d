// The protocols this filter speaks: a protocol name (as in the filter configuration and in Aeraki's
// `tcp-metaprotocol-<protocol>-*` port names) maps to its codec. Adding a protocol adds its name to
// CODEC_NAMES and one line to createCodec. What the controller knows of the codecs comes from here:
// the codec manifest (filter/codec/manifest.json) is written from these codecs (scripts/codec-manifest.mjs).
import { Codec, Limits } from "./codec";
import { ThriftCodec } from "./thrift/codec";
import { DubboCodec } from "./dubbo/codec";
import { BoltCodec } from "./bolt/codec";
import { TrpcCodec } from "./trpc/codec";

export const CODEC_NAMES: string[] = ["dubbo", "thrift", "bolt", "trpc"];

export function createCodec(protocol: string, limits: Limits): Codec | null {
  if (protocol == "thrift") return new ThriftCodec(limits);
  if (protocol == "dubbo") return new DubboCodec(limits);
  if (protocol == "bolt") return new BoltCodec(limits);
  if (protocol == "trpc") return new TrpcCodec(limits);
  return null;
}

/** Whether this module has a codec for `protocol` (the configuration parser refuses any other). */
export function hasCodec(protocol: string): bool {
  return CODEC_NAMES.includes(protocol);
}
