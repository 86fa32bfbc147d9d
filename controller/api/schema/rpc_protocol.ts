// RpcProtocol (cluster-scoped): a protocol name, as used in port names `tcp-metaprotocol-<name>-*`,
// bound to a codec compiled into the Meltemi filter (Aeraki's ApplicationProtocol, for Meltemi).
import { bool, enumOf, int, num, obj, str } from "./builders";
import { readyColumns, type CrdDefinition } from "./definition";
import { CODECS } from "../../translate/codecs";

export const ROUTING_MODES = ["perRequest", "perConnection"] as const;
/** Codecs with a native Envoy router behind them, i.e. the ones that can route per request (codec manifest). */
export const NATIVE_ROUTER_CODECS: readonly string[] = CODECS.filter((c) => c.nativeRouter !== null).map((c) => c.name);
const nativeList = NATIVE_ROUTER_CODECS.map((c) => `'${c}'`).join(", ");

export const rpcProtocol: CrdDefinition = {
  kind: "RpcProtocol",
  plural: "rpcprotocols",
  singular: "rpcprotocol",
  shortNames: ["rpcproto"],
  scope: "Cluster",
  description:
    "A protocol name (metadata.name, as used in service port names tcp-metaprotocol-<name>-*) and the Meltemi codec that decodes it. dubbo and thrift are known without one.",
  name: { pattern: "^[a-z][a-z0-9]{0,31}$", maxLength: 32 },
  spec: obj(
    {
      codec: str({ description: "A codec compiled into the Meltemi filter (dubbo, thrift, ...).", pattern: "^[a-z][a-z0-9-]{0,31}$" }),
      routingMode: enumOf(ROUTING_MODES, {
        description:
          "Default routing mode for this protocol's ports: perRequest (a native router forwards each request; dubbo and thrift only) or perConnection (the first request picks the connection's cluster). Default: perRequest for dubbo and thrift, perConnection otherwise.",
      }),
      thrift: obj(
        {
          transport: enumOf(["AUTO_TRANSPORT", "FRAMED", "UNFRAMED", "HEADER"], { description: "thrift_proxy transport (default AUTO_TRANSPORT)." }),
          protocol: enumOf(["AUTO_PROTOCOL", "BINARY", "LAX_BINARY", "COMPACT", "TWITTER"], { description: "thrift_proxy protocol (default AUTO_PROTOCOL)." }),
        },
        { description: "Settings of the native thrift_proxy used in perRequest mode (codec thrift only)." },
      ),
      limits: obj(
        {
          maxFrameBytes: int({ minimum: 16, maximum: 16777216 }),
          maxDepth: int({ minimum: 1, maximum: 256 }),
          maxMetadataEntries: int({ minimum: 1, maximum: 1024 }),
          maxMetadataValueBytes: int({ minimum: 1, maximum: 1048576 }),
        },
        { description: "Codec limits; a violation closes the connection." },
      ),
      tracing: obj(
        {
          disabled: bool({ description: "No spans and no trace propagation on this protocol's ports, whatever Istio's Telemetry says." }),
          provider: str({ description: "A tracing provider of Istio's MeshConfig.extensionProviders (zipkin, or opentelemetry with http) to use instead of the one Telemetry or defaultProviders name.", minLength: 1, maxLength: 253 }),
          samplingPercentage: num({ description: "Percentage of requests without a caller's sampling decision that are traced, instead of Telemetry's randomSamplingPercentage.", minimum: 0, maximum: 100 }),
        },
        { description: "Meltemi's spans for this protocol (docs/filter.md#tracing): by default as Istio's Telemetry tracing and MeshConfig providers say; these fields override them." },
      ),
    },
    {
      required: ["codec"],
      rules: [
        { rule: `!has(self.routingMode) || self.routingMode != 'perRequest' || self.codec in [${nativeList}]`, message: `perRequest needs a codec with a native router (${NATIVE_ROUTER_CODECS.join(", ")})` },
        { rule: "!has(self.thrift) || self.codec == 'thrift'", message: "thrift settings need codec thrift" },
      ],
    },
  ),
  printerColumns: [
    { name: "Codec", type: "string", jsonPath: ".spec.codec" },
    { name: "Mode", type: "string", jsonPath: ".spec.routingMode" },
    ...readyColumns,
  ],
};
