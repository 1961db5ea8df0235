/**
 * Signing in with the organisation's OIDC provider, found from the registry itself: the
 * registry's protected-resource metadata (RFC 9728) names the authorization server, whose
 * discovery document names the endpoints. Two ways in for a public client:
 * - authorization code with PKCE on a loopback redirect (RFC 8252): a browser on this machine;
 * - the device flow (RFC 8628): the code is entered on any device, e.g. over SSH.
 * Refresh keeps a session alive without signing in again, while the provider allows it.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt } from "jose";
import { z } from "zod";
import { CliError, EXIT } from "./errors.js";

export const DEFAULT_CLIENT_ID = "toolfleet-cli";
const SCOPE = "openid";

const ProviderMetadata = z.object({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  device_authorization_endpoint: z.url().optional(),
  end_session_endpoint: z.url().optional(),
});
export type ProviderMetadata = z.output<typeof ProviderMetadata>;

const TokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().optional(),
  refresh_token: z.string().optional(),
  id_token: z.string().optional(),
});
export type TokenAnswer = z.output<typeof TokenAnswer>;

async function getJson(url: string, what: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(15_000), headers: { accept: "application/json" } });
  } catch (err) {
    throw new CliError(`cannot reach ${what} at ${url}: ${(err as Error).message}`, EXIT.unavailable);
  }
  if (!res.ok) throw new CliError(`${what} at ${url} answered HTTP ${res.status}`, EXIT.unavailable);
  try {
    return await res.json();
  } catch {
    throw new CliError(`${what} at ${url} did not answer JSON`, EXIT.unavailable);
  }
}

/** The provider the registry trusts, and its endpoints. */
export async function discoverProvider(registry: string): Promise<ProviderMetadata> {
  const prm = z
    .object({ authorization_servers: z.array(z.string()).min(1) })
    .safeParse(await getJson(new URL("/.well-known/oauth-protected-resource", registry).toString(), "the registry's protected-resource metadata"));
  if (!prm.success) throw new CliError(`the registry at ${registry} names no authorization server: it does not accept people's sign-in`, EXIT.failure);
  const issuer = prm.data.authorization_servers[0]!.replace(/\/+$/, "");
  const meta = ProviderMetadata.safeParse(await getJson(`${issuer}/.well-known/openid-configuration`, "the provider's discovery document"));
  if (!meta.success) throw new CliError(`the provider at ${issuer} has no usable discovery document`, EXIT.unavailable);
  if (meta.data.issuer !== issuer) throw new CliError(`the provider's discovery names issuer ${meta.data.issuer}, not ${issuer}: refusing it`, EXIT.failure);
  return meta.data;
}

async function postForm(url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", body: new URLSearchParams(form), signal: AbortSignal.timeout(15_000), headers: { accept: "application/json" } });
  } catch (err) {
    throw new CliError(`cannot reach the provider at ${url}: ${(err as Error).message}`, EXIT.unavailable);
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { error: `HTTP ${res.status}`, error_description: text.slice(0, 200) };
  }
  return { status: res.status, body };
}

function tokens(body: Record<string, unknown>): TokenAnswer {
  const parsed = TokenAnswer.safeParse(body);
  if (!parsed.success) throw new CliError("the provider's token answer has no access_token", EXIT.failure);
  return parsed.data;
}

const describe = (body: Record<string, unknown>) => `${String(body.error ?? "error")}${body.error_description ? `: ${String(body.error_description)}` : ""}`;

const base64url = (b: Buffer) => b.toString("base64url");

export interface LoopbackOptions {
  provider: ProviderMetadata;
  clientId: string;
  /** Shows the sign-in URL to the person (and may open a browser). */
  show: (authorizeUrl: string) => void;
  timeoutMs?: number;
}

