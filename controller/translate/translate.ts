// The translation: a pure function from a snapshot of the inputs to the desired Istio objects, the
// diagnostics, and the Ready condition of every Meltemi / Aeraki input. Same inputs, same output, in a
// deterministic order; no clock, no I/O. The runtime (watch, apply, status) and `meltemi render` wrap it.
import { outboundCluster } from "../discovery/hosts";
import { discoverServices, type MeltemiPort, type MeltemiService } from "../discovery/services";
import { indexSubsets, type SubsetIndex } from "../discovery/subsets";
import { INPUTS } from "../k8s/kinds";
import { describeRef, refOf, type KubeObject, type ObjectRef } from "../k8s/objects";
import { adaptiveRateLimitIntent, reportNoEngine } from "./adaptive_intent";
import { limiterKey, type AdaptiveLimiter } from "./adaptive_limiter";
import { readDubboAuthorizationPolicy, readRpcAuthorizationPolicy } from "./authorization";
import { clientEnvoyFilter } from "./client_envoy_filter";
import { reportHostConsistentHashes, reportRouterConsistentHashes, type ResolvedDestination } from "./consistent_hash_refusals";
import { Diagnostics, type Diagnostic } from "./diagnostics";
import { isThriftRoutable } from "./envoy/routing_key";
import { MAX_EARLY_DATA_BYTES } from "./envoy/tcp_proxy";
import { clientConfig, serverConfig, type FilterAuthorizationPolicy, type FilterConfig, type FilterRoute } from "./filter_config";
import { rateLimitServiceProblem } from "./global_rate_limit";
import { rateLimitHttp2Filter } from "./rate_limit_http2";
import type { AuthorizationIntent, RateLimitIntent, RouterIntent } from "./intent";
import { readMetaRouter } from "./metarouter";
import { thriftMirrors } from "./mirrors";
import { tracingFor, type FilterTracing, type MeshTracingConfig } from "./tracing";
import { withDefaults, type TranslateOptions } from "./options";
import { shortHost } from "./ownership";
import { hasNativeRouter } from "./codecs";
import { resolveProtocols, type ProtocolBinding } from "./protocols";
import { readRpcRateLimit } from "./rate_limit";
import { readRpcRouter } from "./router";
import { matchBudgetProblem } from "./regex_check";
import { filterConfigProblems } from "./schema_check";
import { serverPlugin } from "./server_plugin";
import { slimeGlobalConfigMap, slimeGlobalLimits } from "./slime_global";
import { readSmartLimiter, smartLimiterHost } from "./smart_limiter";
import type { Snapshot } from "./snapshot";
import { readyStatus, refKey, type InputStatus } from "./status";

export interface TranslateResult {
  objects: KubeObject[];
  diagnostics: Diagnostic[];
  status: InputStatus[];
}

export class InvalidOptionsError extends Error {}

