// The limits on user-supplied patterns, read by both the filter (AssemblyScript: filter/match/regex.ts,
// filter/config/config.ts) and the controller (TypeScript: controller/translate/regex_check.ts), so
// that the controller refuses exactly the configurations the filter would. Plain numeric constants only:
// this file must stay valid in both languages.
//
// Cost model (docs/filter.md, "Matching cost"): matching a value of n bytes against a pattern costs at
// most (n + 1) x stepsPerByte steps, where stepsPerByte is 1 when the pattern compiles to a DFA within
// the caps below (one table lookup per byte) and NFA_STEP_WEIGHT x program length otherwise (the Pike VM
// visits each instruction at most once per byte, and a visit costs about that many table lookups). A
// request evaluates each pattern of the configuration at most once, on a value of at most
// limits.maxMetadataValueBytes, so the sum over all patterns bounds the matching work of any request.

/** Instructions in one compiled pattern. */
export const MAX_REGEX_PROGRAM = 4096;
/** The largest count in `{n}` / `{n,m}`. */
export const MAX_REGEX_REPEAT = 100;
/** Patterns up to this many instructions are tried as a DFA at configuration time. */
export const MAX_DFA_PROGRAM = 512;
/** A DFA is kept only when (states x byte classes) stays within this many cells (u16 each). */
export const MAX_DFA_CELLS = 4096;
/**
 * The cost of one Pike VM instruction visit, in DFA transitions: measured ~16 in the Node host
 * (test/filter/regex-cost.test.ts: ~49 ns against ~3 ns); 64 leaves a factor 4 for costlier visits.
 */
export const NFA_STEP_WEIGHT = 64;
/**
 * The matching steps one request may cost, summed over every pattern of a configuration, at the
 * configuration's largest metadata value: ~0.7 ms of a worker at most, in the Node host on a loaded
 * 2-core machine (test/filter/regex-cost.test.ts prints the figure).
 */
export const MATCH_STEP_BUDGET = 200000;
