// Runs Envoy's rate limit service (github.com/envoyproxy/ratelimit, built by
// scripts/provision/ratelimit.sh) for a test: its own runtime directory holding a generated
// domain/descriptors config, free loopback ports, a given Redis; killed on every path.
//
// Settings are environment variables (the module's src/settings/settings.go); the process gets a clean
// environment so nothing of the caller's (PORT, REDIS_URL, ...) leaks in. The file provider reads
// RUNTIME_ROOT/RUNTIME_SUBDIRECTORY/RUNTIME_APPDIRECTORY(= "config")/*.yaml; RUNTIME_WATCH_ROOT=false
// watches that directory itself instead of expecting RUNTIME_ROOT to be a symlink that is swapped.
//
// Requests go to its HTTP /json endpoint (src/server/server_impl.go): the body is a
// envoy.service.ratelimit.v3.RateLimitRequest in protobuf's JSON mapping, handed to the same
// ShouldRateLimit as the gRPC service; the reply is the RateLimitResponse in JSON, with HTTP 200 for
// OK, 429 for OVER_LIMIT, and 400 when ShouldRateLimit failed (e.g. Redis unreachable).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { repoRoot } from "../envoy/envoy";
import { freePort } from "../support/tcp";
import { stopProcess } from "../kube/process";

const running = new Set<ChildProcess>();
process.on("exit", () => { for (const p of running) p.kill("SIGKILL"); });