function checkOptions(o: TranslateOptions): void {
  if (!/^(oci|https?|file):\/\/\S+$/.test(o.wasm.url)) throw new InvalidOptionsError(`wasm url must be oci://, https://, http:// or file://, got "${o.wasm.url}"`);
  if (!/^[a-f0-9]{64}$/.test(o.wasm.sha256)) throw new InvalidOptionsError(`wasm sha256 must be 64 lower-case hex digits, got "${o.wasm.sha256}"`);
  const pinned = /@sha256:([a-f0-9]{64})$/.exec(o.wasm.url)?.[1];
  if (pinned && pinned !== o.wasm.sha256) throw new InvalidOptionsError(`the url pins sha256:${pinned} but sha256 is ${o.wasm.sha256} (Istio requires them to match)`);
  if (!Number.isInteger(o.earlyDataBytes) || o.earlyDataBytes < 1 || o.earlyDataBytes > MAX_EARLY_DATA_BYTES) throw new InvalidOptionsError(`earlyDataBytes must be 1..${MAX_EARLY_DATA_BYTES}`);
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A stable sort on a string key computed once per element (not once per comparison). */
function sortedByKey<T>(list: readonly T[], keyOf: (item: T) => string): T[] {
  return list
    .map((item) => ({ item, key: keyOf(item) }))
    .sort((a, b) => compareStrings(a.key, b.key))
    .map((e) => e.item);
}

const byNamespaceName = <T extends KubeObject>(list: readonly T[]): T[] => sortedByKey(list, (o) => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`);

function compareObjects(a: KubeObject, b: KubeObject): number {
  return (
    compareStrings(a.apiVersion, b.apiVersion) ||
    compareStrings(a.kind, b.kind) ||
    compareStrings(a.metadata.namespace ?? "", b.metadata.namespace ?? "") ||
    compareStrings(a.metadata.name ?? "", b.metadata.name ?? "")
  );
}

/**
 * Picks one intent for (host, port): one from the host's own namespace first (a MetaRouter is
 * mesh-scoped, as in Aeraki: another namespace's must not win by its name's sort order), then the
 * first in the given order (Meltemi's before Aeraki's, then namespace/name). Reports the others as
 * conflicts, once each.
 */
class Claims<T extends { source: ObjectRef; host: string; port?: number }> {
  private readonly byHost = new Map<string, T[]>();
  private readonly reported = new Set<string>();
  constructor(intents: T[], private readonly what: string) {
    for (const i of intents) {
      const list = this.byHost.get(i.host) ?? [];
      list.push(i);
      this.byHost.set(i.host, list);
    }
  }
  hosts(): string[] {
    return [...this.byHost.keys()];
  }
  forHost(host: string): T[] {
    return this.byHost.get(host) ?? [];
  }
  pick(host: string, port: number, hostNamespace: string, diags: Diagnostics): T | undefined {
    const matching = this.forHost(host).filter((i) => i.port === undefined || i.port === port);
    const candidates = [...matching.filter((i) => i.source.namespace === hostNamespace), ...matching.filter((i) => i.source.namespace !== hostNamespace)];
    const winner = candidates[0];
    for (const loser of candidates.slice(1)) {
      const key = `${refKey(loser.source)}@${port}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      diags.error(loser.source, "Conflict", `${describeRef(winner!.source)} already sets the ${this.what} of ${host} port ${port}; this one is not applied there`);
    }
    return winner;
  }
}

interface Context {
  options: TranslateOptions;
  diags: Diagnostics;
  subsets: SubsetIndex;
  servicesByHost: Map<string, MeltemiService>;
  /** refKeys of the authorization policies in some serving plugin's configuration. */
  enforced: Set<string>;
  telemetries: readonly KubeObject[];
  /** Istio's MeshConfig read by the runtime (Snapshot.meshConfig), over options.mesh. */
  mesh: MeshTracingConfig | undefined;
  /** Tracing notes already reported (one warning per object and note, not one per port and side). */
  tracingNotes: Set<string>;
  /** Rate limit service clusters Istio builds as plain TCP: the controller adds HTTP/2 to them (rate_limit_http2.ts). */
  http2Clusters: Set<string>;
}

/** The filter's tracing for one side in `namespace` (tracing.ts); notes become warnings, on the RpcProtocol when its override is involved. */
function tracingOf(side: "client" | "server", namespace: string, binding: ProtocolBinding, owner: ObjectRef, ctx: Context, serviceName?: string): FilterTracing | undefined {
  const input: Parameters<typeof tracingFor>[0] = { side, namespace, rootNamespace: ctx.options.rootNamespace, telemetries: ctx.telemetries };
  const mesh = ctx.mesh ?? ctx.options.mesh;
  if (mesh) input.mesh = mesh;
  if (binding.tracing) input.override = binding.tracing;
  if (serviceName) input.serviceName = serviceName;
  const result = tracingFor(input);
  const blame = binding.tracing && binding.source ? binding.source : owner;
  for (const note of result.notes) {
    const key = `${refKey(blame)}|${note}`;
    if (ctx.tracingNotes.has(key)) continue;
    ctx.tracingNotes.add(key);
    ctx.diags.warn(blame, "TracingNotApplied", note);
  }
  return result.tracing;
}

