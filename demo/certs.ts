// Throwaway mTLS material for the demo's sidecars: a CA and one certificate per workload identity,
// made with the openssl CLI into the run's temporary directory at start-up (never committed, gone when
// the demo stops). Each certificate carries the workload's SPIFFE identity as a URI SAN, as Istio's do
// (spiffe://<trust domain>/ns/<namespace>/sa/<service account>), and serves as both client and server
// certificate.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface Identity { cert: string; key: string; spiffe: string }
export interface Pki { caCert: string; issue(name: string, spiffe: string): Identity }

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    throw new Error(`openssl ${args[0]} failed (the demo needs the openssl CLI): ${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`);
  }
}

export function createPki(dir: string): Pki {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/O=meltemi demo/CN=meltemi demo CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  return {
    caCert: path.join(dir, "ca.crt"),
    issue(name: string, spiffe: string): Identity {
      const ext = path.join(dir, `${name}.ext`);
      fs.writeFileSync(ext, [
        `subjectAltName=URI:${spiffe}`,
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth,clientAuth",
        "basicConstraints=critical,CA:FALSE",
      ].join("\n") + "\n");
      openssl(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/O=meltemi demo/CN=${name}`], dir);
      openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-out", `${name}.crt`, "-extfile", ext], dir);
      return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`), spiffe };
    },
  };
}
