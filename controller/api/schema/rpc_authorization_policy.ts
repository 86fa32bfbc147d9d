// RpcAuthorizationPolicy: Aeraki's DubboAuthorizationPolicy semantics for every protocol. Any matching
// DENY denies; if ALLOW policies apply, one must match. Enforced by the serving proxies, which know the
// caller's mTLS identity.
import { arr, enumOf, obj } from "./builders";
import { host, match, patterns } from "./common";
import { readyColumns, type CrdDefinition } from "./definition";

const source = obj(
  {
    principals: patterns("Caller identities (source.principal, e.g. cluster.local/ns/web/sa/frontend); needs mTLS."),
    notPrincipals: patterns("Caller identities that do not match."),
    namespaces: patterns("Caller namespaces; needs mTLS."),
    notNamespaces: patterns("Caller namespaces that do not match."),
  },
  { description: "Fields are ANDed; values within a field are ORed." },
);

const operation = obj(
  {
    interfaces: patterns("Interfaces (Dubbo interface, Thrift service name)."),
    notInterfaces: patterns("Interfaces that do not match."),
    methods: patterns("Method names."),
    notMethods: patterns("Method names that do not match."),
    match: { ...match, description: "Further conditions on request metadata keys, all of which must hold." },
  },
  { description: "Fields are ANDed; values within a field are ORed." },
);

export const rpcAuthorizationPolicy: CrdDefinition = {
  kind: "RpcAuthorizationPolicy",
  plural: "rpcauthorizationpolicies",
  singular: "rpcauthorizationpolicy",
  shortNames: ["rpcauthz"],
  scope: "Namespaced",
  description:
    "Access control for RPC services of any protocol, with the semantics of Aeraki's DubboAuthorizationPolicy. Applies to the Meltemi services of its namespace (every namespace when in the Istio root namespace), or to spec.hosts.",
  spec: obj(
    {
      hosts: arr(host("A service host."), { description: "Only these service hosts (default: every Meltemi service in scope).", maxItems: 64 }),
      action: enumOf(["ALLOW", "DENY"], { description: "Default ALLOW." }),
      rules: arr(
        obj({
          from: arr(obj({ source }, { required: ["source"] }), { description: "Any of these sources (default: any source).", maxItems: 100 }),
          to: arr(obj({ operation }, { required: ["operation"] }), { description: "Any of these operations (default: any operation).", maxItems: 100 }),
        }),
        { description: "A request matches when one rule matches. No rules: ALLOW matches nothing (deny all), DENY matches nothing.", maxItems: 100 },
      ),
    },
    {},
  ),
  printerColumns: [{ name: "Action", type: "string", jsonPath: ".spec.action" }, ...readyColumns],
};
