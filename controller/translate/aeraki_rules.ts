// Aeraki's validating webhook rules for names, ports and exportTo (aeraki-mesh/aeraki
// internal/webhook/validation/scheme/validation.go: ValidateFQDN, validateSubsetName, ValidatePort,
// validateExportTo, the last after Istio's visibility values). Each returns a problem, or null.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** A host name: non-empty, at most 255, DNS-1123 labels (a trailing dot allowed), a non-numeric last label. */
export function fqdnProblem(host: string): string | null {
  if (host === "") return "empty host";
  if (host.length > 255) return `host "${host}" is too long (at most 255)`;
  const labels = host.split(".");
  const last = labels[labels.length - 1]!;
  if (/^[0-9]+$/.test(last)) return `host "${host}": the last label "${last}" cannot be all-numeric (an address is not a host name)`;
  for (let i = 0; i < labels.length; i++) {
    if (i === labels.length - 1 && labels[i] === "" && i > 0) break;
    if (!isDns1123Label(labels[i]!)) return `host "${host}": label "${labels[i]}" is not a DNS-1123 label`;
  }
  return null;
}

/** A subset name as given (an empty one too: it would route to every pod of the host). */
export function subsetProblem(subset: string): string | null {
  if (subset === "") return "an empty subset name (leave subset out to route to every pod of the host)";
  return isDns1123Label(subset) ? null : `subset name "${subset}" is not a DNS-1123 label`;
}

export function portProblem(port: number | undefined): string | null {
  return port !== undefined && Number.isInteger(port) && port >= 1 && port <= 65535 ? null : `port number ${port ?? "(none)"} is not in 1..65535`;
}

/**
 * exportTo: `.` (this namespace), `*` (everywhere), `~` (no one) or namespace names; no duplicates
 * (`.` counts as the object's namespace); `*` and `~` alone.
 */
export function exportToProblems(namespace: string, exportTo: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const e of exportTo) {
    const key = e === "." ? namespace : e;
    if (seen.has(key)) {
      problems.push(key === e ? `duplicate entry "${e}"` : `duplicate entries "." and its namespace "${namespace}"`);
      continue;
    }
    if (e !== "*" && e !== "~" && e !== "." && !isDns1123Label(e)) {
      problems.push(`"${e}" is not ".", "*", "~" or a namespace name`);
      continue;
    }
    seen.add(key);
  }
  if (exportTo.length > 1 && seen.has("*")) problems.push(`"*" (everywhere) cannot be combined with other entries`);
  if (exportTo.length > 1 && seen.has("~")) problems.push(`"~" (no one) cannot be combined with other entries`);
  return problems;
}
