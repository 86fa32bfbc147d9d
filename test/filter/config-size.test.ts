// A rejected configuration leaves nothing behind in the VM: one over the size limit is refused before
// a byte of it is read (Wasm memory unchanged); one refused after parsing costs a bounded amount once,
// and the same refusal again costs nothing more. The previous configuration stays.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmHost } from "../host/index";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const MiB = 1024 * 1024;
const good = { version: 1, name: "greeter", protocol: "dubbo", routes: [{ name: "all", destinations: [{ cluster: "a" }] }] };

/** `n` routes; the last has a weight out of range, so the whole text parses before it is refused. */
function lateError(n: number): string {
  const routes = Array.from({ length: n }, (_, i) => ({
    name: `route-${i}`, match: { method: { exact: `method${i}` } }, destinations: [{ cluster: `outbound|20880|v${i}|greeter`, weight: i === n - 1 ? -1 : 1 }],
  }));
  return JSON.stringify({ ...good, routes });
}

async function load() {
  const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(good) });
  return { vm, memory: () => (vm.exports.memory as WebAssembly.Memory).buffer.byteLength };
}

test("a configuration over 512 KiB is refused by its size: Wasm memory unchanged, the previous configuration stays", async () => {
  const { vm, memory } = await load();
  const before = memory();
  const huge = lateError(12_000); // the 50,000-route push of issue 13, smaller
  assert.ok(huge.length > 512 * 1024);
  assert.equal(vm.configure(huge), true, "the plugin still loads");
  assert.equal(memory(), before, "nothing of the refused text was read into the VM");
  assert.match(vm.logs.at(-1)!.message, /configuration rejected: the configuration is \d+ bytes, over the limit of 524288; keeping the previous configuration/);
  assert.equal(vm.metrics().meltemi_config_rejected_total, 1);
});

test("refused after parsing: the largest legal text and an adversarial one cost a bounded amount, the same again nothing more", async () => {
  const texts = {
    "1,000 routes, the last one invalid": lateError(1_000),
    "512 KiB of nested empty arrays": '{"version":1,"x":[' + "[],".repeat(174_000) + "[]]}",
  };
  for (const [what, text] of Object.entries(texts)) {
    assert.ok(text.length <= 512 * 1024, what);
    const { vm, memory } = await load();
    const sizes = [memory()];
    for (let i = 0; i < 6; i++) {
      vm.configure(text);
      sizes.push(memory());
    }
    console.log(`# ${what} (${(text.length / 1024).toFixed(0)} KiB) refused 6 times: Wasm memory ${sizes.map((m) => (m / MiB).toFixed(1)).join(" -> ")} MiB`);
    assert.match(vm.logs.at(-1)!.message, /configuration rejected: .*keeping the previous configuration/);
    assert.ok(sizes[6] <= 32 * MiB, `${what}: ${(sizes[6] / MiB).toFixed(1)} MiB`);
    // The allocator may double memory once more while the first refusal's garbage is collected; after
    // that, refusals reuse what is there.
    assert.equal(sizes[6], sizes[2], `${what}: memory keeps growing with refusals`);
  }
});
