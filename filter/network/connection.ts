// One downstream connection through the network filter. For now it passes bytes unchanged and counts
// connections and bytes in each direction; the codecs and per-request decisions plug in here.
import { StreamContext } from "../abi/context";
import { FilterStatus } from "../abi/host";
import { count, metrics } from "../telemetry/metrics";
import { MeltemiRoot } from "../plugin";

export class Connection extends StreamContext {
  private open: bool = false;

  constructor(id: u32, public readonly plugin: MeltemiRoot) {
    super(id);
  }

  onNewConnection(): FilterStatus {
    this.open = true;
    count(metrics.connections, 1);
    count(metrics.activeConnections, 1);
    return FilterStatus.Continue;
  }

  // `length` is the size of the buffered data Envoy hands us in this call. With Continue Envoy drains
  // it, so each byte is counted once. (After a Pause Envoy re-delivers the whole accumulated buffer.)
  onDownstreamData(length: u32, endOfStream: bool): FilterStatus {
    if (length > 0) count(metrics.rxBytes, length);
    return FilterStatus.Continue;
  }

  onUpstreamData(length: u32, endOfStream: bool): FilterStatus {
    if (length > 0) count(metrics.txBytes, length);
    return FilterStatus.Continue;
  }

  onDone(): bool {
    this.close();
    return true;
  }

  onDelete(): void {
    this.close();
  }

  private close(): void {
    if (!this.open) return;
    this.open = false;
    count(metrics.activeConnections, -1);
  }
}
