// A real OCI registry for tests: Debian's docker-registry (CNCF distribution 2.8), started on a free
// loopback port with its own storage dir, anonymous, with htpasswd Basic auth, or with token (Bearer)
// auth backed by a small token server here that signs JWTs the registry verifies. Every process and
// server started here is stopped by stop() and, as a last resort, when the test process exits.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes, sign, X509Certificate } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import bcrypt from "bcryptjs";
import { freePort } from "../support/tcp";
export { freePort };

import { repoRoot } from "../repo_root";
export { repoRoot };

const children = new Set<ChildProcess>();
process.on("exit", () => { for (const c of children) c.kill("SIGKILL"); });

/** Installs docker-registry, skopeo and openssl if missing (scripts/provision/registry.sh). */
export function provisionRegistryTools(): void {
  execFileSync(path.join(repoRoot, "scripts/provision/registry.sh"), { stdio: ["ignore", "ignore", "inherit"] });
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface User { username: string; password: string }

export type RegistryAuth =
  | { kind: "none" }
  | { kind: "basic"; user: User }
  | { kind: "token"; user: User };

export interface Registry {
  /** 127.0.0.1:PORT */
  host: string;
  auth: RegistryAuth;
  dir: string;
  stop(): Promise<void>;
}

// ---- token server -------------------------------------------------------------------------------

interface TokenServer { realm: string; service: string; issuer: string; certFile: string; stop(): Promise<void> }

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/**
 * The registry token flow (distribution docs/spec/auth/token.md and jwt.md): GET ?service=&scope=
 * with Basic credentials answers {"token": JWT}. The JWT is RS256-signed and carries its certificate in
 * the `x5c` header; the registry trusts it because the same certificate is its `rootcertbundle`.
 * node:crypto signs, but cannot make an X.509 certificate, so openssl (provisioned) makes the pair.
 */
async function startTokenServer(dir: string, user: User): Promise<TokenServer> {
  const keyFile = path.join(dir, "token.key");
  const certFile = path.join(dir, "token.crt");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile,
    "-subj", "/CN=meltemi-test-token-issuer", "-days", "1"], { stdio: "ignore" });
  const key = fs.readFileSync(keyFile);
  const certDer = new X509Certificate(fs.readFileSync(certFile)).raw;
  const service = "meltemi-test-registry";
  const issuer = "meltemi-test-issuer";

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const auth = req.headers.authorization ?? "";
    const expected = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`;
    if (url.pathname !== "/token" || auth !== expected) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="token"', "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
      return;
    }
    const access = url.searchParams.getAll("scope").map((scope) => {
      const [type, ...rest] = scope.split(":");
      const actions = rest.pop() ?? "";
      return { type, name: rest.join(":"), actions: actions.split(",").filter((a) => a === "pull" || a === "push") };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c: [certDer.toString("base64")] };
    const claims = { iss: issuer, sub: user.username, aud: service, exp: now + 300, nbf: now - 10, iat: now,
      jti: randomBytes(8).toString("hex"), access };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signingInput}.${b64url(sign("sha256", Buffer.from(signingInput), key))}`;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date(now * 1000).toISOString() }));
  });
  const port = await listen(server);
  return { realm: `http://127.0.0.1:${port}/token`, service, issuer, certFile, stop: () => closeServer(server) };
}

// ---- the registry ------------------------------------------------------------------------------