/** The filter's routes for a router on one service port, every cluster they name, and each route's clusters. */
function filterRoutes(router: RouterIntent, service: MeltemiService, port: MeltemiPort, ctx: Context): { routes: FilterRoute[]; clusters: string[]; routeClusters: string[][]; routeDestinations: ResolvedDestination[][] } | null {
  const routes: FilterRoute[] = [];
  const clusters: string[] = [];
  const routeClusters: string[][] = [];
  const routeDestinations: ResolvedDestination[][] = [];
  let ok = true;
  for (const r of router.routes) {
    const resolved: ResolvedDestination[] = [];
    const destinations = r.destinations.map((d, j) => {
      let destPort = d.port;
      if (destPort === undefined) {
        if (d.host === service.host) destPort = port.number;
        else {
          const other = ctx.servicesByHost.get(d.host);
          if (other && other.ports.length === 1) destPort = other.ports[0]!.number;
          else if (other && other.ports.some((p) => p.number === port.number)) destPort = port.number;
          else if (other) {
            ctx.diags.error(router.source, "AmbiguousPort", `destination ${d.host} has several Meltemi ports; set its port`, `${r.path}.destinations[${j}]`);
            ok = false;
            destPort = port.number;
          } else destPort = port.number;
        }
      }
      if (d.host !== service.host && !ctx.servicesByHost.has(d.host)) {
        ctx.diags.warn(router.source, "UnknownDestination", `destination host ${d.host} is not a known Meltemi service; its cluster may not exist`, r.path);
      }
      if (d.subset !== undefined && !ctx.subsets.subsets(d.host).has(d.subset)) {
        ctx.diags.warn(router.source, "SubsetNotFound", `no DestinationRule defines subset "${d.subset}" of ${d.host}: requests routed there fail until one does`, r.path);
      }
      const cluster = outboundCluster(destPort, d.subset, d.host);
      resolved.push({ host: d.host, ...(d.subset !== undefined ? { subset: d.subset } : {}), port: destPort });
      if (!isThriftRoutable(cluster)) {
        ctx.diags.error(router.source, "InvalidCluster", `cluster ${cluster} cannot be carried as a routing key`, r.path);
        ok = false;
      }
      if (!clusters.includes(cluster)) clusters.push(cluster);
      return { cluster, weight: d.weight };
    });
    const route = {} as FilterRoute;
    if (r.name !== undefined) route.name = r.name;
    if (r.match) route.match = r.match;
    route.destinations = destinations;
    routeClusters.push(destinations.map((d) => d.cluster));
    routeDestinations.push(resolved);
    if (r.hashKey !== undefined) route.hashKey = r.hashKey;
    if (r.requestMutation) route.requestMutation = r.requestMutation;
    if (r.responseMutation) route.responseMutation = r.responseMutation;
    routes.push(route);
  }
  if (routes.length === 0) {
    // Faults or mutations only: requests still need a destination, the service itself.
    const cluster = outboundCluster(port.number, undefined, service.host);
    routes.push({ name: "default", destinations: [{ cluster, weight: 1 }] });
    clusters.push(cluster);
  }
  return ok ? { routes, clusters, routeClusters, routeDestinations } : null;
}

/**
 * The configuration, or null (reported) when the filter would refuse it. `blame` are refused; `notHere`
 * (authorization policies, which apply to several services) are degraded: in force elsewhere.
 */
function checkedConfig(config: FilterConfig, blame: ObjectRef[], ctx: Context, notHere: ObjectRef[] = []): FilterConfig | null {
  const problems = filterConfigProblems(config);
  if (problems.length === 0) {
    const budget = matchBudgetProblem(config);
    if (budget === null) return config;
    const msg = `the filter configuration for ${config.name ?? "?"} would be refused by the filter: ${budget}`;
    for (const ref of blame) ctx.diags.error(ref, "RegexBudget", msg);
    for (const ref of notHere) ctx.diags.degrade(ref, "RegexBudget", `not enforced there: ${msg}`);
    return null;
  }
  const msg = `the filter configuration for ${config.name ?? "?"} breaks filter-config.schema.json: ${problems.join("; ")}`;
  for (const ref of blame) ctx.diags.error(ref, "InvalidFilterConfig", msg);
  for (const ref of notHere) ctx.diags.degrade(ref, "InvalidFilterConfig", `not enforced there: ${msg}`);
  return null;
}

