// The VM-wide budget for the bytes connections keep between reads: incomplete frames (both
// directions) and, while a fault delay holds a connection, its decided bytes.
//
// Why: a Wasm VM's linear memory only grows, and a VM that cannot grow traps, which fails every
// connection of every listener that shares it. Each connection's own bound is one frame
// (Limits.maxFrameBytes, enforced by the codecs on the declared or walked length), but many idle
// connections that each send most of a large frame would add up. So every growth of those buffers is
// admitted here BEFORE it is allocated. Past the budget, the newest offender is shed (closed, its
// buffers freed): the newest connection that holds more than OFFENDER_BYTES, or the asking connection
// itself when it would hold more than that too and is newer than all of them; with no offender left,
// the newest connection that holds anything (see admit). Older connections, which were there before the pressure,
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
  /** Connections charged more than OFFENDER_BYTES. */
  private offenders: ConnectionSet = new ConnectionSet(true);
  /** Connections charged anything: the last resort when no offender is left. */
  private holders: ConnectionSet = new ConnectionSet(false);

  constructor(public readonly limit: u64) {}

  /**
   * Room for `growth` more bytes for `c`, shedding the newest offenders until it fits. Returns false
   * when `c` itself was shed (it must stop processing the read and return at once).
   *
   * When no offender is left, the newest holder of anything is shed instead: otherwise many
   * connections that each keep just under OFFENDER_BYTES (512 of them fill the default budget) would
   * make every later growth shed the asking connection, good clients included. Either way the oldest
   * connections, there before the pressure, keep working.
   */
  admit(c: Connection, growth: u32): bool {
    if (growth == 0) return true;
    // A connection that stays small (a frame split across two reads) is no offender: it only sheds.
    const offends = c.charged + growth > OFFENDER_BYTES;
    while (this.used + <u64>growth > this.limit) {
      let victim = this.offenders.newest();
      if (victim === null || (offends && victim.id <= c.id)) {
        if (offends) { c.shed(c); return false; }
        victim = this.holders.newestOtherThan(c);
        if (victim === null || victim.id <= c.id) { c.shed(c); return false; }
      }
      victim.shed(c);
    }
    this.set(c, c.charged + growth);
    return true;
  }

  /** `c` now holds `bytes` (after its buffers shrank or were freed). */
  set(c: Connection, bytes: u32): void {
    if (bytes == c.charged) return; // most reads keep nothing before and after
    this.used = this.used + <u64>bytes - <u64>c.charged;
    c.charged = bytes;
    this.offenders.update(c, bytes > OFFENDER_BYTES);
    this.holders.update(c, bytes > 0);
  }

  get offenderCount(): i32 { return this.offenders.size; }
}

/**
 * A set of connections with O(1) insert and remove (each connection keeps its slot, one per set) and
 * a linear search for the newest: only run when shedding, which frees a connection's memory.
 */
class ConnectionSet {
  private members: Array<Connection> = [];
  constructor(private readonly offenders: bool) {}

  get size(): i32 { return this.members.length; }

  update(c: Connection, member: bool): void {
    const at = this.offenders ? c.offenderIndex : c.holderIndex;
    if (member && at < 0) {
      this.setSlot(c, this.members.length);
      this.members.push(c);
    } else if (!member && at >= 0) {
      const last = this.members.pop();
      if (last !== c) {
        this.members[at] = last;
        this.setSlot(last, at);
      }
      this.setSlot(c, -1);
    }
  }

  newest(): Connection | null { return this.newestOtherThan(null); }

  newestOtherThan(skip: Connection | null): Connection | null {
    let newest: Connection | null = null;
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[i];
      if (m === skip) continue;
      if (newest === null || m.id > newest.id) newest = m;
    }
    return newest;
  }

  private setSlot(c: Connection, at: i32): void {
    if (this.offenders) c.offenderIndex = at;
    else c.holderIndex = at;
  }
}

export const memoryBudget = new MemoryBudget(VM_BUFFER_BUDGET);
