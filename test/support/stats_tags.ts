// Envoy's regex tag extraction (source/common/stats/tag_extractor_impl.cc, TagExtractorRegexImpl):
// for each rule whose regex is found in the stat name, the FIRST capture group is cut out of the name
// and the SECOND (or the first when there is one) is the tag value. Applied here with the very rules
// the controller generates (controller/translate/envoy/stats_tags.ts), to the metric names the module
// defines in the Node host, so fast tests see what /stats/prometheus would show. The real Envoy
// check is test/envoy/telemetry.test.ts.
import { meltemiStatsConfig } from "../../controller/translate/envoy/stats_tags";

export interface Extracted {
  name: string;
  tags: Record<string, string>;
}

export function extractTags(statName: string): Extracted {
  const cut: [number, number][] = [];
  const tags: Record<string, string> = {};
  for (const rule of meltemiStatsConfig().stats_tags) {
    // std::regex ECMAScript semantics; `d` gives the capture groups' offsets.
    const m = new RegExp(rule.regex, "d").exec(statName);
    if (!m || !m.indices?.[1]) continue;
    tags[rule.tag_name] = m[2] ?? m[1];
    cut.push(m.indices[1] as [number, number]);
  }
  let name = "";
  for (let i = 0; i < statName.length; i++) if (!cut.some(([a, b]) => i >= a && i < b)) name += statName[i];
  return { name, tags };
}

/** `name{k="v",...}` (sorted keys, or just `name`) -> value, summing stats that land on the same key. */
export function prometheusView(metrics: Record<string, number | number[]>): Map<string, number | number[]> {
  const out = new Map<string, number | number[]>();
  for (const [stat, value] of Object.entries(metrics)) {
    const { name, tags } = extractTags(stat);
    const keys = Object.keys(tags).sort();
    const key = keys.length === 0 ? name : `${name}{${keys.map((k) => `${k}="${tags[k]}"`).join(",")}}`;
    const prev = out.get(key);
    if (prev === undefined) out.set(key, value);
    else if (typeof prev === "number" && typeof value === "number") out.set(key, prev + value);
    else out.set(key, [...(prev as number[]), ...(value as number[])]);
  }
  return out;
}

/** Sum of every series of metric `name` whose labels include `labels`. */
export function sumOf(view: ReadonlyMap<string, number | number[]>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of view) {
    if (key !== name && !key.startsWith(name + "{")) continue;
    if (!Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) continue;
    total += typeof value === "number" ? value : value.length;
  }
  return total;
}