function serverSide(service: MeltemiService, port: MeltemiPort, binding: ProtocolBinding, rateLimit: RateLimitIntent | undefined, policies: AuthorizationIntent[], ctx: Context): KubeObject[] | null {
  const { diags, options } = ctx;
  // A rate limit names its one host: refused when it cannot be enforced there. An authorization
  // policy applies to every service in its scope: it stays enforced on the others (fail closed where
  // it can be), and is degraded, naming this service.
  const limitRefs = rateLimit ? [rateLimit.source] : [];
  const policyRefs = policies.map((p) => p.source);
  const notEnforced = (reason: string, msg: string) => {
    for (const ref of limitRefs) diags.error(ref, reason, msg);
    for (const ref of policyRefs) diags.degrade(ref, reason, `not enforced on ${service.host} port ${port.number}: ${msg}`);
  };
  if (!service.selector) {
    notEnforced("NoWorkloads", `${service.host} has no workload selector: there are no serving proxies to enforce this in`);
    return null;
  }
  if (port.targetPort === undefined) {
    const msg = `port ${port.number} targets the named container port "${port.targetPortName}"; the serving side needs its number (use a numeric targetPort)`;
    diags.warn(service.object, "NamedTargetPort", msg);
    notEnforced("NamedTargetPort", `${service.host}: ${msg}`);
    return null;
  }
  const input: Parameters<typeof serverConfig>[0] = {
    name: `${shortHost(service.host, options.clusterDomain)}:${port.targetPort}/server`,
    codec: binding.codec,
    authorization: policies.map((p): FilterAuthorizationPolicy => p.policy),
  };
  if (binding.limits) input.limits = binding.limits;
  if (rateLimit?.localRateLimit) input.localRateLimit = rateLimit.localRateLimit;
  if (rateLimit?.globalLimits?.length) input.globalLimits = rateLimit.globalLimits;
  const tracing = tracingOf("server", service.namespace, binding, service.object, ctx, shortHost(service.host, options.clusterDomain));
  if (tracing) input.tracing = tracing;
  const config = checkedConfig(serverConfig(input), [service.object, ...limitRefs], ctx, policyRefs);
  if (!config) return null;
  for (const p of policies) ctx.enforced.add(refKey(p.source));
  const nameBase = service.object.kind === "Service" ? service.object.name : shortHost(service.host, options.clusterDomain);
  const subsetPlugins: KubeObject[] = [];
  for (const subset of rateLimit?.subsets ?? []) {
    const labels = ctx.subsets.labels(service.host, subset.name);
    if (!labels || Object.keys(labels).length === 0) {
      diags.degrade(rateLimit!.source, "SubsetNotFound", `no DestinationRule defines subset "${subset.name}" of ${service.host} with labels: its limits are not applied`);
      continue;
    }
    const subsetConfig = checkedConfig(
      serverConfig({ name: `${input.name}/${subset.name}`, codec: binding.codec, ...(binding.limits ? { limits: binding.limits } : {}), localRateLimit: subset.localRateLimit, authorization: [] }),
      [rateLimit!.source],
      ctx,
    );
    if (!subsetConfig) continue;
    subsetPlugins.push(serverPlugin({
      service: { ...service, selector: { ...service.selector, ...labels } } as MeltemiService & { selector: Record<string, string> },
      port: port as MeltemiPort & { targetPort: number },
      config: subsetConfig,
      failStrategy: options.failStrategy,
      options,
      nameBase: `${nameBase}-${subset.name}`,
    }));
  }
  // The global limits' rate limit services that need HTTP/2 added, in the same workloads as the plugin.
  const http2Clusters = (config.globalLimits ?? []).map((g) => g.cluster).filter((c) => ctx.http2Clusters.has(c));
  const http2Filters = http2Clusters.length > 0 && rateLimit
    ? [rateLimitHttp2Filter({ nameBase, targetPort: port.targetPort, namespace: service.namespace, selector: service.selector, owner: rateLimit.source, clusters: http2Clusters })]
    : [];
  return [serverPlugin({
    service: service as MeltemiService & { selector: Record<string, string> },
    port: port as MeltemiPort & { targetPort: number },
    config,
    // A failed module must not let every call through where access control is enforced.
    failStrategy: policies.length > 0 && options.failStrategy === "FAIL_OPEN" ? "FAIL_RELOAD" : options.failStrategy,
    options,
    nameBase,
  }), ...subsetPlugins, ...http2Filters];
}

