// Aeraki's route mirroring (MetaRouter mirror / mirrorPercentage) on one service port. Only
// thrift_proxy's router can mirror (RouteAction.request_mirror_policies, envoy api
// extensions/filters/network/thrift_proxy/v3/route.proto); its routes are one per destination cluster (the
// routing key), so a mirror rides on the clusters its route forwards to, and two routes reaching one
// cluster must mirror alike. dubbo_proxy has no mirroring, and perConnection mode no router: refused,
// visibly (MirrorNotSupported), the route forwarding normally.
import { outboundCluster } from "../discovery/hosts";
import type { MeltemiPort, MeltemiService } from "../discovery/services";
import type { SubsetIndex } from "../discovery/subsets";
import type { Diagnostics } from "./diagnostics";
import type { ThriftMirror } from "./envoy/thrift_proxy";
import type { RouterIntent } from "./intent";
import { THRIFT_PROXY, nativeRouterOf } from "./codecs";
import type { RoutingMode } from "./protocols";

export interface MirrorInput {
  router: RouterIntent;
  service: MeltemiService;
  port: MeltemiPort;
  codec: string;
  mode: RoutingMode;
  /** The clusters each route of the router forwards to, in route order. */
  routeClusters: readonly string[][];
  subsets: SubsetIndex;
  servicesByHost: ReadonlyMap<string, MeltemiService>;
  diags: Diagnostics;
}

/** The thrift_proxy mirrors by routed cluster (empty when nothing is mirrored or it cannot be). */
export function thriftMirrors(input: MirrorInput): Map<string, ThriftMirror> {
  const { router, service, port, codec, mode, routeClusters, subsets, servicesByHost, diags } = input;
  const mirrors = new Map<string, ThriftMirror>();
  const mirrored = router.routes.map((r, i) => ({ r, clusters: routeClusters[i] ?? [] })).filter((e) => e.r.mirror);
  if (mirrored.length === 0) return mirrors;
  if (nativeRouterOf(codec) !== THRIFT_PROXY || mode !== "perRequest") {
    const why = mode !== "perRequest" ? "perConnection routing has no per-request router to copy requests" : `Envoy's native router for codec "${codec}" cannot mirror (only thrift_proxy has request_mirror_policies)`;
    for (const { r } of mirrored) diags.degrade(router.source, "MirrorNotSupported", `traffic mirroring is not applied on ${service.host} port ${port.number}: ${why}; the route forwards normally`, `${r.path}.mirror`);
    return mirrors;
  }
  const planned = new Map<string, { mirror: ThriftMirror; path: string }>();
  for (const { r, clusters } of mirrored) {
    const m = r.mirror!;
    if (m.subset !== undefined && !subsets.subsets(m.host).has(m.subset)) {
      diags.warn(router.source, "SubsetNotFound", `no DestinationRule defines subset "${m.subset}" of ${m.host}: mirrored copies are dropped until one does`, `${r.path}.mirror`);
    }
    const other = servicesByHost.get(m.host);
    const mirrorPort = m.port ?? (m.host === service.host ? port.number : other?.ports.length === 1 ? other.ports[0]!.number : port.number);
    const mirror: ThriftMirror = { cluster: outboundCluster(mirrorPort, m.subset, m.host) };
    if (m.percent !== undefined) mirror.percent = m.percent;
    for (const cluster of clusters) {
      const before = planned.get(cluster);
      if (before && JSON.stringify(before.mirror) !== JSON.stringify(mirror)) {
        diags.degrade(router.source, "MirrorNotSupported", `${cluster} is reached by ${before.path} and ${r.path}, which mirror differently; thrift_proxy mirrors per destination cluster, so ${r.path}'s mirror is not applied there`, `${r.path}.mirror`);
        continue;
      }
      planned.set(cluster, { mirror, path: r.path });
    }
  }
  // A route without mirror reaching a mirrored cluster would be mirrored too: refuse the mirror there.
  router.routes.forEach((r, i) => {
    if (r.mirror) return;
    for (const cluster of routeClusters[i] ?? []) {
      const p = planned.get(cluster);
      if (!p) continue;
      diags.degrade(router.source, "MirrorNotSupported", `${cluster} is also reached by ${r.path}, which does not mirror; thrift_proxy mirrors per destination cluster, so ${p.path}'s mirror is not applied to ${cluster}`, `${p.path}.mirror`);
      planned.delete(cluster);
    }
  });
  for (const [cluster, p] of planned) mirrors.set(cluster, p.mirror);
  return mirrors;
}
