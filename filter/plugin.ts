// The root context: one per plugin per VM. It owns the configuration and creates a Connection for
// every downstream connection.
//
// Envoy calls on_configure more than once: on each worker's VM, and first on a fresh "canary" VM on
// the main thread that has never seen an earlier configuration (observed in Envoy 1.37 on an LDS
// update; test/envoy/reconfigure.test.ts). So the last good configuration text is kept in the
// proxy-wide shared data (keyed by plugin name), not in a VM global: every VM that gets a rejected
// configuration falls back to the same previous one. With none, defaultConfig() (pass-through).
import { RootContext, StreamContext } from "./abi/context";
import { collectIfOwed, collectSoon } from "./abi/gc";
import {
  BufferType, LogLevel, WasmResult, getProperty, nowNanos, setTickPeriod, getPropertyI64, getSharedDataUtf8, hostBytes, log, readBuffer, refreshLogLevel, setSharedDataUtf8, sharedCas,
} from "./abi/host";
import { FilterConfig, defaultConfig, parseConfig } from "./config/config";
import { globalAnswer, globalClosed, tickGlobal } from "./global/global_root";
import { Connection } from "./network/connection";
import { HOLD_TICK_MS, HeldConnections } from "./network/held_connections";
import { count, flushByteCounts, metrics, noteMemory } from "./telemetry/metrics";
import { labelValue } from "./telemetry/label_value";
import { RequestMetrics } from "./telemetry/request_metrics";
import { Tracer } from "./trace/tracer";

/**
 * Istio's `reporter` label from the listener's traffic direction (envoy.config.core.v3.TrafficDirection):
 * an inbound listener reports as the destination, an outbound one as the source. Envoy 1.37 answers
 * the attribute `xds.listener_direction` in a connection's context only (the older top-level
 * `listener_direction` and any lookup from the root context are NotFound: seen in
 * test/envoy/telemetry.test.ts), so the first connection of a root reads it.
 */
function readReporter(): string {
  let direction = getPropertyI64("xds\0listener_direction", -1);
  if (direction < 0) direction = getPropertyI64("listener_direction", 0);
  return direction == 1 ? "destination" : direction == 2 ? "source" : "unknown";
}

// Shared data is shared by every plugin with the same vm_id on the proxy: prefix our keys (docs/platform.md).
const LAST_GOOD_KEY_PREFIX = "meltemi.config.last_good/";

/**
 * How often a root compares its configuration with the proxy's last good one. Envoy gives a new
 * configuration (LDS, ECDS) to new connections only: they get a new plugin and root context, while
 * existing connections keep the root they started with. Each root therefore follows the last good
 * configuration of its plugin name in shared data, so requests on existing connections get the new
 * policy within about a second, without dropping the connection.
 */
const FOLLOW_EVERY_NS: u64 = 1_000_000_000;

/**
 * The largest configuration the filter reads. Parsing takes many times the text's size in Wasm memory,
 * which never shrinks, so a larger one is refused by its size before a byte of it is read (the parser
 * also bounds the number of values: config/json.ts MAX_VALUES). 512 KiB is about four times what a
 * thousand routes (the schema's maximum) take.
 */
export const MAX_CONFIG_BYTES: u32 = 512 << 10;
const FOLLOW_TICK_MS: u32 = 1000;

export class MeltemiRoot extends RootContext {
  config: FilterConfig = defaultConfig();
  pluginName: string = "";
  /** The shared-data key of this plugin's last good configuration, and what of it this root runs. */
  private lastGoodKey: ArrayBuffer = new ArrayBuffer(0);
  private appliedText: string = "";
  /** CAS of the last good entry this root has seen (each write gets a new one); 0 = none. */
  private appliedCas: u32 = 0;
  private lastFollowNs: u64 = 0;
  /** What Envoy configured this root with (the text and its parsed form; "" for the default). */
  private ownText: string = "";
  private ownConfig: FilterConfig = defaultConfig();
  reporter: string = "unknown";
  private reporterKnown: bool = false;
  /** Request telemetry; kept across configurations while its labels stay the same (its cache stays warm). */
  requestMetrics: RequestMetrics = new RequestMetrics("unknown", "", "unknown", 1);
  /** Spans and their export (trace/tracer.ts); off unless the configuration has a tracing section. */
  readonly tracer: Tracer = new Tracer();

