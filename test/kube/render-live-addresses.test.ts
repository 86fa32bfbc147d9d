// `meltemi render --kubeconfig` against a real kube-apiserver: files from Git (a Service without
// clusterIP, a ServiceEntry without addresses, a MetaRouter for each) render the callers' EnvoyFilters
// on the listeners named after the VIPs the cluster holds: the clusterIP the API server allocated, the
// ServiceEntry's spec.addresses (as Aeraki's allocator writes them). Without the flag the same files
// render with ServiceAddressUnknown and no EnvoyFilter; a file naming an object the cluster lacks says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { withKubeApiserver, type KubeApiserver } from "./apiserver";
import { Cluster, K } from "./cluster_objects";
import { repoRoot } from "../controller/support";

function meltemi(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "controller/cli.ts", ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const FILES = `
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: shop}
spec:
  selector: {app: orders}
  ports: [{name: tcp-metaprotocol-dubbo, port: 20880, targetPort: 20880}]
---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: ledger, namespace: shop}
spec:
  hosts: [ledger.example.internal]
  ports: [{number: 9090, name: tcp-metaprotocol-thrift, protocol: TCP}]
  workloadSelector: {labels: {app: ledger}}
  resolution: STATIC
---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: orders, namespace: shop}
spec:
  hosts: [orders.shop.svc.cluster.local]
  routes: [{name: all, route: [{destination: {host: orders.shop.svc.cluster.local}}]}]
---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: ledger, namespace: shop}
spec:
  hosts: [ledger.example.internal]
  routes: [{name: all, route: [{destination: {host: ledger.example.internal}}]}]
`;

type Obj = { kind: string; metadata: { name: string }; spec: { configPatches?: { match?: { listener?: { name: string } } }[] } };
const listenersOf = (stdout: string) =>
  (JSON.parse(stdout) as { items: Obj[] }).items
    .filter((o) => o.kind === "EnvoyFilter")
    .flatMap((o) => (o.spec.configPatches ?? []).map((p) => p.match?.listener?.name).filter((n): n is string => !!n))
    .filter((n, i, all) => all.indexOf(n) === i)
    .sort();

test("render --kubeconfig reads the VIPs the files lack from a real API server", { timeout: 300_000 }, async () => {
  await withKubeApiserver({}, async (kube: KubeApiserver) => {
    await kube.installIstioCrds();
    const c = new Cluster(kube);
    await c.create(K.namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
    const svc = await c.create(K.service, { apiVersion: "v1", kind: "Service", metadata: { name: "orders", namespace: "shop" }, spec: { selector: { app: "orders" }, ports: [{ name: "tcp-metaprotocol-dubbo", port: 20880, targetPort: 20880 }] } });
    const clusterIP = (svc.spec as { clusterIP: string }).clusterIP;
    assert.match(clusterIP, /^\d+\.\d+\.\d+\.\d+$/, "the API server allocated a clusterIP");
    await c.create(K.serviceEntry, {
      apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "ledger", namespace: "shop" },
      spec: { hosts: ["ledger.example.internal"], addresses: ["240.240.0.7"], ports: [{ number: 9090, name: "tcp-metaprotocol-thrift", protocol: "TCP" }], workloadSelector: { labels: { app: "ledger" } }, resolution: "STATIC" },
    });
    const dir = fs.mkdtempSync(path.join(kube.dir, "git-"));
    fs.writeFileSync(path.join(dir, "app.yaml"), FILES);

    const offline = await meltemi(["render", "-f", dir, "-o", "json"]);
    assert.equal(offline.status, 0, offline.stderr);
    assert.deepEqual(listenersOf(offline.stdout), []);
    assert.equal(offline.stderr.match(/ServiceAddressUnknown/g)?.length, 2, offline.stderr);

    const live = await meltemi(["render", "-f", dir, "-o", "json", "--kubeconfig", kube.kubeconfigPath]);
    assert.equal(live.status, 0, live.stderr);
    assert.deepEqual(listenersOf(live.stdout), [`${clusterIP}_20880`, "240.240.0.7_9090"].sort());
    assert.doesNotMatch(live.stderr, /ServiceAddressUnknown/);
    assert.match(live.stderr, new RegExp(`address from the cluster: Service shop/orders: ${clusterIP.replace(/\./g, "\\.")}`));

    // An object the cluster does not have: said, and rendered as offline.
    fs.writeFileSync(path.join(dir, "more.yaml"), "apiVersion: v1\nkind: Service\nmetadata: {name: missing, namespace: shop}\nspec: {selector: {app: m}, ports: [{name: tcp-metaprotocol-dubbo, port: 20880}]}\n");
    const partial = await meltemi(["render", "-f", dir, "-o", "json", "--kubeconfig", kube.kubeconfigPath]);
    assert.equal(partial.status, 0, partial.stderr);
    assert.match(partial.stderr, /no address from the cluster: Service shop\/missing: not in the cluster/);
  });
});
