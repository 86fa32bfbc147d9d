// Installs CustomResourceDefinitions from a multi-document YAML file (Istio's
// customresourcedefinitions.gen.yaml) with server-side apply, so installing twice is harmless, and
// waits until the apiserver serves each one (condition Established=True).
import fs from "node:fs";
import {
  ApiextensionsV1Api,
  KubeConfig,
  KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  V1CustomResourceDefinition,
  loadAllYaml,
} from "@kubernetes/client-node";
import { sleep } from "./process";

const fieldManager = "meltemi-test-harness";

/** Applies every CRD in `yamlPath`; returns their names once all are Established. */
export async function installCrds(kc: KubeConfig, yamlPath: string, timeoutMs = 60_000): Promise<string[]> {
  // client-node's loadAllYaml, not a plain YAML parser: KubernetesObjectApi serializes built-in kinds
  // through its generated models, which read their own property names (`x_kubernetes_int_or_string`,
  // `_enum`, `_default`, `ref`), so a plain object's `x-kubernetes-*`, `enum`, `default`, `$ref` keys
  // would be dropped silently and the apiserver would reject the CRDs. loadAllYaml maps them first.
  const docs = (loadAllYaml(fs.readFileSync(yamlPath, "utf8")) as (KubernetesObject | null)[])
    .filter((d): d is V1CustomResourceDefinition => d?.kind === "CustomResourceDefinition");
  if (docs.length === 0) throw new Error(`${yamlPath} holds no CustomResourceDefinition`);

  const objects = KubernetesObjectApi.makeApiClient(kc);
  for (const crd of docs) {
    try {
      await objects.patch(crd, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
    } catch (err) {
      throw new Error(`applying CRD ${crd.metadata?.name}: ${describeError(err)}`);
    }
  }

  const names = docs.map((d) => d.metadata!.name!);
  const crdApi = kc.makeApiClient(ApiextensionsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = await crdApi.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) {
        throw new Error(`CRD ${name} not Established in ${timeoutMs} ms: ${JSON.stringify(crd.status?.conditions)}`);
      }
      await sleep(100);
    }
  }
  return names;
}

/** client-node's ApiException carries the HTTP code and the apiserver's Status body. */
export function describeError(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  if (e && typeof e.code === "number" && e.body !== undefined) {
    const body = typeof e.body === "string" ? e.body : JSON.stringify(e.body);
    return `HTTP ${e.code}: ${body.slice(0, 2000)}`;
  }
  return String(e?.message ?? err);
}
