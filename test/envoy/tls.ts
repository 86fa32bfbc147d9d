// mTLS for real-Envoy tests: a throwaway CA and leaf certificates made at run time with the openssl
// CLI (node:crypto can sign but cannot issue an X.509 certificate), and the Envoy transport sockets
// that use them. Keys live in a temporary directory that the caller removes; none is committed.
// openssl is provisioned by scripts/provision/registry.sh (run by scripts/test.sh).
//
// Identities are SPIFFE ids in a URI SAN, as Istio issues them (spiffe://<trust domain>/ns/<ns>/sa/<sa>);
// Envoy exposes the first URI SAN of the client's certificate to Wasm as the property
// `connection.uri_san_peer_certificate` (Envoy docs: "Attributes", connection attributes).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface Identity {
  /** File names stem; also the certificate's CN. */
  name: string;
  /** e.g. spiffe://cluster.local/ns/shop/sa/frontend */
  spiffeId: string;
}

export interface IssuedCert { certFile: string; keyFile: string; spiffeId: string }

export interface Pki {
  dir: string;
  caFile: string;
  /** One certificate per identity, by name. */
  certs: Map<string, IssuedCert>;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    if (err.code === "ENOENT") throw new Error("the openssl CLI is needed to make test certificates (Debian package openssl)");
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString() ?? e}`);
  }
}

/** A CA and one certificate per identity (EC P-256, valid for a day; usable as client and server). */
export function makePki(identities: Identity[]): Pki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-pki-"));
  try {
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
      "-subj", "/O=meltemi-test/CN=meltemi test CA", "-keyout", "ca.key", "-out", "ca.crt",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
    const certs = new Map<string, IssuedCert>();
    for (const id of identities) {
      if (!/^[a-z0-9-]+$/.test(id.name)) throw new Error(`identity name "${id.name}": use [a-z0-9-]`);
      fs.writeFileSync(path.join(dir, `${id.name}.ext`), [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=serverAuth,clientAuth",
        `subjectAltName=URI:${id.spiffeId}`,
        "",
      ].join("\n"));
      openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/O=meltemi-test/CN=${id.name}`,
        "-keyout", `${id.name}.key`, "-out", `${id.name}.csr`], dir);
      openssl(["x509", "-req", "-in", `${id.name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1",
        "-extfile", `${id.name}.ext`, "-out", `${id.name}.crt`], dir);
      certs.set(id.name, { certFile: path.join(dir, `${id.name}.crt`), keyFile: path.join(dir, `${id.name}.key`), spiffeId: id.spiffeId });
    }
    return { dir, caFile: path.join(dir, "ca.crt"), certs, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function commonTlsContext(cert: IssuedCert, caFile: string): object {
  return {
    tls_certificates: [{ certificate_chain: { filename: cert.certFile }, private_key: { filename: cert.keyFile } }],
    validation_context: { trusted_ca: { filename: caFile } },
  };
}

/** Server side (a listener's filter chain): terminates TLS and requires a client certificate signed by the CA. */
export function downstreamMtls(cert: IssuedCert, caFile: string): object {
  return {
    name: "envoy.transport_sockets.tls",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
      require_client_certificate: true,
      common_tls_context: commonTlsContext(cert, caFile),
    },
  };
}

/**
 * Client side (a cluster): originates TLS with `cert` as the client certificate, and accepts only a
 * server whose URI SAN is `serverSpiffeId` (as Istio's sidecars check the server's identity).
 */
export function upstreamMtls(cert: IssuedCert, caFile: string, serverSpiffeId: string): object {
  const common = commonTlsContext(cert, caFile) as { validation_context: object };
  return {
    name: "envoy.transport_sockets.tls",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
      common_tls_context: {
        ...common,
        validation_context: {
          ...common.validation_context,
          match_typed_subject_alt_names: [{ san_type: "URI", matcher: { exact: serverSpiffeId } }],
        },
      },
    },
  };
}
