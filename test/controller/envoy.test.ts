// The Envoy configuration functions the controller and the filter's real-Envoy tests share.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DUBBO_CLUSTER_ATTACHMENT, dubboProxyConfig, tcpProxyEarlyDataPatch, tcpProxyFilter, thriftProxyConfig, thriftRoutedName, wasmNetworkFilter,
} from "../../controller/translate/envoy/index";

const v1 = "outbound|9090|v1|svc.ns.svc.cluster.local";
const v2 = "outbound|9090|v2|svc.ns.svc.cluster.local";

test("thrift_proxy: one service-name route per cluster, prefix stripped, clusters not validated at load", () => {
  const cfg = thriftProxyConfig({ statPrefix: "p", routeConfigName: "r", clusters: [v1, v2, v1], transport: "FRAMED" }) as any;
  assert.equal(cfg["@type"], "type.googleapis.com/envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy");
  assert.equal(cfg.transport, "FRAMED");
  assert.equal(cfg.protocol, "AUTO_PROTOCOL");
  assert.equal(cfg.route_config.validate_clusters, false);
  assert.deepEqual(cfg.route_config.routes, [
    { match: { service_name: v1 }, route: { cluster: v1, strip_service_name: true } },
    { match: { service_name: v2 }, route: { cluster: v2, strip_service_name: true } },
  ]);
  assert.equal(thriftRoutedName(v2, "sayHello"), `${v2}:sayHello`);
  assert.throws(() => thriftProxyConfig({ statPrefix: "p", routeConfigName: "r", clusters: ["a:b"] }), /Thrift routing prefix/);
});

test("dubbo_proxy: routes on the x-meltemi-cluster attachment, any interface and method", () => {
  const cfg = dubboProxyConfig({ statPrefix: "p", routeConfigName: "r", clusters: [v1, v2] }) as any;
  assert.equal(cfg.protocol_type, "Dubbo");
  assert.equal(cfg.serialization_type, "Hessian2");
  assert.equal(cfg.route_config, undefined, "route_config is deprecated; multiple_route_config is used");
  const [rc] = cfg.multiple_route_config.route_config;
  assert.equal(rc.interface, "*");
  assert.deepEqual(rc.routes.map((r: any) => [r.match.headers[0].name, r.match.headers[0].string_match.exact, r.route.cluster]), [
    [DUBBO_CLUSTER_ATTACHMENT, v1, v1],
    [DUBBO_CLUSTER_ATTACHMENT, v2, v2],
  ]);
  assert.deepEqual(rc.routes[0].match.method, { name: { safe_regex: { regex: ".*" } } });
});

test("tcp_proxy early data: within Envoy's 1 MiB, optional connect mode", () => {
  assert.deepEqual(tcpProxyEarlyDataPatch({ earlyDataBytes: 65536 }), {
    name: "envoy.filters.network.tcp_proxy",
    typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", max_early_data_bytes: 65536 },
  });
  assert.equal((tcpProxyEarlyDataPatch({ earlyDataBytes: 1, upstreamConnectMode: "ON_DOWNSTREAM_DATA" }).typed_config as any).upstream_connect_mode, "ON_DOWNSTREAM_DATA");
  assert.throws(() => tcpProxyEarlyDataPatch({ earlyDataBytes: (1 << 20) + 1 }), RangeError);
  assert.throws(() => tcpProxyEarlyDataPatch({ earlyDataBytes: 0 }), RangeError);
  const full = tcpProxyFilter({ earlyDataBytes: 1024, statPrefix: "s", cluster: "upstream" }) as any;
  assert.deepEqual([full.typed_config.cluster, full.typed_config.stat_prefix, full.typed_config.max_early_data_bytes], ["upstream", "s", 1024]);
});

test("wasm network filter: configuration as a JSON StringValue, local or remote code", () => {
  const local = wasmNetworkFilter({ name: "m", code: { local: "/x.wasm" }, configuration: { version: 1 } }) as any;
  assert.equal(local.name, "envoy.filters.network.wasm");
  assert.equal(local.typed_config.config.configuration.value, '{"version":1}');
  assert.deepEqual(local.typed_config.config.vm_config.code, { local: { filename: "/x.wasm" } });
  const remote = wasmNetworkFilter({ name: "m", code: { remote: { uri: "oci://r/m@sha256:ab", sha256: "ab" } }, configuration: {}, failurePolicy: "FAIL_RELOAD" }) as any;
  assert.equal(remote.typed_config.config.vm_config.code.remote.sha256, "ab");
  assert.equal(remote.typed_config.config.failure_policy, "FAIL_RELOAD");
  assert.equal(local.typed_config.config.failure_policy, undefined, "unset: Envoy's default (FAIL_CLOSED)");
});
