#!/usr/bin/env node
// The meltemi command. `render` runs the controller's translation offline on YAML files; `controller`
// runs it in a cluster (watch, apply, status, leader election).
//   node --import tsx controller/cli.ts render -f demo/ --wasm-url oci://...@sha256:<digest>
//   node --import tsx controller/cli.ts controller --wasm-url oci://...@sha256:<digest>
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Command, InvalidArgumentError, Option } from "commander";
import type { LogLevel, RuntimeConfig } from "./runtime/config";
import type { SourceFactory } from "./runtime/sources";
import { CODEC_NAMES } from "./translate/codecs";
import { MeshConfigError, parseMeshConfig } from "./translate/mesh_config";
import { DEFAULT_OPTIONS, type FailStrategy, type TranslateOptions } from "./translate/options";
import { render } from "./render/render";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("not a positive integer");
  return n;
}

async function readStdin(): Promise<string> {
  return readFileSync(0, "utf8");
}

interface TranslateFlags {
  wasmUrl?: string;
  wasmSha256?: string;
  imagePullSecret?: string;
  /** always / never; auto (the controller's default): TrafficExtension where the cluster serves it. */
  trafficExtension: "auto" | "always" | "never";
  rootNamespace: string;
  clusterDomain: string;
  codecs: string;
  failStrategy: FailStrategy;
  earlyDataBytes: number;
  meshConfig?: string;
}

interface RenderFlags extends TranslateFlags {
  filename: string[];
  kubeconfig?: string;
  output: "yaml" | "json";
  namespace: string;
  status: boolean;
}

interface ControllerFlags extends TranslateFlags {
  kubeconfig?: string;
  healthProbeBindAddress: string;
  metricsBindAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  identity: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  debounceMs: number;
  maxDelayMs: number;
  discoveryInterval: number;
  resync: number;
  logLevel: LogLevel;
  prometheusUrl?: string;
  meshConfigmap?: string;
  adaptiveQueries?: string;
  adaptiveRefresh: number;
  adaptiveQueryTimeoutMs: number;
  adaptiveConfirmations: number;
  adaptiveQuotaTolerance: number;
  adaptiveMinUpdateInterval: number;
}

function translateOptions(flags: TranslateFlags): { options: Partial<TranslateOptions>; warnings: string[] } {
  const warnings: string[] = [];
  let url = flags.wasmUrl;
  let sha256 = flags.wasmSha256;
  // An oci:// url pinned by digest carries the sha256 WasmPlugin wants.
  if (url && !sha256) sha256 = /@sha256:([a-f0-9]{64})$/.exec(url)?.[1];
  if (!url) {
    url = DEFAULT_OPTIONS.wasm.url;
    sha256 ??= DEFAULT_OPTIONS.wasm.sha256;
    warnings.push(`warning: no --wasm-url: the output names a placeholder module (${url}); pass the image wasm-build published`);
  }
  if (!sha256) throw new InvalidArgumentError("--wasm-sha256 is required unless --wasm-url ends in @sha256:<digest>");
  const wasm: TranslateOptions["wasm"] = { url, sha256 };
  if (flags.imagePullSecret) wasm.imagePullSecret = flags.imagePullSecret;
  let mesh: TranslateOptions["mesh"];
  if (flags.meshConfig !== undefined) {
    try {
      mesh = parseMeshConfig(readFileSync(flags.meshConfig, "utf8"));
    } catch (err) {
      if (err instanceof MeshConfigError || (err as { code?: string }).code === "ENOENT" || (err as Error).name === "YAMLParseError") {
        throw new InvalidArgumentError(`--mesh-config ${flags.meshConfig}: ${(err as Error).message}`);
      }
      throw err;
    }
  }
  return {
    options: {
      ...(mesh ? { mesh } : {}),
      wasm,
      trafficExtension: flags.trafficExtension === "always",
      rootNamespace: flags.rootNamespace,
      clusterDomain: flags.clusterDomain,
      codecs: codecList(flags.codecs),
      failStrategy: flags.failStrategy,
      earlyDataBytes: flags.earlyDataBytes,
    },
    warnings,
  };
}

/** --codecs: a subset of the codec manifest (a module built with fewer codecs); any other name is refused. */
function codecList(flag: string): string[] {
  const names = flag.split(",").map((c) => c.trim()).filter((c) => c !== "");
  const unknown = names.filter((c) => !CODEC_NAMES.includes(c));
  if (unknown.length > 0) throw new InvalidArgumentError(`--codecs: ${unknown.join(", ")} not in the codec manifest (filter/codec/manifest.json: ${CODEC_NAMES.join(", ")})`);
  return names;
}

