import { mdOf } from "../../__tests__/metadata.include";
import { KEY_SERVICE } from "../../codec/metadata";
import { Action, Authorizer, Caller, Operation, PatternList, Policy, Rule, Source } from "../authorization";
import { Fault, FaultDecision, MILLION, decideFault } from "../fault";
import { MetadataMatch } from "../../match/metadata_match";
import { StringMatch } from "../../match/string_match";
import { Random } from "../../route/random";

function caller(principal: string, ns: string): Caller {
  const c = new Caller();
  c.principal = String.UTF8.encode(principal, false);
  c.namespace = String.UTF8.encode(ns, false);
  c.known = true;
  return c;
}

function policy(name: string, action: Action, principals: Array<string>, methods: Array<string>): Policy {
  const p = new Policy(name, action);
  const r = new Rule();
  if (principals.length > 0) { const s = new Source(); s.principals = new PatternList(principals); r.from.push(s); }
  if (methods.length > 0) { const o = new Operation(); o.methods = new PatternList(methods); r.to.push(o); }
  p.rules.push(r);
  return p;
}

// Module level: AssemblyScript has no closures.
const frontend = caller("cluster.local/ns/web/sa/frontend", "web");
const batch = caller("cluster.local/ns/jobs/sa/batch", "jobs");
const hello = mdOf(["interface", "org.apache.dubbo.samples.basic.api.DemoService", "method", "sayHello"]);
const admin = mdOf(["interface", "org.apache.dubbo.samples.basic.api.DemoService", "method", "adminReset"]);

describe("Authorizer (Aeraki DubboAuthorizationPolicy semantics)", () => {
  it("allows everything with no policy", () => {
    expect(new Authorizer().allows(hello, batch)).toBe(true);
  });

  it("ALLOW policies admit only what one of them matches", () => {
    const a = new Authorizer();
    a.policies.push(policy("frontend-hello", Action.Allow, ["cluster.local/ns/web/*"], ["say*"]));
    expect(a.allows(hello, frontend)).toBe(true);
    expect(a.allows(admin, frontend)).toBe(false);
    expect(a.allows(hello, batch)).toBe(false);
    expect(a.allows(hello, new Caller())).toBe(false);
  });

  it("DENY wins over ALLOW", () => {
    const a = new Authorizer();
    a.policies.push(policy("all", Action.Allow, [], []));
    a.policies.push(policy("no-admin", Action.Deny, [], ["admin*"]));
    expect(a.allows(hello, batch)).toBe(true);
    expect(a.allows(admin, frontend)).toBe(false);
    expect(a.deniedBy).toBe("no-admin");
  });

  it("matches interfaces on the protocol's service key (Dubbo `interface`, Thrift `service`) only, and honours not-lists", () => {
    const p = new Policy("not-batch-ns", Action.Deny);
    const r = new Rule();
    const s = new Source();
    s.notNamespaces = new PatternList(["web"]);
    r.from.push(s);
    const o = new Operation();
    o.interfaces = new PatternList(["*DemoService", "Calculator"]);
    r.to.push(o);
    p.rules.push(r);
    const a = new Authorizer();
    a.policies.push(p);
    expect(a.allows(hello, batch)).toBe(false);
    expect(a.allows(hello, frontend)).toBe(true);
    // An entry named after the other protocol's key is no service (a client-chosen header or attachment).
    expect(a.allows(mdOf(["service", "Calculator", "method", "add"]), batch)).toBe(true);
    expect(a.allows(mdOf(["interface", "Other", "service", "Calculator"]), batch)).toBe(true);
    a.serviceKey = KEY_SERVICE;
    expect(a.allows(mdOf(["service", "Calculator", "method", "add"]), batch)).toBe(false);
    expect(a.allows(mdOf(["service", "Other", "method", "add"]), batch)).toBe(true);
    expect(a.allows(mdOf(["interface", "Other", "service", "Calculator"]), batch)).toBe(false);
    expect(a.allows(mdOf(["interface", "Calculator", "service", "Other"]), batch)).toBe(true);
  });
});

describe("faults", () => {
  it("aborts and delays about the configured share of matching requests only", () => {
    const f = new Fault(new MetadataMatch().add("method", StringMatch.exact("sayHello")));
    f.abortPerMillion = MILLION / 10;
    f.delayPerMillion = MILLION / 2;
    f.delayMs = 100;
    const faults: Array<Fault> = [f];
    const rng = new Random(3);
    const out = new FaultDecision();
    let aborted = 0, delayed = 0;
    const md = mdOf(["method", "sayHello"]);
    for (let i = 0; i < 10000; i++) {
      decideFault(faults, md, rng, out);
      if (out.abort) aborted++;
      if (out.delayMs == 100) delayed++;
    }
    expect(aborted > 800 && aborted < 1200).toBe(true, aborted.toString());
    expect(delayed > 4700 && delayed < 5300).toBe(true, delayed.toString());
    decideFault(faults, mdOf(["method", "other"]), rng, out);
    expect(out.abort || out.delayMs > 0 || out.fault !== null).toBe(false);
  });
});

describe("Caller.fromUriSan", () => {
  it("reads the principal and namespace of a SPIFFE id as Istio does", () => {
    const c = Caller.fromUriSan("spiffe://cluster.local/ns/shop/sa/frontend");
    expect(c.known).toBe(true);
    expect(String.UTF8.decode(c.principal)).toBe("cluster.local/ns/shop/sa/frontend");
    expect(String.UTF8.decode(c.namespace)).toBe("shop");
  });
  it("takes the first /ns/ segment, even when the service account is called ns", () => {
    const c = Caller.fromUriSan("spiffe://td/ns/a/sa/ns");
    expect(String.UTF8.decode(c.namespace)).toBe("a");
    expect(String.UTF8.decode(Caller.fromUriSan("spiffe://td/ns/last").namespace)).toBe("last");
  });
  it("keeps a non-SPIFFE URI whole, with no namespace", () => {
    const c = Caller.fromUriSan("urn:example:client");
    expect(c.known).toBe(true);
    expect(String.UTF8.decode(c.principal)).toBe("urn:example:client");
    expect(c.namespace.byteLength).toBe(0);
  });
  it("an empty SAN is an unknown caller, denied by a positive list and let through a negative one", () => {
    const c = Caller.fromUriSan("");
    expect(c.known).toBe(false);
    const only = new Source();
    only.namespaces = new PatternList(["*"]);
    expect(only.matches(c)).toBe(false);
    const not = new Source();
    not.notNamespaces = new PatternList(["shop"]);
    expect(not.matches(c)).toBe(true);
  });
  it("a SPIFFE caller matches namespace and principal patterns", () => {
    const c = Caller.fromUriSan("spiffe://cluster.local/ns/shop/sa/frontend");
    const s = new Source();
    s.namespaces = new PatternList(["sh*"]);
    s.principals = new PatternList(["*/sa/frontend"]);
    expect(s.matches(c)).toBe(true);
    s.notPrincipals = new PatternList(["cluster.local/ns/shop/*"]);
    expect(s.matches(c)).toBe(false);
  });
});
