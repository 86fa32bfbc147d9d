// Locates pilot-discovery (istiod) and pilot-agent (istio-agent), building them on first use with
// scripts/provision/istio.sh (a cache outside the repo; about 5 minutes once, instant afterwards).
import { spawn } from "node:child_process";
import path from "node:path";
import { repoRoot } from "../kube/binaries";

export interface IstioBinaries {
  /** The cache directory the provision script printed. */
  dir: string;
  pilotDiscovery: string;
  pilotAgent: string;
  /** Envoy's bootstrap template for pilot-agent (ProxyConfig proxyBootstrapTemplatePath). */
  bootstrapTemplate: string;
}

let provisioned: Promise<IstioBinaries> | undefined;

/** Runs the provision script once per process; its progress goes to this process's stderr. */
export function istioBinaries(): Promise<IstioBinaries> {
  provisioned ??= new Promise((resolve, reject) => {
    const child = spawn(path.join(repoRoot, "scripts/provision/istio.sh"), [], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`scripts/provision/istio.sh failed (exit ${code}); its messages are above`));
      const dir = out.trim();
      resolve({ dir, pilotDiscovery: path.join(dir, "bin/pilot-discovery"), pilotAgent: path.join(dir, "bin/pilot-agent"), bootstrapTemplate: path.join(dir, "envoy_bootstrap_tmpl.json") });
    });
  });
  return provisioned;
}
