// A Node host for one proxy-wasm VM (ABI 0.2.1) running a network filter, modelled on Envoy's Wasm
// extension (source/extensions/common/wasm) and proxy-wasm-cpp-host. One WasmHost is one VM, i.e. one
// Envoy worker thread; hosts that share a SharedState share what the workers of one proxy share.
// See README.md for the API and for where this host differs from Envoy.
import { readFile } from "node:fs/promises";
import { BufferType, CloseType, LogLevel, type LogLevelName, MAX_BUFFER_TYPE, toLogLevel, WasmResult } from "./abi";
import { type HostBuffer, NO_BUFFER, ReadOnlyBuffer } from "./buffers";
import { Connection } from "./connection";
import type { GrpcCall } from "./grpc";
import {
  clearRouteCache, type ForeignCall, type ForeignFunction, setEnvoyFilterState, WELL_KNOWN_FILTER_STATE_KEYS,
} from "./foreign";
import { type HttpCall, type HttpCallAnswer, type HttpCallResponse } from "./http-call";
import { proxyImports } from "./imports";
import { VmMemory } from "./memory";
import { VmMetrics, type MetricValue } from "./metrics";
import { encodeProperty, propertyMap, propertyPath, type PropertyValue } from "./properties";
import { type QueueOwner, SharedState, type Worker } from "./shared-state";

export interface LoadOptions {
  /** State shared with other hosts (workers of the same proxy). Default: a new one. */
  shared?: SharedState;
  /** A label for logs and errors, e.g. "worker-1". */
  name?: string;
  /** When given, load() also calls configure() with it (Envoy: on_configure right after on_vm_start). */
  pluginConfig?: string | Uint8Array;
  vmConfig?: string | Uint8Array;
  /** The properties plugin_name, plugin_root_id, plugin_vm_id; vmId also keys shared data and queues. */
  pluginName?: string;
  rootId?: string;
  vmId?: string;
  /** Properties visible in every context (paths joined by "\0"); they override the plugin_* ones. */
  properties?: Record<string, PropertyValue>;
  /** Envoy's log level for the module (proxy_get_log_level); lower logs are dropped. Default: info. */
  logLevel?: LogLevel | LogLevelName;
  /** Print module logs and host warnings to stderr. Default: env WASM_HOST_PRINT=1. */
  print?: boolean;
  /** Sets the shared virtual clock, in ms since the epoch. */
  now?: number;
  /** After a VM failure, pass traffic (true) or close connections (false, Envoy's default). */
  failOpen?: boolean;
  /** Foreign functions by name; added to (or replacing) set_envoy_filter_state and clear_route_cache. */
  foreignFunctions?: Record<string, ForeignFunction>;
  /** Filter state keys set_envoy_filter_state accepts besides Envoy's well-known ones. */
  filterStateKeys?: readonly string[];
  /** Extra import modules (not "env"), e.g. the hooks of a test module. */
  imports?: WebAssembly.Imports;
  /** Called with the new instance before the VM starts (before _initialize), e.g. to attach test helpers. */
  onInstantiate?: (instance: WebAssembly.Instance) => void;
  /** Clusters proxy_grpc_call accepts (grpc.ts); another gives ParseFailure. Default: any. */
  grpcClusters?: readonly string[];
  /** Clusters proxy_http_call may name (http-call.ts); a call to another is refused with BadArgument. */
  clusters?: readonly string[];
  /** Count every call of the module into the host by import name, in `hostCalls` (for the benchmarks; off: no wrapper). */
  countHostCalls?: boolean;
  /**
   * Replaces each `env` import with what this returns for it (given its name and this host's
   * implementation), e.g. a benchmark's minimal answers to the hot calls (bench/micro/thin-host.ts).
   */
  wrapImport?: (name: string, call: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown;
}

export interface LogEntry {
  level: LogLevel;
  message: string;
  contextId: number;
  host: string;
}

export interface PropertyWrite {
  contextId: number;
  path: string;
  value: Buffer;
}

/** The module trapped (WebAssembly.RuntimeError or a stack overflow): Envoy marks such a VM failed. */
export class WasmTrapError extends Error {
  constructor(readonly host: string, readonly callback: string, readonly contextId: number, cause: Error, lastError?: LogEntry) {
    super(`${host}: the module trapped in ${callback} (context ${contextId}): ${cause.message}` +
      (lastError ? `; last error log: ${JSON.stringify(lastError.message)}` : ""), { cause });
    this.name = "WasmTrapError";
  }
}

/** The VM failed earlier; Envoy makes no more calls into it. */
export class VmFailedError extends Error {
  constructor(host: string, cause: Error) {
    super(`${host}: the VM failed earlier: ${cause.message}`, { cause });
    this.name = "VmFailedError";
  }
}

export class RootContext {
  readonly kind = "root";
  tickPeriodMs = 0;
  tickDue: bigint | null = null;
  pendingDone = false;
  constructor(readonly id: number) {}
}

type Context = RootContext | Connection;

let hostCount = 0;

export class WasmHost implements Worker, QueueOwner {
  /** Compiles (or takes) a module, instantiates it and starts the VM: _initialize, root context, on_vm_start. */
  static async load(source: Uint8Array | string | WebAssembly.Module, options: LoadOptions = {}): Promise<WasmHost> {
    const module = source instanceof WebAssembly.Module
      ? source
      : await WebAssembly.compile(typeof source === "string" ? await readFile(source) : new Uint8Array(source));
    const host = new WasmHost(module, options);
    host.instance = await WebAssembly.instantiate(module, host.importObject);
    options.onInstantiate?.(host.instance);
    host.start();
    if (options.pluginConfig !== undefined) host.configure(options.pluginConfig);
    return host;
  }