/** Authorization code with PKCE (S256) on http://127.0.0.1:<free port>/callback. */
export async function loopbackSignIn(options: LoopbackOptions): Promise<TokenAnswer> {
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash("sha256").update(verifier).digest());
  const state = base64url(randomBytes(16));
  let server: Server | undefined;
  try {
    const code = await new Promise<{ code: string; redirectUri: string }>((resolve, reject) => {
      let redirectUri = "";
      server = createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        if (url.pathname !== "/callback") return void res.writeHead(404).end();
        const error = url.searchParams.get("error");
        const done = (message: string) => res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(`${message}\n`);
        if (url.searchParams.get("state") !== state) {
          done("Sign-in refused: this answer is not for the sign-in the CLI started. You may close this tab.");
          return;
        }
        if (error) {
          done(`Sign-in failed: ${error}. You may close this tab.`);
          reject(new CliError(`sign-in failed: ${error}${url.searchParams.get("error_description") ? `: ${url.searchParams.get("error_description")}` : ""}`, EXIT.notSignedIn));
          return;
        }
        const code = url.searchParams.get("code");
        if (!code) return void done("Sign-in failed: no code. You may close this tab.");
        done("Signed in to Toolfleet. You may close this tab and go back to the terminal.");
        resolve({ code, redirectUri });
      });
      server.on("error", reject);
      server.listen(0, "127.0.0.1", () => {
        redirectUri = `http://127.0.0.1:${(server!.address() as AddressInfo).port}/callback`;
        const authorize = new URL(options.provider.authorization_endpoint);
        for (const [k, v] of Object.entries({
          response_type: "code",
          client_id: options.clientId,
          redirect_uri: redirectUri,
          scope: SCOPE,
          state,
          code_challenge: challenge,
          code_challenge_method: "S256",
        })) authorize.searchParams.set(k, v);
        options.show(authorize.toString());
      });
      setTimeout(() => reject(new CliError("sign-in not completed in time: run toolfleet login again", EXIT.notSignedIn)), options.timeoutMs ?? 300_000).unref();
    });
    const answer = await postForm(options.provider.token_endpoint, {
      grant_type: "authorization_code",
      code: code.code,
      redirect_uri: code.redirectUri,
      client_id: options.clientId,
      code_verifier: verifier,
    });
    if (answer.status !== 200) throw new CliError(`the provider refused the sign-in: ${describe(answer.body)}`, EXIT.notSignedIn);
    return tokens(answer.body);
  } finally {
    (server as Server | undefined)?.close();
  }
}

export interface DeviceOptions {
  provider: ProviderMetadata;
  clientId: string;
  show: (prompt: { verificationUri: string; verificationUriComplete?: string; userCode: string }) => void;
}

/** The device flow: show a code, poll until the person has approved it elsewhere. */
export async function deviceSignIn(options: DeviceOptions): Promise<TokenAnswer> {
  const endpoint = options.provider.device_authorization_endpoint;
  if (!endpoint) throw new CliError("the provider does not offer the device flow: use toolfleet login without --device", EXIT.failure);
  // PKCE here too (RFC 9700 advises it; Keycloak requires it of a client that demands S256).
  const verifier = base64url(randomBytes(32));
  const start = await postForm(endpoint, {
    client_id: options.clientId,
    scope: SCOPE,
    code_challenge: base64url(createHash("sha256").update(verifier).digest()),
    code_challenge_method: "S256",
  });
  const Device = z.object({ device_code: z.string(), user_code: z.string(), verification_uri: z.string(), verification_uri_complete: z.string().optional(), expires_in: z.number(), interval: z.number().optional() });
  const device = Device.safeParse(start.body);
  if (start.status !== 200 || !device.success) throw new CliError(`the provider refused the device sign-in: ${describe(start.body)}`, EXIT.notSignedIn);
  const d = device.data;
  options.show({ verificationUri: d.verification_uri, ...(d.verification_uri_complete ? { verificationUriComplete: d.verification_uri_complete } : {}), userCode: d.user_code });
  let interval = Math.max(1, d.interval ?? 5) * 1000;
  const deadline = Date.now() + d.expires_in * 1000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, interval));
    const answer = await postForm(options.provider.token_endpoint, {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: d.device_code,
      client_id: options.clientId,
      code_verifier: verifier,
    });
    if (answer.status === 200) return tokens(answer.body);
    const error = answer.body.error;
    if (error === "authorization_pending") continue;
    if (error === "slow_down") {
      interval += 5000;
      continue;
    }
    if (error === "access_denied") throw new CliError("sign-in was denied on the provider's page", EXIT.notSignedIn);
    if (error === "expired_token") break;
    throw new CliError(`the provider refused the device sign-in: ${describe(answer.body)}`, EXIT.notSignedIn);
  }
  throw new CliError("the device code expired before it was approved: run toolfleet login --device again", EXIT.notSignedIn);
}

/** A new access token from the refresh token; undefined when the provider no longer allows it. */
export async function refreshTokens(tokenEndpoint: string, clientId: string, refreshToken: string): Promise<TokenAnswer | undefined> {
  const answer = await postForm(tokenEndpoint, { grant_type: "refresh_token", refresh_token: refreshToken, client_id: clientId });
  if (answer.status === 200) return tokens(answer.body);
  if (answer.body.error === "invalid_grant" || answer.status === 400 || answer.status === 401) return undefined;
  throw new CliError(`the provider could not refresh the session: ${describe(answer.body)}`, EXIT.unavailable);
}

/** Who the token is for, as the person and the registry know them. */
export function identityOf(accessToken: string, groupsClaim = "groups"): { user: string; groups: string[]; expiresAt: number } {
  const claims = decodeJwt(accessToken);
  const groups = claims[groupsClaim];
  const user = typeof claims.preferred_username === "string" ? claims.preferred_username : String(claims.sub ?? "");
  return {
    user,
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === "string") : [],
    expiresAt: typeof claims.exp === "number" ? claims.exp : 0,
  };
}
