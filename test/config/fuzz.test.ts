// Mutated configurations (byte flips, insertions, truncations of valid ones) never trap the filter:
// each is accepted or rejected with a reason, and the VM keeps working. Seeded: the same inputs
// every run; MELTEMI_FUZZ_ITERATIONS raises the count for a longer local run.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmHost } from "../host/index";
import { prng } from "../support/prng";

const here = path.dirname(fileURLToPath(import.meta.url));
const wasm = path.resolve(here, "../../build/meltemi.wasm");
const iterations = Number(process.env.MELTEMI_FUZZ_ITERATIONS ?? 400);


const interesting = ['"', "{", "}", "[", "]", ",", ":", "\\", "\\u", "-", "1e999", "null", "true", "0", "\u0000", "é", "🌊"];

function mutate(text: string, rand: () => number): string {
  const at = Math.floor(rand() * (text.length + 1));
  switch (Math.floor(rand() * 4)) {
    case 0: return text.slice(0, at);
    case 1: return text.slice(0, at) + interesting[Math.floor(rand() * interesting.length)] + text.slice(at);
    case 2: return text.slice(0, at) + text.slice(at + 1 + Math.floor(rand() * 8));
    default: return text.slice(0, at) + String.fromCharCode(Math.floor(rand() * 128)) + text.slice(at + 1);
  }
}

test(`${iterations} mutated configurations never trap the filter`, async () => {
  const seeds = fs.readdirSync(path.join(here, "fixtures/valid")).map((f) => fs.readFileSync(path.join(here, "fixtures/valid", f), "utf8"));
  const rand = prng(20261122);
  const vm = await WasmHost.load(wasm, { pluginName: "fuzz" });
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < iterations; i++) {
    let text = seeds[i % seeds.length];
    const rounds = 1 + Math.floor(rand() * 4);
    for (let r = 0; r < rounds; r++) text = mutate(text, rand);
    const before = vm.logs.length;
    assert.equal(vm.configure(text), true, `configure returned false for ${JSON.stringify(text)}`);
    const lines = vm.logs.slice(before).map((l) => l.message);
    if (lines.some((l) => l.endsWith("configuration accepted"))) accepted++;
    else if (lines.some((l) => l.includes("configuration rejected: "))) rejected++;
    else assert.fail(`no verdict logged for ${JSON.stringify(text)}: ${lines.join(" | ")}`);
  }
  assert.equal(accepted + rejected, iterations);
  assert.ok(rejected > 0, "the mutations produced rejections");
});
