import { Agent, request, type Dispatcher } from "undici";
import { digestOf, type Digest } from "../digest.js";
import { WasmBuildError } from "../errors.js";
import type { Blob } from "../image.js";
import { parseChallenges, type Challenge } from "./challenge.js";
import { basicAuthorization, hasBasic, type Credentials } from "./credentials.js";

// A client for the parts of the OCI distribution spec v1.1 that publishing needs
// (opencontainers/distribution-spec spec.md: "Pushing blobs", "Pushing Manifests", "Pulling").

export interface RegistryClientOptions {
  /** host[:port] */
  registry: string;
  repository: string;
  /** Speak plain HTTP instead of HTTPS: only when the user asked for it. */
  plainHttp: boolean;
  credentials: Credentials;
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface RequestOptions {
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Statuses the caller handles; anything else becomes an error naming `what`. */
  expect: number[];
  what: string;
}

const MAX_REDIRECTS = 5;

function header(res: Response, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The registry's own words from an error body ({"errors":[{"code","message"}]}), if any. */
function registryErrorText(res: Response): string {
  try {
    const parsed = JSON.parse(res.body.toString("utf8")) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
    const errs = parsed.errors ?? [];
    if (errs.length > 0) return errs.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
  } catch { /* not JSON */ }
  const text = res.body.toString("utf8").trim();
  return text.length > 0 && text.length < 300 ? text : "";
}

function networkErrorText(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const message = e.cause?.message ?? e.message ?? String(err);
  switch (code) {
    case "ECONNREFUSED": return "connection refused (is the registry running on that host and port?)";
    case "ENOTFOUND": return "host not found";
    case "UND_ERR_CONNECT_TIMEOUT": return "connection timed out";
    case "ECONNRESET": case "UND_ERR_SOCKET": return `connection closed by the registry (${message})`;
    case "ERR_SSL_WRONG_VERSION_NUMBER": return "TLS handshake failed: the server does not speak TLS on that port";
    default: return code ? `${message} (${code})` : message;
  }
}

export class RegistryClient {
  readonly base: string;
  private authorization: string | undefined;
  private authenticatedScheme: string | undefined;
  private readonly dispatcher: Dispatcher;

  constructor(private readonly opts: RegistryClientOptions) {
    this.base = `${opts.plainHttp ? "http" : "https"}://${opts.registry}`;
    if (opts.credentials.token) this.authorization = `Bearer ${opts.credentials.token}`;
    this.dispatcher = new Agent({ connect: { timeout: 10_000 }, headersTimeout: 60_000, bodyTimeout: 300_000 });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private get repoPath(): string {
    return `${this.base}/v2/${this.opts.repository}`;
  }

  private async send(method: Dispatcher.HttpMethod, url: string, o: RequestOptions, auth: boolean): Promise<Response> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (auth && this.authorization) headers.authorization = this.authorization;
    if (o.body) headers["content-length"] = String(o.body.length);
    let res;
    try {
      res = await request(url, { method, headers, body: o.body ? Buffer.from(o.body) : undefined, dispatcher: this.dispatcher });
    } catch (err) {
      const text = networkErrorText(err);
      const tlsHint = !this.opts.plainHttp && /ssl|tls|wrong version|EPROTO/i.test(text)
        ? "; if this registry speaks plain HTTP, pass --insecure-http" : "";
      throw new WasmBuildError(`cannot reach registry ${this.base} (${o.what}): ${text}${tlsHint}`);
    }
    const body = method === "HEAD" ? Buffer.alloc(0) : Buffer.from(await res.body.arrayBuffer());
    if (method === "HEAD") await res.body.dump();
    return { status: res.statusCode, headers: res.headers, body };
  }

  /** Sends a request with the current credentials; on a 401 answers the challenge once and resends. */
  private async call(method: Dispatcher.HttpMethod, url: string, o: RequestOptions): Promise<Response> {
    let res = await this.send(method, url, o, true);
    if (res.status === 401) {
      await this.answerChallenge(res, o.what);
      res = await this.send(method, url, o, true);
      if (res.status === 401) throw this.rejected(res, o.what);
    }
    for (let hops = 0; [301, 302, 303, 307, 308].includes(res.status) && (method === "GET" || method === "HEAD"); hops++) {
      const location = header(res, "location");
      if (!location || hops >= MAX_REDIRECTS) break;
      // Blob storage behind a redirect gets no registry credentials.
      res = await this.send(method, new URL(location, url).toString(), o, false);
    }
    if (res.status === 403) {
      throw new WasmBuildError(`registry ${this.opts.registry} denied ${o.what} (403${registryErrorText(res) ? `: ${registryErrorText(res)}` : ""}); the account lacks push/pull rights on ${this.opts.repository}`);
    }
    if (!o.expect.includes(res.status)) {
      const why = registryErrorText(res);
      throw new WasmBuildError(`registry ${this.opts.registry} answered ${o.what} with HTTP ${res.status}${why ? ` (${why})` : ""}`);
    }
    return res;
  }

  private rejected(res: Response, what: string): WasmBuildError {
    const why = registryErrorText(res);
    const who = this.opts.credentials.token ? "the token"
      : hasBasic(this.opts.credentials) ? `the credentials of user "${this.opts.credentials.username}"` : undefined;
    if (!who) {
      return new WasmBuildError(`registry ${this.opts.registry} requires authentication for ${what} (401${why ? `: ${why}` : ""}); give --username with --password-stdin (or MELTEMI_REGISTRY_USERNAME/MELTEMI_REGISTRY_PASSWORD), or --token`);
    }
    return new WasmBuildError(`registry ${this.opts.registry} rejected ${who} for ${what} (401${why ? `: ${why}` : ""})`);
  }

  private async answerChallenge(res: Response, what: string): Promise<void> {
    const raw = res.headers["www-authenticate"];
    const challenges = (Array.isArray(raw) ? raw : raw ? [raw] : []).flatMap(parseChallenges);
    const bearer = challenges.find((c) => c.scheme === "bearer");
    const basic = challenges.find((c) => c.scheme === "basic");
    if (this.opts.credentials.token) throw this.rejected(res, what);
    if (bearer) {
      this.authorization = `Bearer ${await this.fetchToken(bearer)}`;
      this.authenticatedScheme = "bearer";
    } else if (basic && hasBasic(this.opts.credentials)) {
      if (this.authenticatedScheme === "basic") throw this.rejected(res, what);
      this.authorization = basicAuthorization(this.opts.credentials.username, this.opts.credentials.password);
      this.authenticatedScheme = "basic";
    } else {
      throw this.rejected(res, what);
    }
  }

  /**
   * The registry token flow (distribution docs/spec/auth/token.md): GET the challenge's realm with
   * service and scope, Basic credentials if we have them; the answer holds `token` or `access_token`.
   */
  private async fetchToken(challenge: Challenge): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new WasmBuildError(`registry ${this.opts.registry} sent a Bearer challenge without a realm`);
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    const scopes = new Set([`repository:${this.opts.repository}:pull,push`]);
    if (challenge.params.scope) for (const s of challenge.params.scope.split(" ")) scopes.add(s);
    for (const s of scopes) url.searchParams.append("scope", s);
    const headers: Record<string, string> = {};
    if (hasBasic(this.opts.credentials)) {
      headers.authorization = basicAuthorization(this.opts.credentials.username, this.opts.credentials.password);
    }
    let res;
    try {
      res = await request(url, { headers, dispatcher: this.dispatcher });
    } catch (err) {
      throw new WasmBuildError(`cannot reach the registry's token server ${url.origin}: ${networkErrorText(err)}`);
    }
    const text = await res.body.text();
    if (res.statusCode === 401 || res.statusCode === 403) {
      const who = hasBasic(this.opts.credentials) ? `the credentials of user "${this.opts.credentials.username}"` : "anonymous access";
      throw new WasmBuildError(`token server ${url.origin}${url.pathname} rejected ${who} (${res.statusCode})`);
    }
    if (res.statusCode !== 200) throw new WasmBuildError(`token server ${url.origin}${url.pathname} answered HTTP ${res.statusCode}`);
    let token: unknown;
    try {
      const parsed = JSON.parse(text) as { token?: unknown; access_token?: unknown };
      token = parsed.token ?? parsed.access_token;
    } catch { /* handled below */ }
    if (typeof token !== "string" || token === "") throw new WasmBuildError(`token server ${url.origin}${url.pathname} returned no token`);
    return token;
  }

  /** GET /v2/: checks the registry speaks the distribution API and settles authentication up front. */
  async ping(): Promise<void> {
    await this.call("GET", `${this.base}/v2/`, { expect: [200], what: "the API version check (GET /v2/)" });
  }

  /** The blob's size if the registry has it under this repository. */
  async blobSize(digest: Digest): Promise<number | undefined> {
    const res = await this.call("HEAD", `${this.repoPath}/blobs/${digest}`, { expect: [200, 404], what: `HEAD blob ${digest}` });
    if (res.status === 404) return undefined;
    const served = header(res, "docker-content-digest");
    if (served && served !== digest) {
      throw new WasmBuildError(`registry ${this.opts.registry} serves blob ${digest} under digest ${served}`);
    }
    return Number(header(res, "content-length"));
  }

  /**
   * Uploads a blob: POST opens an upload session, then either one PUT with the whole body
   * (monolithic) or PATCHes of `chunkSize` bytes with Content-Range followed by a closing PUT.
   * The PUT carries `?digest=`, so the registry itself refuses content that does not match.
   * Returns how many PATCH chunks were sent (0: monolithic).
   */
  async uploadBlob(blob: Blob, chunkSize?: number): Promise<number> {
    const what = `upload of blob ${blob.digest}`;
    const start = await this.call("POST", `${this.repoPath}/blobs/uploads/`, { expect: [202], what });
    let location = this.uploadLocation(start, what);
    let chunks = 0;
    if (chunkSize && chunkSize > 0 && blob.size > 0) {
      for (let offset = 0; offset < blob.size; offset += chunkSize) {
        const chunk = blob.bytes.subarray(offset, Math.min(offset + chunkSize, blob.size));
        const end = offset + chunk.length - 1;
        const res = await this.call("PATCH", location, {
          headers: { "content-type": "application/octet-stream", "content-range": `${offset}-${end}` },
          body: chunk,
          expect: [202],
          what: `${what} (chunk ${offset}-${end})`,
        });
        const range = header(res, "range");
        if (range && range !== `0-${end}`) {
          throw new WasmBuildError(`registry ${this.opts.registry} acknowledged bytes ${range} of blob ${blob.digest}, expected 0-${end}`);
        }
        location = this.uploadLocation(res, what);
        chunks++;
      }
      await this.finishUpload(blob, location, undefined, what);
    } else {
      await this.finishUpload(blob, location, blob.bytes, what);
    }
    return chunks;
  }

  private uploadLocation(res: Response, what: string): string {
    const location = header(res, "location");
    if (!location) throw new WasmBuildError(`registry ${this.opts.registry} gave no upload location for ${what}`);
    return new URL(location, this.base).toString();
  }

  private async finishUpload(blob: Blob, location: string, body: Uint8Array | undefined, what: string): Promise<void> {
    const url = new URL(location);
    url.searchParams.set("digest", blob.digest);
    const res = await this.call("PUT", url.toString(), {
      headers: { "content-type": "application/octet-stream" },
      body: body ?? new Uint8Array(0),
      expect: [201],
      what,
    });
    const served = header(res, "docker-content-digest");
    if (served && served !== blob.digest) {
      throw new WasmBuildError(`digest mismatch: registry ${this.opts.registry} stored blob ${blob.digest} as ${served}`);
    }
  }

  /** PUT a manifest under a digest or tag; returns the digest the registry says it stored. */
  async putManifest(reference: string, bytes: Uint8Array, mediaType: string): Promise<string | undefined> {
    const res = await this.call("PUT", `${this.repoPath}/manifests/${reference}`, {
      headers: { "content-type": mediaType },
      body: bytes,
      expect: [201],
      what: `PUT manifest ${reference}`,
    });
    return header(res, "docker-content-digest");
  }

  /** GET a manifest by tag or digest; `digest` is what the registry reports, checked by the caller. */
  async getManifest(reference: string, accept: string[]): Promise<{ mediaType: string; bytes: Buffer; digest?: string } | undefined> {
    const res = await this.call("GET", `${this.repoPath}/manifests/${reference}`, {
      headers: { accept: accept.join(", ") },
      expect: [200, 404],
      what: `GET manifest ${reference}`,
    });
    if (res.status === 404) return undefined;
    return { mediaType: header(res, "content-type") ?? "", bytes: res.body, digest: header(res, "docker-content-digest") };
  }

  /** GET a blob and check its content against the digest it was asked for. */
  async getBlob(digest: Digest): Promise<Buffer> {
    const res = await this.call("GET", `${this.repoPath}/blobs/${digest}`, { expect: [200], what: `GET blob ${digest}` });
    const actual = digestOf(res.body);
    if (actual !== digest) throw new WasmBuildError(`digest mismatch: blob ${digest} from ${this.opts.registry} has content ${actual}`);
    return res.body;
  }
}
