// Runs `meltemi controller` as a child process against the test kube-apiserver, with the RBAC of
// manifests/install/rbac.yaml: the controller authenticates with a token of that ServiceAccount, so a
// verb missing from the manifest fails the test that needs it.
import { ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { KubeConfig, KubernetesObject, KubernetesObjectApi, PatchStrategy, loadAllYaml } from "@kubernetes/client-node";
import { KubeHttp } from "../../controller/runtime/kube_http";
import type { KubeApiserver } from "./apiserver";
import { repoRoot } from "./binaries";
import { describeError } from "./crds";
import { isAlive, sleep, stopProcess } from "./process";
import { waitFor } from "../wait";

export const CONTROLLER_NAMESPACE = "meltemi-system";
export const SERVICE_ACCOUNT = "meltemi-controller";
export const WASM_SHA = "a".repeat(64);
export const WASM_URL = `oci://registry.example/meltemi/filter@sha256:${WASM_SHA}`;

/** Applies a multi-document YAML file as the admin (server-side apply). */
export async function applyYamlFile(kc: KubeConfig, file: string): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const doc of loadAllYaml(fs.readFileSync(file, "utf8")) as (KubernetesObject | null)[]) {
    if (!doc) continue;
    try {
      await api.patch(doc, undefined, undefined, "meltemi-test-harness", true, PatchStrategy.ServerSideApply);
    } catch (err) {
      throw new Error(`applying ${doc.kind} ${doc.metadata?.name}: ${describeError(err)}`);
    }
  }
}

/**
 * Creates the controller's namespace and istio-system, applies manifests/install/rbac.yaml, and writes a kubeconfig with
 * a TokenRequest token of its ServiceAccount (what a pod of the Deployment would get). Returns its path.
 */
export async function controllerKubeconfig(kube: KubeApiserver): Promise<string> {
  const admin = kube.kubeConfig();
  const api = KubernetesObjectApi.makeApiClient(admin);
  // istio-system (Istio's, in a cluster) holds the Role for the rate limit service's ConfigMap.
  for (const name of [CONTROLLER_NAMESPACE, "istio-system"]) {
    await api.patch({ apiVersion: "v1", kind: "Namespace", metadata: { name } }, undefined, undefined, "meltemi-test-harness", true, PatchStrategy.ServerSideApply);
  }
  await applyYamlFile(admin, path.join(repoRoot, "manifests/install/rbac.yaml"));
  const tr = await new KubeHttp(admin).request<{ status: { token: string } }>("POST", `/api/v1/namespaces/${CONTROLLER_NAMESPACE}/serviceaccounts/${SERVICE_ACCOUNT}/token`, {
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
  });
  const file = path.join(kube.dir, "controller.kubeconfig");
  kube.writeKubeconfig(file, tr.status.token);
  return file;
}

export interface ControllerProcess {
  child: ChildProcess;
  identity: string;
  port: number;
  logs: string[];
  /** Log lines (parsed JSON) whose msg equals `msg`. */
  entries(msg: string): Record<string, unknown>[];
  get(pathname: string): Promise<{ status: number; body: string }>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startController(kubeconfig: string, identity: string, extraArgs: string[] = []): Promise<ControllerProcess> {
  const args = [
    "--import", "tsx", path.join(repoRoot, "controller/cli.ts"), "controller",
    "--kubeconfig", kubeconfig,
    "--wasm-url", WASM_URL,
    "--health-probe-bind-address", "127.0.0.1:0",
    "--metrics-bind-address", "127.0.0.1:0",
    "--leader-election-namespace", CONTROLLER_NAMESPACE,
    "--identity", identity,
    // Short enough for a test to see a takeover; the ratios are those of the defaults.
    "--lease-duration", "8", "--renew-deadline", "6", "--retry-period", "1",
    "--debounce-ms", "50", "--discovery-interval", "1",
    "--log-level", "debug",
    // The Istio CRDs of the tests serve TrafficExtension; the tests read WasmPlugins unless they ask
    // for auto (test/kube/traffic-extension.test.ts). A later --traffic-extension in extraArgs wins.
    "--traffic-extension", "never",
    ...extraArgs,
  ];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  const logs: string[] = [];
  let partial = "";
  const onData = (chunk: Buffer) => {
    partial += chunk.toString("utf8");
    const lines = partial.split("\n");
    partial = lines.pop()!;
    logs.push(...lines);
    if (process.env.MELTEMI_CONTROLLER_LOGS) for (const l of lines) process.stderr.write(`[${identity}] ${l}\n`);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  process.once("exit", () => child.kill("SIGKILL"));
  const entries = (msg: string) => logs.flatMap((l) => {
    try {
      const e = JSON.parse(l) as Record<string, unknown>;
      return e.msg === msg ? [e] : [];
    } catch {
      return [];
    }
  });
  const deadline = Date.now() + 60_000;
  let port: number | undefined;
  while (port === undefined) {
    if (!isAlive(child)) throw new Error(`controller ${identity} exited (${child.exitCode ?? child.signalCode}):\n${logs.join("\n")}`);
    if (Date.now() > deadline) throw new Error(`controller ${identity} did not serve its endpoints in time:\n${logs.join("\n")}`);
    port = entries("serving endpoints")[0]?.port as number | undefined;
    await sleep(100);
  }
  const get = async (pathname: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${pathname}`);
    return { status: res.status, body: await res.text() };
  };
  return {
    child, identity, port, logs, entries, get,
    stop: (signal: NodeJS.Signals = "SIGTERM") => stopProcess(child, signal, 20_000),
  };
}

/** Waits until /readyz answers 200 (with a body matching `body`, e.g. /leader/). */
export async function waitReady(c: ControllerProcess, body = /./, timeoutMs = 60_000): Promise<string> {
  return waitFor(`${c.identity} /readyz ${body}`, async () => {
    const r = await c.get("/readyz");
    return r.status === 200 && body.test(r.body) ? r.body : undefined;
  }, timeoutMs);
}
