import { mdOf } from "../../__tests__/metadata.include";
import { MetadataMatch } from "../../match/metadata_match";
import { StringMatch } from "../../match/string_match";
import { Random } from "../random";
import { Route, RouteTable } from "../route_table";

describe("MetadataMatch", () => {
  it("ANDs conditions and requires the keys to be present", () => {
    const m = new MetadataMatch().add("method", StringMatch.exact("sayHello")).add("x-user", StringMatch.prefix("vip-"));
    expect(m.matches(mdOf(["method", "sayHello", "x-user", "vip-42"]))).toBe(true);
    expect(m.matches(mdOf(["method", "sayHello", "x-user", "std-42"]))).toBe(false);
    expect(m.matches(mdOf(["method", "sayHello"]))).toBe(false);
    expect(new MetadataMatch().matches(mdOf([]))).toBe(true);
    const presence = new MetadataMatch().add("group", StringMatch.present());
    expect(presence.matches(mdOf(["group", ""]))).toBe(true);
    expect(presence.matches(mdOf(["version", "1"]))).toBe(false);
    const inverted = StringMatch.exact("v1");
    inverted.invert = true;
    expect(new MetadataMatch().add("version", inverted).matches(mdOf(["version", "v2"]))).toBe(true);
    expect(new MetadataMatch().add("method", StringMatch.regex("get.*|list.*")).matches(mdOf(["method", "listOrders"]))).toBe(true);
  });
});

describe("RouteTable", () => {
  it("takes the first matching route", () => {
    const t = new RouteTable()
      .add(new Route("by-method", new MetadataMatch().add("method", StringMatch.exact("sayHello"))).to("a"))
      .add(new Route("catch-all", new MetadataMatch()).to("b"));
    expect(t.match(mdOf(["method", "sayHello"]))!.name).toBe("by-method");
    expect(t.match(mdOf(["method", "other"]))!.name).toBe("catch-all");
    const strict = new RouteTable().add(new Route("only", new MetadataMatch().add("method", StringMatch.exact("x"))).to("a"));
    expect(strict.match(mdOf(["method", "y"])) === null).toBe(true);
  });

  it("splits by weight", () => {
    const r = new Route("split", new MetadataMatch()).to("v1", 80).to("v2", 20);
    const rng = new Random(42);
    const md = mdOf(["method", "m"]);
    let v2 = 0;
    for (let i = 0; i < 10000; i++) if (r.pick(md, rng)!.cluster == "v2") v2++;
    expect(v2 > 1800 && v2 < 2200).toBe(true, v2.toString());
  });

  it("picks consistently by a hashed metadata value", () => {
    const r = new Route("hashed", new MetadataMatch()).to("v1", 50).to("v2", 50).hashOn("userId");
    const rng = new Random(7);
    let seen = new Set<string>();
    for (let user = 0; user < 50; user++) {
      const md = mdOf(["userId", "user-" + user.toString()]);
      const first = r.pick(md, rng)!.cluster;
      for (let i = 0; i < 20; i++) expect(r.pick(md, rng)!.cluster).toBe(first);
      seen.add(first);
    }
    expect(seen.size).toBe(2);
  });

  it("has no destination when all weights are zero", () => {
    const r = new Route("off", new MetadataMatch()).to("v1", 0);
    expect(r.pick(mdOf([]), new Random(1)) === null).toBe(true);
  });
});
