// Connections held by a fault delay, and the root's tick that lets them go; also connections to close
// once a last reply is on its way to the client (Connection.closeAfterLastReply).
//
// Envoy gives a network filter one way to delay bytes: return Pause (StopIteration) from
// on_downstream_data and later call proxy_continue_stream(Downstream), which hands Envoy's read buffer
// to the next filter (tcp_proxy, dubbo_proxy, thrift_proxy) without calling us again. Nothing calls a
// connection when its delay ends, so the plugin's root context ticks (proxy_set_tick_period_milliseconds
// is per root and per worker, and a connection always lives on its root's worker) and continues each
// due connection after proxy_set_effective_context(connection): from a root context continue_stream
// finds no connection (Envoy context.cc continueStream; the Node host warns about it).
import { LogLevel, StreamType, closeStream, continueStream, log, setEffectiveContext } from "../abi/host";
import { Connection } from "./connection";

/**
 * How often the root ticks while a connection is held. Envoy's set_tick_period changes the period of a
 * running timer only after its next tick (Envoy wasm.cc setTickPeriod/tickHandler), so a per-delay
 * period would let a short delay wait for a long one's tick; a fixed short period is simpler and
 * bounds the error: a delay ends up to HOLD_TICK_MS late.
 */
export const HOLD_TICK_MS: u32 = 5;

export class HeldConnections {
  private held: Array<Connection> = [];

  get size(): i32 { return this.held.length; }

  /** Holds `c` until its holdUntilNs (the root ticks while size > 0). */
  hold(c: Connection): void {
    if (!this.held.includes(c)) this.held.push(c);
  }

  /** A held connection closed: forget it. */
  forget(c: Connection): void {
    const i = this.held.indexOf(c);
    if (i >= 0) { this.held[i] = this.held[this.held.length - 1]; this.held.pop(); }
  }

  /** The root's tick: closes every connection due to close, continues every connection whose delay is over. */
  onTick(nowNs: u64): void {
    for (let i = 0; i < this.held.length; ) {
      const c = this.held[i];
      if (c.closeDue) {
        // close_stream(Downstream) closes with FlushWrite: what was written to the client goes first.
        const r = setEffectiveContext(c.id);
        if (r == 0) closeStream(StreamType.Downstream);
        else log(LogLevel.Error, "meltemi: cannot close connection " + c.id.toString() + " (set_effective_context: " + r.toString() + ")");
        c.closeDue = false;
        this.held[i] = this.held[this.held.length - 1];
        this.held.pop();
        continue;
      }
      if (c.holdUntilNs > nowNs) { i++; continue; }
      c.releaseHold();
      const r = setEffectiveContext(c.id);
      if (r == 0) continueStream(StreamType.Downstream);
      else log(LogLevel.Error, "meltemi: cannot resume delayed connection " + c.id.toString() + " (set_effective_context: " + r.toString() + ")");
      this.held[i] = this.held[this.held.length - 1];
      this.held.pop();
    }
  }
}
