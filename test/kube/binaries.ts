// Locates kube-apiserver, etcd and Istio's CRD YAML, building them on first use with
// scripts/provision/kube.sh (a cache outside the repo; minutes once, instant afterwards).
import { spawn } from "node:child_process";
import path from "node:path";

import { repoRoot } from "../repo_root";
export { repoRoot };

export interface KubeBinaries {
  /** The cache directory the provision script printed. */
  dir: string;
  kubeApiserver: string;
  etcd: string;
  /** istio.io/api's kubernetes/customresourcedefinitions.gen.yaml. */
  istioCrds: string;
}

let provisioned: Promise<KubeBinaries> | undefined;

/** Runs the provision script once per process; its progress goes to this process's stderr. */
export function kubeBinaries(): Promise<KubeBinaries> {
  provisioned ??= provision();
  return provisioned;
}

function provision(): Promise<KubeBinaries> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repoRoot, "scripts/provision/kube.sh"), [], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`scripts/provision/kube.sh failed (exit ${code}); its messages are above`));
      const dir = out.trim();
      resolve({
        dir,
        kubeApiserver: path.join(dir, "bin/kube-apiserver"),
        etcd: path.join(dir, "bin/etcd"),
        istioCrds: path.join(dir, "istio-crds.yaml"),
      });
    });
  });
}
