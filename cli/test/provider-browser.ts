/**
 * A person signing in on the provider's pages, over plain HTTP as a browser would: follow the
 * redirects with the provider's cookies, fill in the login form, approve a device code or
 * consent when asked, and land on the redirect (the CLI's loopback, or the registry's
 * callback). For the CLI's suites, where starting Chromium for every sign-in would cost
 * minutes; the registry UI's sign-in is shown in Chromium itself (registry-api/test).
 */
import { createHash, randomBytes } from "node:crypto";

export interface SignInResult {
  /** The last URL reached: the client's redirect with its code, or the provider's final page. */
  finalUrl: string;
  status: number;
  body: string;
}

class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const i = pair!.indexOf("=");
      if (i > 0) this.cookies.set(pair!.slice(0, i).trim(), pair!.slice(i + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

const decode = (s: string) => s.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">");

/** The first form on the page: its action and its inputs' values. */
function firstForm(html: string, base: string): { action: string; fields: Record<string, string>; buttons: string[] } | undefined {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const fields: Record<string, string> = {};
  const buttons: string[] = [];
  for (const m of form[2]!.matchAll(/<input([^>]*)>/gi)) {
    const name = /name="([^"]*)"/.exec(m[1]!)?.[1];
    const value = /value="([^"]*)"/.exec(m[1]!)?.[1] ?? "";
    const type = /type="([^"]*)"/.exec(m[1]!)?.[1] ?? "text";
    if (!name) continue;
    if (type === "submit") buttons.push(name);
    else fields[name] = decode(value);
  }
  for (const m of form[2]!.matchAll(/<button([^>]*)>/gi)) {
    const name = /name="([^"]*)"/.exec(m[1]!)?.[1];
    if (name) buttons.push(name);
  }
  return { action: new URL(decode(form[1]!), base).toString(), fields, buttons };
}

/**
 * Opens `url` and signs in as `username`/`password`; stops at the first URL outside the
 * provider (whose answer is returned) or when no form is left to fill.
 */
export async function signInOnProvider(url: string, username: string, password: string, opts: { deny?: boolean } = {}): Promise<SignInResult> {
  const jar = new CookieJar();
  const provider = new URL(url).origin;
  let next: { url: string; init?: RequestInit } = { url };
  let signedIn = false;
  for (let step = 0; step < 20; step++) {
    const res = await fetch(next.url, { ...next.init, redirect: "manual", headers: { ...(next.init?.headers as Record<string, string>), cookie: jar.header() } });
    jar.take(res);
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      const target = new URL(location, next.url).toString();
      if (new URL(target).origin !== provider) {
        const landed = await fetch(target, { redirect: "manual" });
        return { finalUrl: target, status: landed.status, body: await landed.text() };
      }
      next = { url: target };
      continue;
    }
    const body = await res.text();
    const form = firstForm(body, next.url);
    if (!form) return { finalUrl: next.url, status: res.status, body };
    const fields: Record<string, string> = { ...form.fields };
    if ("username" in fields || /name="password"/.test(body)) {
      if (signedIn) return { finalUrl: next.url, status: res.status, body };
      fields.username = username;
      fields.password = password;
      signedIn = true;
    } else if (form.buttons.includes("accept") || form.buttons.includes("cancel")) {
      // A consent or device-grant page: accept (or deny) it.
      fields[opts.deny ? "cancel" : "accept"] = opts.deny ? "No" : "Yes";
    } else {
      return { finalUrl: next.url, status: res.status, body };
    }
    next = { url: form.action, init: { method: "POST", body: new URLSearchParams(fields), headers: { "content-type": "application/x-www-form-urlencoded" } } };
  }
  throw new Error(`sign-in on ${url} did not finish in 20 steps`);
}

/**
 * A person's access token from `issuer` for `clientId`: the authorization code flow with PKCE,
 * signing in on the provider's pages, landing on `redirectUri` (a loopback URL that answers).
 */
export async function personAccessToken(issuer: string, clientId: string, person: string, redirectUri: string): Promise<string> {
  const verifier = randomBytes(32).toString("base64url");
  const url = new URL(`${issuer}/protocol/openid-connect/auth`);
  const params = { response_type: "code", client_id: clientId, redirect_uri: redirectUri, scope: "openid", state: "s", code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256" };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const landed = await signInOnProvider(url.toString(), person, person);
  const code = new URL(landed.finalUrl).searchParams.get("code");
  if (!code) throw new Error(`signing in as ${person} ended on ${landed.finalUrl} (${landed.status}) without a code`);
  const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier }),
  });
  if (res.status !== 200) throw new Error(`the token endpoint answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
