// Ordered routes, first match wins (Aeraki MetaRouter semantics): each route matches on metadata and
// sends to weighted destinations (canary, A/B), optionally picking the destination by a consistent
// hash of one metadata value so that the same value always lands on the same destination.
import { utf8Of } from "../codec/bytes";
import { Mutation } from "../codec/codec";
import { Metadata } from "../codec/metadata";
import { MetadataMatch } from "../match/metadata_match";
import { Random, fnv1a } from "./random";

export class Destination {
  /** The Envoy cluster, e.g. `outbound|9090|v2|reviews.default.svc.cluster.local`. */
  readonly clusterUtf8: ArrayBuffer;
  constructor(public readonly cluster: string, public readonly weight: u32) {
    this.clusterUtf8 = utf8Of(cluster);
  }
}

export class Route {
  destinations: Array<Destination> = [];
  totalWeight: u32 = 0;
  /** Metadata key whose value picks the destination consistently; null = weighted random. */
  hashKey: ArrayBuffer | null = null;
  requestMutation: Mutation = new Mutation();
  responseMutation: Mutation = new Mutation();

  constructor(public readonly name: string, public readonly match: MetadataMatch) {}

  to(cluster: string, weight: u32 = 1): Route {
    this.destinations.push(new Destination(cluster, weight));
    this.totalWeight += weight;
    return this;
  }

  hashOn(key: string): Route {
    this.hashKey = utf8Of(key);
    return this;
  }

  /** The destination for a request this route matched; null when every weight is 0. */
  pick(md: Metadata, random: Random): Destination | null {
    if (this.totalWeight == 0) return null;
    let ticket: u32;
    const hk = this.hashKey;
    const at = hk !== null ? md.indexOf(hk) : -1;
    if (at >= 0) ticket = <u32>(fnv1a(md.valuePtrAt(at), md.valueLenAt(at)) % <u64>this.totalWeight);
    else ticket = random.below(this.totalWeight);
    for (let i = 0; i < this.destinations.length; i++) {
      const d = unchecked(this.destinations[i]);
      if (ticket < d.weight) return d;
      ticket -= d.weight;
    }
    return null;
  }
}

export class RouteTable {
  routes: Array<Route> = [];

  add(route: Route): RouteTable { this.routes.push(route); return this; }

  /** The first route whose match holds, or null (no route). */
  match(md: Metadata): Route | null {
    for (let i = 0; i < this.routes.length; i++) {
      const r = unchecked(this.routes[i]);
      if (r.match.matches(md)) return r;
    }
    return null;
  }
}
