// The VM-wide budget for the bytes connections keep between reads: incomplete frames (both
// directions) and, while a fault delay holds a connection, its decided bytes.
//
// Why: a Wasm VM's linear memory only grows, and a VM that cannot grow traps, which fails every
// connection of every listener that shares it. Each connection's own bound is one frame
// (Limits.maxFrameBytes, enforced by the codecs on the declared or walked length), but many idle
// connections that each send most of a large frame would add up. So every growth of those buffers is
// admitted here BEFORE it is allocated. Past the budget, the newest offender is shed (closed, its
// buffers freed): the newest connection that holds more than OFFENDER_BYTES, or the asking connection
// itself when it would hold more than that too and is newer than all of them (or nothing else can go). Older connections, which were there before the pressure,
// keep working. Freed buffers go back to the allocator (the runtime's TLSF reuses freed blocks).
import { Connection } from "./connection";

/**
 * Bytes of kept buffers a VM may hold: two of the largest frames allowed (limits.maxFrameBytes <= 16
 * MiB, config.ts), or eight of the default 4 MiB. The VM's other memory (configuration, per-read
 * buffers, telemetry) comes on top, and the runtime's allocator doubles linear memory whenever it
 * grows (AssemblyScript rt/tlsf.ts growMemory), so the VM's memory stays under about twice this plus
 * the rest: far from the 1 GiB where Envoy's V8 VM traps.
 */
export const VM_BUFFER_BUDGET: u64 = 32 << 20;
/** A connection holding more than this is a candidate for shedding (small leftovers are not). */
export const OFFENDER_BYTES: u32 = 64 * 1024;

export class MemoryBudget {
  /** Bytes charged by every connection of the VM. */
  used: u64 = 0;
  /** Connections charged more than OFFENDER_BYTES (Connection.offenderIndex is the slot). */
  private offenders: Array<Connection> = [];

  constructor(public readonly limit: u64) {}

  /**
   * Room for `growth` more bytes for `c`, shedding the newest offenders until it fits. Returns false
   * when `c` itself was shed (it must stop processing the read and return at once).
   */
  admit(c: Connection, growth: u32): bool {
    if (growth == 0) return true;
    // A connection that stays small (a frame split across two reads) is no offender: it only sheds.
    const offends = c.charged + growth > OFFENDER_BYTES;
    while (this.used + <u64>growth > this.limit) {
      const victim = this.newestOffender();
      if (victim === null || (offends && victim.id <= c.id)) {
        c.shed(c);
        return false;
      }
      victim.shed(c);
    }
    this.set(c, c.charged + growth);
    return true;
  }

  /** `c` now holds `bytes` (after its buffers shrank or were freed). */
  set(c: Connection, bytes: u32): void {
    this.used = this.used + <u64>bytes - <u64>c.charged;
    c.charged = bytes;
    const offending = bytes > OFFENDER_BYTES;
    if (offending && c.offenderIndex < 0) {
      c.offenderIndex = this.offenders.length;
      this.offenders.push(c);
    } else if (!offending && c.offenderIndex >= 0) {
      const last = this.offenders.pop();
      if (last !== c) {
        this.offenders[c.offenderIndex] = last;
        last.offenderIndex = c.offenderIndex;
      }
      c.offenderIndex = -1;
    }
  }

  get offenderCount(): i32 { return this.offenders.length; }

  private newestOffender(): Connection | null {
    let newest: Connection | null = null;
    for (let i = 0; i < this.offenders.length; i++) {
      const o = this.offenders[i];
      if (newest === null || o.id > newest.id) newest = o;
    }
    return newest;
  }
}

export const memoryBudget = new MemoryBudget(VM_BUFFER_BUDGET);
