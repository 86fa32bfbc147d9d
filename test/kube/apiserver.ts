// A real kube-apiserver with etcd for controller tests (see README.md beside this file).
//
// etcd on a port it picks itself; kube-apiserver on 127.0.0.1 with a self-signed serving certificate
// it writes into <dir>/pki (and reuses on restart, so the kubeconfig stays valid), static bearer
// tokens (--token-auth-file), RBAC authorization, service-account keys made here with node:crypto.
// No kube-controller-manager runs: no garbage collection of owned objects, no namespace finalization,
// no default ServiceAccount per namespace.
import { ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { kubeBinaries, KubeBinaries, repoRoot } from "./binaries";
import { installCrds } from "./crds";
import { Etcd, startEtcd, stopEtcd } from "./etcd";
import { isAlive, makeWorkDir, readLog, removeWorkDir, sleep, startLogged, stopProcess, tailLog } from "./process";
import { freePort } from "../support/tcp";

/** A user known to the apiserver by a static bearer token. */
export interface StaticUser {
  name: string;
  groups: string[];
}

export interface KubeApiserverOptions {
  /** Users besides the admin (who is in system:masters); their tokens are in `tokens`. */
  users?: StaticUser[];
  /** More kube-apiserver flags, e.g. --feature-gates=... */
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

export const ADMIN_USER = "meltemi-admin";
const START_MARKER = "---- meltemi harness: starting kube-apiserver";

export class KubeApiserver {
  /** https://127.0.0.1:<port>; the same across restarts. */
  readonly server: string;
  /** Kubeconfig of the admin user (group system:masters). */
  readonly kubeconfigPath: string;
  /** User name -> bearer token, the admin's included. */
  readonly tokens: ReadonlyMap<string, string>;
  private apiserver?: ChildProcess;
  private caPem = "";

  private constructor(
    readonly dir: string,
    readonly binaries: KubeBinaries,
    readonly etcd: Etcd,
    private readonly port: number,
    tokens: Map<string, string>,
    private readonly opts: KubeApiserverOptions,
  ) {
    this.server = `https://127.0.0.1:${port}`;
    this.kubeconfigPath = path.join(dir, "kubeconfig");
    this.tokens = tokens;
  }

  get adminToken(): string {
    return this.tokens.get(ADMIN_USER)!;
  }

  get logPath(): string {
    return path.join(this.dir, "kube-apiserver.log");
  }

  /** Provisions the binaries if needed, starts etcd and kube-apiserver, waits for /readyz. */
  static async start(opts: KubeApiserverOptions = {}): Promise<KubeApiserver> {
    const binaries = await kubeBinaries();
    const dir = makeWorkDir("meltemi-kube-");
    let etcd: Etcd | undefined;
    try {
      const tokens = writeTokenFile(dir, [{ name: ADMIN_USER, groups: ["system:masters"] }, ...(opts.users ?? [])]);
      writeServiceAccountKeys(dir);
      etcd = await startEtcd(binaries.etcd, dir);
      // kube-apiserver refuses --secure-port=0, so a port is picked here and freed just before it
      // binds; if another process takes it in between, the start is retried on a new port.
      for (let attempt = 1; ; attempt++) {
        const kube = new KubeApiserver(dir, binaries, etcd, await freePort(), tokens, opts);
        try {
          await kube.startApiserver();
          return kube;
        } catch (err) {
          const lastStart = readLog(kube.logPath).split(START_MARKER).pop() ?? "";
          if (attempt >= 3 || !/address already in use/.test(lastStart)) throw err;
        }
      }
    } catch (err) {
      if (etcd) await stopEtcd(etcd);
      removeWorkDir(dir);
      throw err;
    }
  }

  get apiserverRunning(): boolean {
    return this.apiserver !== undefined && isAlive(this.apiserver);
  }

  /** Starts kube-apiserver (again) on the same port and data, and waits until /readyz says ok. */
  async startApiserver(): Promise<void> {
    if (this.apiserverRunning) throw new Error("kube-apiserver is already running");
    fs.appendFileSync(this.logPath, `${START_MARKER} on ${this.server} ----\n`);
    const child = startLogged(this.binaries.kubeApiserver, this.args(), this.logPath);
    this.apiserver = child;
    try {
      await this.waitReady(child);
    } catch (err) {
      await stopProcess(child, "SIGKILL");
      throw err;
    }
    this.writeKubeconfig(this.kubeconfigPath, this.adminToken);
  }

  /** Stops kube-apiserver (SIGTERM: graceful; SIGKILL: a crash); etcd and its data stay. */
  async stopApiserver(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.apiserver) await stopProcess(this.apiserver, signal, 20_000);
  }

  async restartApiserver(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await this.stopApiserver(signal);
    await this.startApiserver();
  }

  /** A client-node KubeConfig for the admin, or for whoever holds `token`. */
  kubeConfig(token = this.adminToken): KubeConfig {
    const kc = new KubeConfig();
    if (token === this.adminToken) {
      kc.loadFromFile(this.kubeconfigPath);
    } else {
      kc.loadFromString(JSON.stringify(this.kubeconfigObject(token)));
    }
    return kc;
  }

  /** Writes a kubeconfig file for `token` (e.g. a ServiceAccount token from the TokenRequest API). */
  writeKubeconfig(file: string, token: string): void {
    fs.writeFileSync(file, JSON.stringify(this.kubeconfigObject(token), null, 2), { mode: 0o600 });
  }

  /** Installs Istio's CRDs (istio.io/api's customresourcedefinitions.gen.yaml); returns their names. */
  installIstioCrds(): Promise<string[]> {
    return installCrds(this.kubeConfig(), this.binaries.istioCrds);
  }

  /** Installs Meltemi's CRDs (manifests/crds/, in name order); returns their names. */
  async installMeltemiCrds(): Promise<string[]> {
    const dir = path.join(repoRoot, "manifests/crds");
    const names: string[] = [];
    for (const f of fs.readdirSync(dir).sort()) names.push(...(await installCrds(this.kubeConfig(), path.join(dir, f))));
    return names;
  }

  /** Stops kube-apiserver and etcd; removes the work dir unless MELTEMI_KEEP_KUBE_DIR is set. */
  async stop(): Promise<void> {
    await this.stopApiserver();
    await stopEtcd(this.etcd);
    removeWorkDir(this.dir);
  }

  logs(lines = 80): string {
    return `---- kube-apiserver log (${this.logPath}) ----\n${tailLog(this.logPath, lines)}\n` +
      `---- etcd log (${this.etcd.logPath}) ----\n${tailLog(this.etcd.logPath, lines)}\n---- end of logs ----`;
  }

  private args(): string[] {
    const d = this.dir;
    return [
      `--etcd-servers=${this.etcd.url}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${this.port}`,
      // Generates apiserver.crt (serving cert + its CA, SAN 127.0.0.1) on first start, reuses it after.
      `--cert-dir=${path.join(d, "pki")}`,
      `--token-auth-file=${path.join(d, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${path.join(d, "sa.pub")}`,
      `--service-account-signing-key-file=${path.join(d, "sa.key")}`,
      // Only allocated into Service objects; nothing routes to it.
      "--service-cluster-ip-range=10.96.0.0/16",
      // The default reconciler writes the advertise address into the `kubernetes` Endpoints, and
      // Endpoints validation rejects loopback addresses: it would log an error every 10 s.
      "--endpoint-reconciler-type=none",
      "--profiling=false",
      ...(this.opts.extraArgs ?? []),
    ];
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const timeoutMs = this.opts.readyTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    const caFile = path.join(this.dir, "pki", "apiserver.crt");
    let last = "no answer yet";
    for (;;) {
      if (!isAlive(child)) {
        throw new Error(`kube-apiserver exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tailLog(this.logPath)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`kube-apiserver not ready in ${timeoutMs} ms (last /readyz: ${last}):\n${tailLog(this.logPath)}`);
      }
      await sleep(250);
      if (!fs.existsSync(caFile)) continue;
      this.caPem = fs.readFileSync(caFile, "utf8");
      try {
        const r = await this.get("/readyz?verbose");
        if (r.status === 200) return;
        last = `HTTP ${r.status}: ${r.body.split("\n").filter((l) => l.includes("failed")).join("; ")}`;
      } catch (err) {
        last = String((err as Error).message);
      }
    }
  }

  /** A GET as the admin over node:https, trusting the apiserver's self-signed CA. */
  private get(pathAndQuery: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.get(this.server + pathAndQuery, {
        ca: this.caPem,
        headers: { authorization: `Bearer ${this.adminToken}` },
        timeout: 5_000,
      }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", reject);
    });
  }

  private kubeconfigObject(token: string): object {
    return {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "meltemi-test", cluster: { server: this.server, "certificate-authority-data": Buffer.from(this.caPem).toString("base64") } }],
      users: [{ name: "user", user: { token } }],
      contexts: [{ name: "meltemi-test", context: { cluster: "meltemi-test", user: "user" } }],
      "current-context": "meltemi-test",
    };
  }
}

/**
 * Starts etcd + kube-apiserver, runs `body`, and always stops both. When `body` fails, the last lines
 * of both logs are printed so the failure can be understood from CI output alone.
 */
export async function withKubeApiserver<T>(opts: KubeApiserverOptions, body: (kube: KubeApiserver) => Promise<T>): Promise<T> {
  const kube = await KubeApiserver.start(opts);
  try {
    return await body(kube);
  } catch (err) {
    console.error(kube.logs());
    throw err;
  } finally {
    await kube.stop();
  }
}

/** tokens.csv for --token-auth-file: `token,user,uid,"group1,group2"`. */
function writeTokenFile(dir: string, users: StaticUser[]): Map<string, string> {
  const tokens = new Map<string, string>();
  const lines = users.map((u) => {
    if (!/^[A-Za-z0-9:._@-]+$/.test(u.name)) throw new Error(`user name ${JSON.stringify(u.name)} would need CSV quoting`);
    const token = crypto.randomBytes(24).toString("hex");
    tokens.set(u.name, token);
    return `${token},${u.name},${u.name},"${u.groups.join(",")}"`;
  });
  fs.writeFileSync(path.join(dir, "tokens.csv"), lines.join("\n") + "\n", { mode: 0o600 });
  return tokens;
}

/** An ES256 key pair: the apiserver signs ServiceAccount tokens with it and verifies them with it. */
function writeServiceAccountKeys(dir: string): void {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ec", {
    namedCurve: "prime256v1",
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  fs.writeFileSync(path.join(dir, "sa.pub"), publicKey);
  fs.writeFileSync(path.join(dir, "sa.key"), privateKey, { mode: 0o600 });
}