  readonly name: string;
  readonly shared: SharedState;
  readonly vmId: string;
  readonly failOpen: boolean;
  /** Module logs at or above the log level, in order. */
  readonly logs: LogEntry[] = [];
  /** The host's own diagnostics: calls Envoy would refuse or ignore, unknown imports, a VM failure. */
  readonly warnings: string[] = [];
  /** Every proxy_call_foreign_function, with its answer. */
  readonly foreignCalls: ForeignCall[] = [];
  readonly foreignFunctions: Map<string, ForeignFunction>;
  /** Every proxy_set_property. */
  readonly propertyWrites: PropertyWrite[] = [];
  /** With `countHostCalls`: calls of the module into the host so far, by import name (a test may clear it). */
  readonly hostCalls = new Map<string, number>();
  /** Calls a network filter cannot use in Envoy (header maps, local replies, callouts), by import name. */
  readonly unsupportedCalls: Array<{ name: string; contextId: number }> = [];
  /** Imports the module declares that the host does not know ("module.name"); they are stubbed. */
  readonly unknownImports: string[] = [];
  readonly unknownImportCalls: Array<{ name: string; args: unknown[] }> = [];
  /** Properties of every context (plugin and node level). */
  readonly properties: Map<string, Buffer>;
  /** Results of every configure(), in order. */
  readonly configureResults: boolean[] = [];
  /**
   * Faults a test injects into host calls: a function that returns a WasmResult makes the call fail
   * with it (the buffer is left as it was); undefined lets the call run. Envoy refuses a
   * set_buffer_bytes e.g. when the buffer is gone or the range is not one it honours.
   */
  readonly faults: {
    getBufferBytes?: (type: BufferType, start: number, length: number) => WasmResult | undefined;
    setBufferBytes?: (type: BufferType, start: number, length: number) => WasmResult | undefined;
  } = {};
  /** gRPC calls made and not yet answered or failed by the test (grpc.ts), in order. */
  readonly grpcCalls: GrpcCall[] = [];
  /** Every gRPC call ever made, in order. */
  readonly grpcCallLog: GrpcCall[] = [];
  /** @internal */ readonly grpcClusters: ReadonlySet<string> | null;
  /** @internal */ nextGrpcToken = 1;
  /** Every proxy_http_call the host accepted, in order; answer with respondHttpCall. */
  readonly httpCalls: HttpCall[] = [];
  /** Clusters proxy_http_call may name. */
  readonly clusters: ReadonlySet<string>;
  /** @internal The response proxy_on_http_call_response is delivering, readable during that callback. */
  httpResponse: HttpCallResponse | null = null;
  /** @internal */ nextHttpToken = 1;
  logLevel: LogLevel;
  configured = false;
  failure: Error | null = null;