function clientSide(service: MeltemiService, port: MeltemiPort, binding: ProtocolBinding, router: RouterIntent, ctx: Context): KubeObject[] {
  const { diags, options } = ctx;
  const mode = router.routingMode ?? binding.routingMode;
  if (mode === "perRequest" && !hasNativeRouter(binding.codec)) {
    diags.error(router.source, "NoNativeRouter", `perRequest routing needs a native Envoy router; codec "${binding.codec}" has none (use perConnection)`);
    return [];
  }
  const table = filterRoutes(router, service, port, ctx);
  if (!table) return [];
  // Before the address checks: what cannot be carried is reported even where nothing is rendered.
  const mirrors = thriftMirrors({ router, service, port, codec: binding.codec, mode, routeClusters: table.routeClusters, subsets: ctx.subsets, servicesByHost: ctx.servicesByHost, diags });
  reportRouterConsistentHashes(router, mode, table.routeDestinations, ctx.subsets, diags);
  if (service.headless) {
    diags.error(router.source, "HeadlessService", `${service.host} is headless: callers connect to pod addresses, there is no service listener to route on`);
    return [];
  }
  if (service.addresses.length === 0) {
    // Callers' listener of a TCP service port is `<vip>_<port>`, and an EnvoyFilter names a listener
    // exactly (client_envoy_filter.ts). Without a VIP there is nothing to name:
    if (service.object.uid === undefined) {
      // Read from files (a Git repository): the API server allocates the clusterIP (Istio or Aeraki the
      // ServiceEntry VIP) only when the object is created. Not an error in the input.
      const msg = `no VIP is known for ${service.host} (the input has no ${service.object.kind === "Service" ? "spec.clusterIP" : "spec.addresses"}, as in a Git repository): the callers' EnvoyFilter, which names the listener <vip>_${port.number}, is not rendered; \`render --kubeconfig\` reads the VIPs from a cluster, and \`meltemi controller\` reads them from the live objects`;
      diags.degrade(router.source, "ServiceAddressUnknown", msg);
      return [];
    }
    const hint = service.object.kind === "Service"
      ? "the Service has no clusterIP"
      : "give the ServiceEntry spec.addresses, or turn on Istio's VIP auto-allocation (status.addresses); without one Istio binds the callers' listener to 0.0.0.0_<port>, shared by every address-less service on that port";
    diags.error(router.source, "NoServiceAddress", `no VIP is known for ${service.host}: callers' listeners are named after it; ${hint}`);
    return [];
  }
  const input: Parameters<typeof clientConfig>[0] = {
    name: `${shortHost(service.host, options.clusterDomain)}:${port.number}/client`,
    codec: binding.codec,
    routingMode: mode,
    routes: table.routes,
    faults: router.faults,
  };
  if (binding.limits) input.limits = binding.limits;
  const config = checkedConfig(clientConfig(input), [router.source], ctx);
  if (!config) return [];
  return router.clientNamespaces.flatMap((namespace) => {
    // The callers' tracing follows their namespace's Telemetry.
    const tracing = tracingOf("client", namespace, binding, router.source, ctx);
    const nsConfig = tracing ? checkedConfig({ ...config, tracing }, [router.source], ctx) : config;
    if (!nsConfig) return [];
    const ef: Parameters<typeof clientEnvoyFilter>[0] = {
      service,
      port,
      namespace,
      owner: router.source,
      config: nsConfig,
      binding,
      routingMode: mode,
      clusters: table.clusters,
      mirrors,
      failStrategy: options.failStrategy,
      options,
    };
    if (router.clientSelector) ef.selector = router.clientSelector;
    return clientEnvoyFilter(ef);
  });
}

function sameLabels(a: Record<string, string>, b: Record<string, string> | undefined): boolean {
  const keys = Object.keys(a);
  return b !== undefined && keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}

/** The policies whose namespace and hosts take in the service, whatever their codec. */
function policiesInScope(service: MeltemiService, byNamespace: Map<string, AuthorizationIntent[]>, rootNamespace: string): AuthorizationIntent[] {
  const scoped = [...(byNamespace.get(service.namespace) ?? []), ...(service.namespace === rootNamespace ? [] : byNamespace.get(rootNamespace) ?? [])];
  return scoped
    .filter((p) => p.hosts === undefined || p.hosts.includes(service.host))
    .sort((a, b) => ((a.policy.name ?? "") < (b.policy.name ?? "") ? -1 : 1));
}

/**
 * The policies a port enforces (those of its codec). A policy for the port's protocol by name (a
 * DubboAuthorizationPolicy on a `tcp-dubbo` port) that the port's codec cannot enforce, because the
 * protocol has no codec or another one, is degraded: it is enforced nowhere on that port.
 */
