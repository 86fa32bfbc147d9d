// `npm run demo`: a local mesh on one machine, without Kubernetes. Two RPC services (Thrift and Dubbo),
// each in two versions, each pod with its own Envoy sidecar (server side), each caller with its own
// sidecar (client side), mTLS between them, and Meltemi configured by `meltemi render` from the sample
// CRDs in manifests/samples/ (adapter.ts turns render's WasmPlugins and EnvoyFilters into the sidecars'
// bootstraps). Load generators call continuously; a summary is printed every 2 seconds. Ctrl-C or
// SIGTERM (or --duration) stops everything. README "The demo" explains what to look at.
// `--istio`: real istiod and istio-agent in place of the adapter (demo/istio.ts).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { loadObjects } from "../controller/render/load";
import type { KubeObject } from "../controller/k8s/objects";
import { peersClasspath } from "../test/codec/dubbo/peers";
import { Envoy, envoyBinary, repoRoot } from "../test/envoy/envoy";
import { makePki } from "../test/envoy/tls";
import { bootstrap, clientSide, serverSide } from "./adapter";
import { startDubboLoad, startDubboService } from "./dubbo";
import { startIstioDemo } from "./istio";
import { inIstioNamespace } from "../test/istio/netns";
import { ENVOY_VERSIONS } from "../test/istio/provision";
import { Processes } from "./processes";
import { startPrometheus, type ScrapeTarget } from "./prometheus";
import { Summary } from "./summary";
import { Zipkin, ZIPKIN_CLUSTER, describeTrace, writeMeshConfig, zipkinCluster } from "./tracing";
import { type Mix, startThriftLoad, startThriftService } from "./thrift";

const NAMESPACE = "demo";
const VERSIONS = ["v1", "v2"];
const TRUST_DOMAIN = "cluster.local";

/** The demo's workloads: what a cluster would run for the Services in manifests/samples/services.yaml. */
const SERVICES = [
  { protocol: "thrift", service: "greeter-thrift", caller: "thrift-caller", rate: 80, mix: [{ method: "hello", weight: 70 }, { method: "echo", weight: 30 }] },
  { protocol: "dubbo", service: "greeter-dubbo", caller: "dubbo-caller", rate: 40, mix: [{ method: "echo", weight: 70 }, { method: "nothing", weight: 30 }] },
] as const satisfies readonly { protocol: string; service: string; caller: string; rate: number; mix: readonly Mix[] }[];

const spiffe = (sa: string) => `spiffe://${TRUST_DOMAIN}/ns/${NAMESPACE}/sa/${sa}`;

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number");
  return n;
}

