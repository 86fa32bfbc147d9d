// A token bucket with Envoy's local rate limit semantics (and Aeraki's MetaRouter localRateLimit):
// `maxTokens` capacity, `tokensPerFill` added every `fillIntervalNs`, starting full. The state (tokens,
// time of the last fill) lives in a CasStore, so all workers of a proxy share one budget; an update
// that loses a CAS race is retried.
import { BUCKET_STATE_BYTES, CasStore } from "./cas_store";

export enum Admit { Allowed, Limited, Contended }

const MAX_CAS_RETRIES = 16;

export class TokenBucket {
  private state: usize = heap.alloc(BUCKET_STATE_BYTES);
  private keyUtf8: ArrayBuffer;

  /** `key` must be unique per bucket on the proxy (it is a shared-data key). */
  constructor(
    public readonly key: string,
    public readonly maxTokens: u64,
    public readonly tokensPerFill: u64,
    public readonly fillIntervalNs: u64,
  ) {
    this.keyUtf8 = String.UTF8.encode(key);
  }

  /**
   * Takes one token at time `nowNs`. Contended means the CAS kept failing MAX_CAS_RETRIES times; the
   * caller decides (the filter admits and counts it: a limiter must not become an outage).
   */
  take(shared: CasStore, nowNs: u64): Admit {
    for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt++) {
      const cas = shared.read(this.keyUtf8, this.state);
      let tokens: u64;
      let lastFill: u64;
      if (cas < 0) {
        tokens = this.maxTokens;
        lastFill = nowNs;
      } else {
        tokens = load<u64>(this.state);
        lastFill = load<u64>(this.state, 8);
        if (nowNs > lastFill && this.fillIntervalNs > 0) {
          const fills = (nowNs - lastFill) / this.fillIntervalNs;
          if (fills > 0) {
            const added = fills * this.tokensPerFill;
            tokens = added >= this.maxTokens || tokens + added >= this.maxTokens ? this.maxTokens : tokens + added;
            lastFill += fills * this.fillIntervalNs;
          }
        }
        // A lowered quota takes effect at once, even with tokens saved under the old one.
        if (tokens > this.maxTokens) tokens = this.maxTokens;
      }
      if (tokens == 0) {
        return Admit.Limited;
      }
      store<u64>(this.state, tokens - 1);
      store<u64>(this.state, lastFill, 8);
      // A first write uses CAS 0, which Envoy treats as unconditional: two workers creating the bucket
      // at the same instant can each take a token from a fresh bucket. Harmless, and only at creation.
      if (shared.write(this.keyUtf8, this.state, cas < 0 ? 0 : <u32>cas)) return Admit.Allowed;
    }
    return Admit.Contended;
  }
}
