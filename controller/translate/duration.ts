// Go-style durations ("100ms", "1.5s", "1m30s"), as Istio and Aeraki write them, to milliseconds.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/y;

/** Whole milliseconds, or an error message. */
export function durationMs(text: string): number | string {
  if (typeof text !== "string" || text === "") return `"${String(text)}" is not a duration (e.g. 100ms, 1s, 1m)`;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== at) return `"${text}" is not a duration (e.g. 100ms, 1s, 1m)`;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  const ms = Math.round(total * 1000) / 1000;
  if (!Number.isInteger(ms)) return `"${text}" is not a whole number of milliseconds`;
  return ms;
}