function policiesFor(service: MeltemiService, port: MeltemiPort, binding: ProtocolBinding | undefined, inScope: AuthorizationIntent[], diags: Diagnostics): AuthorizationIntent[] {
  const out: AuthorizationIntent[] = [];
  for (const p of inScope) {
    if (binding && (p.codecs === undefined || p.codecs.includes(binding.codec))) out.push(p);
    else if (!binding && (p.codecs === undefined || p.codecs.includes(port.protocol))) {
      diags.degrade(p.source, "CodecNotAvailable", `not enforced on ${service.host} port ${port.number}: protocol "${port.protocol}" has no Meltemi codec (the traffic is plain TCP to Istio)`);
    } else if (binding && p.codecs?.includes(port.protocol)) {
      diags.degrade(p.source, "ProtocolRedefined", `not enforced on ${service.host} port ${port.number}: protocol "${port.protocol}" is decoded as ${binding.codec} (${binding.source ? describeRef(binding.source) : "built-in"}), which this policy's codec (${p.codecs.join(", ")}) is not`);
    }
  }
  return out;
}

/**
 * Policies in force nowhere are not Ready: a `hosts` entry that names no Meltemi service the policy's
 * namespace covers (a typo, another namespace), and a policy no serving plugin carries.
 */
function reportUnenforcedPolicies(authz: AuthorizationIntent[], ctx: Context): void {
  const { diags, servicesByHost, options } = ctx;
  for (const p of authz) {
    (p.hosts ?? []).forEach((host, i) => {
      const service = servicesByHost.get(host);
      if (!service) diags.degrade(p.source, "NoSuchService", `${host} is not a Meltemi service (no Service or ServiceEntry with a Meltemi port defines it): nothing is enforced for it`, `spec.hosts[${i}]`);
      else if (service.namespace !== p.namespace && p.namespace !== options.rootNamespace) {
        diags.degrade(p.source, "OtherNamespace", `${host} is in namespace ${service.namespace}: a policy applies to the services of its own namespace (or, from ${options.rootNamespace}, of all), so nothing is enforced for it`, `spec.hosts[${i}]`);
      }
    });
    const key = refKey(p.source);
    if (ctx.enforced.has(key)) continue;
    if (diags.items.some((d) => d.object === p.source && (d.severity === "error" || d.severity === "degraded"))) continue;
    const scope = p.hosts ? `hosts ${p.hosts.join(", ")}` : `the ${p.codecs ? `${p.codecs.join(", ")} ` : ""}services of namespace ${p.namespace === options.rootNamespace ? "(root: every namespace)" : p.namespace}`;
    diags.degrade(p.source, "NotEnforced", `no Meltemi service port is in this policy's scope (${scope}): it is enforced nowhere`);
  }
}

