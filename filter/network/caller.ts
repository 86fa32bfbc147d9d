// The caller's identity for authorization: the mTLS peer certificate's URI SAN that Envoy exposes as
// the property `connection.uri_san_peer_certificate` (e.g. `spiffe://cluster.local/ns/web/sa/frontend`).
// As Istio does, the principal is the SAN without `spiffe://` and the namespace is the segment after
// `/ns/`. Without mTLS the caller is unknown: it matches no positive list (Istio semantics).
import { getProperty } from "../abi/host";
import { Caller } from "../policy/authorization";

export function readCaller(): Caller {
  const caller = new Caller();
  const san = getProperty("connection\0uri_san_peer_certificate");
  if (san === null || san.length == 0) return caller;
  const principal = san.startsWith("spiffe://") ? san.substring(9) : san;
  caller.principal = String.UTF8.encode(principal, false);
  const ns = principal.indexOf("/ns/");
  if (ns >= 0) {
    const rest = principal.substring(ns + 4);
    const end = rest.indexOf("/");
    caller.namespace = String.UTF8.encode(end >= 0 ? rest.substring(0, end) : rest, false);
  }
  caller.known = true;
  return caller;
}
