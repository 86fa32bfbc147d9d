// Which namespaces' workloads get a router's client-side configuration. Never the whole mesh unless the
// user said so explicitly.

export const CLIENT_NAMESPACES_ANNOTATION = "meltemi.dev/client-namespaces";

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Parses "a, b" into namespaces, or returns an error message. */
export function parseNamespaceList(value: string): string[] | string {
  const out: string[] = [];
  for (const raw of value.split(",")) {
    const ns = raw.trim();
    if (ns === "") continue;
    if (!NAMESPACE.test(ns) || ns.length > 63) return `"${ns}" is not a namespace name`;
    if (!out.includes(ns)) out.push(ns);
  }
  return out.length > 0 ? out : "no namespace listed";
}
