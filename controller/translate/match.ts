// Metadata matches, from Meltemi and Aeraki objects to the filter's form, with the regex check the
// schema cannot do.
import type { Match } from "../api/types";
import type { AerakiMatch, AerakiStringMatch } from "../k8s/aeraki";
import type { ObjectRef } from "../k8s/objects";
import type { Diagnostics } from "./diagnostics";
import type { FilterMatch, FilterStringMatch } from "./filter_config";
import { regexProblem } from "./regex_check";

function checkRegex(m: FilterStringMatch, key: string, path: string, ref: ObjectRef, diags: Diagnostics): boolean {
  if (m.regex === undefined) return true;
  const problem = regexProblem(m.regex);
  if (problem === null) return true;
  diags.error(ref, "UnsupportedRegex", `key "${key}": regex ${JSON.stringify(m.regex)} is rejected by the filter: ${problem}`, `${path}.${key}.regex`);
  return false;
}

/** A Meltemi match (already schema-checked); undefined when a regex is unusable (reported). */
export function fromMeltemiMatch(match: Match | undefined, path: string, ref: ObjectRef, diags: Diagnostics): FilterMatch | undefined | null {
  if (!match) return undefined;
  const out: FilterMatch = {};
  let ok = true;
  for (const key of Object.keys(match)) {
    const m = { ...match[key]! } as FilterStringMatch;
    ok = checkRegex(m, key, path, ref, diags) && ok;
    out[key] = m;
  }
  return ok ? out : null;
}

/**
 * An Aeraki MetaRouteMatch: `attributes` of exact | prefix | regex (aeraki-mesh/api
 * metaprotocol_metarouter.proto MetaRouteMatch). Presence, with Aeraki's meaning:
 * - no value: refused. `method:` (null) is refused by Aeraki's webhook (validateMetaRouteMatch:
 *   "attribute match cannot be null"); `method: {}` passes it, but Aeraki's xDS then drops the
 *   condition (MetaMatch2HttpHeaderMatch: no match type, `continue`: every request matches) while the
 *   proto's comment reads it as presence. Applied either way it could route more than written;
 *   `regex: "*"` says presence;
 * - `regex: "*"`: Aeraki's catch-all idiom, a presence check (aeraki internal/xds/utils.go
 *   isCatchAllHeaderMatch; "*" is not even a valid RE2);
 * - `exact: ""`: presence too, because Aeraki hands `exact` to Envoy's HeaderMatcher, whose exact
 *   match with an empty value matches any value (envoy source/common/http/header_utility.cc:
 *   `value_.empty() || value == value_`).
 * null: unusable (reported).
 */
export function fromAerakiMatch(match: AerakiMatch | undefined, path: string, ref: ObjectRef, diags: Diagnostics): FilterMatch | undefined | null {
  const attrs = match?.attributes;
  if (!attrs || Object.keys(attrs).length === 0) return undefined;
  const out: FilterMatch = {};
  let ok = true;
  for (const key of Object.keys(attrs)) {
    const given = attrs[key];
    const m: AerakiStringMatch = given ?? {};
    const kinds = (["exact", "prefix", "regex"] as const).filter((k) => m[k] !== undefined);
    if (key === "") {
      diags.error(ref, "InvalidMatch", "an attribute name is empty", `${path}.attributes`);
      ok = false;
      continue;
    }
    if (kinds.length === 0) {
      const what = given === null || given === undefined ? "is null (Aeraki refuses it)" : "has no exact, prefix or regex (Aeraki's xDS drops such a condition: every request would match)";
      diags.error(ref, "InvalidMatch", `attribute "${key}" ${what}; for a presence check write regex: "*"`, `${path}.attributes.${key}`);
      ok = false;
      continue;
    }
    if (kinds.length > 1) {
      diags.error(ref, "InvalidMatch", `attribute "${key}" sets ${kinds.join(" and ")}; StringMatch is one of exact, prefix, regex`, `${path}.attributes.${key}`);
      ok = false;
      continue;
    }
    const kind = kinds[0];
    if ((kind === "regex" || kind === "prefix") && m[kind] === "") {
      // Aeraki's webhook refuses an empty regex; Envoy's HeaderMatcher an empty prefix (min_len 1).
      diags.error(ref, "InvalidMatch", `attribute "${key}": an empty ${kind} is refused (as Aeraki and Envoy do)`, `${path}.attributes.${key}.${kind}`);
      ok = false;
      continue;
    }
    const presence = (kind === "regex" && m.regex === "*") || (kind === "exact" && m.exact === "");
    const fm: FilterStringMatch = presence ? { present: true } : { [kind!]: m[kind!] };
    ok = checkRegex(fm, key, `${path}.attributes`, ref, diags) && ok;
    out[key] = fm;
  }
  return ok ? out : null;
}
