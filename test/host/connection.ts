// One downstream connection through the network filter, with Envoy's buffer semantics
// (source/common/network/filter_manager_impl.cc, source/extensions/common/wasm/context.cc):
// - read path: bytes from the client accumulate in the connection's read buffer; on_downstream_data
//   gets the WHOLE buffer. Continue passes it on (to "upstream", i.e. the next filter, tcp_proxy);
//   Pause keeps it, and the next read re-delivers everything accumulated. proxy_continue_stream
//   (Downstream) passes the held bytes on without calling the module again.
// - write path: on_upstream_data gets the bytes on their way to the client. Envoy has no way to resume
//   a paused write (continue_stream(Upstream) is Unimplemented); if the module pauses anyway, the bytes
//   stay where they were and come back with the next upstream bytes (what tcp_proxy's buffer does).
//   end_of_stream on the write path is the only upstream-close signal: on_upstream_connection_close(Unknown).
// - close: on_downstream_connection_close(Local|Remote), then on_done, on_log, on_delete.
import { CloseType, FilterStatus } from "./abi";
import { HostBuffer, NetworkBuffer, NO_BUFFER } from "./buffers";
import { encodeProperty, propertyPath, type PropertyValue } from "./properties";
import type { WasmHost } from "./host";

export interface StepResult {
  /** What the callback returned; undefined when the host did not call the module. */
  status: "continue" | "pause" | undefined;
  /** Bytes passed on towards the upstream during this call. */
  forwarded: Buffer;
  /** Bytes passed on to the client during this call. */
  written: Buffer;
  /** The connection is closed (now or before). */
  closed: boolean;
}

export type CloseReason = "client" | "local" | "filter" | "vm-failure";

export interface FilterStateEntry {
  value: Buffer;
  span: number;
}

const EMPTY = Buffer.alloc(0);

export class Connection {
  readonly kind = "connection";
  /** Per-connection properties (e.g. "source\0address"); proxy_set_property writes here too. */
  readonly properties: Map<string, Buffer>;
  /** Objects the module created with the set_envoy_filter_state foreign function. */
  readonly filterState = new Map<string, FilterStateEntry>();
  /** What on_new_connection returned. */
  newConnectionStatus: "continue" | "pause" | undefined;
  /** Why the connection closed, or null while open. */
  closedBy: CloseReason | null = null;

  /** @internal Envoy's read buffer (client -> upstream) and write buffer (upstream -> client). */
  readBuffer: Buffer = EMPTY;
  /** @internal */
  writeBuffer: Buffer = EMPTY;
  // Whether Envoy's context points at the read/write buffer: from the data callback on, until the
  // callback returned Continue (context.cc Context::onData/onWrite).
  private readBufferExposed = false;
  private writeBufferExposed = false;
  private readonly forwardedChunks: Buffer[] = [];
  private readonly writtenChunks: Buffer[] = [];
  private downstreamEnded = false;
  private upstreamEnded = false;
  private forwardedEndFlag = false;
  private writtenEndFlag = false;

  constructor(private readonly host: WasmHost, readonly id: number, readonly rootId: number, properties: Map<string, Buffer>) {
    this.properties = properties;
  }

  /** Everything passed on towards the upstream so far. */
  get forwarded(): Buffer {
    return Buffer.concat(this.forwardedChunks);
  }

  /** Everything passed on to the client so far. */
  get written(): Buffer {
    return Buffer.concat(this.writtenChunks);
  }

  /** Client bytes held by a Pause, not yet passed on. */
  get held(): Buffer {
    return Buffer.from(this.readBuffer);
  }

  /** Upstream bytes held because on_upstream_data paused. */
  get heldUpstream(): Buffer {
    return Buffer.from(this.writeBuffer);
  }

  /** The client's end of stream has been passed on. */
  get forwardedEnd(): boolean {
    return this.forwardedEndFlag;
  }

  /** The upstream's end of stream has been passed on to the client. */
  get writtenEnd(): boolean {
    return this.writtenEndFlag;
  }

  get closed(): boolean {
    return this.closedBy !== null;
  }

  setProperty(path: string, value: PropertyValue): void {
    this.properties.set(propertyPath(path), encodeProperty(value));
  }

  /** Bytes from the client (`end`: the client half-closed). */
  downstream(data: Uint8Array | string, options: { end?: boolean } = {}): StepResult {
    return this.step(() => {
      this.readBuffer = append(this.readBuffer, data);
      if (options.end) this.downstreamEnded = true;
      if (this.readBuffer.length === 0 && !options.end) return undefined; // Envoy only calls onData with data or end
      if (this.host.failed) return this.failedVm(() => this.continueReading());
      this.readBufferExposed = true;
      const r = this.host.callback("proxy_on_downstream_data", this.id, this.readBuffer.length, this.downstreamEnded ? 1 : 0);
      if (this.closed) return statusOf(r);
      if ((r ?? FilterStatus.Continue) === FilterStatus.Continue) {
        this.readBufferExposed = false;
        this.continueReading();
      }
      return statusOf(r);
    });
  }

