// `npm run bench`: the whole benchmark of docs/performance.md in one command (see bench/README.md).
// Micro-benchmarks in the Node host, the arms (the four of docs/performance.md, arm 5: tracing, arm 6: Dubbo attachment routing) in one Envoy (both protocols, interleaved rounds),
// then the soak; prints the bars table (or, with --json, one JSON document on stdout). Progress and
// the load average go to stderr.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { envoyBinary, repoRoot } from "../test/envoy/envoy";
import { armsOf } from "./envoy/arms";
import { runArms, withBenchEnvoy, type EnvoyRun } from "./envoy/arms-run";
import { machine } from "./envoy/proc";
import { perfAvailable } from "./envoy/perf";
import { codecBenchmarks, type CodecFigure } from "./micro/codec";
import { filterBenchmarks, type FilterFigure } from "./micro/filter";
import { soak, type SoakResult } from "./soak";
import { armsTable, type Bar, barsTable, envoyBars, microBars, microTable, sizeBar, soakBars, soakTable } from "./report";
import type { ProtocolName } from "./load/wire";

const int = (v: string) => { const n = Number(v); if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("not a non-negative integer"); return n; };
const list = (v: string) => v.split(",").map((s) => { const n = Number(s); if (!(n > 0)) throw new InvalidArgumentError(`bad rate ${s}`); return n; });

const program = new Command("bench")
  .description("Meltemi against tcp_proxy and the native thrift_proxy / dubbo_proxy in one Envoy, micro-benchmarks in the Node host, and a soak")
  .option("--quick", "short everything, for development (about 1.5 minutes)")
  .option("--smoke", "tiny everything and no codec build: checks that the command works (test/bench), measures nothing")
  .option("--json", "print one JSON document on stdout instead of the tables")
  .option("--rounds <n>", "interleaved rounds of the arms", int)
  .option("--closed-ms <ms>", "closed-loop measurement window per arm", int)
  .option("--open-ms <ms>", "open-loop measurement window per arm and rate", int)
  .option("--warmup-ms <ms>", "warm-up before each window", int)
  .option("--rates <list>", "open-loop rates, requests/s, comma-separated", list)
  .option("--connections <n>", "client connections", int)
  .option("--depth <n>", "requests in flight per connection (closed loop)", int)
  .option("--workers <n>", "Envoy worker threads (--concurrency)", int)
  .option("--soak-requests <n>", "requests through the filter in the soak", int)
  .addOption(new Option("--protocols <list>", "protocols").default("thrift,dubbo"))
  .option("--no-pin", "do not pin Envoy to core 0 and the generator to core 1")
  .option("--no-perf", "do not record Envoy with perf during the closed loops")
  .option("--skip-micro", "skip the Node host micro-benchmarks")
  .option("--skip-envoy", "skip the arms (Envoy)")
  .option("--skip-soak", "skip the soak")
  .option("--report <file>", "print the tables of an earlier run's --json output, and run nothing");
program.parse();
const opts = program.opts();

const smoke = Boolean(opts.smoke);
const quick = Boolean(opts.quick) || smoke;
const pick = <T>(full: T, q: T, s: T): T => (smoke ? s : quick ? q : full);
const cfg = {
  rounds: opts.rounds ?? pick(3, 1, 1),
  closedMs: opts.closedMs ?? pick(3000, 1500, 300),
  openMs: opts.openMs ?? pick(3000, 1500, 300),
  warmupMs: opts.warmupMs ?? pick(1000, 500, 100),
  rates: (opts.rates as number[] | undefined) ?? pick([1000, 4000], [1000], [500]),
  connections: opts.connections ?? 4,
  depth: opts.depth ?? 16,
  workers: opts.workers ?? 1,
  soakRequests: opts.soakRequests ?? pick(1_000_000, 100_000, 4000),
  protocols: String(opts.protocols).split(",") as ProtocolName[],
  pin: opts.pin !== false && os.cpus().length >= 2,
  perf: opts.perf !== false && perfAvailable(),
  microRequests: pick(10_000, 5000, 2000),
  codecIterations: pick(200_000, 100_000, 0),
  batches: pick(5, 3, 1),
};
for (const p of cfg.protocols) if (p !== "thrift" && p !== "dubbo") throw new Error(`unknown protocol ${p}`);

