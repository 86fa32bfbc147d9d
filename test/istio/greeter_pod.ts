// The serving side the Istio tests share: namespace `shop`, the greeter Service (a framed binary Thrift
// port on 9090, Meltemi's perRequest RpcProtocol) and one serving pod at 127.0.1.1 whose sidecar
// forwards to a Thrift app answering "hi <name>".
import { WIRES, startServer } from "../codec/thrift/peers";
import type { Mesh } from "./mesh";
import type { SidecarPod } from "./sidecar";

export const NS = "shop";
export const POD_IP = "127.0.1.1";
export const PORT = 9090;
export const wire = WIRES.find((w) => w.name === "framed binary")!;

/** The greeter Service and its serving pod (server-side applies: a second call changes nothing). */
export async function greeterPod(mesh: Mesh): Promise<SidecarPod> {
  await mesh.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  await mesh.apply({ apiVersion: "meltemi.dev/v1alpha1", kind: "RpcProtocol", metadata: { name: "framedthrift" }, spec: { codec: "thrift", routingMode: "perRequest", thrift: { transport: "FRAMED", protocol: "BINARY" } } });
  await mesh.apply({
    apiVersion: "v1", kind: "Service", metadata: { name: "greeter", namespace: NS },
    spec: { selector: { app: "greeter" }, ports: [{ name: "tcp-metaprotocol-framedthrift-api", port: PORT, targetPort: PORT }] },
  });
  const app = await startServer(wire, { greeting: "hi" });
  mesh.onStop(() => app.close());
  return mesh.pod({
    name: "greeter-v1", namespace: NS, serviceAccount: "greeter", labels: { app: "greeter", version: "v1" }, ip: POD_IP,
    // NONE interception: the inbound listener binds the pod's address and forwards to the app.
    sidecar: { ingress: [{ port: { number: PORT, protocol: "TCP", name: "tcp-thrift" }, bind: POD_IP, defaultEndpoint: `127.0.0.1:${app.port}` }], egress: [{ hosts: [`${NS}/*`] }] },
  });
}
