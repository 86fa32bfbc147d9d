// A single-member etcd for the test kube-apiserver: data in a temp dir, loopback only, port 0 for
// client and peer URLs. etcd binds port 0 as given and logs the real client address ("serving client
// traffic insecurely", field "address"), so there is no window in which another process takes the port.
// The gRPC gateway (HTTP/JSON API) is off: it would dial the configured address 127.0.0.1:0 forever,
// and kube-apiserver speaks gRPC.
import { ChildProcess } from "node:child_process";
import path from "node:path";
import { isAlive, readLog, sleep, startLogged, stopProcess, tailLog } from "./process";

export interface Etcd {
  /** http://127.0.0.1:<port>, for kube-apiserver's --etcd-servers. */
  url: string;
  process: ChildProcess;
  logPath: string;
}

export async function startEtcd(etcdBin: string, workDir: string, timeoutMs = 30_000): Promise<Etcd> {
  const logPath = path.join(workDir, "etcd.log");
  const any = "http://127.0.0.1:0";
  const child = startLogged(etcdBin, [
    "--name", "meltemi-test",
    "--data-dir", path.join(workDir, "etcd-data"),
    "--listen-client-urls", any,
    "--advertise-client-urls", any,
    "--listen-peer-urls", any,
    "--initial-advertise-peer-urls", any,
    "--initial-cluster", `meltemi-test=${any}`,
    "--enable-grpc-gateway=false",
    // Test data in a temp dir: durability across a machine crash is not wanted, speed is.
    "--unsafe-no-fsync",
    "--log-level", "info",
  ], logPath);

  const deadline = Date.now() + timeoutMs;
  try {
    let url: string | undefined;
    while (!url) {
      if (!isAlive(child)) throw new Error(`etcd exited (${child.exitCode ?? child.signalCode}) before it served:\n${tailLog(logPath)}`);
      if (Date.now() > deadline) throw new Error(`etcd did not serve clients in ${timeoutMs} ms:\n${tailLog(logPath)}`);
      await sleep(50);
      url = clientAddress(readLog(logPath));
    }
    for (;;) {
      try {
        const r = await fetch(`${url}/health`);
        if (r.ok && ((await r.json()) as { health?: string }).health === "true") return { url, process: child, logPath };
      } catch { /* not accepting yet */ }
      if (Date.now() > deadline) throw new Error(`etcd not healthy in ${timeoutMs} ms:\n${tailLog(logPath)}`);
      await sleep(100);
    }
  } catch (err) {
    await stopProcess(child, "SIGKILL");
    throw err;
  }
}

export async function stopEtcd(etcd: Etcd): Promise<void> {
  await stopProcess(etcd.process, "SIGTERM", 10_000);
}

function clientAddress(log: string): string | undefined {
  for (const line of log.split("\n")) {
    if (!line.includes("serving client traffic")) continue;
    try {
      const entry = JSON.parse(line) as { address?: string };
      if (entry.address) return `http://${entry.address}`;
    } catch { /* a line that is not JSON (gRPC's own logger) */ }
  }
  return undefined;
}
