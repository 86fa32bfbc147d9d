// The periodic trigger: every `intervalMs`, one engine refresh over the limiters of the moment, then
// `onResults` (the caller re-translates and applies when quotas changed, and writes status). Rounds
// never overlap: a slow Prometheus delays the next round instead of stacking requests.
import type { AdaptiveLimiter } from "../translate/adaptive_limiter";
import type { AdaptiveEngine, LimiterResult } from "./engine";

export interface LoopOptions {
  intervalMs: number;
  limiters: () => readonly AdaptiveLimiter[];
  /** Runs before each refresh (e.g. reading pod lists the engine's PodSource answers from). */
  prepare?: () => Promise<void>;
  onResults: (results: LimiterResult[]) => void | Promise<void>;
  onError?: (err: unknown) => void;
  now?: () => number;
}

export class AdaptiveLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Completed rounds. */
  rounds = 0;

  constructor(private readonly engine: AdaptiveEngine, private readonly opts: LoopOptions) {
    if (!(opts.intervalMs >= 100)) throw new Error(`refresh interval must be at least 100 ms, got ${opts.intervalMs}`);
  }

  start(): void {
    this.stopped = false;
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.round().then(() => undefined).finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
      });
    };
    tick();
  }

  /** One round now (also what the timer runs). */
  async round(): Promise<LimiterResult[]> {
    let results: LimiterResult[] = [];
    try {
      await this.opts.prepare?.();
      results = await this.engine.refresh(this.opts.limiters(), (this.opts.now ?? Date.now)());
      await this.opts.onResults(results);
    } catch (err) {
      this.opts.onError?.(err);
    }
    this.rounds++;
    return results;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
