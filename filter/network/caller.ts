// The caller's identity for authorization: the mTLS peer certificate's URI SAN that Envoy exposes as
// the property `connection.uri_san_peer_certificate` (its FIRST URI SAN; e.g.
// `spiffe://cluster.local/ns/web/sa/frontend`), parsed as Istio does (Caller.fromUriSan). Without
// mTLS terminated by this Envoy the property is absent and the caller is unknown: it matches no
// positive list (Istio semantics). Proven in the real Envoy by test/envoy/mtls-authorization.test.ts.
import { getProperty } from "../abi/host";
import { Caller } from "../policy/authorization";

export function readCaller(): Caller {
  const san = getProperty("connection\0uri_san_peer_certificate");
  if (san === null) return new Caller();
  return Caller.fromUriSan(san);
}
