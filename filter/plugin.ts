// The root context: one per plugin per VM. It owns the configuration and creates a Connection for
// every downstream connection.
//
// Envoy calls on_configure more than once (a canary on the main thread, then on each worker's VM) and
// again on every configuration update, which may reuse a VM (PLATFORM.md, ABI). So a rejected
// configuration is looked up against the last good one of the same plugin name in this VM; with none,
// the filter runs with defaultConfig() (pass-through).
import { RootContext, StreamContext } from "./abi/context";
import { BufferType, LogLevel, getProperty, hostBytes, log, readBuffer, refreshLogLevel } from "./abi/host";
import { FilterConfig, defaultConfig, parseConfig } from "./config/config";
import { Connection } from "./network/connection";
import { count, metrics } from "./telemetry/metrics";

const lastGoodByPlugin = new Map<string, FilterConfig>();

export class MeltemiRoot extends RootContext {
  config: FilterConfig = defaultConfig();
  pluginName: string = "";

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
    if (result.config !== null) {
      this.config = result.config as FilterConfig;
      lastGoodByPlugin.set(this.pluginName, this.config);
      count(metrics.configAccepted, 1);
      log(LogLevel.Info, this.prefix() + "configuration accepted");
      return true;
    }

    count(metrics.configRejected, 1);
    if (lastGoodByPlugin.has(this.pluginName)) {
      this.config = lastGoodByPlugin.get(this.pluginName);
      log(LogLevel.Error, this.prefix() + "configuration rejected: " + result.error + "; keeping the previous configuration");
    } else {
      this.config = defaultConfig();
      log(LogLevel.Error, this.prefix() + "configuration rejected: " + result.error + "; no previous configuration, running the default (pass-through)");
    }
    // Accept the plugin anyway: returning false would make Envoy fail the whole listener update.
    return true;
  }

  prefix(): string {
    const name = this.config.name.length > 0 ? this.config.name : this.pluginName;
    return "meltemi[" + name + "]: ";
  }

  newStream(id: u32): StreamContext {
    return new Connection(id, this);
  }
}
