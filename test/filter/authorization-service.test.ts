// Authorization's `interfaces` (and `notInterfaces`) name the service a request calls: the protocol's
// own service field (Codec.serviceKey: Dubbo's body path `interface`, Thrift's multiplexed `service`,
// tRPC's func path `service`), never a header or attachment the client chose. A THeader header or a
// tRPC trans_info entry named `interface` must not stand in for the service the frame calls: a DENY on
// that service still denies, an ALLOW on another service does not let it through.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import hessian from "hessian.js";
import { WasmHost } from "../host/index";
import { asHeader } from "../codec/thrift/harness";
import { WIRES, encodeWith, thrift } from "../codec/thrift/peers";
import { trpcRequest } from "../codec/trpc/frames";
import { prometheusView } from "../support/stats_tags";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");

function load(protocol: string, authorization: object[]) {
  const config = { version: 1, name: "svc", protocol, routingMode: "perConnection", authorization };
  return WasmHost.load(wasm, { pluginName: "svc", pluginConfig: JSON.stringify(config) });
}

const DENY_ADMIN = [{ name: "no-admin", action: "DENY", rules: [{ to: [{ interfaces: ["Admin"] }] }] }];
const ONLY_PUBLIC = [{ name: "public", action: "ALLOW", rules: [{ to: [{ interfaces: ["Public"] }] }] }];

function thriftCall(name: string, seqid: number): Buffer {
  return encodeWith(WIRES[0], (p) => {
    p.writeMessageBegin(name, thrift.Thrift.MessageType.CALL, seqid);
    p.writeStructBegin("args"); p.writeFieldStop(); p.writeStructEnd();
    p.writeMessageEnd();
  });
}

function unauthorized(vm: { metrics(): unknown }): number {
  return prometheusView(vm.metrics() as never).get('meltemi_rejections_total{reason="unauthorized"}') ?? 0;
}

for (const [name, policies] of [["a DENY on the called service", DENY_ADMIN], ["an ALLOW on another service", ONLY_PUBLIC]] as const) {
  test(`Thrift: a THeader header \`interface\` does not escape ${name}`, async () => {
    const vm = await load("thrift", policies);
    const conn = vm.connect();
    const request = await asHeader(thriftCall("Admin:drop", 1), { interface: "Public" });
    const r = conn.downstream(request);
    assert.notDeepEqual(r.forwarded, request, "the call to Admin does not go up");
    assert.equal(unauthorized(vm), 1);
  });

  test(`tRPC: a trans_info entry \`interface\` does not escape ${name}`, async () => {
    const vm = await load("trpc", policies);
    const conn = vm.connect();
    const request = trpcRequest(1, "/Admin/drop", { transInfo: { interface: "Public" } });
    const r = conn.downstream(request);
    assert.notDeepEqual(r.forwarded, request, "the call to Admin does not go up");
    assert.equal(unauthorized(vm), 1);
  });
}

test("the protocol's service field is what `interfaces` matches: the call to Public passes the same policies", async () => {
  for (const policies of [DENY_ADMIN, ONLY_PUBLIC]) {
    const vm = await load("thrift", policies);
    const request = await asHeader(thriftCall("Public:get", 2), { interface: "Admin" });
    assert.deepEqual(vm.connect().downstream(request).forwarded, request);
    const trpc = await load("trpc", policies);
    const call = trpcRequest(3, "/Public/get", { transInfo: { interface: "Admin" } });
    assert.deepEqual(trpc.connect().downstream(call).forwarded, call);
  }
});

/** A Dubbo two-way request whose body names no service (a null path), with `attachments`. */
function dubboNoPath(id: bigint, attachments: Record<string, string>): Buffer {
  const enc = new hessian.EncoderV2();
  for (const v of ["2.0.2", null, "0.0.0", "get", "", attachments]) enc.write(v);
  const body = enc.get();
  const header = Buffer.alloc(16);
  header.writeUInt16BE(0xdabb, 0);
  header[2] = 0xc2; // request, two-way, hessian2
  header.writeBigInt64BE(id, 4);
  header.writeUInt32BE(body.length, 12);
  return Buffer.concat([header, body]);
}

test("Dubbo: an attachment `service` does not stand in for a body that names no service", async () => {
  const vm = await load("dubbo", [{ name: "public", action: "ALLOW", rules: [{ to: [{ interfaces: ["org.example.Public"] }] }] }]);
  const request = dubboNoPath(1n, { service: "org.example.Public" });
  assert.notDeepEqual(vm.connect().downstream(request).forwarded, request);
  assert.equal(unauthorized(vm), 1);
});
