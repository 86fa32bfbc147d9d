// The root context: one per plugin per VM. It owns the configuration and creates a Connection for
// every downstream connection.
//
// Envoy calls on_configure more than once: on each worker's VM, and first on a fresh "canary" VM on
// the main thread that has never seen an earlier configuration (observed in Envoy 1.37 on an LDS
// update; test/envoy/reconfigure.test.ts). So the last good configuration text is kept in the
// proxy-wide shared data (keyed by plugin name), not in a VM global: every VM that gets a rejected
// configuration falls back to the same previous one. With none, defaultConfig() (pass-through).
import { RootContext, StreamContext } from "./abi/context";
import {
  BufferType, LogLevel, WasmResult, getProperty, nowNanos, setTickPeriod, getPropertyI64, getSharedData, hostBytes, log, readBuffer, refreshLogLevel, setSharedData,
} from "./abi/host";
import { FilterConfig, defaultConfig, parseConfig } from "./config/config";
import { Connection } from "./network/connection";
import { HOLD_TICK_MS, HeldConnections } from "./network/held_connections";
import { count, metrics, noteMemory } from "./telemetry/metrics";
import { labelValue } from "./telemetry/label_value";
import { RequestMetrics } from "./telemetry/request_metrics";

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

// Shared data is shared by every plugin with the same vm_id on the proxy: prefix our keys (PLATFORM.md).
const LAST_GOOD_KEY_PREFIX = "meltemi.config.last_good/";

function rememberLastGood(plugin: string, text: string): void {
  const utf8 = String.UTF8.encode(text);
  setSharedData(LAST_GOOD_KEY_PREFIX + plugin, changetype<usize>(utf8), <u32>utf8.byteLength, 0);
}

function recallLastGood(plugin: string): FilterConfig | null {
  if (getSharedData(LAST_GOOD_KEY_PREFIX + plugin) != WasmResult.Ok) return null;
  const text = hostBytes.toStringUtf8();
  hostBytes.release();
  return parseConfig(text).config;
}

export class MeltemiRoot extends RootContext {
  config: FilterConfig = defaultConfig();
  pluginName: string = "";
  reporter: string = "unknown";
  private reporterKnown: bool = false;
  /** Request telemetry; kept across configurations while its labels stay the same (its cache stays warm). */
  requestMetrics: RequestMetrics = new RequestMetrics("unknown", "", "unknown", 1);

  /** Connections held by a fault delay (network/held_connections.ts). */
  readonly held: HeldConnections = new HeldConnections();
  private tickMs: u32 = 0;

  /** Holds a connection until its delay is over (it returned Pause). */
  holdConnection(c: Connection): void {
    this.held.hold(c);
    this.updateTick();
  }

  /** A connection closed while held. */
  forgetConnection(c: Connection): void {
    this.held.forget(c);
    this.updateTick();
  }

  onTick(): void {
    this.held.onTick(nowNanos());
    this.updateTick();
  }

  /** Ticks only while something needs it (set_tick_period is per root and per worker). */
  private updateTick(): void {
    const want: u32 = this.held.size > 0 ? HOLD_TICK_MS : 0;
    if (want == this.tickMs) return;
    this.tickMs = want;
    setTickPeriod(want);
  }

  /** Applies a configuration (accepted, or the previous / default one). */
  private use(config: FilterConfig): void {
    this.config = config;
    const rm = this.requestMetrics;
    const nameUtf8 = String.UTF8.encode(config.name);
    const service = labelValue(changetype<usize>(nameUtf8), <u32>nameUtf8.byteLength);
    if (rm.reporter != this.reporter || rm.protocol != config.protocol || rm.defaultService != service || rm.maxLabelSets != config.maxLabelSets) {
      this.requestMetrics = new RequestMetrics(this.reporter, config.protocol, service, config.maxLabelSets);
    }
  }

  onVmStart(size: u32): bool {
    metrics.define();
    return true;
  }

  onConfigure(size: u32): bool {
    metrics.define();
    refreshLogLevel();
    const name = getProperty("plugin_name");
    this.pluginName = name !== null ? name : "";

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
      rememberLastGood(this.pluginName, text);
      count(metrics.configAccepted, 1);
      log(LogLevel.Info, this.prefix() + "configuration accepted");
      return true;
    }

    count(metrics.configRejected, 1);
    const previous = recallLastGood(this.pluginName);
    if (previous !== null) {
      this.use(previous);
      log(LogLevel.Error, this.prefix() + "configuration rejected: " + result.error + "; keeping the previous configuration");
    } else {
      this.use(defaultConfig());
      log(LogLevel.Error, this.prefix() + "configuration rejected: " + result.error + "; no previous configuration, running the default (pass-through)");
    }
    // Accept the plugin anyway: returning false would make Envoy fail the whole listener update.
    return true;
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

  newStream(id: u32): StreamContext {
    return new Connection(id, this);
  }
}
