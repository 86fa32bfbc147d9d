// Frames produced by the real trpc-go (v1.0.3, test/peers/trpc) decode to the expected metadata
// however the stream is cut: the real client calls a real server through a loopback relay that
// records both directions (one connection), and the Meltemi codec (the harness build) decodes what
// went over the wire, the client's bytes as requests and the server's as answers, whole and cut into
// two reads at many points. The real server answers the codec's probe with the probe's id, and serves
// a request the codec mutated (trans_info rewritten) with the new entries.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { decode, encodeMutated, probeFor, type Frame } from "./harness";
import { type Relay, startRelay } from "./dubbo/peers"; // the relay records bytes, whatever the protocol
import { HELLO, NOTIFY, SERVICE, type TrpcResult, TrpcClient, startTrpcServer, trpcPeer } from "./trpc/peers";
import { trpcRequest } from "./trpc/frames";

const LONG = "v".repeat(3000);
let server: Awaited<ReturnType<typeof startTrpcServer>> | undefined;
let client: TrpcClient | undefined;
let relay: Relay | undefined;
const results: TrpcResult[] = [];
let requests: Frame[] = [];
let responses: Frame[] = [];
let c2sBytes = Buffer.alloc(0);
let s2cBytes = Buffer.alloc(0);

before(async () => {
  const binary = trpcPeer();
  server = await startTrpcServer(binary, "s");
  relay = await startRelay(server.port);
  client = TrpcClient.start(binary);
  const port = relay.port;
  results.push(await client.call({ port, body: "hi", meta: { "x-user": "alice", long: LONG } }));
  results.push(await client.call({ port, method: NOTIFY, oneway: true, body: "n" }));
  results.push(await client.call({ port, method: `/${SERVICE}/Missing`, body: "x" }));
  results.push(await client.call({ port, body: "again" }));
  c2sBytes = relay.fromClients();
  s2cBytes = relay.fromUpstream();
  const c2s = await decode("trpc", c2sBytes);
  const s2c = await decode("trpc", s2cBytes, [], {}, true);
  assert.equal(c2s.error, "", "the client's stream decodes");
  assert.equal(s2c.error, "", "the server's stream decodes");
  requests = c2s.frames;
  responses = s2c.frames;
}, { timeout: 600_000 }); // a first run builds the peers (Go, ~30 s; longer with a cold module cache)

after(async () => {
  client?.kill();
  server?.kill();
  await relay?.close();
});

test("the real client's calls: kind, id, caller, callee, func, service and method, its trans_info", () => {
  assert.deepEqual(results.map((r) => r.ok), [true, true, false, true], JSON.stringify(results));
  assert.equal(results[0].body, `s:hi:0 [long=${LONG};x-user=alice]`, "the server saw the trans_info");
  assert.equal(results[3].body, "s:again:1 []", "the oneway call reached the server");
  assert.equal(requests.length, 4);
  const [hello, notify, missing, again] = requests;
  assert.equal(hello.kind, "request");
  assert.equal(hello.twoWay, true);
  assert.equal(hello.metadata.func, HELLO);
  assert.equal(hello.metadata.service, SERVICE);
  assert.equal(hello.metadata.method, "Hello");
  assert.equal(hello.metadata.callee, SERVICE);
  assert.match(hello.metadata.caller, /^trpc\.client\./, "trpc-go's default caller: trpc.client.<binary>.service");
  assert.equal(hello.metadata["x-user"], "alice");
  assert.equal(hello.metadata.long, LONG);
  assert.equal(notify.kind, "oneway");
  assert.equal(notify.twoWay, false);
  assert.equal(notify.metadata.method, "Notify");
  assert.equal(missing.metadata.method, "Missing");
  assert.equal(again.kind, "request");
  const ids = [hello, missing, again].map((f) => Number(f.requestId));
  assert.ok(ids[0] < ids[1] && ids[1] < ids[2], `ids grow: ${ids}`);
});

test("the real server's answers: response, error (RetServerNoFunc) for the missing func, none for oneway, same ids", () => {
  assert.deepEqual(responses.map((f) => [f.kind, f.requestId]), [
    ["response", requests[0].requestId], ["error", requests[2].requestId], ["response", requests[3].requestId],
  ]);
  assert.equal(results[2].code, 12, "the client reports the server's RetServerNoFunc");
  assert.equal(results[2].type, 3, "as a callee framework error");
});

// The client's stream holds a 3000-byte entry: cut at every byte of its first 128 (the first frame's
// head and header), then every 7 bytes; the server's at every byte.
test("the client's stream cut at many points and the server's at every byte give the same frames", async () => {
  for (const [bytes, frames, answers] of [[c2sBytes, requests, false], [s2cBytes, responses, true]] as const) {
    const whole = JSON.stringify(frames);
    for (let cut = 1; cut < bytes.length; cut += answers || cut < 128 ? 1 : 7) {
      const r = await decode("trpc", bytes, [cut], {}, answers);
      assert.equal(r.error, "");
      assert.equal(JSON.stringify(r.frames), whole, `cut at ${cut} (${answers ? "answers" : "calls"})`);
    }
  }
});

/** Sends `frame` on a fresh connection to the real server and returns the answer's frames. */
async function exchange(frame: Buffer): Promise<{ frames: Frame[]; bytes: Buffer }> {
  const socket = net.connect(server!.port, "127.0.0.1");
  try {
    await new Promise<void>((r, j) => { socket.once("connect", r); socket.once("error", j); });
    socket.write(frame);
    const back = await new Promise<Buffer>((r, j) => {
      let got = Buffer.alloc(0);
      const timer = setTimeout(() => j(new Error("no answer within 10 s")), 10_000);
      socket.on("data", (d) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 8 && got.length >= got.readUInt32BE(4)) { clearTimeout(timer); r(got); }
      });
    });
    return { frames: (await decode("trpc", back, [], {}, true)).frames, bytes: back };
  } finally { socket.destroy(); }
}

test("the real server answers the codec's probe at once with the probe's id (RetServerNoFunc)", async () => {
  const id = 0x7abc0123;
  const probe = await probeFor("trpc", trpcRequest(id, HELLO));
  assert.ok(probe.length > 16);
  const { frames } = await exchange(probe);
  assert.deepEqual(frames.map((f) => [f.kind, f.requestId]), [["error", String(id)]]);
});

test("a request the codec mutated (trans_info set and replaced) is served", async () => {
  const request = trpcRequest(41, HELLO, { transInfo: { version: "v1" }, body: Buffer.from("mut") });
  const mutated = await encodeMutated("trpc", request, { version: "v2", "x-new": "1" });
  assert.ok(mutated.length > request.length);
  const back = await decode("trpc", mutated);
  assert.equal(back.frames[0].metadata.version, "v2");
  assert.equal(back.frames[0].metadata["x-new"], "1");
  const { frames, bytes } = await exchange(mutated);
  assert.deepEqual(frames.map((f) => [f.kind, f.requestId]), [["response", "41"]]);
  assert.match(bytes.toString("latin1"), /s:mut:\d+ \[version=v2;x-new=1\]/, "the server saw the new trans_info");
});
