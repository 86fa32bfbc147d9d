// Runs `fn` over `items` with at most `width` calls in flight (API writes: one at a time is slow on a
// large reconcile, unbounded would flood the API server's priority-and-fairness queue).
export async function forEachLimited<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** API writes in flight during one reconcile. */
export const WRITE_CONCURRENCY = 8;