  /** @internal */ starting = false;
  /** @internal */ vmMetrics: VmMetrics;
  private readonly print: boolean;
  private readonly vmConfig: Buffer;
  private instance!: WebAssembly.Instance;
  private vmMemory: VmMemory | null = null;
  private readonly importObject: WebAssembly.Imports;
  private root!: RootContext;
  private readonly contexts = new Map<number, Context>();
  private nextContextId = 1;
  private currentContextId = 0;
  private effectiveContextId = 0;
  private running: string | null = null;
  private afterCall: Array<() => void> = [];
  private configuring: Buffer | null = null;
  private grpcReceiving: Buffer | null = null;
  private deleted = false;

  private constructor(module: WebAssembly.Module, options: LoadOptions) {
    this.name = options.name ?? `vm-${++hostCount}`;
    this.shared = options.shared ?? new SharedState();
    if (options.now !== undefined) this.shared.setNow(options.now);
    this.vmId = options.vmId ?? "";
    this.clusters = new Set(options.clusters ?? []);
    this.failOpen = options.failOpen ?? false;
    this.logLevel = toLogLevel(options.logLevel ?? "info");
    this.print = options.print ?? process.env.WASM_HOST_PRINT === "1";
    this.vmConfig = Buffer.from(options.vmConfig ?? "");
    this.properties = propertyMap({
      plugin_name: options.pluginName ?? "",
      plugin_root_id: options.rootId ?? "",
      plugin_vm_id: this.vmId,
      ...options.properties,
    });
    const keys = new Set([...WELL_KNOWN_FILTER_STATE_KEYS, ...(options.filterStateKeys ?? [])]);
    this.foreignFunctions = new Map(Object.entries({
      set_envoy_filter_state: setEnvoyFilterState(keys),
      clear_route_cache: clearRouteCache,
      ...options.foreignFunctions,
    }));
    this.grpcClusters = options.grpcClusters ? new Set(options.grpcClusters) : null;
    this.vmMetrics = new VmMetrics(this.shared.metrics, (m) => this.warn(m));
    this.importObject = this.buildImports(module, options.imports ?? {});
    const env = this.importObject.env as Record<string, (...a: unknown[]) => unknown>;
    if (options.wrapImport) for (const [name, f] of Object.entries(env)) env[name] = options.wrapImport(name, f);
    if (options.countHostCalls) this.countCalls(env);
  }

  // ---------------------------------------------------------------- public API

