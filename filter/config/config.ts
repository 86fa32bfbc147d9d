// The filter configuration: parsed from the plugin configuration JSON and checked against the rules of
// filter-config.schema.json (the single source of truth; test/config/conformance.test.ts holds the
// filter and the schema to the same verdicts). A rejected configuration never replaces a good one.
import { JsonKind, JsonValue, parseJson } from "./json";

export const SCHEMA_VERSION: i32 = 1;
const NAME_MAX_LENGTH: i32 = 253;

export class FilterConfig {
  name: string = "";
}

/** What the filter runs with when it has never been given a valid configuration: pass-through. */
export function defaultConfig(): FilterConfig {
  return new FilterConfig();
}

export class ConfigResult {
  config: FilterConfig | null = null;
  /** Why the configuration was rejected; empty when accepted. */
  error: string = "";
}

function reject(message: string): ConfigResult {
  const r = new ConfigResult();
  r.error = message;
  return r;
}

/** Unicode code points, as JSON Schema counts string length. */
function codePointLength(s: string): i32 {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export function parseConfig(text: string): ConfigResult {
  const parsed = parseJson(text);
  if (parsed.error.length > 0) return reject("invalid JSON: " + parsed.error);
  const root = parsed.value as JsonValue;
  if (root.kind != JsonKind.Object) return reject("expected a JSON object, got " + root.kindName());

  const version = root.get("version");
  if (version === null) return reject("missing \"version\"");
  if (version.kind != JsonKind.Number || version.numberValue != <f64>SCHEMA_VERSION) {
    const shown = version.kind != JsonKind.Number ? version.kindName()
      : Math.floor(version.numberValue) == version.numberValue && Math.abs(version.numberValue) < 1e15 ? (<i64>version.numberValue).toString()
      : version.numberValue.toString();
    return reject("unknown schema version " + shown + " (this filter knows version " + SCHEMA_VERSION.toString() + ")");
  }

  const config = new FilterConfig();
  for (let i = 0; i < root.keys.length; i++) {
    const key = root.keys[i];
    const value = root.items[i];
    if (key == "version") continue;
    if (key == "name") {
      if (value.kind != JsonKind.String) return reject("\"name\" must be a string");
      if (codePointLength(value.stringValue) > NAME_MAX_LENGTH) return reject("\"name\" is longer than " + NAME_MAX_LENGTH.toString() + " characters");
      config.name = value.stringValue;
      continue;
    }
    return reject("unknown field \"" + key + "\"");
  }
  const r = new ConfigResult();
  r.config = config;
  return r;
}
