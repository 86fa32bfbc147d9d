// Protocol names (as in port names) -> the codec that decodes them, from RpcProtocol objects, Aeraki
// ApplicationProtocols, and the built-ins (dubbo, thrift).
import type { RpcProtocolSpec } from "../api/types";
import { rpcProtocol } from "../api/schema/rpc_protocol";
import { codecNotAvailable, hasNativeRouter } from "./codecs";
import { applicationProtocolSpecSchema } from "../k8s/aeraki";
import { refOf, type ObjectRef } from "../k8s/objects";
import type { Diagnostics } from "./diagnostics";
import type { TranslateOptions } from "./options";
import { checkMeltemiObject, checkSpec } from "./schema_check";
import { refuseUnknownFields, refuseUnknownTopLevelKeys } from "./unknown_fields";
import type { Snapshot } from "./snapshot";

export type RoutingMode = "perRequest" | "perConnection";

export interface ProtocolBinding {
  name: string;
  codec: string;
  routingMode: RoutingMode;
  thrift?: NonNullable<RpcProtocolSpec["thrift"]>;
  limits?: NonNullable<RpcProtocolSpec["limits"]>;
  tracing?: NonNullable<RpcProtocolSpec["tracing"]>;
  /** The object that defined it; undefined for a built-in. */
  source?: ObjectRef;
}


const AERAKI_CODEC_PREFIX = "aeraki.meta_protocol.codec.";

export function resolveProtocols(snapshot: Snapshot, options: TranslateOptions, diags: Diagnostics): Map<string, ProtocolBinding> {
  const bindings = new Map<string, ProtocolBinding>();
  for (const codec of options.codecs) {
    bindings.set(codec, { name: codec, codec, routingMode: hasNativeRouter(codec) ? "perRequest" : "perConnection" });
  }

  const byName = <T extends { metadata: { name?: string } }>(list: T[]) =>
    [...list].sort((a, b) => ((a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1));

  const fromAeraki = new Set<string>();
  for (const ap of byName(snapshot.applicationProtocols)) {
    const ref = refOf(ap);
    if (refuseUnknownTopLevelKeys(ap, "ApplicationProtocol", ref, diags)) continue;
    const report = checkSpec(applicationProtocolSpecSchema, ap.spec ?? {});
    if (report.errors.length > 0) {
      diags.error(ref, "InvalidSpec", report.errors.join("; "), "spec");
      continue;
    }
    if (refuseUnknownFields(report.unknownFields, "spec", "ApplicationProtocol", ref, diags)) continue;
    const protocol = ap.spec?.protocol;
    const codecName = ap.spec?.codec ?? "";
    if (!protocol) {
      diags.error(ref, "InvalidSpec", "spec.protocol is required", "spec.protocol");
      continue;
    }
    const codec = codecName.startsWith(AERAKI_CODEC_PREFIX) ? codecName.slice(AERAKI_CODEC_PREFIX.length) : codecName;
    // An ApplicationProtocol is namespaced, but a protocol name is mesh-wide (every `tcp-dubbo` port):
    // one in any namespace redefining a built-in would change the codec, and with it what every
    // DubboAuthorizationPolicy enforces, of every service of that protocol.
    if (options.codecs.includes(protocol) && codec !== protocol) {
      diags.error(ref, "RedefinesBuiltIn", `protocol "${protocol}" is Meltemi's built-in ${protocol} codec; an ApplicationProtocol may name it only with that codec (${AERAKI_CODEC_PREFIX}${protocol}), not "${codecName}": it would change the protocol of every ${protocol} service in the mesh`, "spec.codec");
      continue;
    }
    const missing = codecNotAvailable(codec, options.codecs, codecName);
    if (missing) {
      // Valid Aeraki YAML for a protocol Meltemi has no codec for: applied in no part, so not Ready,
      // but not invalid either (render exits 0 for it).
      diags.degrade(ref, "CodecNotAvailable", `${missing}; services of protocol "${protocol}" are left to Istio's plain TCP handling`, "spec.codec");
      bindings.delete(protocol);
      continue;
    }
    bindings.set(protocol, { name: protocol, codec, routingMode: hasNativeRouter(codec) ? "perRequest" : "perConnection", source: ref });
    fromAeraki.add(protocol);
  }

  for (const rp of byName(snapshot.rpcProtocols)) {
    const ref = refOf(rp);
    const report = checkMeltemiObject(rpcProtocol, rp);
    if (report.errors.length > 0) {
      diags.error(ref, "InvalidSpec", report.errors.join("; "));
      continue;
    }
    if (refuseUnknownFields(report.unknownFields, "", "RpcProtocol", ref, diags)) continue;
    const spec = rp.spec!;
    const name = rp.metadata.name ?? "";
    const missing = codecNotAvailable(spec.codec, options.codecs);
    if (missing) {
      diags.error(ref, "CodecNotAvailable", missing, "spec.codec");
      continue;
    }
    const mode: RoutingMode = spec.routingMode ?? (hasNativeRouter(spec.codec) ? "perRequest" : "perConnection");
    if (mode === "perRequest" && !hasNativeRouter(spec.codec)) {
      diags.error(ref, "NoNativeRouter", `perRequest needs a native Envoy router, which codec "${spec.codec}" does not have`, "spec.routingMode");
      continue;
    }
    if (fromAeraki.has(name)) {
      const previous = bindings.get(name)?.source;
      if (previous) diags.info(previous, "Overridden", `RpcProtocol ${name} defines the same protocol and takes precedence`);
    }
    const binding: ProtocolBinding = { name, codec: spec.codec, routingMode: mode, source: ref };
    if (spec.thrift) binding.thrift = spec.thrift;
    if (spec.limits) binding.limits = spec.limits;
    if (spec.tracing) binding.tracing = spec.tracing;
    bindings.set(name, binding);
  }
  return bindings;
}
