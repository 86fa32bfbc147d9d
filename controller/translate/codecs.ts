// What the controller knows of the filter's codecs, read from one place: the codec manifest
// (filter/codec/manifest.json), written from the codecs themselves (scripts/codec-manifest.mjs,
// checked by test/codec/manifest.test.ts). Nothing else in the controller lists protocols.
import manifest from "../../filter/codec/manifest.json" with { type: "json" };

export interface CodecInfo {
  name: string;
  /** perConnection always; perRequest when a native Envoy router can sit behind the filter. */
  routingModes: ("perRequest" | "perConnection")[];
  /** The Envoy network filter that routes per request on the key the codec writes, or null. */
  nativeRouter: string | null;
  /** Where the codec writes the cluster for that router (words, for documentation and messages). */
  routingKey: string | null;
  /** Answers come back in call order (the filter learns oneway methods sent as calls from it). */
  answersInOrder: boolean;
  /** The codec has a probe: rejections and protocol errors reach the client as replies. */
  probe: boolean;
  /** The protocol's code in the filter's reply per reason (`field` says which code). */
  errorReplies: { field: string } & Record<"over_limit" | "unauthorized" | "fault_abort" | "no_route" | "bad_request", number>;
}

export const CODECS: readonly CodecInfo[] = (manifest as { codecs: CodecInfo[] }).codecs;

/** Every codec in the filter build this controller was built with. */
export const CODEC_NAMES: readonly string[] = CODECS.map((c) => c.name);

export const THRIFT_PROXY = "envoy.filters.network.thrift_proxy";
export const DUBBO_PROXY = "envoy.filters.network.dubbo_proxy";

export function codecInfo(name: string): CodecInfo | undefined {
  return CODECS.find((c) => c.name === name);
}

/** The native Envoy router for per-request routing of `codec`, or undefined. */
export function nativeRouterOf(codec: string): string | undefined {
  return codecInfo(codec)?.nativeRouter ?? undefined;
}

export function hasNativeRouter(codec: string): boolean {
  return nativeRouterOf(codec) !== undefined;
}

/**
 * Why `codec` cannot be used with a filter that has `available` (TranslateOptions.codecs), or
 * undefined when it can: the one message of every CodecNotAvailable diagnostic.
 */
export function codecNotAvailable(codec: string, available: readonly string[], shownAs = codec): string | undefined {
  if (available.includes(codec)) return undefined;
  return `codec "${shownAs}" is not in the Meltemi filter (it has: ${available.join(", ")})`;
}
