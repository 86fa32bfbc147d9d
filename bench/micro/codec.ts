// Codec decode micro-benchmarks: the filter's Dubbo and Thrift codecs (built with the filter's release
// options, bench/micro/codec/index.ts) decoding one request frame in a loop inside the VM, in Node's
// V8. Allocation per decode is counted exactly with a second build on the stub runtime (a bump
// allocator): the bytes handed out between two marks around the loop.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import hessian from "hessian.js";
import { repoRoot } from "../../test/envoy/envoy";
import { dubboRequest } from "../../test/codec/dubbo/frames";
import { boltRequest } from "../../test/codec/bolt/frames";
import { trpcRequest } from "../../test/codec/trpc/frames";
import { CODEC_NAMES } from "../../controller/translate/codecs";
import { benchWire } from "../load/wire";
import { nsPerOp } from "./timing";

const SOURCE = path.join(repoRoot, "bench/micro/codec/index.ts");
const OUT = path.join(repoRoot, "build/bench");

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/**
 * asc's optimization flags of the filter's release build (asconfig.json target "release"), for the
 * benchmark's own builds of filter code: the codec harness here and bench:profile's.
 */
export function releaseOptimizeFlags(): string[] {
  const config = JSON.parse(fs.readFileSync(path.join(repoRoot, "asconfig.json"), "utf8")) as { targets: { release: Record<string, unknown> } };
  const r = config.targets.release;
  return [`-O${r.optimizeLevel}`, "--shrinkLevel", String(r.shrinkLevel), ...(r.converge ? ["--converge"] : []), ...(r.noAssert ? ["--noAssert"] : [])];
}

/** Builds the two harness modules when missing or older than the filter's or the harness's sources (or asconfig.json). */
export function buildCodecHarness(log: (s: string) => void): { timed: string; stub: string } {
  const timed = path.join(OUT, "codec.wasm");
  const stub = path.join(OUT, "codec-stub.wasm");
  const sources = Math.max(newestMtime(path.join(repoRoot, "filter")), fs.statSync(SOURCE).mtimeMs, fs.statSync(path.join(repoRoot, "asconfig.json")).mtimeMs);
  fs.mkdirSync(OUT, { recursive: true });
  // The timed build runs the filter's own runtime (asconfig.json: minimal, no shadow stack).
  for (const [file, runtime] of [[timed, "minimal"], [stub, "stub"]] as const) {
    if (fs.existsSync(file) && fs.statSync(file).mtimeMs > sources) continue;
    log(`building ${path.relative(repoRoot, file)} (asc, runtime ${runtime})`);
    execFileSync(path.join(repoRoot, "node_modules/.bin/asc"), [SOURCE, "-o", file, "--runtime", runtime, ...releaseOptimizeFlags()], { stdio: ["ignore", "ignore", "inherit"] });
  }
  return { timed, stub };
}

interface Harness {
  memory: WebAssembly.Memory;
  alloc(len: number): number;
  setup(protocol: number): number;
  decodeLoop(ptr: number, len: number, iterations: number): number;
  heapMark(): number;
  _initialize?(): void;
}

async function instantiate(file: string): Promise<Harness> {
  const module = await WebAssembly.compile(fs.readFileSync(file));
  // The codecs call no host function; the module links the filter's ABI glue, so stub what it imports.
  const env: Record<string, () => number> = {};
  for (const i of WebAssembly.Module.imports(module)) if (i.kind === "function") env[i.name] = () => 0;
  const instance = await WebAssembly.instantiate(module, { env });
  const h = instance.exports as unknown as Harness;
  h._initialize?.();
  return h;
}

function load(h: Harness, protocol: number, frame: Buffer): number {
  if (!h.setup(protocol)) throw new Error(`no codec ${protocol}`);
  const ptr = h.alloc(frame.length);
  new Uint8Array(h.memory.buffer, ptr, frame.length).set(frame);
  return ptr;
}

