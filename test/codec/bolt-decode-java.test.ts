// Frames produced by real SOFA Bolt (sofa-bolt 1.6.12, test/peers/bolt) decode to the expected metadata
// at every split point: a real client calls a real server through a loopback relay that records both
// directions (one connection), and the Meltemi codec (the harness build) decodes what went over the
// wire. The real server answers a heartbeat written as the codec's probe is (same id, heartbeat ack).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { decode, type Frame } from "./harness";
import { type Relay, startRelay } from "./dubbo/peers"; // the relay records bytes, whatever the protocol
import { BoltClient, type BoltResult, peersClasspath, startBoltServer } from "./bolt/peers";
import { boltHeartbeat } from "./bolt/frames";

const LONG = "v".repeat(3000);
let server: Awaited<ReturnType<typeof startBoltServer>> | undefined;
let client: BoltClient | undefined;
let relay: Relay | undefined;
const results: BoltResult[] = [];
let requests: Frame[] = [];
let responses: Frame[] = [];
let c2sBytes = Buffer.alloc(0);

before(async () => {
  const classpath = peersClasspath();
  server = await startBoltServer(classpath, "s");
  relay = await startRelay(server.port);
  client = await BoltClient.start(classpath);
  const port = relay.port;
  results.push(await client.call({ port, method: "echo", arg: "hi", headers: { "x-user": "alice", long: LONG } }));
  results.push(await client.call({ port, method: "fail", arg: "fail:boom" }));
  results.push(await client.call({ port, method: "echo", arg: "again" }));
  c2sBytes = relay.fromClients();
  const c2s = await decode("bolt", c2sBytes);
  const s2c = await decode("bolt", relay.fromUpstream());
  assert.equal(c2s.error, "", "the client's stream decodes");
  assert.equal(s2c.error, "", "the server's stream decodes");
  requests = c2s.frames;
  responses = s2c.frames;
}, { timeout: 120_000 });

after(async () => {
  client?.kill();
  server?.kill();
  await relay?.close();
});

test("the real client's requests: kind, id, class, SOFA RPC's service and method, its headers", () => {
  assert.deepEqual(results.map((r) => r.ok), [true, false, true], JSON.stringify(results));
  assert.equal(requests.length, 3);
  const [echo, fail, again] = requests;
  assert.equal(echo.kind, "request");
  assert.equal(echo.twoWay, true);
  assert.deepEqual(echo.metadata, {
    class: "java.lang.String", service: "org.example.Greeter:1.0", sofa_head_method_name: "echo", method: "echo", "x-user": "alice", long: LONG,
  });
  assert.equal(fail.metadata.method, "fail");
  assert.equal(again.metadata.method, "echo");
  const ids = requests.map((f) => BigInt(f.requestId));
  assert.ok(ids[0] < ids[1] && ids[1] < ids[2], `ids grow: ${ids}`);
});

test("the real server's answers: response, error (SERVER_EXCEPTION) with the server's exception class, same ids", () => {
  assert.deepEqual(responses.map((f) => [f.kind, f.requestId]), [
    ["response", requests[0].requestId], ["error", requests[1].requestId], ["response", requests[2].requestId],
  ]);
  assert.equal(responses[0].metadata.class, "java.lang.String");
  assert.equal(responses[1].metadata.class, "com.alipay.remoting.rpc.exception.RpcServerException");
});

test("every split point of the client's stream gives the same frames", async () => {
  const whole = JSON.stringify(requests);
  for (let cut = 1; cut < c2sBytes.length; cut++) {
    const r = await decode("bolt", c2sBytes, [cut]);
    assert.equal(r.error, "");
    assert.equal(JSON.stringify(r.frames), whole, `cut at ${cut}`);
  }
});

test("the real server answers a heartbeat (the codec's probe) with a heartbeat ack of the same id", async () => {
  const socket = net.connect(server!.port, "127.0.0.1");
  try {
    await new Promise<void>((r, j) => { socket.once("connect", r); socket.once("error", j); });
    const id = 0x7abc0123;
    socket.write(boltHeartbeat(id));
    const back = await new Promise<Buffer>((r, j) => {
      let got = Buffer.alloc(0);
      const timer = setTimeout(() => j(new Error("no heartbeat ack within 10 s")), 10_000);
      socket.on("data", (d) => { got = Buffer.concat([got, d]); if (got.length >= 20) { clearTimeout(timer); r(got); } });
    });
    const frames = (await decode("bolt", back)).frames;
    assert.deepEqual(frames.map((f) => [f.kind, f.requestId, f.twoWay]), [["heartbeat", String(id), false]]);
  } finally { socket.destroy(); }
});
