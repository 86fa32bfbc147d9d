import { MemoryCasStore } from "../cas_store";
import { Admit, TokenBucket } from "../token_bucket";

const SECOND: u64 = 1_000_000_000;

describe("TokenBucket", () => {
  it("starts full, refills per interval, never above max", () => {
    const store = new MemoryCasStore();
    const b = new TokenBucket("b", 10, 10, SECOND);
    let allowed = 0;
    for (let i = 0; i < 15; i++) if (b.take(store, 0) == Admit.Allowed) allowed++;
    expect(allowed).toBe(10);
    expect(b.take(store, SECOND - 1)).toBe(Admit.Limited);
    allowed = 0;
    for (let i = 0; i < 15; i++) if (b.take(store, SECOND) == Admit.Allowed) allowed++;
    expect(allowed).toBe(10);
    allowed = 0;
    for (let i = 0; i < 30; i++) if (b.take(store, 10 * SECOND) == Admit.Allowed) allowed++;
    expect(allowed).toBe(10);
  });

  it("admits about rate x time + burst over 5 s at 100 requests/s", () => {
    const store = new MemoryCasStore();
    const b = new TokenBucket("b", 10, 10, SECOND);
    let allowed = 0;
    for (let i: u64 = 0; i < 500; i++) if (b.take(store, i * SECOND / 100) == Admit.Allowed) allowed++;
    expect(allowed).toBe(50);
  });

  it("shares one budget between buckets (workers) using the same key", () => {
    const store = new MemoryCasStore();
    const worker1 = new TokenBucket("shared", 10, 10, SECOND);
    const worker2 = new TokenBucket("shared", 10, 10, SECOND);
    let allowed = 0;
    for (let i = 0; i < 20; i++) {
      if (worker1.take(store, 0) == Admit.Allowed) allowed++;
      if (worker2.take(store, 0) == Admit.Allowed) allowed++;
    }
    expect(allowed).toBe(10);
  });

  it("retries lost CAS races and reports persistent contention", () => {
    const store = new MemoryCasStore();
    const b = new TokenBucket("b", 10, 10, SECOND);
    store.injectMismatches = 3;
    expect(b.take(store, 0)).toBe(Admit.Allowed);
    store.injectMismatches = 100;
    expect(b.take(store, 0)).toBe(Admit.Contended);
  });

  it("applies a lowered quota at once", () => {
    const store = new MemoryCasStore();
    new TokenBucket("q", 100, 100, SECOND).take(store, 0);
    const lowered = new TokenBucket("q", 2, 2, SECOND);
    let allowed = 0;
    for (let i = 0; i < 10; i++) if (lowered.take(store, 0) == Admit.Allowed) allowed++;
    expect(allowed).toBe(2);
  });
});