  /** Bytes from the upstream on their way to the client (`end`: the upstream closed). */
  upstream(data: Uint8Array | string, options: { end?: boolean } = {}): StepResult {
    return this.step(() => {
      this.writeBuffer = append(this.writeBuffer, data);
      if (options.end) this.upstreamEnded = true;
      if (this.writeBuffer.length === 0 && !options.end) return undefined;
      if (this.host.failed) return this.failedVm(() => this.flushWrite());
      this.writeBufferExposed = true;
      const r = this.host.callback("proxy_on_upstream_data", this.id, this.writeBuffer.length, this.upstreamEnded ? 1 : 0);
      if (!this.closed && (r ?? FilterStatus.Continue) !== FilterStatus.Continue) {
        this.host.warn(`connection ${this.id}: on_upstream_data returned Pause; Envoy cannot resume the write path, ` +
          `the ${this.writeBuffer.length} bytes wait for more upstream data`);
      }
      if (options.end && !this.closed) this.host.callback("proxy_on_upstream_connection_close", this.id, CloseType.Unknown);
      if (this.closed) return statusOf(r);
      if ((r ?? FilterStatus.Continue) === FilterStatus.Continue) {
        this.writeBufferExposed = false;
        this.flushWrite();
      }
      return statusOf(r);
    });
  }

  /** The client closes the connection ("remote"), or Envoy closes it ("local", e.g. tcp_proxy after the upstream closed). */
  close(by: "remote" | "local" = "remote"): void {
    this.host.shared.run(() => {
      if (this.closed) return;
      this.finish(by === "remote" ? "client" : "local", by === "remote" ? CloseType.Remote : CloseType.Local);
    });
  }

  /** @internal The buffer proxy_*_buffer_* calls in this connection's context see for DownstreamData / UpstreamData. */
  networkBuffer(upstream: boolean): HostBuffer {
    if (upstream) {
      return this.writeBufferExposed ? new NetworkBuffer(() => this.writeBuffer, (b) => (this.writeBuffer = b)) : NO_BUFFER;
    }
    return this.readBufferExposed ? new NetworkBuffer(() => this.readBuffer, (b) => (this.readBuffer = b)) : NO_BUFFER;
  }

  /** @internal continueReading(): the next filter takes whatever the read buffer holds. */
  continueReading(): void {
    if (this.closed) return;
    if (this.readBuffer.length > 0) this.forwardedChunks.push(this.readBuffer);
    this.readBuffer = EMPTY;
    if (this.downstreamEnded) this.forwardedEndFlag = true;
  }

  /** @internal proxy_close_stream: Envoy closes the client connection with FlushWrite. */
  closeByFilter(): void {
    if (!this.closed) this.finish("filter", CloseType.Local);
  }

  /** @internal The VM trapped during a callback of this connection (fail-closed). */
  markFailed(): void {
    if (!this.closed) this.closedBy = "vm-failure";
  }

  private flushWrite(): void {
    if (this.writeBuffer.length > 0) this.writtenChunks.push(this.writeBuffer);
    this.writeBuffer = EMPTY;
    if (this.upstreamEnded) this.writtenEndFlag = true;
  }

  private finish(reason: CloseReason, type: CloseType): void {
    this.closedBy = reason;
    this.host.closeContext(this, type);
  }

  // A failed VM (proxy-wasm-cpp-host CHECK_FAIL_NET): fail-open passes bytes without calling the
  // module; fail-closed closes the connection without calling it.
  private failedVm(pass: () => void): undefined {
    if (this.host.failOpen) pass();
    else this.closedBy ??= "vm-failure";
    return undefined;
  }

  private step(body: () => "continue" | "pause" | undefined): StepResult {
    const f0 = this.forwardedChunks.length;
    const w0 = this.writtenChunks.length;
    if (this.closed) return { status: undefined, forwarded: EMPTY, written: EMPTY, closed: true };
    const status = this.host.shared.run(() => {
      try {
        return body();
      } catch (e) {
        if (this.host.failed && !this.host.failOpen) this.markFailed();
        throw e;
      }
    });
    return {
      status,
      forwarded: Buffer.concat(this.forwardedChunks.slice(f0)),
      written: Buffer.concat(this.writtenChunks.slice(w0)),
      closed: this.closed,
    };
  }
}

function append(buffer: Buffer, data: Uint8Array | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  if (bytes.length === 0) return buffer;
  return buffer.length === 0 ? bytes : Buffer.concat([buffer, bytes]);
}

function statusOf(r: number | undefined): "continue" | "pause" {
  return (r ?? FilterStatus.Continue) === FilterStatus.Continue ? "continue" : "pause";
}
