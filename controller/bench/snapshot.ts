// The benchmark's synthetic input: n Meltemi services (half Dubbo, half Thrift), each with a
// DestinationRule of two subsets and a MetaRouter with a method route, a weighted split and a local
// rate limit. Also used by the tests of the YAML writer as realistic output.
import { emptySnapshot, type Snapshot } from "../translate/snapshot";

export const BENCH_DIGEST = "ab".repeat(32);

export const benchOptions = { wasm: { url: `oci://registry.example/meltemi@sha256:${BENCH_DIGEST}`, sha256: BENCH_DIGEST } };

export function benchSnapshot(n: number): Snapshot {
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