  /** Connections held by a fault delay (network/held_connections.ts). */
  readonly held: HeldConnections = new HeldConnections();
  private tickMs: u32 = 0;

  /** Holds a connection until its delay is over (it returned Pause). */
  holdConnection(c: Connection): void {
    this.held.hold(c);
    this.updateTick();
  }

  /** Closes a connection on the next tick (Connection.closeAfterLastReply). */
  closeSoon(c: Connection): void {
    c.closeDue = true;
    this.held.hold(c);
    this.updateTick();
  }

  /** A connection closed while held (or due to close). */
  forgetConnection(c: Connection): void {
    this.held.forget(c);
    this.updateTick();
  }

  onTick(): void {
    flushByteCounts(); // held in the VM between flush points (telemetry/metrics.ts)
    collectIfOwed();
    const now = nowNanos();
    this.held.onTick(now);
    tickGlobal(this.id, this.config, now);
    this.tracer.onTick(now);
    if (now - this.lastFollowNs >= FOLLOW_EVERY_NS) {
      this.lastFollowNs = now;
      this.followLastGood();
    }
    this.updateTick();
  }

  /** A report of the global limits was answered (filter/global/). */
  onGrpcReceive(token: u32, size: u32): void {
    globalAnswer(this.id, token, size, nowNanos());
  }

  onGrpcClose(token: u32, status: u32): void {
    globalClosed(this.id, token, status, nowNanos());
  }

  /**
   * Fast ticks while a connection is held by a delay, else one a second to follow the configuration,
   * or the global limits' report interval when shorter.
   */
  private updateTick(): void {
    let want: u32 = this.held.size > 0 ? HOLD_TICK_MS : FOLLOW_TICK_MS;
    const g = this.config.globalTickMs;
    if (g > 0 && g < want) want = g;
    if (want == this.tickMs) return;
    this.tickMs = want;
    setTickPeriod(want);
  }

  /** Applies a configuration (accepted, or the previous / default one). */
  private use(config: FilterConfig): void {
    this.config = config;
    this.tracer.configure(config.tracing, config.name, config.protocol, this.reporter);
    const rm = this.requestMetrics;
    const nameUtf8 = String.UTF8.encode(config.name);
    const service = labelValue(changetype<usize>(nameUtf8), <u32>nameUtf8.byteLength);
    if (rm.reporter != this.reporter || rm.protocol != config.protocol || rm.defaultService != service || rm.maxLabelSets != config.maxLabelSets) {
      this.requestMetrics = new RequestMetrics(this.reporter, config.protocol, service, config.maxLabelSets);
    }
    this.updateTick();
  }

  onVmStart(size: u32): bool {
    metrics.define();
    return true;
  }

  onConfigure(size: u32): bool {
    // The parse's garbage and the replaced configuration go at the end of this callback (abi/gc.ts).
    collectSoon();
    metrics.define();
    refreshLogLevel();
    const name = getProperty("plugin_name");
    this.pluginName = name !== null ? name : "";
    this.lastGoodKey = String.UTF8.encode(LAST_GOOD_KEY_PREFIX + this.pluginName);
    this.updateTick();

    if (size > MAX_CONFIG_BYTES) {
      this.reject("the configuration is " + size.toString() + " bytes, over the limit of " + MAX_CONFIG_BYTES.toString());
      return true;
    }
    let text = "";
    if (size > 0 && readBuffer(BufferType.PluginConfiguration, 0, size)) {
      text = hostBytes.toStringUtf8();
      hostBytes.release();
    }
    if (text.length == 0) text = "{\"version\":1}"; // no configuration at all: the documented default

    const result = parseConfig(text);
    noteMemory();
    if (result.config !== null) {
      this.use(result.config as FilterConfig);
      this.ownText = text;
      this.ownConfig = result.config as FilterConfig;
      this.rememberLastGood(text);
      count(metrics.configAccepted, 1);
      log(LogLevel.Info, this.prefix() + "configuration accepted");
      return true;
    }

    this.reject(result.error);
    // Accept the plugin anyway: returning false would make Envoy fail the whole listener update.
    return true;
  }