async function waitReady(child: ChildProcess, host: string, logFile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}):\n${fs.readFileSync(logFile, "utf8")}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(`http://${host}/v2/`, (res) => { res.resume(); resolve(true); });
      req.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry on ${host} not ready in 15 s:\n${fs.readFileSync(logFile, "utf8")}`);
}

export async function startRegistry(auth: RegistryAuth): Promise<Registry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-registry-"));
  const cleanups: (() => Promise<void>)[] = [];
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: "warn", accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: path.join(dir, "storage") }, delete: { enabled: true } },
  };
  if (auth.kind === "basic") {
    // distribution's htpasswd reads bcrypt entries only.
    const entry = `${auth.user.username}:${bcrypt.hashSync(auth.user.password, 8)}\n`;
    fs.writeFileSync(path.join(dir, "htpasswd"), entry);
    config.auth = { htpasswd: { realm: "meltemi-test", path: path.join(dir, "htpasswd") } };
  } else if (auth.kind === "token") {
    const ts = await startTokenServer(dir, auth.user);
    cleanups.push(ts.stop);
    config.auth = { token: { realm: ts.realm, service: ts.service, issuer: ts.issuer, rootcertbundle: ts.certFile } };
  }

  try {
    // The registry takes a fixed port from its config (it does not report a port 0 choice), so a
    // free one is picked first; a lost race shows as "address already in use" and is retried.
    for (let attempt = 1; ; attempt++) {
      const host = `127.0.0.1:${await freePort()}`;
      const configFile = path.join(dir, "config.yml");
      fs.writeFileSync(configFile, JSON.stringify({ ...config, http: { addr: host } })); // JSON is YAML
      const logFile = path.join(dir, "registry.log");
      const log = fs.openSync(logFile, "w");
      const child = spawn("/usr/bin/docker-registry", ["serve", configFile], { stdio: ["ignore", log, log] });
      fs.closeSync(log);
      children.add(child);
      child.on("exit", () => children.delete(child));
      const stopChild = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      };
      try {
        await waitReady(child, host, logFile);
      } catch (e) {
        await stopChild();
        if (attempt < 3 && /address already in use/.test((e as Error).message)) continue;
        throw e;
      }
      cleanups.unshift(stopChild);
      return {
        host, auth, dir,
        stop: async () => {
          for (const c of cleanups) await c();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (e) {
    for (const c of cleanups) await c();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

// ---- reading back --------------------------------------------------------------------------------

export function skopeoCreds(auth: RegistryAuth): string[] {
  return auth.kind === "none" ? [] : ["--creds", `${auth.user.username}:${auth.user.password}`];
}

/**
 * Runs skopeo; plain HTTP to the loopback registry (--tls-verify=false also allows http). Async on
 * purpose: the token server lives in this process and must keep answering while skopeo runs.
 */
export async function skopeo(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)("skopeo", args, { encoding: "utf8", timeout: 60_000 });
  return stdout;
}

/** Does the registry have this tag? Asked with skopeo, independent of wasm-build's client. */
export async function tagExists(reg: Registry, repo: string, tag: string): Promise<boolean> {
  try {
    const out = await skopeo(["list-tags", "--tls-verify=false", ...skopeoCreds(reg.auth), `docker://${reg.host}/${repo}`]);
    return (JSON.parse(out) as { Tags?: string[] }).Tags?.includes(tag) ?? false;
  } catch (e) {
    // An unknown repository (nothing was ever tagged or pushed there) is reported as an error.
    if (/NAME_UNKNOWN|repository name not known|404/.test(String((e as { stderr?: string }).stderr ?? e))) return false;
    throw e;
  }
}

export const sha256Hex = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

// ---- a proxy that breaks things --------------------------------------------------------------------

export type Tamper = "corrupt-blob-upload" | "rewrite-manifest-digest";

/**
 * An HTTP proxy in front of the registry that misbehaves in one way: flips a byte of every blob
 * upload body (the registry then refuses the content), or reports a wrong Docker-Content-Digest when
 * a manifest is PUT (what a broken or hostile intermediary could do). The Host header is passed
 * through, so the upload locations the registry hands out point back at the proxy.
 */
export async function startTamperingProxy(target: string, tamper: Tamper): Promise<{ host: string; stop(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      const isUpload = /\/blobs\/uploads\//.test(req.url ?? "") && (req.method === "PUT" || req.method === "PATCH");
      if (tamper === "corrupt-blob-upload" && isUpload && body.length > 0) {
        body = Buffer.from(body);
        body[body.length >> 1] ^= 0xff;
      }
      const headers = { ...req.headers, "content-length": String(body.length) };
      delete headers["transfer-encoding"];
      const [hostname, port] = target.split(":");
      const up = http.request({ hostname, port: Number(port), method: req.method, path: req.url, headers }, (upRes) => {
        const outHeaders = { ...upRes.headers };
        if (tamper === "rewrite-manifest-digest" && req.method === "PUT" && /\/manifests\//.test(req.url ?? "")) {
          outHeaders["docker-content-digest"] = `sha256:${"0".repeat(64)}`;
        }
        res.writeHead(upRes.statusCode ?? 502, outHeaders);
        upRes.pipe(res);
      });
      up.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
      up.end(body);
    });
  });
  const port = await listen(server);
  return { host: `127.0.0.1:${port}`, stop: () => closeServer(server) };
}
