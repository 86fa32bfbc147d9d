/** How to authenticate to a registry; all optional (anonymous). */
export interface Credentials {
  username?: string;
  password?: string;
  /** A registry bearer token used as is (`Authorization: Bearer <token>`), no token exchange. */
  token?: string;
}

export function hasBasic(c: Credentials): c is Credentials & { username: string; password: string } {
  return c.username !== undefined && c.password !== undefined;
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}
