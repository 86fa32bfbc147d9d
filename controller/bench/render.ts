// Benchmark: the translation of 10,000 Meltemi services (each with a DestinationRule, a MetaRouter with
// a weighted split and a local rate limit) and their YAML output. Prints the times; PERFORMANCE.md's bar
// is < 2 s. Not a test: timings vary with the machine.
//   node --import tsx controller/bench/render.ts [services]
import { performance } from "node:perf_hooks";
import { toYaml } from "../render/output";
import { emptySnapshot, type Snapshot } from "../translate/snapshot";
import { translate } from "../translate/translate";

const count = Number(process.argv[2] ?? 10_000);
const digest = "ab".repeat(32);

function snapshotOf(n: number): Snapshot {
  const s = emptySnapshot();
  for (let i = 0; i < n; i++) {
    const ns = `team-${i % 100}`;
    const name = `svc-${i}`;
    const host = `${name}.${ns}.svc.cluster.local`;
    s.services.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: ns, uid: `uid-${i}` },
      spec: { clusterIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, selector: { app: name }, ports: [{ name: i % 2 ? "tcp-metaprotocol-dubbo" : "tcp-metaprotocol-thrift-api", port: 20880 }] },
    });
    s.destinationRules.push({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name, namespace: ns }, spec: { host, subsets: [{ name: "v1", labels: { v: "1" } }, { name: "v2", labels: { v: "2" } }] } });
    s.metaRouters.push({
      apiVersion: "metaprotocol.aeraki.io/v1alpha1",
      kind: "MetaRouter",
      metadata: { name, namespace: ns, uid: `mr-${i}` },
      spec: {
        hosts: [host],
        routes: [
          { name: "vip", match: { attributes: { method: { exact: "sayHello" }, user: { prefix: "vip-" } } }, route: [{ destination: { host, subset: "v2" } }] },
          { name: "split", route: [{ destination: { host, subset: "v1" }, weight: 80 }, { destination: { host, subset: "v2" }, weight: 20 }] },
        ],
        localRateLimit: { tokenBucket: { maxTokens: 100, tokensPerFill: 100, fillInterval: "1s" }, conditions: [{ match: { attributes: { method: { exact: "batch" } } }, tokenBucket: { maxTokens: 5, fillInterval: "1s" } }] },
      },
    });
  }
  return s;
}

const snapshot = snapshotOf(count);
const t0 = performance.now();
const result = translate(snapshot, { wasm: { url: `oci://registry.example/meltemi@sha256:${digest}`, sha256: digest } });
const t1 = performance.now();
const yaml = toYaml(result.objects);
const t2 = performance.now();
const errors = result.diagnostics.filter((d) => d.severity === "error").length;
console.log(`services: ${count}, objects: ${result.objects.length}, errors: ${errors}, YAML: ${(yaml.length / 1e6).toFixed(1)} MB`);
console.log(`translate: ${((t1 - t0) / 1000).toFixed(2)} s, YAML: ${((t2 - t1) / 1000).toFixed(2)} s, total: ${((t2 - t0) / 1000).toFixed(2)} s (bar: < 2 s)`);
