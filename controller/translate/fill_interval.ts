// The range of a token bucket's fill interval, as the filter's configuration schema bounds it
// (filter/config/filter-config.schema.json, $defs.tokenBucket.fillIntervalMs: the contract with the
// filter): every reader of a rate limit (Meltemi, Aeraki, Slime, adaptive) checks against it.
import filterConfigSchema from "../../filter/config/filter-config.schema.json" with { type: "json" };

const bounds = filterConfigSchema.$defs.tokenBucket.properties.fillIntervalMs;
export const MIN_FILL_INTERVAL_MS: number = bounds.minimum;
/** 24 h. */
export const MAX_FILL_INTERVAL_MS: number = bounds.maximum;

export function fillIntervalInRange(ms: number): boolean {
  return ms >= MIN_FILL_INTERVAL_MS && ms <= MAX_FILL_INTERVAL_MS;
}

/** "between 1ms and 24h", for diagnostics. */
export const FILL_INTERVAL_RANGE = `between ${MIN_FILL_INTERVAL_MS}ms and ${MAX_FILL_INTERVAL_MS / 3_600_000}h`;
