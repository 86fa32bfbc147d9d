// Authorization with the semantics of Aeraki's DubboAuthorizationPolicy (and Istio's
// AuthorizationPolicy), for every protocol:
// - a policy has an action (ALLOW or DENY) and rules; a rule matches when one of its `from` sources
//   matches (or it has none) AND one of its `to` operations matches (or it has none);
// - a source matches when every field it sets holds: principals / namespaces (any of), notPrincipals /
//   notNamespaces (none of); an operation likewise with interfaces / methods and their `not` forms;
// - a request is denied when any DENY policy has a matching rule; otherwise, when ALLOW policies
//   exist, it is allowed only if one of them has a matching rule; with no policy it is allowed.
// Strings match exactly, by prefix (`abc*`), by suffix (`*abc`), or anything (`*`).
// `interfaces` matches the protocol's own service field, the codec's serviceKey (Dubbo's body path
// `interface`, Thrift's multiplexed `service`, ...) and nothing else: a header or attachment the client
// names after the other key (a THeader header `interface`, a Dubbo attachment `service`) is no service.
import { Metadata, KEY_INTERFACE, KEY_METHOD } from "../codec/metadata";
import { StringMatch } from "../match/string_match";
import { MetadataMatch } from "../match/metadata_match";

/** An Istio-style string pattern: "abc", "abc*", "*abc" or "*". */
export function patternMatch(pattern: string): StringMatch {
  if (pattern == "*") return StringMatch.present();
  if (pattern.endsWith("*")) return StringMatch.prefix(pattern.substring(0, pattern.length - 1));
  if (pattern.startsWith("*")) return StringMatch.suffix(pattern.substring(1));
  return StringMatch.exact(pattern);
}

/** Any of a list of patterns. */
export class PatternList {
  private patterns: Array<StringMatch> = [];
  constructor(values: Array<string>) {
    for (let i = 0; i < values.length; i++) this.patterns.push(patternMatch(values[i]));
  }
  get isEmpty(): bool { return this.patterns.length == 0; }
  anyMatches(ptr: usize, len: u32): bool {
    for (let i = 0; i < this.patterns.length; i++) if (unchecked(this.patterns[i]).matches(ptr, len)) return true;
    return false;
  }
}

/** Who is calling: the mTLS peer identity Envoy exposes as connection properties. */
export class Caller {
  /** e.g. `cluster.local/ns/default/sa/frontend` (the SPIFFE URI without `spiffe://`). */
  principal: ArrayBuffer = new ArrayBuffer(0);
  namespace: ArrayBuffer = new ArrayBuffer(0);
  known: bool = false;

  /**
   * The caller named by a peer certificate's URI SAN, as Istio reads it: the principal is the SAN
   * without `spiffe://`, the namespace the segment after the first `/ns/` (a SPIFFE trust domain holds
   * no `/`, so that is the one of `spiffe://<td>/ns/<ns>/sa/<sa>`); no `/ns/`: no namespace. An empty
   * SAN (no mTLS) is an unknown caller.
   */
  static fromUriSan(san: string): Caller {
    const caller = new Caller();
    if (san.length == 0) return caller;
    const principal = san.startsWith("spiffe://") ? san.substring(9) : san;
    caller.principal = String.UTF8.encode(principal, false);
    const ns = principal.indexOf("/ns/");
    if (ns >= 0) {
      const rest = principal.substring(ns + 4);
      const end = rest.indexOf("/");
      caller.namespace = String.UTF8.encode(end >= 0 ? rest.substring(0, end) : rest, false);
    }
    caller.known = true;
    return caller;
  }
}

function listHolds(list: PatternList, value: ArrayBuffer, known: bool, negate: bool): bool {
  if (list.isEmpty) return true;
  // An unknown identity (plain text) matches no positive list and every negative one (Istio).
  const hit = known && list.anyMatches(changetype<usize>(value), <u32>value.byteLength);
  return negate ? !hit : hit;
}

export class Source {
  principals: PatternList = new PatternList([]);
  notPrincipals: PatternList = new PatternList([]);
  namespaces: PatternList = new PatternList([]);
  notNamespaces: PatternList = new PatternList([]);

  matches(caller: Caller): bool {
    return listHolds(this.principals, caller.principal, caller.known, false)
      && listHolds(this.notPrincipals, caller.principal, caller.known, true)
      && listHolds(this.namespaces, caller.namespace, caller.known, false)
      && listHolds(this.notNamespaces, caller.namespace, caller.known, true);
  }
}

function metadataHolds(list: PatternList, md: Metadata, key: ArrayBuffer, negate: bool): bool {
  if (list.isEmpty) return true;
  const at = md.indexOf(key);
  const hit = at >= 0 && list.anyMatches(md.valuePtrAt(at), md.valueLenAt(at));
  return negate ? !hit : hit;
}

export class Operation {
  interfaces: PatternList = new PatternList([]);
  notInterfaces: PatternList = new PatternList([]);
  methods: PatternList = new PatternList([]);
  notMethods: PatternList = new PatternList([]);
  /** Meltemi's extension: any other metadata conditions (AND). */
  metadata: MetadataMatch = new MetadataMatch();

  matches(md: Metadata, serviceKey: ArrayBuffer): bool {
    return metadataHolds(this.interfaces, md, serviceKey, false)
      && metadataHolds(this.notInterfaces, md, serviceKey, true)
      && metadataHolds(this.methods, md, KEY_METHOD, false)
      && metadataHolds(this.notMethods, md, KEY_METHOD, true)
      && this.metadata.matches(md);
  }
}

export class Rule {
  from: Array<Source> = [];
  to: Array<Operation> = [];

  matches(md: Metadata, caller: Caller, serviceKey: ArrayBuffer): bool {
    let fromOk = this.from.length == 0;
    for (let i = 0; i < this.from.length && !fromOk; i++) fromOk = unchecked(this.from[i]).matches(caller);
    if (!fromOk) return false;
    if (this.to.length == 0) return true;
    for (let i = 0; i < this.to.length; i++) if (unchecked(this.to[i]).matches(md, serviceKey)) return true;
    return false;
  }
}

export enum Action { Allow, Deny }

export class Policy {
  rules: Array<Rule> = [];
  constructor(public readonly name: string, public readonly action: Action) {}
  matches(md: Metadata, caller: Caller, serviceKey: ArrayBuffer): bool {
    for (let i = 0; i < this.rules.length; i++) if (unchecked(this.rules[i]).matches(md, caller, serviceKey)) return true;
    return false;
  }
}

export class Authorizer {
  policies: Array<Policy> = [];
  /** Name of the policy that decided the last denial (for logs and access logs). */
  deniedBy: string = "";
  /** The metadata key of the protocol's service field (Codec.serviceKey; config.ts sets it from the protocol's codec). */
  serviceKey: ArrayBuffer = KEY_INTERFACE;

  allows(md: Metadata, caller: Caller): bool {
    let hasAllow = false;
    for (let i = 0; i < this.policies.length; i++) {
      const p = unchecked(this.policies[i]);
      if (p.action == Action.Deny && p.matches(md, caller, this.serviceKey)) { this.deniedBy = p.name; return false; }
      if (p.action == Action.Allow) hasAllow = true;
    }
    if (!hasAllow) return true;
    for (let i = 0; i < this.policies.length; i++) {
      const p = unchecked(this.policies[i]);
      if (p.action == Action.Allow && p.matches(md, caller, this.serviceKey)) return true;
    }
    this.deniedBy = "no ALLOW policy matched";
    return false;
  }
}