  /** A configuration was refused: the previous one of the plugin stays, else the default. */
  private reject(error: string): void {
    count(metrics.configRejected, 1);
    const previous = this.recallLastGood();
    if (previous !== null) {
      this.use(previous);
      this.ownText = this.appliedText;
      this.ownConfig = previous;
      log(LogLevel.Error, this.prefix() + "configuration rejected: " + error + "; keeping the previous configuration");
    } else {
      this.use(defaultConfig());
      this.ownText = "";
      this.ownConfig = this.config;
      log(LogLevel.Error, this.prefix() + "configuration rejected: " + error + "; no previous configuration, running the default (pass-through)");
    }
  }

  /** Stores an accepted configuration as the plugin's last good one (see FOLLOW_EVERY_NS). */
  private rememberLastGood(text: string): void {
    const utf8 = String.UTF8.encode(text);
    setSharedDataUtf8(this.lastGoodKey, changetype<usize>(utf8), <u32>utf8.byteLength, 0);
    this.appliedText = text;
    // Our own write: remember its CAS so that the next tick does not take it for an update.
    if (getSharedDataUtf8(this.lastGoodKey) == WasmResult.Ok) {
      this.appliedCas = sharedCas;
      hostBytes.release();
    }
  }

  /** The plugin's last good configuration (parsed), or null. */
  private recallLastGood(): FilterConfig | null {
    if (getSharedDataUtf8(this.lastGoodKey) != WasmResult.Ok) return null;
    const cas = sharedCas;
    const text = hostBytes.toStringUtf8();
    hostBytes.release();
    const config = parseConfig(text).config;
    if (config !== null) {
      this.appliedText = text;
      this.appliedCas = cas;
    }
    return config;
  }

  /** The tick's check: applies the plugin's last good configuration when another root stored a new one. */
  private followLastGood(): void {
    if (getSharedDataUtf8(this.lastGoodKey) != WasmResult.Ok) return;
    const cas = sharedCas;
    if (cas == this.appliedCas) { hostBytes.release(); return; }
    const text = hostBytes.toStringUtf8();
    hostBytes.release();
    this.appliedCas = cas;
    if (text == this.appliedText) return; // the same configuration, written again by another worker
    const config = parseConfig(text).config;
    if (config === null) return; // only accepted texts are stored; a newer filter's may not parse here
    this.use(config);
    this.appliedText = text;
    count(metrics.configFollowed, 1);
    log(LogLevel.Info, this.prefix() + "configuration updated to the proxy's newest one (existing connections follow it)");
  }

  /**
   * A new connection arrived: Envoy gives new connections only to the current configuration, so this
   * root's own configuration is the newest one, even if the shared entry says otherwise. That happens
   * when an update brings back an earlier configuration text: Envoy then reuses the earlier plugin's
   * root without configuring it again (seen in test/adaptive/smart-limiter-envoy.test.ts: a lifted limit
   * stayed in force), and that root may have followed the configuration in between. The root goes back
   * to its own configuration and stores it as the newest, which the other roots then follow.
   * One shared-data read per new connection.
   */
  claimCurrent(): void {
    if (this.ownText.length == 0) return; // running the default: nothing to claim
    if (getSharedDataUtf8(this.lastGoodKey) == WasmResult.Ok) {
      const cas = sharedCas;
      if (cas == this.appliedCas && this.appliedText == this.ownText) { hostBytes.release(); return; }
      const text = hostBytes.toStringUtf8();
      hostBytes.release();
      if (text == this.ownText) {
        this.appliedCas = cas;
        if (this.appliedText != this.ownText) this.runOwn();
        return;
      }
    }
    if (this.appliedText != this.ownText) this.runOwn();
    this.rememberLastGood(this.ownText);
    log(LogLevel.Info, this.prefix() + "configuration in force again for new connections (stored as the proxy's newest)");
  }

  private runOwn(): void {
    this.use(this.ownConfig);
    this.appliedText = this.ownText;
  }

  /** Reads the reporter from the first connection (see readReporter); later calls are free. */
  learnReporter(): void {
    if (this.reporterKnown) return;
    this.reporterKnown = true;
    this.reporter = readReporter();
    this.use(this.config);
  }

  prefix(): string {
    const name = this.config.name.length > 0 ? this.config.name : this.pluginName;
    return "meltemi[" + name + "]: ";
  }

  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    this.tracer.onHttpCallResponse(token, numHeaders);
  }

  newStream(id: u32): StreamContext {
    return new Connection(id, this);
  }
}