export function translate(snapshot: Snapshot, partialOptions: Partial<TranslateOptions> = {}): TranslateResult {
  const options = withDefaults(partialOptions);
  checkOptions(options);
  const diags = new Diagnostics();
  const protocols = resolveProtocols(snapshot, options, diags);
  const subsets = indexSubsets(snapshot.destinationRules, options.clusterDomain);
  const services = discoverServices(snapshot.services, snapshot.serviceEntries, options.clusterDomain, diags);

  const servicesByHost = new Map<string, MeltemiService>();
  for (const s of services) {
    const first = servicesByHost.get(s.host);
    if (first) diags.warn(s.object, "DuplicateHost", `${describeRef(first.object)} already defines host ${s.host}; this one is ignored by Meltemi`);
    else servicesByHost.set(s.host, s);
  }
  const ctx: Context = { options, diags, subsets, servicesByHost, enforced: new Set(), telemetries: snapshot.telemetries ?? [], mesh: snapshot.meshConfig, tracingNotes: new Set(), http2Clusters: new Set() };
  for (const host of servicesByHost.keys()) reportHostConsistentHashes(host, subsets, diags);

  const routers: RouterIntent[] = [];
  const rateLimits: RateLimitIntent[] = [];
  for (const r of byNamespaceName(snapshot.rpcRouters)) {
    const intent = readRpcRouter(r, options, diags);
    if (intent) routers.push(intent);
  }
  for (const r of byNamespaceName(snapshot.rpcRateLimits)) {
    const intent = readRpcRateLimit(r, options, diags, snapshot.adaptiveQuotas);
    if (!intent) continue;
    const target = servicesByHost.get(intent.host);
    if (target && target.namespace !== intent.source.namespace) {
      diags.error(intent.source, "OtherNamespace", `${intent.host} is in namespace ${target.namespace}: an RpcRateLimit protects services of its own namespace`);
      continue;
    }
    rateLimits.push(intent);
  }
  const serviceHosts = allServiceHosts(snapshot, options.clusterDomain);
  /** SmartLimiters with global descriptors: the rate limit service's ConfigMap comes from them. */
  const slimeGlobals: AdaptiveLimiter[] = [];
  for (const sl of byNamespaceName(snapshot.smartLimiters)) {
    // Slime's SmartLimiters of HTTP services (and its gateway limiters) are Slime's: judged by Slime's
    // rules, not Meltemi's, so what reading them found is reported only for Meltemi services.
    const host = smartLimiterHost(sl, options.clusterDomain);
    if (!servicesByHost.has(host)) {
      if (serviceHosts.has(host)) diags.info(refOf(sl), "NotAMeltemiService", `${host} is not a Meltemi service (no tcp-metaprotocol-* port or meltemi.dev/protocol label); left to Slime`);
      // Slime's rule: the SmartLimiter's name (or spec.host) is the service's. A typo limits nothing.
      else diags.warn(refOf(sl), "NoSuchService", `no Service or ServiceEntry defines ${host} (the SmartLimiter's ${typeof (sl.spec as { host?: unknown } | undefined)?.host === "string" ? "spec.host" : "name, which Slime takes for the service's"}): nothing is limited`);
      continue;
    }
    const limiter = readSmartLimiter(sl, options.clusterDomain, diags);
    if (!limiter) continue;
    const intent = adaptiveRateLimitIntent(limiter, snapshot.adaptiveQuotas?.get(limiterKey(limiter.source)), diags);
    const target = servicesByHost.get(intent.host);
    if (target && target.namespace !== limiter.namespace) {
      diags.error(intent.source, "OtherNamespace", `${intent.host} is in namespace ${target.namespace}: a SmartLimiter protects a service of its own namespace`);
      continue;
    }
    if (target && limiter.workloadSelector && !sameLabels(limiter.workloadSelector, target.selector)) {
      // Meltemi's limits live in the plugin of the service's own pods (its selector).
      diags.error(intent.source, "WorkloadSelectorMismatch", `spec.workloadSelector ${JSON.stringify(limiter.workloadSelector)} is not the selector of ${intent.host} (${JSON.stringify(target.selector ?? {})}): Meltemi limits the pods of the service; use the service's selector or leave workloadSelector out`, "spec.workloadSelector");
      continue;
    }
    const hasLocal = limiter.sets.some((set) => set.descriptors.length > 0);
    if (limiter.globals?.length) {
      intent.globalLimits = slimeGlobalLimits(limiter, options);
      if (!hasLocal) {
        delete intent.localRateLimit;
        delete intent.subsets;
      }
      slimeGlobals.push(limiter);
    }
    if (hasLocal) reportNoEngine(limiter, snapshot.adaptiveQuotas, diags);
    rateLimits.push(intent);
  }
  // Aeraki's objects come after Meltemi's: an RpcRouter / RpcRateLimit for the same host wins.
  for (const mr of byNamespaceName(snapshot.metaRouters)) {
    const { router, rateLimit } = readMetaRouter(mr, options, diags);
    const target = rateLimit && servicesByHost.get(rateLimit.host);
    if (rateLimit && target && target.namespace !== rateLimit.source.namespace) {
      // Routing is mesh-scoped (Aeraki's model); a limit is installed in the serving pods of the
      // service, which only their own namespace may throttle (as for an RpcRateLimit).
      diags.error(rateLimit.source, "OtherNamespace", `${rateLimit.host} is in namespace ${target.namespace}: a MetaRouter's localRateLimit limits the service's own pods, so it must be in that namespace; the MetaRouter is not applied`, "spec.localRateLimit");
      continue;
    }
    if (router) routers.push(router);
    if (rateLimit) rateLimits.push(rateLimit);
  }
  const authz: AuthorizationIntent[] = [];
  for (const p of byNamespaceName(snapshot.rpcAuthorizationPolicies)) {
    const intent = readRpcAuthorizationPolicy(p, options, diags);
    if (intent) authz.push(intent);
  }
  for (const p of byNamespaceName(snapshot.dubboAuthorizationPolicies)) {
    const intent = readDubboAuthorizationPolicy(p, diags);
    if (intent) authz.push(intent);
  }
  const authzByNamespace = new Map<string, AuthorizationIntent[]>();
  for (const p of authz) {
    const list = authzByNamespace.get(p.namespace);
    if (list) list.push(p);
    else authzByNamespace.set(p.namespace, [p]);
  }

  for (const intent of rateLimits) {
    for (const g of intent.globalLimits ?? []) {
      const problem = rateLimitServiceProblem(g.cluster, snapshot.services, options.clusterDomain);
      const at = intent.source.kind === "MetaRouter" ? "spec.globalRateLimit.rateLimitService" : undefined;
      if (problem?.addHttp2) ctx.http2Clusters.add(g.cluster);
      if (problem?.severity === "degrade") diags.degrade(intent.source, problem.reason, problem.message, at);
      else if (problem?.severity === "warn") diags.warn(intent.source, problem.reason, problem.message, at);
      else if (problem) diags.info(intent.source, problem.reason, problem.message, at);
    }
  }
  const routerClaims = new Claims(routers, "routing");
  const limitClaims = new Claims(rateLimits, "rate limits");
  for (const claims of [routerClaims, limitClaims] as const) {
    for (const host of claims.hosts()) {
      const service = servicesByHost.get(host);
      for (const intent of claims.forHost(host)) {
        if (!service) diags.error(intent.source, "NoService", `${host} is not a Meltemi service: no Service or ServiceEntry with a port named tcp-metaprotocol-<protocol>-* (or the label meltemi.dev/protocol) defines it`);
        else if (intent.port !== undefined && !service.ports.some((p) => p.number === intent.port)) {
          diags.error(intent.source, "NoSuchPort", `${host} has no Meltemi port ${intent.port} (it has: ${service.ports.map((p) => p.number).join(", ")})`);
        }
      }
    }
  }

  const objects: KubeObject[] = [];
  for (const service of servicesByHost.values()) {
    const inScope = policiesInScope(service, authzByNamespace, options.rootNamespace);
    for (const port of service.ports) {
      const binding = protocols.get(port.protocol);
      const policies = policiesFor(service, port, binding, inScope, diags);
      if (!binding) {
        diags.warn(service.object, "UnknownProtocol", `port ${port.number}: protocol "${port.protocol}" has no codec (define an RpcProtocol, or an ApplicationProtocol with a Meltemi codec); left to Istio's TCP handling`);
        // The routers and limits written for this port are not in force: they must not read Ready.
        for (const intent of [routerClaims.pick(service.host, port.number, service.namespace, diags), limitClaims.pick(service.host, port.number, service.namespace, diags)]) {
          if (intent) diags.degrade(intent.source, "CodecNotAvailable", `${service.host} port ${port.number}: protocol "${port.protocol}" has no Meltemi codec, so nothing of this is applied there (the traffic is plain TCP to Istio)`);
        }
        continue;
      }
      const server = serverSide(service, port, binding, limitClaims.pick(service.host, port.number, service.namespace, diags), policies, ctx);
      if (server) objects.push(...server);
      const router = routerClaims.pick(service.host, port.number, service.namespace, diags);
      if (router) objects.push(...clientSide(service, port, binding, router, ctx));
    }
  }

  reportUnenforcedPolicies(authz, ctx);
  const rateLimitConfig = slimeGlobalConfigMap(slimeGlobals, options);
  if (rateLimitConfig) objects.push(rateLimitConfig);

  return { objects: objects.sort(compareObjects), diagnostics: diags.items, status: inputStatus(snapshot, diags.items) };
}

