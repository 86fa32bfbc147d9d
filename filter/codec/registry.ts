// The protocols this filter speaks: a protocol name (as in the filter configuration and in Aeraki's
// `tcp-metaprotocol-<protocol>-*` port names) maps to its codec. Adding a protocol adds one line here.
import { Codec, Limits } from "./codec";
import { ThriftCodec } from "./thrift/codec";
import { DubboCodec } from "./dubbo/codec";

export function createCodec(protocol: string, limits: Limits): Codec | null {
  if (protocol == "thrift") return new ThriftCodec(limits);
  if (protocol == "dubbo") return new DubboCodec(limits);
  return null;
}
