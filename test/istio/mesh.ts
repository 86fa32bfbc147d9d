// A whole mesh for one test, inside the test's namespace (call inIstioNamespace first): a local
// docker-registry holding the built module (pushed by wasm-build, the way a release publishes it), the
// project's kube-apiserver + etcd with Istio's and Meltemi's CRDs, istiod, and `meltemi controller`
// (a child process with the RBAC of manifests/install/rbac.yaml) pointed at the pushed image by digest.
// Pods (SidecarPod) are added by the test. Everything is stopped on every path; on failure the last
// lines of every log are printed.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { KubernetesObject } from "@kubernetes/client-node";
import { withKubeApiserver, type KubeApiserver } from "../kube/apiserver";
import { controllerKubeconfig, startController, type ControllerProcess } from "../kube/controller_process";
import { repoRoot } from "../kube/binaries";
import { builtModule, runCli } from "../wasm-build/helpers";
import { provisionRegistryTools, startRegistry, type Registry } from "../wasm-build/registry";
import { Istiod } from "./istiod";
import { SidecarPod, apply, type PodSpec } from "./sidecar";
import { envoyRelease } from "./provision";
export { ENVOY_VERSIONS } from "./provision";

/**
 * Service addresses come from 127.10.0.0/16 (kube-apiserver accepts a loopback range): the namespace
 * has only loopback, and a client sidecar's outbound listener can then bind the Service's own address,
 * so Istio names it `<clusterIP>_<port>` as in a cluster (README.md, "Listener names").
 */
export const SERVICE_CIDR = "127.10.0.0/16";

export interface PushedModule { url: string; sha256: string }

export class Mesh {
  readonly pods: SidecarPod[] = [];
  controller?: ControllerProcess;
  private readonly cleanup: (() => Promise<void>)[] = [];

  constructor(readonly kube: KubeApiserver, readonly istiod: Istiod, readonly registry: Registry, readonly module: PushedModule, readonly envoy: string) {}

  apply(obj: Record<string, unknown>): Promise<void> {
    return apply(this.kube, obj as unknown as KubernetesObject);
  }

  async pod(spec: Omit<PodSpec, "insecureRegistries">): Promise<SidecarPod> {
    const pod = await SidecarPod.start(this.kube, this.envoy, { ...spec, insecureRegistries: [this.registry.host] });
    this.pods.push(pod);
    return pod;
  }

  /** Runs `stop` when the mesh is torn down (last registered, first run). */
  onStop(stop: () => Promise<void> | void): void {
    this.cleanup.push(async () => stop());
  }

  /** Starts the controller with the pushed module (and `extraArgs`). */
  async startController(extraArgs: string[] = []): Promise<ControllerProcess> {
    this.controller = await startController(await controllerKubeconfig(this.kube), "istio-test", ["--wasm-url", this.module.url, ...extraArgs]);
    return this.controller;
  }

  logs(): string {
    return [
      this.istiod.logs(),
      ...this.pods.map((p) => p.logs()),
      this.controller ? `---- controller ----\n${this.controller.logs.slice(-40).join("\n")}` : "",
    ].join("\n");
  }

  async stop(): Promise<void> {
    await this.controller?.stop();
    for (const c of this.cleanup.reverse()) await c().catch(() => undefined);
    for (const p of this.pods) await p.stop();
    await this.istiod.stop();
  }
}

/** Runs `body` with a fresh mesh whose sidecars run the official Envoy `envoyVersion`. */
export async function withMesh(envoyVersion: string, body: (mesh: Mesh) => Promise<void>): Promise<void> {
  provisionRegistryTools();
  const built = builtModule();
  const envoy = envoyRelease(envoyVersion);
  const registry = await startRegistry({ kind: "none" });
  try {
    const pushed = await runCli(["push", built.file, "--image", `${registry.host}/meltemi/filter:test`, "--insecure-http", "--json"]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const module = JSON.parse(pushed.stdout) as PushedModule;
    await withKubeApiserver({ extraArgs: [`--service-cluster-ip-range=${SERVICE_CIDR}`] }, async (kube) => {
      await kube.installIstioCrds();
      await kube.installMeltemiCrds();
      const istiod = await Istiod.start(kube, envoy);
      const mesh = new Mesh(kube, istiod, registry, module, envoy);
      try {
        await body(mesh);
      } catch (err) {
        console.error(mesh.logs());
        throw err;
      } finally {
        await mesh.stop();
      }
    });
  } finally {
    await registry.stop();
    fs.rmSync(path.dirname(built.file), { recursive: true, force: true });
  }
}
