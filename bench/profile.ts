// `npm run bench:profile`: where the time goes, for the bars the benchmark shows missed.
// - host: V8 CPU profile (node:inspector) of the filter per request in the Node host, on a build of the
//   module with function names (release options plus --debug), self time by function;
// - codec: the same for the codec decode loop;
// - envoy: `perf record` of the Envoy process while a closed loop runs through each arm (the official
//   binary is stripped and V8's JIT code has no perf map, so this splits time by DSO: the kernel
//   (sockets), Envoy's C++ (filters, host calls into Wasm), and anonymous JIT code (the Wasm module)).
// Writes build/bench/profiles/*.txt and prints them.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { SharedState, WasmHost } from "../test/host/index";
import { repoRoot } from "../test/envoy/envoy";
import { armsOf, listenerName, meltemiConfig } from "./envoy/arms";
import { armWire, withBenchEnvoy } from "./envoy/arms-run";
import { closedLoop } from "./load/client";
import { WireBatch, benchWire, type ProtocolName } from "./load/wire";
import { profile, selfTimeText } from "./micro/profiler";
import { releaseOptimizeFlags } from "./micro/codec";

const OUT = path.join(repoRoot, "build/bench/profiles");
const NAMED = path.join(repoRoot, "build/bench/meltemi.names.wasm");
const CODEC_NAMED = path.join(repoRoot, "build/bench/codec.names.wasm");

function build(out: string, args: string[]): void {
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs > newest(path.join(repoRoot, "filter"))) return;
  process.stderr.write(`building ${path.relative(repoRoot, out)}\n`);
  execFileSync(path.join(repoRoot, "node_modules/.bin/asc"), [...args, "-o", out, "--debug"], { cwd: repoRoot, stdio: ["ignore", "ignore", "inherit"] });
}

function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

async function profiled(body: () => void): Promise<string> {
  return selfTimeText(await profile(body));
}

async function hostProfile(p: ProtocolName): Promise<string> {
  build(NAMED, ["filter/index.ts", "--config", "asconfig.json", "--target", "release"]);
  const wire = await benchWire(p);
  const config = {
    ...(meltemiConfig(p, "perRequest") as object),
    localRateLimit: { conditions: [{ match: { method: { exact: "hello" } }, tokenBucket: { maxTokens: 1000000000, tokensPerFill: 1000000000, fillIntervalMs: 1000 } }] },
    authorization: [{ name: "no-boom", action: "DENY", rules: [{ to: [{ methods: ["boom"] }] }] }],
  };
  const vm = await WasmHost.load(NAMED, { shared: new SharedState(), pluginConfig: JSON.stringify(config) });
  const K = 16;
  const batch = new WireBatch(wire, K);
  const run = (n: number) => {
    let conn = vm.connect();
    for (let i = 0; i < n; i += K) {
      if (i % 4096 === 0) { conn.close(); conn = vm.connect(); }
      batch.next();
      conn.downstream(batch.requests);
      conn.upstream(batch.replies);
    }
    conn.close();
  };
  run(20_000);
  return `filter per request in the Node host, ${p}, authz + rate limit + routes, ${K} requests/callback\n` + await profiled(() => run(200_000));
}

async function codecProfile(): Promise<string> {
  build(CODEC_NAMED, ["bench/micro/codec/index.ts", "--runtime", "minimal", ...releaseOptimizeFlags()]);
  const module = await WebAssembly.compile(fs.readFileSync(CODEC_NAMED));
  const env: Record<string, () => number> = {};
  for (const i of WebAssembly.Module.imports(module)) if (i.kind === "function") env[i.name] = () => 0;
  const h = (await WebAssembly.instantiate(module, { env })).exports as unknown as {
    memory: WebAssembly.Memory; _initialize?(): void; alloc(n: number): number; setup(p: number): number; decodeLoop(ptr: number, len: number, n: number): number;
  };
  h._initialize?.();
  const frame = (await benchWire("dubbo")).request;
  h.setup(1);
  const ptr = h.alloc(frame.length);
  new Uint8Array(h.memory.buffer, ptr, frame.length).set(frame);
  h.decodeLoop(ptr, frame.length, 100_000);
  return "Dubbo request decode (the load's frame, 2 attachments)\n" + await profiled(() => { h.decodeLoop(ptr, frame.length, 1_000_000); });
}

async function envoyProfile(): Promise<string> {
  const lines: string[] = [];
  await withBenchEnvoy(["thrift", "dubbo"], 1, true, async (ctx) => {
    const { envoy } = ctx;
    const pid = envoy.process.pid!;
    for (const p of ["thrift", "dubbo"] as const) {
      for (const arm of armsOf(p)) {
        const port = await envoy.listenerPort(listenerName(p, arm));
        const data = path.join(OUT, `envoy-${p}-arm${arm}.perf.data`);
        let rec: ReturnType<typeof spawn> | undefined;
        await closedLoop({
          wire: armWire(ctx, p, arm), port, connections: 4, depth: 16, warmupMs: 500, durationMs: 3000,
          onWindow: (e) => {
            if (e === "start") rec = spawn("perf", ["record", "-q", "-F", "999", "-p", String(pid), "-o", data], { stdio: "ignore" });
            else rec?.kill("SIGINT");
          },
        });
        await new Promise((r) => (rec && rec.exitCode === null ? rec.once("exit", r) : r(null)));
        const report = execFileSync("perf", ["report", "-i", data, "--stdio", "--no-children", "--sort", "dso", "-q"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
        lines.push(`${p} arm ${arm}: Envoy samples by DSO`, ...report.split("\n").filter((l) => l.trim()).slice(0, 6), "");
        fs.rmSync(data, { force: true });
      }
    }
  });
  return lines.join("\n");
}

const which = process.argv.slice(2);
const want = (k: string) => which.length === 0 || which.includes(k);
fs.mkdirSync(OUT, { recursive: true });
const sections: [string, () => Promise<string>][] = [
  ["host-thrift", () => hostProfile("thrift")],
  ["host-dubbo", () => hostProfile("dubbo")],
  ["codec", codecProfile],
  ["envoy", envoyProfile],
];
for (const [name, f] of sections) {
  if (!want(name)) continue;
  const text = await f();
  fs.writeFileSync(path.join(OUT, `${name}.txt`), text + "\n");
  process.stdout.write(`== ${name} ==\n${text}\n\n`);
}
process.exit(0);