const t0 = Date.now();
const loads: number[] = [];
const sampleLoad = () => { loads.push(os.loadavg()[0]); };
const log = (s: string) => { sampleLoad(); process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s load ${os.loadavg()[0].toFixed(2)}] ${s}\n`); };

async function main(): Promise<void> {
  const wasm = path.join(repoRoot, "build/meltemi.wasm");
  if (!fs.existsSync(wasm)) {
    log("building (scripts/build.sh)");
    execFileSync("flock", [path.join(repoRoot, ".build.lock"), path.join(repoRoot, "scripts/build.sh")], { stdio: ["ignore", "ignore", "inherit"] });
  }
  const envoyPath = envoyBinary();
  const envoyVersion = execFileSync(envoyPath, ["--version"], { encoding: "utf8" }).trim().split("\n").pop()!.trim();
  const bars: Bar[] = [sizeBar(fs.statSync(wasm).size)];
  let filter: FilterFigure[] = [];
  let codec: CodecFigure[] = [];
  let arms = undefined as EnvoyRun | undefined;
  let soaked = undefined as SoakResult | undefined;
  log(`machine: ${JSON.stringify(machine())}; config: ${JSON.stringify(cfg)}`);

  if (!opts.skipMicro) {
    if (!smoke) {
      log("micro: codec decode (Node V8, filter's release build)");
      codec = await codecBenchmarks({ iterations: cfg.codecIterations, batches: cfg.batches, log });
    }
    log("micro: filter per request (Node proxy-wasm host)");
    filter = await filterBenchmarks({ requests: cfg.microRequests, batches: cfg.batches });
    bars.push(...microBars(filter, codec));
  }
  let pinned = false;
  // The arms, then the soak in a fresh Envoy (its curve starts from new VMs).
  if (!opts.skipEnvoy) {
    await withBenchEnvoy(cfg.protocols, cfg.workers, cfg.pin, async (ctx) => {
      pinned = ctx.pinned;
      log(`envoy: arms ${cfg.protocols.map((p) => `${p} ${armsOf(p).join(" ")}`).join(", ")}, ${cfg.rounds} round(s), ${cfg.workers} worker(s)`);
      arms = await runArms(ctx, { ...cfg, log, onPhase: sampleLoad });
      bars.push(...envoyBars(arms, cfg.protocols, cfg.rates));
    });
  }
  if (!opts.skipSoak) {
    await withBenchEnvoy(cfg.protocols, cfg.workers, cfg.pin, async (ctx) => {
      pinned = ctx.pinned;
      log(`soak: ${cfg.soakRequests} requests through Meltemi in Envoy`);
      soaked = await soak(ctx, { requests: cfg.soakRequests, protocols: cfg.protocols, connections: cfg.connections, depth: cfg.depth, log });
      bars.push(...soakBars(soaked));
    });
  }
  sampleLoad();
  const env = {
    ...machine(),
    loadavg1: { min: Math.min(...loads), max: Math.max(...loads), median: loads.sort((a, b) => a - b)[loads.length >> 1] },
    envoy: envoyVersion, node: process.version, pinned,
    seconds: (Date.now() - t0) / 1000, date: new Date().toISOString(), command: ["npm run bench --", ...process.argv.slice(2)].join(" "),
  };
  const doc: BenchDocument = { environment: env, config: cfg, bars, micro: { filter, codec }, arms, soak: soaked };
  process.stdout.write(opts.json ? JSON.stringify(doc, null, 2) + "\n" : render(doc));
}

interface BenchDocument {
  environment: ReturnType<typeof machine> & { loadavg1: { min: number; max: number; median: number }; envoy: string; node: string; pinned: boolean; seconds: number; date: string; command: string };
  config: typeof cfg;
  bars: Bar[];
  micro: { filter: FilterFigure[]; codec: CodecFigure[] };
  arms?: EnvoyRun;
  soak?: SoakResult;
}

/** The tables, from a run (or from the JSON of an earlier one: --report). */
function render(doc: BenchDocument): string {
  const { environment: env, config: c, bars, arms, soak: soaked } = doc;
  const out: string[] = [];
  out.push(`Meltemi benchmark (${env.date}; ${env.command})`);
  out.push(`machine: ${env.nproc} cores, ${env.cpuModel}, Linux ${env.kernel}; ${env.envoy}; Node ${env.node}`);
  out.push(`load average (1 min) during the run: min ${env.loadavg1.min.toFixed(2)}, median ${env.loadavg1.median.toFixed(2)}, max ${env.loadavg1.max.toFixed(2)}; Envoy ${c.workers} worker(s)${env.pinned ? ", Envoy pinned to core 0, generator + upstreams to core 1" : ", not pinned"}; ${c.rounds} round(s), ${c.connections} connections, ${c.depth} in flight per connection (closed loop); ${env.seconds.toFixed(0)} s`);
  out.push("", "## Bars", "", barsTable(bars));
  if (arms) out.push("", "## Arms (medians over rounds)", "", armsTable(arms, c.protocols, c.rates));
  if (doc.micro.filter.length) out.push("", "## Micro-benchmarks (Node host / Node V8)", "", microTable(doc.micro.filter, doc.micro.codec));
  if (soaked) out.push("", `## Soak (${soaked.requests} requests, ${soaked.seconds.toFixed(0)} s; warm-up ${soaked.warmupRequests} requests)`, "", soakTable(soaked));
  return out.join("\n") + "\n";
}

if (opts.report) {
  process.stdout.write(render(JSON.parse(fs.readFileSync(String(opts.report), "utf8")) as BenchDocument));
  process.exit(0);
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
