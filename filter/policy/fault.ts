// Fault injection (what Aeraki's API left commented out): for matching requests, abort with a
// protocol error reply and/or delay, each for a percentage of them. Percentages are in millionths
// (like Envoy's FractionalPercent MILLION) so that 0.1% is expressible.
import { Metadata } from "../codec/metadata";
import { MetadataMatch } from "../match/metadata_match";
import { Random } from "../route/random";

export const MILLION: u32 = 1_000_000;

export class Fault {
  abortPerMillion: u32 = 0;
  abortMessage: string = "fault injected by meltemi";
  delayPerMillion: u32 = 0;
  delayMs: u32 = 0;
  constructor(public readonly match: MetadataMatch) {}
}

export class FaultDecision {
  abort: bool = false;
  delayMs: u32 = 0;
  fault: Fault | null = null;
}

/** The first fault whose match holds decides; the draws are independent for abort and delay. */
export function decideFault(faults: Array<Fault>, md: Metadata, random: Random, out: FaultDecision): void {
  out.abort = false;
  out.delayMs = 0;
  out.fault = null;
  for (let i = 0; i < faults.length; i++) {
    const f = unchecked(faults[i]);
    if (!f.match.matches(md)) continue;
    out.fault = f;
    out.abort = f.abortPerMillion > 0 && random.below(MILLION) < f.abortPerMillion;
    if (f.delayPerMillion > 0 && random.below(MILLION) < f.delayPerMillion) out.delayMs = f.delayMs;
    return;
  }
}
