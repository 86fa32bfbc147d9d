/**
 * One challenge from a WWW-Authenticate header (RFC 9110 section 11.6.1), e.g.
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`.
 */
export interface Challenge {
  /** Lower-cased: "basic", "bearer", ... */
  scheme: string;
  params: Record<string, string>;
}

// auth-param = token "=" ( token / quoted-string ); quoted-string allows \-escapes.
const PARAM_RE = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+.^_`|~0-9A-Za-z-]+))\s*(?:,|$)/;
const SCHEME_RE = /^\s*,?\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s+|$)/;

/** Parses a WWW-Authenticate value, which may hold several challenges, into a list. */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let rest = header;
  while (rest.trim() !== "") {
    const scheme = SCHEME_RE.exec(rest);
    if (!scheme) break;
    rest = rest.slice(scheme[0].length);
    const params: Record<string, string> = {};
    for (;;) {
      const m = PARAM_RE.exec(rest);
      // A token followed by a space (not "=") starts the next challenge.
      if (!m) break;
      params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3];
      rest = rest.slice(m[0].length);
    }
    out.push({ scheme: scheme[1].toLowerCase(), params });
  }
  return out;
}