/** Every host a Service or ServiceEntry defines, Meltemi's or not. */
function allServiceHosts(snapshot: Snapshot, clusterDomain: string): Set<string> {
  const hosts = new Set<string>();
  for (const s of snapshot.services) hosts.add(`${s.metadata.name ?? ""}.${s.metadata.namespace ?? "default"}.svc.${clusterDomain}`);
  for (const se of snapshot.serviceEntries) for (const h of (se.spec as { hosts?: string[] } | undefined)?.hosts ?? []) hosts.add(h);
  return hosts;
}

function inputStatus(snapshot: Snapshot, diagnostics: Diagnostic[]): InputStatus[] {
  const byObject = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    const key = refKey(d.object);
    const list = byObject.get(key);
    if (list) list.push(d);
    else byObject.set(key, [d]);
  }
  // Every input kind with a status of its own (the registry, controller/k8s/kinds.ts).
  const inputs: KubeObject[] = INPUTS.filter((r) => r.hasStatus).flatMap((r) => snapshot[r.slot] as KubeObject[]);
  return inputs
    .map((obj) => {
      const ref = refOf(obj);
      return { ref, key: refKey(ref) };
    })
    .sort((a, b) => compareStrings(a.key, b.key))
    .map(({ ref, key }) => readyStatus(ref, byObject.get(key) ?? []));
}
