// Runs an Istio test file inside its own network, mount and PID namespaces.
//
// Why: istio-agent and Envoy bind fixed ports on all interfaces (agent status 15020, Envoy readiness
// 15021, Prometheus 15090; pilot-agent options.go), istiod binds 15010/15012/15017/8080, and istio-agent
// caches Wasm modules in the fixed /var/lib/istio/data (pkg/config/constants IstioDataDir). In a
// namespace of its own, with loopback only, nothing it binds is reachable from outside or clashes with
// other tests, and nothing it sends can leave 127.0.0.0/8. The PID namespace makes cleanup certain: when
// the test process (PID 1 there) ends, however it ends, the kernel kills every process it started.
//
// How: the test file calls `inIstioNamespace(import.meta.url)` before defining any test. Outside the
// namespace it re-runs the same file with the same Node flags under `unshare` (stdio inherited, so the
// node:test runner reads the inner process's report as if it were this file's) and exits with its
// status; inside, it returns true.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { type MeshParts, provisionMeshParts } from "./provision";

const MARK = "MELTEMI_ISTIO_NETNS";

/**
 * True inside the namespace (define the tests); never returns outside it (the process exits). Outside,
 * first provisions what the mesh needs from the network (provision.ts).
 */
export async function inIstioNamespace(fileUrl: string, parts: MeshParts = {}): Promise<true> {
  if (process.env[MARK] === "1") return true;
  provisionMeshParts(parts);
  const file = fileURLToPath(fileUrl);
  // setpriv --pdeathsig: unshare dies with this launcher; --kill-child: the namespace's PID 1 dies
  // with unshare; the kernel then kills the rest of the PID namespace.
  // `ip link set lo up`: a new network namespace's loopback is down.
  const child = spawn("setpriv", [
    "--pdeathsig", "KILL", "--",
    "unshare", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc", "--propagation", "private", "--",
    "sh", "-c", 'ip link set lo up && exec "$0" "$@"', process.execPath, ...process.execArgv, file, ...process.argv.slice(2),
  ], { stdio: "inherit", env: { ...process.env, [MARK]: "1" } });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve) => {
    child.on("error", (err) => {
      console.error(`test/istio: could not start the namespace (unshare, setpriv and ip are needed, as root): ${err.message}`);
      resolve(1);
    });
    child.on("exit", (c, s) => resolve(c ?? (s ? 128 : 1)));
  });
  process.exit(code);
}

/**
 * The command line that runs `bin args` with its own, empty /var/lib/istio/data: istio-agent's Wasm
 * cache dir is fixed there, and agents sharing it race (one agent's Envoy loaded a module another agent
 * was still writing: "Plugin ... failed to load", an ECDS NACK). A mount namespace per agent, inside
 * the test's, bind-mounts `dataDir` there; `unshare` and `sh` exec, so the agent keeps the pid. The
 * mount point is created on the host if missing (an empty dir); the mounts stay private.
 */
export function withOwnIstioDataDir(dataDir: string, bin: string, args: string[]): { bin: string; args: string[] } {
  fs.mkdirSync(ISTIO_DATA_DIR, { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true });
  return {
    bin: "unshare",
    args: ["--mount", "--propagation", "private", "--", "sh", "-c", `mount --bind "$0" ${ISTIO_DATA_DIR} && exec "$@"`, dataDir, bin, ...args],
  };
}

export const ISTIO_DATA_DIR = "/var/lib/istio/data";
