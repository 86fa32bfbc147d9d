// The configuration's randomSeed makes the filter's draws replayable (the statistical Envoy tests print
// theirs): the same seed gives the same weighted picks whatever the clock says, another seed other picks,
// and without a seed the VM draws from the clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SharedState, WasmHost } from "../host/index";
import { dubboRequest } from "../codec/dubbo/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const N = 48;

function config(randomSeed?: number): object {
  return {
    version: 1, name: "greeter", protocol: "dubbo", routingMode: "perConnection",
    routes: [{ name: "split", destinations: [{ cluster: "v1", weight: 50 }, { cluster: "v2", weight: 50 }] }],
    ...(randomSeed === undefined ? {} : { randomSeed }),
  };
}

/** The cluster each of N connections' first request picks, on a fresh VM whose clock has run `clockMs`. */
async function picks(randomSeed: number | undefined, clockMs: number): Promise<string> {
  const shared = new SharedState();
  shared.advance(clockMs);
  const vm = await WasmHost.load(wasm, { shared, pluginName: "greeter", pluginConfig: JSON.stringify(config(randomSeed)) });
  let out = "";
  for (let i = 0; i < N; i++) {
    const conn = vm.connect();
    assert.equal(conn.downstream(dubboRequest(BigInt(i + 1), "greet")).status, "continue");
    out += conn.filterState.get("envoy.tcp_proxy.cluster")?.value.toString() === "v2" ? "2" : "1";
  }
  return out;
}

test("randomSeed: the same seed replays the same weighted picks at any clock, another seed draws others", async () => {
  const seven = await picks(7, 0);
  assert.match(seven, /1/);
  assert.match(seven, /2/);
  assert.equal(await picks(7, 123_456), seven, "same seed, other clock: same picks");
  assert.notEqual(await picks(8, 0), seven, "another seed: other picks");
});

test("without randomSeed the VM seeds from the clock", async () => {
  assert.notEqual(await picks(undefined, 0), await picks(undefined, 123_456));
});
