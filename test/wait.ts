// Waiting for something the test cannot subscribe to (a stat of Envoy's, a status written by the
// controller, an answer counted by a peer): one poller for every test and the demo. The deadline only
// turns a hang into a failure with a message; nothing asserts how long a wait took (CONTRIBUTING.md).
import { setTimeout as sleep } from "node:timers/promises";

/** Thrown by a probe to stop waiting at once (a state that cannot turn good, e.g. a process exited). */
export class Fatal extends Error {}

/** The poll interval starts here and doubles up to MAX_EVERY_MS: in-process conditions are seen at once, slow ones cost few probes. */
const FIRST_EVERY_MS = 5;
const MAX_EVERY_MS = 250;

/**
 * Polls `probe` until it returns a value other than undefined, and returns that value. A probe that
 * throws is retried (its last error goes into the timeout's message), except with Fatal. After
 * `timeoutMs`, throws with `what`, the last error and `context()` (e.g. the logs of the processes).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  context: () => string = () => "",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let every = FIRST_EVERY_MS;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof Fatal) throw err;
      last = err;
    }
    if (Date.now() > deadline) {
      const extra = context();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}${extra ? `\n${extra}` : ""}`);
    }
    await sleep(every);
    every = Math.min(every * 2, MAX_EVERY_MS);
  }
}

/** Waits until `cond` holds (waitFor for a yes/no condition). */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000, context?: () => string): Promise<void> {
  await waitFor(what, async () => ((await cond()) ? true : undefined), timeoutMs, context);
}
