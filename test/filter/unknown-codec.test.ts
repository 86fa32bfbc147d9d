// A configuration naming a codec the module lacks is refused by the filter's parser (the message
// names it and the codecs the module has), and the previous configuration stays in force.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmHost } from "../host/index";
import { dubboRequest } from "../codec/dubbo/frames";
import { decode } from "../codec/harness";
import { CODEC_NAMES } from "../../controller/translate/codecs";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const good = {
  version: 1, name: "greeter", protocol: "dubbo", routingMode: "perConnection",
  routes: [{ name: "all", destinations: [{ cluster: "outbound|20880||greeter" }] }],
  authorization: [{ name: "no-admin", action: "DENY", rules: [{ to: [{ methods: ["admin"] }] }] }],
};

test("a configuration naming a codec the module lacks is refused; the previous one stays", async () => {
  const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(good) });
  // A name no codec will ever have (the test named a real protocol once, until its codec came).
  vm.configure(JSON.stringify({ ...good, protocol: "no-such-codec" }));
  assert.ok(vm.logs.some((l) => l.message.includes(`configuration rejected: protocol: no codec "no-such-codec" in this module (it has: ${CODEC_NAMES.join(", ")})`)),
    vm.logs.map((l) => l.message).join("\n"));
  // Still Dubbo with the deny rule: a denied request is replaced by a probe (a heartbeat), not passed through.
  const conn = vm.connect();
  conn.downstream(dubboRequest(1n, "admin"));
  assert.deepEqual((await decode("dubbo", conn.forwarded)).frames.map((f) => f.kind), ["heartbeat"]);
});
