// The main job until the local mesh demo exists (issue 8): the real Envoy with the Meltemi module in
// front of an echo upstream. It sends a few messages and a 1 MiB payload through, prints what came
// back and the module's metrics from Envoy's /stats/prometheus, and stops (also on Ctrl-C) leaving
// no process behind.
import net from "node:net";
import { randomBytes, createHash } from "node:crypto";
import { passThroughBootstrap, tcpProxy, wasmNetworkFilter } from "../test/envoy/bootstrap";
import { Envoy } from "../test/envoy/envoy";

function echoServer(): Promise<net.Server> {
  const server = net.createServer((s) => { s.on("data", (d) => s.write(d)); s.on("error", () => {}); });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

async function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  const socket = net.connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  let n = 0;
  return new Promise((resolve, reject) => {
    socket.on("data", (d) => { chunks.push(d); n += d.length; if (n >= payload.length) { socket.end(); resolve(Buffer.concat(chunks)); } });
    socket.on("error", reject);
    socket.write(payload);
  });
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex").slice(0, 16);

async function main(): Promise<void> {
  const upstream = await echoServer();
  const upstreamPort = (upstream.address() as net.AddressInfo).port;
  const envoy = await Envoy.start({
    bootstrap: passThroughBootstrap([wasmNetworkFilter({ pluginConfig: { version: 1, name: "demo" } }), tcpProxy("upstream")], upstreamPort),
    concurrency: 2,
  });
  const stop = async () => { await envoy.stop(); envoy.cleanup(); upstream.close(); };
  process.once("SIGINT", () => { console.log("\ninterrupted, stopping"); void stop().then(() => process.exit(130)); });
  try {
    const port = await envoy.listenerPort("meltemi");
    console.log(`envoy ${envoy.adminUrl.replace("http://", "admin ")}, listener 127.0.0.1:${port} -> meltemi.wasm -> tcp_proxy -> echo 127.0.0.1:${upstreamPort}\n`);
    for (const text of ["hello, meltemi", "a second connection", "bytes pass unchanged"]) {
      const back = await roundTrip(port, Buffer.from(text));
      console.log(`sent ${JSON.stringify(text)} -> got ${JSON.stringify(back.toString())}`);
    }
    const big = randomBytes(1 << 20);
    const back = await roundTrip(port, big);
    console.log(`sent 1 MiB sha256 ${sha(big)} -> got ${back.length} bytes sha256 ${sha(back)} ${back.equals(big) ? "(identical)" : "(DIFFERENT)"}`);
    await new Promise((r) => setTimeout(r, 200));
    console.log("\nmodule metrics from envoy /stats/prometheus:");
    for (const [name, value] of await envoy.prometheus()) if (name.startsWith("meltemi_")) console.log(`  ${name} ${value}`);
    console.log("\nmodule log lines:");
    for (const line of envoy.log().split("\n")) if (line.includes("wasm log")) console.log("  " + line.replace(/^.*wasm log /, ""));
  } finally {
    await stop();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