export interface CodecFigure {
  name: string;
  frameBytes: number;
  metadataEntries: number;
  ns: number;
  wallNs: number;
  nsMin: number;
  nsMax: number;
  /** Bytes allocated per decode (stub runtime). */
  allocBytesPerDecode: number;
}

/** The index of `name` in the codec manifest, the order bench/micro/codec/index.ts `setup` selects by. */
function codecIndex(name: string): number {
  const i = CODEC_NAMES.indexOf(name);
  if (i < 0) throw new Error(`no codec ${name} in the manifest`);
  return i;
}

/** The frames measured: the load's own requests, and a Dubbo request with a real consumer's attachments. */
async function frames(): Promise<{ name: string; protocol: number; frame: Buffer }[]> {
  const thrift = await benchWire("thrift");
  const dubbo = await benchWire("dubbo");
  // What an Apache Dubbo 3 consumer attaches to a call (path, interface, version, group, timeout, the
  // protocol version, its application) plus one user attachment a route can match.
  const typical = dubboRequest(7n, "hello", {
    version: "1.0.0", group: "blue", timeout: "3000", dubbo: "2.0.2", "remote.application": "bench-consumer", "x-user": "vip-42",
  }, "org.example.Greeter", "bench");
  new hessian.DecoderV2(typical.subarray(16)).read(); // the fixture is valid hessian2
  return [
    { name: "Thrift framed binary request (Greeter.hello)", protocol: codecIndex("thrift"), frame: thrift.request },
    { name: "Dubbo request, 2 attachments (the load's)", protocol: codecIndex("dubbo"), frame: dubbo.request },
    { name: "Dubbo request, 8 attachments (a consumer's)", protocol: codecIndex("dubbo"), frame: typical },
    // SOFA RPC's headers over Bolt (service, method) plus one user header; 16 bytes of content.
    { name: "Bolt request, 3 headers (SOFA RPC's service, method, one user header)", protocol: codecIndex("bolt"), frame: boltRequest(7, "hello", { "x-user": "vip-42" }, { content: Buffer.alloc(16, 0x61) }) },
    // What trpc-go's client sends (caller, callee, func, timeout, content type) plus one trans_info entry; 16 bytes of body.
    { name: "tRPC request, 1 trans_info entry (caller, callee, func as trpc-go sends them)", protocol: codecIndex("trpc"), frame: trpcRequest(7, "/trpc.bench.Greeter/Hello", { transInfo: { "x-user": "vip-42" }, body: Buffer.alloc(16, 0x61) }) },
  ];
}

export async function codecBenchmarks(opts: { iterations: number; batches: number; log: (s: string) => void }): Promise<CodecFigure[]> {
  const files = buildCodecHarness(opts.log);
  const timed = await instantiate(files.timed);
  const stub = await instantiate(files.stub);
  const out: CodecFigure[] = [];
  for (const f of await frames()) {
    const ptr = load(timed, f.protocol, f.frame);
    const entries = timed.decodeLoop(ptr, f.frame.length, 1);
    if (entries < 0) throw new Error(`${f.name}: does not decode`);
    const t = nsPerOp((n) => { if (timed.decodeLoop(ptr, f.frame.length, n) < 0) throw new Error("decode failed"); }, opts.iterations, opts.batches);

    const sp = load(stub, f.protocol, f.frame);
    stub.decodeLoop(sp, f.frame.length, 1); // first decode may set up lazy statics
    const N = 1000;
    const m0 = stub.heapMark();
    const m1 = stub.heapMark();
    stub.decodeLoop(sp, f.frame.length, N);
    const m2 = stub.heapMark();
    if (!(m1 > m0)) throw new Error("the stub runtime's marks do not advance: the allocation count cannot be trusted");
    out.push({
      name: f.name, frameBytes: f.frame.length, metadataEntries: entries, ns: t.ns, wallNs: t.wallNs, nsMin: t.min, nsMax: t.max,
      allocBytesPerDecode: (m2 - m1 - (m1 - m0)) / N,
    });
  }
  return out;
}