/** Directory of the provisioned service (bin/ratelimit); provisions it if missing. */
export function ratelimitDir(): string {
  return execFileSync(path.join(repoRoot, "scripts/provision/ratelimit.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

export type Unit = "second" | "minute" | "hour" | "day";

/**
 * The tests' limits are per day, so that the service's fixed window (calendar days, UTC) cannot end in
 * the middle of a test; a test starting within a minute of the window's end waits for the next one.
 */
export async function awayFromDayEnd(): Promise<void> {
  const now = new Date();
  const msToMidnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime();
  if (msToMidnight < 60_000) await new Promise((r) => setTimeout(r, msToMidnight + 1_000));
}

/** One node of the service's descriptor tree (its config format: key, optional value, limit, children). */
export interface DescriptorConfig {
  key: string;
  value?: string;
  rateLimit?: { unit: Unit; requestsPerUnit: number };
  descriptors?: DescriptorConfig[];
}

/** The service's YAML for one domain. */
export function serviceConfigYaml(domain: string, descriptors: DescriptorConfig[]): string {
  const node = (d: DescriptorConfig): object => ({
    key: d.key,
    ...(d.value !== undefined ? { value: d.value } : {}),
    ...(d.rateLimit ? { rate_limit: { unit: d.rateLimit.unit, requests_per_unit: d.rateLimit.requestsPerUnit } } : {}),
    ...(d.descriptors ? { descriptors: d.descriptors.map(node) } : {}),
  });
  return stringify({ domain, descriptors: descriptors.map(node) });
}

let configVersion = 0;

/**
 * Writes `name` into `configDir`. "configmap" mimics the kubelet's atomic update of a mounted
 * ConfigMap: a new hidden directory `..<version>` with the file, a `..data` symlink switched to it by a
 * rename, and `name` -> `..data/<name>` (created once).
 */
function writeConfig(configDir: string, layout: "file" | "configmap", name: string, text: string): void {
  if (layout === "file") {
    fs.writeFileSync(path.join(configDir, name), text);
    return;
  }
  const version = `..v${++configVersion}`;
  fs.mkdirSync(path.join(configDir, version));
  fs.writeFileSync(path.join(configDir, version, name), text);
  const data = path.join(configDir, "..data");
  const old = fs.existsSync(data) ? fs.readlinkSync(data) : undefined;
  fs.symlinkSync(version, path.join(configDir, "..data_tmp"));
  fs.renameSync(path.join(configDir, "..data_tmp"), data);
  if (old) fs.rmSync(path.join(configDir, old), { recursive: true, force: true });
  if (!fs.existsSync(path.join(configDir, name))) fs.symlinkSync(path.join("..data", name), path.join(configDir, name));
}

/** A descriptor of a request: its entries in order, and optionally its own hits_addend. */
export interface RequestDescriptor {
  entries: [string, string][];
  /** Per-descriptor hits_addend; 0 only asks (the service then does not count). */
  hitsAddend?: number;
}

export interface Verdict {
  httpStatus: number;
  overallCode?: "OK" | "OVER_LIMIT" | "UNKNOWN";
  statuses: { code?: string; currentLimit?: { requestsPerUnit: number; unit: string }; limitRemaining?: number; durationUntilReset?: string }[];
}

export interface ServiceOptions {
  redisUrl: string;
  domain: string;
  descriptors: DescriptorConfig[];
  /** Redis connections the service keeps (REDIS_POOL_SIZE; the service's default is 10). */
  redisPoolSize?: number;
  /**
   * How the config file is laid out: a plain file, or as the kubelet mounts a ConfigMap (the file a
   * symlink into `..data`, itself a symlink to a hidden timestamped directory, swapped on update).
   */
  configLayout?: "file" | "configmap";
  /** RUNTIME_IGNOREDOTFILES: skip `..data` and the hidden directories (the service's default: false). */
  ignoreDotFiles?: boolean;
  /** The configuration file's text as it is (e.g. a generated ConfigMap's config.yaml) instead of `descriptors`. */
  configYaml?: string;
  /** The config file's name (a mounted ConfigMap's key, e.g. config.yaml); default `<domain>.yaml`. */
  configFile?: string;
  /** Wait for the domain to be loaded (default); false: only for the service to be up. */
  waitForDomain?: boolean;
}

export class RateLimitService {
  /** How it was started (for restart: the same ports, directory and settings). */
  private binary = "";
  private env: Record<string, string> = {};
  private domain = "";
  private configFile = "";

  private constructor(
    private child: ChildProcess,
    readonly httpUrl: string,
    readonly grpcPort: number,
    readonly debugUrl: string,
    readonly dir: string,
    private readonly configLayout: "file" | "configmap",
  ) {}

  get process(): ChildProcess {
    return this.child;
  }

  /** Starts it again after stop(), on the same ports with the same settings; waits until it is ready. */
  async restart(): Promise<void> {
    await this.stop();
    this.child = RateLimitService.spawnService(this.binary, this.env, this.dir);
    await this.waitReady(this.domain);
  }

  private static spawnService(binary: string, env: Record<string, string>, dir: string): ChildProcess {
    const log = fs.openSync(path.join(dir, "service.log"), "a");
    const child = spawn(binary, [], { env, stdio: ["ignore", log, log] });
    fs.closeSync(log);
    running.add(child);
    child.on("exit", () => running.delete(child));
    return child;
  }

  /** Replaces the domain's config file the way its layout is updated (for a ConfigMap: the kubelet's swap). */
  updateConfig(domain: string, descriptors: DescriptorConfig[]): void {
    writeConfig(path.join(this.dir, "runtime/current/config"), this.configLayout, `${domain}.yaml`, serviceConfigYaml(domain, descriptors));
  }

  /** Replaces the config file's text as it is (e.g. a ConfigMap's new data), the way its layout is updated. */
  updateConfigYaml(text: string): void {
    writeConfig(path.join(this.dir, "runtime/current/config"), this.configLayout, this.configFile, text);
  }

  /** The config the service has loaded, as its debug port prints it (empty when none loaded). */
  async loadedConfig(): Promise<string> {
    return (await fetch(`${this.debugUrl}/rlconfig`)).text();
  }

  static async start(options: ServiceOptions): Promise<RateLimitService> {
    const binary = path.join(ratelimitDir(), "bin/ratelimit");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-ratelimit-"));
    const configDir = path.join(dir, "runtime/current/config");
    fs.mkdirSync(configDir, { recursive: true });
    const configFile = options.configFile ?? `${options.domain}.yaml`;
    writeConfig(configDir, options.configLayout ?? "file", configFile, options.configYaml ?? serviceConfigYaml(options.domain, options.descriptors));
    // freePort is racy: a port taken meanwhile makes the service exit at once; try fresh ones.
    for (let attempt = 1; ; attempt++) {
      const [port, grpcPort, debugPort] = [await freePort(), await freePort(), await freePort()];
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOST: "127.0.0.1", PORT: String(port),
        GRPC_HOST: "127.0.0.1", GRPC_PORT: String(grpcPort),
        DEBUG_HOST: "127.0.0.1", DEBUG_PORT: String(debugPort),
        USE_STATSD: "false",
        BACKEND_TYPE: "redis", REDIS_SOCKET_TYPE: "tcp", REDIS_TYPE: "SINGLE", REDIS_URL: options.redisUrl,
        REDIS_POOL_SIZE: String(options.redisPoolSize ?? 10),
        RUNTIME_ROOT: path.join(dir, "runtime"), RUNTIME_SUBDIRECTORY: "current", RUNTIME_WATCH_ROOT: "false",
        RUNTIME_IGNOREDOTFILES: String(options.ignoreDotFiles ?? false),
        LOG_LEVEL: "warn",
      };
      const child = RateLimitService.spawnService(binary, env, dir);
      const s = new RateLimitService(child, `http://127.0.0.1:${port}`, grpcPort, `http://127.0.0.1:${debugPort}`, dir, options.configLayout ?? "file");
      s.binary = binary;
      s.env = env;
      s.domain = options.domain;
      s.configFile = configFile;
      try {
        await s.waitReady(options.waitForDomain === false ? "" : options.domain);
        return s;
      } catch (err) {
        child.kill("SIGKILL");
        if (attempt >= 3) throw err;
      }
    }
  }

  /** Ready when /healthcheck answers 200 and the debug port's /rlconfig lists the domain. */
  private async waitReady(domain: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.process.exitCode !== null) throw new Error(`ratelimit exited (${this.process.exitCode}):\n${this.log()}`);
      try {
        const health = await fetch(`${this.httpUrl}/healthcheck`);
        const config = await (await fetch(`${this.debugUrl}/rlconfig`)).text();
        if (health.status === 200 && config.includes(domain)) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`ratelimit not ready (with domain ${domain}) in 30 s:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** ShouldRateLimit through /json. */
  async shouldRateLimit(domain: string, descriptors: RequestDescriptor[], hitsAddend?: number): Promise<Verdict> {
    const body = {
      domain,
      descriptors: descriptors.map((d) => ({
        entries: d.entries.map(([key, value]) => ({ key, value })),
        ...(d.hitsAddend !== undefined ? { hitsAddend: d.hitsAddend } : {}),
      })),
      ...(hitsAddend !== undefined ? { hitsAddend } : {}),
    };
    const r = await fetch(`${this.httpUrl}/json`, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    const text = await r.text();
    if (!(r.headers.get("content-type") ?? "").includes("application/json")) return { httpStatus: r.status, statuses: [] };
    const parsed = JSON.parse(text) as { overallCode?: Verdict["overallCode"]; statuses?: Verdict["statuses"] };
    return { httpStatus: r.status, overallCode: parsed.overallCode, statuses: parsed.statuses ?? [] };
  }

  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, "service.log"), "utf8").split("\n").slice(-30).join("\n");
    } catch {
      return "";
    }
  }

  stop(): Promise<void> {
    return stopProcess(this.process, "SIGKILL");
  }

  cleanup(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill("SIGKILL");
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