/** GETs of live objects for `render --kubeconfig` (loaded lazily: offline renders never load client-node). */
async function liveObjectReader(kubeconfig: string): Promise<(path: string) => Promise<Record<string, unknown> | undefined>> {
  const { KubeHttp, loadKubeConfig, isNotFound } = await import("./runtime/kube_http");
  const http = new KubeHttp(loadKubeConfig(kubeconfig));
  return async (path) => {
    try {
      return await http.request<Record<string, unknown>>("GET", path, { timeoutMs: 10_000 });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("not a non-negative integer");
  return n;
}

const SA_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** In a pod: its own namespace (the ServiceAccount's), else $POD_NAMESPACE, else meltemi-system. */
function defaultNamespace(): string {
  if (existsSync(SA_NAMESPACE_FILE)) return readFileSync(SA_NAMESPACE_FILE, "utf8").trim();
  return process.env.POD_NAMESPACE ?? "meltemi-system";
}

/** The flags `render` and `controller` share: what the translation needs to know. */
function withTranslateFlags(cmd: Command): Command {
  return cmd
    .option("--wasm-url <url>", "the filter module, e.g. oci://registry/meltemi@sha256:<digest>")
    .option("--wasm-sha256 <hex>", "the module's OCI manifest digest (defaults to the url's @sha256:)")
    .option("--image-pull-secret <name>", "pull secret for the module (in each service namespace)")
    .addOption(new Option("--traffic-extension [when]", "emit TrafficExtension (Istio 1.30+) instead of WasmPlugin: always (the flag alone), never, or auto (controller: where the cluster serves the TrafficExtension API; render: never)")
      .choices(["auto", "always", "never"]).preset("always").default("auto"))
    .option("--root-namespace <ns>", "Istio's config root namespace", DEFAULT_OPTIONS.rootNamespace)
    .option("--cluster-domain <domain>", "the cluster's DNS domain", DEFAULT_OPTIONS.clusterDomain)
    .option("--codecs <list>", "codecs compiled into the filter", DEFAULT_OPTIONS.codecs.join(","))
    .addOption(new Option("--fail-strategy <s>", "plugin fail strategy where no authorization applies").choices(["FAIL_OPEN", "FAIL_CLOSE", "FAIL_RELOAD"]).default(DEFAULT_OPTIONS.failStrategy))
    .option("--early-data-bytes <n>", "tcp_proxy early-data buffer in perConnection mode", positiveInt, DEFAULT_OPTIONS.earlyDataBytes)
    .option("--mesh-config <file>", "Istio's MeshConfig (the mesh key of ConfigMap istio-system/istio, or that ConfigMap): its tracing providers for the filter's spans");
}

export function program(): Command {
  const cmd = new Command("meltemi").description("Meltemi: L7 traffic management for non-HTTP RPC on stock Istio").showHelpAfterError();
  withTranslateFlags(
    cmd
      .command("render")
      .description("translate Meltemi / Aeraki / Istio YAML into the WasmPlugin and EnvoyFilter objects Meltemi would apply")
      .requiredOption("-f, --filename <paths...>", "files or directories of YAML/JSON objects ('-' reads stdin)")
      .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
      .option("-n, --namespace <ns>", "namespace of objects that have none", "default"),
  )
    .option("--status", "also print each input's Ready condition on stderr", false)
    .option("--kubeconfig <path>", "read the VIPs the files lack (Services' clusterIPs, ServiceEntries' addresses) from this cluster (read-only GETs); without it render stays offline")
    .action(async (flags: RenderFlags) => {
      const { options, warnings } = translateOptions(flags);
      const request: Parameters<typeof render>[0] = { files: flags.filename, output: flags.output, namespace: flags.namespace, showStatus: flags.status, options, readStdin };
      if (flags.kubeconfig !== undefined) request.liveAddresses = await liveObjectReader(flags.kubeconfig);
      const result = await render(request);
      process.stdout.write(result.stdout);
      process.stderr.write(warnings.map((w) => `${w}\n`).join("") + result.stderr);
      process.exitCode = result.exitCode;
    });

  withTranslateFlags(
    cmd
      .command("controller")
      .description("watch the cluster's Meltemi / Aeraki / Istio inputs and keep the WasmPlugins, EnvoyFilters and input status in line (server-side apply, leader election)")
      .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, the in-cluster ServiceAccount, ~/.kube/config)"),
  )
    .option("--health-probe-bind-address <addr>", "host:port of /healthz and /readyz ('0' disables)", ":8081")
    .option("--metrics-bind-address <addr>", "host:port of /metrics ('0' disables; may equal the probe address)", ":8080")
    .option("--no-leader-elect", "write without a Lease (one replica only)")
    .option("--leader-election-namespace <ns>", "namespace of the Lease (default: the pod's own)", defaultNamespace())
    .option("--leader-election-id <name>", "name of the Lease", "meltemi-controller")
    .option("--identity <id>", "this replica's name in the Lease (default: $POD_NAME or hostname, plus a random suffix)", `${process.env.POD_NAME ?? hostname()}_${randomBytes(4).toString("hex")}`)
    .option("--lease-duration <s>", "seconds a silent leader keeps the Lease", positiveInt, 15)
    .option("--renew-deadline <s>", "seconds a leader may fail to renew before it stops writing", positiveInt, 10)
    .option("--retry-period <s>", "seconds between attempts to acquire or renew", positiveInt, 2)
    .option("--debounce-ms <ms>", "quiet time after a change before reconciling", nonNegativeInt, 200)
    .option("--max-delay-ms <ms>", "longest wait after the first change of a burst", nonNegativeInt, 2000)
    .option("--discovery-interval <s>", "seconds between API discovery reads (CRDs installed later)", positiveInt, 30)
    .option("--resync <s>", "seconds between full reconciles without a change (repairs drift)", positiveInt, 300)
    .addOption(new Option("--log-level <level>", "log level (JSON lines on stdout)").choices(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"))
    .option("--mesh-configmap <namespace/name>", "read Istio's MeshConfig (its tracing providers) from this ConfigMap's `mesh` key every 30 s, e.g. istio-system/istio (needs get on it); overrides --mesh-config")
    .option("--prometheus-url <url>", "Prometheus for adaptive limits (SmartLimiter, RpcRateLimit adaptive); unset: they are not evaluated")
    .option("--adaptive-queries <file>", "YAML map of query name -> PromQL ($namespace, $pod_name, $service, $set), over the defaults cpu.sum, cpu.max, memory.sum, memory.max")
    .option("--adaptive-refresh <s>", "seconds between metric reads", positiveInt, 10)
    .option("--adaptive-query-timeout-ms <ms>", "timeout of one Prometheus query", positiveInt, 5000)
    .option("--adaptive-confirmations <n>", "refreshes in a row a changed condition must hold before the limit follows", positiveInt, 2)
    .option("--adaptive-quota-tolerance <f>", "relative quota change ignored while a limit holds", Number, 0.1)
    .option("--adaptive-min-update-interval <s>", "least seconds between two quota changes of one limiter", nonNegativeInt, 0)
    .action(async (flags: ControllerFlags) => {
      // A placeholder module in a cluster would give every sidecar a plugin it cannot fetch.
      if (!flags.wasmUrl) throw new InvalidArgumentError("--wasm-url is required (the module wasm-build published, pinned by digest)");
      const { options, warnings } = translateOptions(flags);
      options.controllerNamespace = flags.leaderElectionNamespace;
      if (flags.renewDeadline >= flags.leaseDuration) throw new InvalidArgumentError("--renew-deadline must be shorter than --lease-duration");
      if (flags.retryPeriod >= flags.renewDeadline) throw new InvalidArgumentError("--retry-period must be shorter than --renew-deadline");
      const config: RuntimeConfig = {
        translate: options,
        trafficExtensionAuto: flags.trafficExtension === "auto",
        healthProbeBindAddress: flags.healthProbeBindAddress,
        metricsBindAddress: flags.metricsBindAddress,
        leaderElection: {
          enabled: flags.leaderElect,
          namespace: flags.leaderElectionNamespace,
          name: flags.leaderElectionId,
          identity: flags.identity,
          leaseDurationSeconds: flags.leaseDuration,
          renewDeadlineSeconds: flags.renewDeadline,
          retryPeriodSeconds: flags.retryPeriod,
        },
        debounceMs: flags.debounceMs,
        maxDelayMs: flags.maxDelayMs,
        discoveryIntervalSeconds: flags.discoveryInterval,
        resyncSeconds: flags.resync,
        logLevel: flags.logLevel,
      };
      if (flags.kubeconfig) config.kubeconfig = flags.kubeconfig;
      const sources: SourceFactory[] = [];
      if (flags.meshConfigmap !== undefined) {
        const m = /^([a-z0-9][a-z0-9.-]*)\/([a-z0-9][a-z0-9.-]*)$/.exec(flags.meshConfigmap);
        if (!m) throw new InvalidArgumentError(`--mesh-configmap must be <namespace>/<name>, got "${flags.meshConfigmap}"`);
        const { MeshConfigSource } = await import("./runtime/mesh_config_source");
        sources.push(({ http, log }) => new MeshConfigSource(http, m[1]!, m[2]!, log));
      }
      if (flags.prometheusUrl) {
        const { adaptiveConfig } = await import("./adaptive/config");
        const { AdaptiveSource } = await import("./adaptive/runtime_source");
        const adaptive: Parameters<typeof adaptiveConfig>[0] = {
          prometheusUrl: flags.prometheusUrl,
          refreshSeconds: flags.adaptiveRefresh,
          queryTimeoutMs: flags.adaptiveQueryTimeoutMs,
          confirmations: flags.adaptiveConfirmations,
          quotaTolerance: flags.adaptiveQuotaTolerance,
          minUpdateIntervalSeconds: flags.adaptiveMinUpdateInterval,
          clusterDomain: options.clusterDomain ?? DEFAULT_OPTIONS.clusterDomain,
        };
        if (flags.adaptiveQueries) adaptive.queriesFile = flags.adaptiveQueries;
        let resolved: ReturnType<typeof adaptiveConfig>;
        try {
          resolved = adaptiveConfig(adaptive);
        } catch (err) {
          throw new InvalidArgumentError((err as Error).message);
        }
        sources.push(({ http, log, registry }) => new AdaptiveSource(http, resolved, log, registry));
      }
      const { runController } = await import("./runtime/main");
      await runController(config, warnings, sources);
    });
  return cmd;
}

program()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
