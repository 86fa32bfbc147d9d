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
import { decode } from "../codec/harness";
import { dubboAnswer, dubboFrame, dubboRequest } from "../codec/dubbo/frames";

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
  return dubboFrame(0xc0, 0, id, enc.get()); // request, two-way
}

test("Dubbo: an attachment `service` does not stand in for a body that names no service", async () => {
  const vm = await load("dubbo", [{ name: "public", action: "ALLOW", rules: [{ to: [{ interfaces: ["org.example.Public"] }] }] }]);
  const request = dubboNoPath(1n, { service: "org.example.Public" });
  assert.notDeepEqual(vm.connect().downstream(request).forwarded, request);
  assert.equal(unauthorized(vm), 1);
});

test("Dubbo: a `path` or `version` attachment other than the body's is refused (a provider would serve the attachment's), lazily decoded or not", async () => {
  // A provider puts every attachment over the body's fields and looks the service up by `path` and
  // `version` (Dubbo DecodeableRpcInvocation, DubboProtocol.getInvoker): the body's Public would pass
  // the policy while the provider runs Admin.
  for (const mode of ["perConnection", "perRequest"]) {
    const config = {
      version: 1, name: "svc", protocol: "dubbo", routingMode: mode,
      routes: [{ name: "all", destinations: [{ cluster: "outbound|20880||svc" }] }],
      authorization: [{ name: "public", action: "ALLOW", rules: [{ to: [{ interfaces: ["org.example.Public"] }] }] }],
    };
    const vm = await WasmHost.load(wasm, { pluginName: "svc", pluginConfig: JSON.stringify(config) });
    for (const attachments of [{ path: "org.example.Admin" }, { version: "9.9.9" }]) {
      const request = dubboRequest(5n, "get", attachments, "org.example.Public", "hi", "0.0.0");
      const conn = vm.connect();
      const r = conn.downstream(request);
      assert.deepEqual((await decode("dubbo", r.forwarded)).frames.map((f) => f.kind), ["heartbeat"], `${mode} ${JSON.stringify(attachments)}: a probe, not the request`);
      const answer = conn.upstream(dubboAnswer(r.forwarded));
      assert.equal(answer.written[3], 40, "BAD_REQUEST");
      assert.match(answer.written.toString("latin1"), /attachment differs from the request body/);
    }
    // The same request with attachments that agree with its body goes through.
    const ok = dubboRequest(6n, "get", { path: "org.example.Public", version: "0.0.0" }, "org.example.Public");
    assert.equal((await decode("dubbo", vm.connect().downstream(ok).forwarded)).frames[0].kind, "request", mode);
  }
});