function render(configDir: string, wasmPath: string, meshConfig?: string): { rendered: KubeObject[]; faultMessages: string[] } {
  const sha = createHash("sha256").update(fs.readFileSync(wasmPath)).digest("hex");
  const out = execFileSync(process.execPath, [path.join(repoRoot, "build/meltemi.js"), "render", "-f", configDir, "-o", "json",
    "--wasm-url", `file://${wasmPath}`, "--wasm-sha256", sha, ...(meshConfig ? ["--mesh-config", meshConfig] : [])], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const rendered = (JSON.parse(out) as { items: KubeObject[] }).items;
  // The fault messages the callers can see (to tell a fault from other errors in the summary).
  const faultMessages = JSON.stringify(rendered).match(/\\"message\\":\\"(.*?)\\"/g)?.map((m) => m.replace(/^\\"message\\":\\"|\\"$/g, "")) ?? [];
  return { rendered, faultMessages };
}

async function main(): Promise<void> {
  const opts = new Command("demo")
    .description("a local mesh: real Envoy sidecars with Meltemi, real Thrift and Dubbo services in two versions, mTLS")
    .option("--duration <seconds>", "stop by itself after this many seconds (default: run until Ctrl-C)", positive)
    .option("--prometheus", "also run a real Prometheus scraping every sidecar", false)
    .option("--config <dir>", "the Meltemi / Istio / Kubernetes objects to render", path.join(repoRoot, "manifests/samples"))
    .option("--interval <seconds>", "seconds between summaries", positive, 2)
    .option("--istio", "real istiod and istio-agent drive the sidecars, the controller applies the samples (root; builds Istio once, minutes)", false)
    .option("--zipkin [percent]", "tracing: a real Zipkin server as Istio's zipkin provider, this share of calls sampled (default 10)", positive)
    .parse()
    .opts<{ duration?: number; prometheus: boolean; config: string; interval: number; istio: boolean; zipkin?: number | true }>();
  if (opts.istio) {
    for (const flag of ["prometheus", "zipkin"] as const) {
      if (opts[flag] === undefined || opts[flag] === false) continue;
      console.error(`demo: --${flag} is not available with --istio (the mesh runs in its own network namespace)`);
      process.exit(2);
    }
    // Re-runs this command inside a network, mount and PID namespace (root); outside it never returns.
    // What the mesh needs from the network is provisioned first (inside there is only loopback).
    await inIstioNamespace(import.meta.url, { extra: ["dubbo"], envoyVersions: [ENVOY_VERSIONS[0]] });
  }

  const procs = new Processes();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-demo-"));
  const closers: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | undefined;
  let summary: Summary | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let zipkin: Zipkin | undefined;
  const stop = (why: string): Promise<void> => {
    stopping ??= (async () => {
      if (ticker) clearInterval(ticker);
      console.log(`\n${why}: stopping`);
      if (summary) console.log(summary.format("final summary"));
      if (zipkin) console.log(await describeTrace(zipkin).catch((e) => `zipkin: ${e}`));
      for (const close of closers.reverse()) await close().catch((e) => console.error(`while stopping: ${e}`));
      await procs.stopAll();
      fs.rmSync(runDir, { recursive: true, force: true });
      console.log("stopped: every process the demo started has exited");
    })();
    return stopping;
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => { void stop(signal === "SIGINT" ? "Ctrl-C" : "SIGTERM").then(() => process.exit(0)); });
  }

  try {
    console.log(`run directory ${runDir} (certificates, Envoy bootstraps and logs; removed at the end)`);
    const wasmPath = path.join(repoRoot, "build/meltemi.wasm");
    let meshConfig: string | undefined;
    const extraClusters: object[] = [];
    if (opts.zipkin !== undefined) {
      const percent = opts.zipkin === true ? 10 : Math.min(100, opts.zipkin);
      zipkin = await Zipkin.start({ detached: true });
      procs.track("zipkin", zipkin.process);
      meshConfig = writeMeshConfig(runDir, percent);
      extraClusters.push(zipkinCluster(zipkin.port));
      console.log(`  zipkin ${zipkin.url}/zipkin/ (Istio provider "zipkin", ${percent}% of calls sampled; cluster ${ZIPKIN_CLUSTER} in every sidecar)`);
    }
    const { rendered, faultMessages } = render(opts.config, wasmPath, meshConfig);
    const config = (await loadObjects([opts.config], async () => "")).map((l) => l.object);
    if (opts.istio) console.log(`samples ${path.relative(process.cwd(), opts.config) || "."}: ${config.map((o) => `${o.kind} ${o.metadata.name}`).join(", ")} (applied to the apiserver; the controller renders them)`);
    else console.log(`meltemi render -f ${path.relative(process.cwd(), opts.config) || "."}: ${rendered.map((o) => `${o.kind} ${o.metadata.name}`).join(", ")}`);

    // Provision once, before the sidecars start in parallel (envoy.sh is not safe to run concurrently).
    process.env.MELTEMI_ENVOY_BIN ??= envoyBinary();
    // Throwaway mTLS material (a CA, one SPIFFE identity per service and caller), removed at the end.
    const pki = makePki(SERVICES.flatMap((s) => [s.service, s.caller]).map((name) => ({ name, spiffeId: spiffe(name) })));
    closers.push(async () => pki.cleanup());
    const classpath = peersClasspath();
    const scrape: ScrapeTarget[] = [];
    summary = new Summary(VERSIONS, faultMessages);
    const record = summary.record.bind(summary);

    const startEnvoy = async (name: string, boot: object): Promise<Envoy> => {
      const envoy = await Envoy.start({ bootstrap: boot, concurrency: 1, detached: true, dir: path.join(runDir, "envoy", name) });
      procs.track(`envoy ${name}`, envoy.process);
      return envoy;
    };

    // Each service: its pods (the app and its sidecar) per version, then the caller's sidecar and load.
    const loads: (() => Promise<void>)[] = [];
    if (opts.istio) {
      const stopMesh = await startIstioDemo({ config, services: SERVICES, versions: VERSIONS, namespace: NAMESPACE, procs, runDir, classpath, record, closers });
      // Runs last (closers run in reverse): the loads and apps stop first.
      closers.unshift(stopMesh);
    } else await Promise.all(SERVICES.map(async (s) => {
      const svc = config.find((o) => o.kind === "Service" && o.metadata.name === s.service) as KubeObject<{ ports: { port: number; targetPort: number }[]; selector: Record<string, string> }> | undefined;
      if (!svc) throw new Error(`${opts.config} has no Service ${s.service}`);
      const targetPort = svc.spec!.ports[0].targetPort;
      const serverId = pki.certs.get(s.service)!;
      const endpoints = await Promise.all(VERSIONS.map(async (version) => {
        const labels = { ...svc.spec!.selector, version };
        const app = s.protocol === "thrift"
          ? await startThriftService(version).then((t) => { closers.push(t.close); return t.port; })
          : (await startDubboService(procs, classpath, runDir, version)).port;
        const side = serverSide({ rendered, labels, targetPort, appPort: app, wasmPath, server: serverId, caCert: pki.caFile });
        const pod = `${s.service}-${version}`;
        const envoy = await startEnvoy(pod, bootstrap(pod, "INBOUND", [{ name: side.listenerName, filterChain: side.filterChain }], [...side.clusters, ...extraClusters] as typeof side.clusters));
        scrape.push({ job: pod, adminUrl: envoy.adminUrl, labels: { pod, app: s.service, version, side: "server" } });
        console.log(`  pod ${pod}: ${s.protocol} app 127.0.0.1:${app} <- sidecar (mTLS, Meltemi server side) 127.0.0.1:${await envoy.listenerPort(side.listenerName)}, admin ${envoy.adminUrl}`);
        return { labels, port: await envoy.listenerPort(side.listenerName) };
      }));
      const client = clientSide({ rendered, config, service: s.service, namespace: NAMESPACE, wasmPath, endpoints, caller: pki.certs.get(s.caller)!, caCert: pki.caFile, serverSpiffe: serverId.spiffeId });
      const envoy = await startEnvoy(s.caller, bootstrap(s.caller, "OUTBOUND", [{ name: client.listenerName, filterChain: { filters: client.filters } }], [...client.clusters, ...extraClusters] as typeof client.clusters));
      scrape.push({ job: s.caller, adminUrl: envoy.adminUrl, labels: { pod: s.caller, app: s.caller, side: "client" } });
      const port = await envoy.listenerPort(client.listenerName);
      console.log(`  caller ${s.caller} -> sidecar (Meltemi client side, ${client.filters.map((f) => f.name.replace(/^envoy\.filters\.network\./, "")).join(" -> ")}) 127.0.0.1:${port} as ${client.host}:${client.port}, admin ${envoy.adminUrl}`);
      loads.push(async () => {
        if (s.protocol === "thrift") { const l = startThriftLoad(port, s.rate, s.mix, record); closers.push(l.stop); }
        else await startDubboLoad(procs, classpath, runDir, port, s.rate, s.mix, record);
        console.log(`  load: ${s.caller} calls ${s.rate}/s (${s.mix.map((m) => `${m.method} ${m.weight}%`).join(", ")})`);
      });
    }));
    if (opts.prometheus) {
      const url = await startPrometheus(procs, runDir, scrape);
      console.log(`  prometheus ${url} scrapes ${scrape.length} sidecars every 2 s (try: sum by (job) (rate(meltemi_requests_total[30s])))`);
    }
    await Promise.all(loads.map((l) => l()));
    console.log(`\nrunning; a summary every ${opts.interval} s; Ctrl-C stops${opts.duration ? ` (or after ${opts.duration} s)` : ""}\n`);
    ticker = setInterval(() => console.log(summary!.format("summary")), opts.interval * 1000);
    if (opts.duration) setTimeout(() => { void stop(`${opts.duration} s elapsed`).then(() => process.exit(0)); }, opts.duration * 1000);
  } catch (err) {
    console.error(`demo failed: ${err instanceof Error ? err.message : err}`);
    await stop("error");
    process.exit(1);
  }
}

void main();
