// `meltemi controller`: wires the runtime around the pure translation and runs until SIGTERM/SIGINT.
// Start: health/metrics endpoints, API discovery and the first list of every input, then leader
// election; the leader reconciles on every change. Shutdown: stop reconciling (a run in progress
// finishes), release the Lease, stop the watches, close the endpoints.
import type http from "node:http";
import type { Logger } from "pino";
import { withDefaults } from "../translate/options";
import { emptySnapshot } from "../translate/snapshot";
import { translate } from "../translate/translate";
import type { RuntimeConfig } from "./config";
import { EventRecorder } from "./events";
import { boundPort, serveEndpoints } from "./health_server";
import { Informers } from "./informers";
import { KubeHttp, loadKubeConfig } from "./kube_http";
import { LeaderElector } from "./leader";
import { makeLogger } from "./log";
import { RATE_LIMIT_CONFIG_MAP } from "./resources";
import { ControllerMetrics } from "./metrics";
import { Reconciler } from "./reconciler";
import type { SnapshotSource, SourceFactory } from "./sources";

export interface Controller {
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startController(config: RuntimeConfig, log: Logger, sourceFactories: readonly SourceFactory[] = []): Promise<Controller> {
  // Bad options (a url without digest...) fail here, before anything is watched.
  translate(emptySnapshot(), config.translate);
  const kc = loadKubeConfig(config.kubeconfig);
  const http = new KubeHttp(kc);
  const metrics = new ControllerMetrics();
  const le = config.leaderElection;
  let elector: LeaderElector | undefined;
  const isLeader = () => (elector ? elector.isLeader : true);
  const events = new EventRecorder(http, log, le.namespace);
  // Every change the informers see schedules a reconcile (the reconciler is made just below).
  let reconciler: Reconciler | undefined;
  const sources: SnapshotSource[] = sourceFactories.map((make) => make({ http, log, registry: metrics.registry }));
  // The rate limit service's ConfigMap: the one the translation writes (its namespace and name are options).
  const { configMapNamespace, configMapName } = withDefaults(config.translate).slimeGlobal;
  const singleObjects = new Map([[RATE_LIMIT_CONFIG_MAP, { namespace: configMapNamespace, name: configMapName }]]);
  const informers = new Informers(http, () => reconciler?.trigger(), log, config.discoveryIntervalSeconds * 1000, singleObjects);
  reconciler = new Reconciler({
    http, informers, events, metrics, log, options: config.translate, trafficExtensionAuto: config.trafficExtensionAuto ?? false, sources, isLeader,
    debounceMs: config.debounceMs, maxDelayMs: config.maxDelayMs,
  });

  let synced = false;
  const servers: http.Server[] = [];
  const endpoints = {
    healthy: () => true,
    ready: () => {
      if (!synced) return { ok: false, why: "inputs not listed yet" };
      if (isLeader() && !reconciler!.reconciledAsLeader) return { ok: false, why: "leader: first reconcile not done yet" };
      return { ok: true, why: isLeader() ? "ok (leader)" : "ok (standby)" };
    },
    registry: metrics.registry,
  };
  const probes = config.healthProbeBindAddress;
  const metricsAddr = config.metricsBindAddress;
  const serve = async (addr: string, paths: { probes: boolean; metrics: boolean }) => {
    const server = await serveEndpoints(addr, endpoints, paths);
    servers.push(server);
    log.info({ port: boundPort(server), ...paths }, "serving endpoints");
  };
  if (probes !== "0") await serve(probes, { probes: true, metrics: metricsAddr === probes });
  if (metricsAddr !== "0" && metricsAddr !== probes) await serve(metricsAddr, { probes: false, metrics: true });

  let stopping = false;
  // The API server may not answer yet (a controller starting with the cluster): keep trying.
  for (let delay = 500; !stopping; delay = Math.min(delay * 2, 10_000)) {
    try {
      await informers.start();
      break;
    } catch (err) {
      log.warn({ err: String((err as Error).message), retryInMs: delay }, "cannot read the API yet; retrying");
      await sleep(delay);
    }
  }
  synced = true;
  log.info({ resources: informers.servedResources().map(([r, s]) => `${r.plural}${r.group ? `.${r.group}` : ""}/${s.version}`) }, "inputs listed");

  for (const s of sources) await s.start?.(reconciler.trigger);
  if (le.enabled) {
    elector = new LeaderElector(http, le, {
      onStartLeading: () => {
        metrics.leader.set(1);
        reconciler.reconciledAsLeader = false;
        reconciler.trigger();
      },
      onStopLeading: () => metrics.leader.set(0),
    }, log);
    elector.start();
  } else {
    metrics.leader.set(1);
  }
  reconciler.trigger();
  const resync = setInterval(reconciler.trigger, config.resyncSeconds * 1000);

  return {
    async stop() {
      stopping = true;
      clearInterval(resync);
      await reconciler.stop();
      for (const s of sources) await s.stop?.();
      await elector?.stop();
      informers.stop();
      await Promise.all(servers.map((s) => new Promise((r) => { s.close(r); s.closeAllConnections(); })));
    },
  };
}

/** The CLI entry: logs, signals, exit code. */
export async function runController(config: RuntimeConfig, warnings: string[], sources: readonly SourceFactory[] = []): Promise<void> {
  const log = makeLogger(config.logLevel);
  for (const w of warnings) log.warn(w.replace(/^warning: /, ""));
  let controller: Controller | undefined;
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, "shutting down");
    await controller?.stop();
    log.info("stopped");
    log.flush();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  controller = await startController(config, log, sources);
  log.info({ identity: config.leaderElection.identity, leaderElection: config.leaderElection.enabled }, "controller started");
}
