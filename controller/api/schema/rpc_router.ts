// RpcRouter: the routing of one service host (Aeraki's MetaRouter, for Meltemi): ordered routes with
// metadata matches, weighted destinations, consistent hashing, mutations, and fault injection.
import { arr, int, obj, str, enumOf } from "./builders";
import { duration, host, labelSelector, match, mutation, percent, port } from "./common";
import { readyColumns, type CrdDefinition } from "./definition";
import { ROUTING_MODES } from "./rpc_protocol";

const destination = obj(
  {
    host: host("The destination service (default: spec.host)."),
    subset: str({ description: "A subset of a DestinationRule for that host.", minLength: 1, maxLength: 253, pattern: "^[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$" }),
    port: port("The destination port (default: the port being routed)."),
    weight: int({ description: "Relative weight among the route's destinations (default 1 with one destination, 0 otherwise).", minimum: 0, maximum: 1000000 }),
  },
  {},
);

const route = obj(
  {
    name: str({ maxLength: 253 }),
    match,
    destinations: arr(destination, { minItems: 1, maxItems: 64 }),
    hashKey: str({ description: "A metadata key whose value picks the destination consistently (sticky canary).", minLength: 1, maxLength: 256 }),
    requestMutation: mutation,
    responseMutation: mutation,
  },
  { required: ["destinations"] },
);

const fault = obj(
  {
    match,
    abort: obj(
      { percent: percent("Share of matching requests rejected with a protocol error reply."), message: str({ maxLength: 1024 }) },
      { required: ["percent"] },
    ),
    delay: obj(
      { percent: percent("Share of matching requests delayed."), fixedDelay: duration("How long, e.g. 100ms; at most 1h.") },
      { required: ["percent", "fixedDelay"] },
    ),
  },
  { rules: [{ rule: "has(self.abort) || has(self.delay)", message: "a fault needs abort or delay" }] },
);

export const rpcRouter: CrdDefinition = {
  kind: "RpcRouter",
  plural: "rpcrouters",
  singular: "rpcrouter",
  shortNames: ["rpcr"],
  scope: "Namespaced",
  description:
    "Per-request routing of one RPC service host: ordered routes (first match wins) to weighted destinations, consistent hashing, mutations, fault injection. Installed in the callers' sidecars (spec.clients).",
  spec: obj(
    {
      host: host("The service whose callers this router steers. One RpcRouter per host."),
      port: port("Only this service port (default: every Meltemi port of the service)."),
      routingMode: enumOf(ROUTING_MODES, { description: "Overrides the protocol's routing mode for this host." }),
      clients: obj(
        {
          namespaces: arr(str({ minLength: 1, maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }), {
            description: "Namespaces of the calling workloads (default: this object's namespace).",
            maxItems: 64,
          }),
          selector: labelSelector,
        },
        { description: "The calling workloads whose sidecars get the routing. Never the whole mesh unless listed." },
      ),
      routes: arr(route, { description: "Ordered; the first route whose match holds wins.", maxItems: 256 }),
      faults: arr(fault, { description: "The first fault whose match holds applies.", maxItems: 100 }),
    },
    { required: ["host"] },
  ),
  printerColumns: [
    { name: "Host", type: "string", jsonPath: ".spec.host" },
    { name: "Port", type: "integer", jsonPath: ".spec.port" },
    { name: "Mode", type: "string", jsonPath: ".spec.routingMode", priority: 1 },
    ...readyColumns,
  ],
};