  get exports(): WebAssembly.Exports {
    return this.instance.exports;
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /** The root context's id (Envoy gives the first root context id 1, connections the next ids). */
  get rootContextId(): number {
    return this.root.id;
  }

  /** Virtual time, ms since the epoch (shared by all hosts of the SharedState). */
  get now(): number {
    return this.shared.now;
  }

  /** Advances the shared virtual clock, firing due ticks on every host of the SharedState. */
  advance(ms: number): void {
    this.shared.advance(ms);
  }

  /** Answers a gRPC call with its message: proxy_on_grpc_receive(root, token, size) on its root. */
  grpcReply(token: number, message: Uint8Array): void {
    const call = this.takeGrpcCall(token);
    this.grpcReceiving = Buffer.from(message);
    try {
      this.callback("proxy_on_grpc_receive", call.rootId, token, message.length);
    } finally {
      this.grpcReceiving = null;
    }
  }

  /** Fails a gRPC call: proxy_on_grpc_close(root, token, status), e.g. 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED. */
  grpcFail(token: number, status: number): void {
    const call = this.takeGrpcCall(token);
    this.callback("proxy_on_grpc_close", call.rootId, token, status);
  }

  private takeGrpcCall(token: number): GrpcCall {
    const i = this.grpcCalls.findIndex((c) => c.token === token);
    if (i < 0) throw new Error(`${this.name}: no gRPC call with token ${token} in flight`);
    return this.grpcCalls.splice(i, 1)[0]!;
  }

  /**
   * Answers an outstanding proxy_http_call (`"failure"`: a reset or timeout, which Envoy reports with 0
   * headers) with proxy_on_http_call_response on the context that made it.
   */
  respondHttpCall(token: number, answer: HttpCallAnswer | "failure"): void {
    const call = this.httpCalls.find((c) => c.token === token);
    if (!call) throw new Error(`${this.name}: no HTTP call with token ${token}`);
    if (call.answered) throw new Error(`${this.name}: HTTP call ${token} was answered already`);
    call.answered = true;
    if (!this.contexts.has(call.contextId)) return; // Envoy cancels a deleted context's calls
    const response: HttpCallResponse = answer === "failure"
      ? { headers: [], body: Buffer.alloc(0), trailers: [] }
      : {
        headers: [[":status", String(answer.status)], ...(answer.headers ?? [])],
        body: Buffer.from(answer.body ?? ""),
        trailers: answer.trailers ?? [],
      };
    this.httpResponse = response;
    try {
      this.callback("proxy_on_http_call_response", call.contextId, token, response.headers.length, response.body.length, response.trailers.length);
    } finally {
      this.httpResponse = null;
    }
  }

  /** name -> value of the shared stats store (histograms: the recorded values). */
  metrics(): Record<string, MetricValue> {
    return this.shared.metrics.snapshot();
  }

  setLogLevel(level: LogLevel | LogLevelName): void {
    this.logLevel = toLogLevel(level);
  }

  setProperty(path: string, value: PropertyValue): void {
    this.properties.set(propertyPath(path), encodeProperty(value));
  }

  /** proxy_on_configure with the plugin configuration (BufferType PluginConfiguration). Returns its answer. */
  configure(config: string | Uint8Array = ""): boolean {
    return this.shared.run(() => {
      this.assertUsable("configure");
      this.configuring = Buffer.from(config);
      let answer: number | undefined;
      try {
        answer = this.callback("proxy_on_configure", this.root.id, this.configuring.length);
      } finally {
        this.configuring = null;
      }
      const ok = answer === undefined || answer !== 0;
      this.configured ||= ok;
      this.configureResults.push(ok);
      return ok;
    });
  }

  /** A new downstream connection: proxy_on_context_create, then proxy_on_new_connection. */
  connect(options: { properties?: Record<string, PropertyValue> } = {}): Connection {
    return this.shared.run(() => {
      if (this.deleted) throw new Error(`${this.name}: connect() after shutdown()`);
      if (!this.configured && !this.failed) {
        throw new Error(`${this.name}: connect() before a configuration was accepted (Envoy creates no filter then)`);
      }
      const props = propertyMap(options.properties);
      if (!props.has("connection_id")) props.set("connection_id", encodeProperty(this.shared.nextConnectionId()));
      const conn = new Connection(this, this.allocContextId(), this.root.id, props);
      this.contexts.set(conn.id, conn);
      if (this.failed) {
        if (!this.failOpen) conn.markFailed();
        return conn;
      }
      try {
        this.callback("proxy_on_context_create", conn.id, this.root.id);
        const r = this.callback("proxy_on_new_connection", conn.id);
        conn.newConnectionStatus = (r ?? 0) === 0 ? "continue" : "pause";
      } catch (e) {
        if (this.failed && !this.failOpen) conn.markFailed();
        throw e;
      }
      return conn;
    });
  }

  /** Removes the plugin: root on_done, then on_delete (or later, when the module calls proxy_done). */
  shutdown(): void {
    this.shared.run(() => {
      if (this.deleted || this.root.pendingDone) return;
      if (this.failed) return this.finishShutdown();
      const done = this.callback("proxy_on_done", this.root.id);
      if (done === 0) {
        this.root.pendingDone = true;
        return;
      }
      this.callback("proxy_on_delete", this.root.id);
      this.finishShutdown();
    });
  }

  // ---------------------------------------------------------------- used by Connection and the imports

  /** @internal */
  get memory(): VmMemory {
    if (!this.vmMemory) throw new Error(`${this.name}: memory used before the module was instantiated`);
    return this.vmMemory;
  }

  /**
   * @internal Calls a module callback in a context, then runs the actions Envoy defers to after the VM
   * call (continue/close stream). Returns undefined when the module does not export the callback.
   */
  callback(name: string, contextId: number, ...args: number[]): number | undefined {
    if (this.failure) throw new VmFailedError(this.name, this.failure);
    const fn = this.instance.exports[name];
    if (typeof fn !== "function") return undefined;
    const result = this.invoke(name, contextId, fn as (...a: number[]) => unknown, [contextId, ...args]);
    this.runAfterCallActions();
    return result;
  }

  /** @internal The context ABI calls act on: the effective context if set, else the current one. */
  requireContext(): Context {
    const effective = this.effectiveContextId !== 0 ? this.contexts.get(this.effectiveContextId) : undefined;
    const ctx = effective ?? this.contexts.get(this.currentContextId);
    if (!ctx) throw new Error(`${this.name}: ABI call outside of a callback (no current context)`);
    return ctx;
  }

  /** @internal */
  rootOf(ctx: Context): RootContext {
    return ctx instanceof RootContext ? ctx : (this.contexts.get(ctx.rootId) as RootContext);
  }

  /** @internal */
  hasContext(id: number): boolean {
    return this.contexts.has(id);
  }

  /** @internal */
  setEffectiveContext(id: number): void {
    this.effectiveContextId = id;
  }

  /** @internal Work Envoy defers with addAfterVmCallAction. */
  defer(action: () => void): void {
    this.afterCall.push(action);
  }

  /** @internal The buffer of a BufferType in the current context, or the ABI error for it. */
  buffer(type: number): HostBuffer | WasmResult.NotFound | WasmResult.BadArgument {
    if (type > MAX_BUFFER_TYPE) return WasmResult.BadArgument;
    const ctx = this.requireContext();
    switch (type as BufferType) {
      case BufferType.DownstreamData:
        return ctx instanceof Connection ? ctx.networkBuffer(false) : NO_BUFFER;
      case BufferType.UpstreamData:
        return ctx instanceof Connection ? ctx.networkBuffer(true) : NO_BUFFER;
      case BufferType.VmConfiguration:
        return new ReadOnlyBuffer(this.vmConfig);
      case BufferType.PluginConfiguration:
        return this.configuring ? new ReadOnlyBuffer(this.configuring) : WasmResult.NotFound; // only in on_configure
      case BufferType.HttpCallResponseBody:
        return this.httpResponse ? new ReadOnlyBuffer(this.httpResponse.body) : WasmResult.NotFound;
      case BufferType.GrpcReceiveBuffer:
        return this.grpcReceiving ? new ReadOnlyBuffer(this.grpcReceiving) : NO_BUFFER; // only in on_grpc_receive
      default:
        return NO_BUFFER; // HTTP bodies, gRPC receive buffer, call data: empty in a network filter
    }
  }

  /** @internal Property lookup: the connection's own, then the host-wide ones. */
  property(path: string): Buffer | undefined {
    const ctx = this.requireContext();
    return (ctx instanceof Connection ? ctx.properties.get(path) : undefined) ?? this.properties.get(path);
  }

  /** @internal */
  setTickPeriod(root: RootContext, ms: number): void {
    root.tickPeriodMs = ms;
    root.tickDue = ms > 0 ? this.shared.nowNanos + BigInt(ms) * 1_000_000n : null;
  }

  /** @internal proxy_done: completes a shutdown the root context asked to delay. */
  rootDone(ctx: Context): WasmResult {
    const root = this.rootOf(ctx);
    if (!root.pendingDone) return WasmResult.NotFound;
    root.pendingDone = false;
    this.defer(() => {
      this.callback("proxy_on_delete", root.id);
      this.finishShutdown();
    });
    return WasmResult.Ok;
  }

  /** @internal on_downstream_connection_close, then on_done, on_log, on_delete (context.cc onCloseTCP). */
  closeContext(conn: Connection, type: CloseType): void {
    if (!this.failed) {
      this.callback("proxy_on_downstream_connection_close", conn.id, type);
      this.callback("proxy_on_done", conn.id);
      this.callback("proxy_on_log", conn.id);
      this.callback("proxy_on_delete", conn.id);
    }
    this.contexts.delete(conn.id);
  }

  /** @internal */
  moduleLog(level: LogLevel, message: string): void {
    if (level < this.logLevel) return; // Envoy's logger drops it
    const entry: LogEntry = { level, message, contextId: this.currentContextId, host: this.name };
    this.logs.push(entry);
    if (this.print) process.stderr.write(`[${this.name}] ${LogLevel[level].toLowerCase()}: ${message}\n`);
  }

  /** @internal */
  warn(message: string): void {
    this.warnings.push(message);
    if (this.print) process.stderr.write(`[${this.name}] host: ${message}\n`);
  }

  /** @internal */
  unsupported(name: string): void {
    this.unsupportedCalls.push({ name, contextId: this.currentContextId });
    this.warn(`${name}: not available to a network filter in Envoy`);
  }

  // Worker (ticks) and QueueOwner (on_queue_ready), called by SharedState.

  /** @internal */
  nextTickDue(): bigint | null {
    return this.failure || this.deleted ? null : this.root.tickDue;
  }

  /** @internal */
  fireDueTicks(): void {
    const root = this.root;
    if (root.tickDue === null || root.tickDue > this.shared.nowNanos) return;
    root.tickDue = null;
    if (typeof this.instance.exports.proxy_on_tick !== "function") return; // Envoy: no re-arm either
    this.callback("proxy_on_tick", root.id);
    // Envoy re-arms the timer for one (possibly new) period after on_tick returns (wasm.cc tickHandler).
    if (root.tickPeriodMs > 0) root.tickDue = this.shared.nowNanos + BigInt(root.tickPeriodMs) * 1_000_000n;
  }

  /** @internal */
  queueReady(rootId: number, token: number): void {
    if (this.failure || this.deleted || !this.contexts.has(rootId)) return;
    this.callback("proxy_on_queue_ready", rootId, token);
  }

  // ---------------------------------------------------------------- internals

  private start(): void {
    const exports = this.instance.exports;
    if (!(exports.memory instanceof WebAssembly.Memory)) throw new Error(`${this.name}: the module exports no memory`);
    // Envoy looks for malloc first, then proxy_on_memory_allocate (proxy-wasm-cpp-host wasm.cc getFunctions).
    const malloc = exports.malloc ?? exports.proxy_on_memory_allocate;
    if (typeof malloc !== "function") throw new Error(`${this.name}: the module exports neither malloc nor proxy_on_memory_allocate`);
    this.vmMemory = new VmMemory(exports.memory, (size) => Number((malloc as (s: number) => unknown)(size)));

    this.shared.run(() => {
      this.starting = true;
      try {
        if (typeof exports._initialize === "function") {
          this.invoke("_initialize", 0, exports._initialize as () => unknown, []);
          if (typeof exports.main === "function") this.invoke("main", 0, exports.main as () => unknown, [0, 0]);
        } else if (typeof exports._start === "function") {
          this.invoke("_start", 0, exports._start as () => unknown, []);
        }
      } finally {
        this.starting = false;
      }
      this.root = new RootContext(this.allocContextId());
      this.contexts.set(this.root.id, this.root);
      this.callback("proxy_on_context_create", this.root.id, 0);
      const started = this.callback("proxy_on_vm_start", this.root.id, this.vmConfig.length);
      if (started === 0) {
        this.failure = new Error("proxy_on_vm_start returned false");
        throw new Error(`${this.name}: proxy_on_vm_start returned false (Envoy fails the VM)`);
      }
      this.shared.attach(this);
    });
  }

  private finishShutdown(): void {
    this.deleted = true;
    this.contexts.delete(this.root.id);
    this.shared.detach(this);
  }

  private invoke(name: string, contextId: number, fn: (...a: number[]) => unknown, args: number[]): number | undefined {
    if (this.running !== null) {
      throw new Error(`${this.name}: ${name} called while ${this.running} is running; the host does not re-enter the module`);
    }
    this.running = name;
    this.currentContextId = contextId;
    this.effectiveContextId = 0;
    try {
      const r = fn(...args);
      return r === undefined ? undefined : Number(r) >>> 0;
    } catch (e) {
      throw this.fail(name, contextId, e);
    } finally {
      this.running = null;
      this.currentContextId = 0;
      this.effectiveContextId = 0;
    }
  }

  private runAfterCallActions(): void {
    while (this.afterCall.length > 0 && !this.failure) this.afterCall.shift()!();
  }

  // A trap fails the VM (Envoy: FailState::RuntimeError) and is reported as WasmTrapError. Any other
  // exception came from JS called by the module (a host bug, a test hook): the VM is left in an unknown
  // state, so it fails too, and the original error is rethrown unchanged.
  private fail(callback: string, contextId: number, e: unknown): unknown {
    const error = e instanceof Error ? e : new Error(String(e));
    const trap = e instanceof WebAssembly.RuntimeError || (e instanceof RangeError && /call stack/i.test(e.message));
    const lastError = [...this.logs].reverse().find((l) => l.level >= LogLevel.Error);
    const reported = trap ? new WasmTrapError(this.name, callback, contextId, error, lastError) : error;
    this.failure = reported;
    this.afterCall = [];
    this.warn(`VM failed in ${callback}: ${reported.message}`);
    return reported;
  }

  private allocContextId(): number {
    return this.nextContextId++;
  }

  private assertUsable(what: string): void {
    if (this.failure) throw new VmFailedError(this.name, this.failure);
    if (this.deleted) throw new Error(`${this.name}: ${what}() after shutdown()`);
  }

  /** Wraps the env imports (the proxy_* calls; buildImports made that object) to count them in hostCalls. */
  private countCalls(env: Record<string, (...a: unknown[]) => unknown>): void {
    for (const [name, f] of Object.entries(env)) {
      env[name] = (...args: unknown[]) => {
        this.hostCalls.set(name, (this.hostCalls.get(name) ?? 0) + 1);
        return f(...args);
      };
    }
  }

  private buildImports(module: WebAssembly.Module, extra: WebAssembly.Imports): WebAssembly.Imports {
    const imports: WebAssembly.Imports = { ...extra, env: { ...proxyImports(this) } };
    for (const imp of WebAssembly.Module.imports(module)) {
      const provided = imports[imp.module];
      if (provided && imp.name in provided) continue;
      const name = `${imp.module}.${imp.name}`;
      if (imp.kind !== "function") throw new Error(`${this.name}: the module imports ${imp.kind} ${name}, which this host does not provide`);
      this.unknownImports.push(name);
      // Envoy refuses to link a module with an unknown import; here it loads, and each call is recorded.
      const answer = imp.module.startsWith("wasi") ? 52 /* ENOSYS */ : WasmResult.Unimplemented;
      (imports[imp.module] ??= {})[imp.name] = (...args: unknown[]) => {
        this.unknownImportCalls.push({ name, args });
        this.warn(`call to unknown import ${name}; answered ${answer}`);
        return answer;
      };
    }
    if (this.unknownImports.length > 0) {
      const message = `the module imports functions this host does not know: ${this.unknownImports.join(", ")}; ` +
        "they are stubbed (Envoy would refuse to load the module)";
      this.warn(message);
      process.stderr.write(`[${this.name}] host: ${message}\n`);
    }
    return imports;
  }
}
