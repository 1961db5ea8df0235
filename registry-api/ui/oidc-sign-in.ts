/**
 * People sign in to the web UI with the organisation's OIDC provider: authorization code with
 * PKCE (S256), state and nonce-free (the access token, not an ID token, is what is kept and
 * verified). `/login` sends the browser to the provider with a fresh state and code verifier
 * kept in a short-lived HttpOnly cookie; `/auth/callback` checks the state, exchanges the code,
 * verifies the access token exactly as the API would (issuer, audience, signature from the
 * JWKS) and keeps it in an HttpOnly cookie. When it expires, the next page goes through
 * `/login` again, which the provider's own session usually answers without a prompt.
 */
import { randomBytes, createHash } from "node:crypto";
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { TOKEN_COOKIE, cookie, type createAuthn } from "../authn.js";
import { messagePage } from "./pages.js";

export interface OidcSignInOptions {
  issuer: string;
  clientId: string;
  authn: ReturnType<typeof createAuthn>;
  /** The registry's public base URL, for the redirect URI; default from the request. */
  publicUrl?: string;
}

const FLOW_COOKIE = "toolfleet_signin";
const FLOW_PATH = "/auth/callback";

const Discovery = z.object({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  end_session_endpoint: z.url().optional(),
});
type Discovery = z.output<typeof Discovery>;

const Flow = z.object({ state: z.string().min(16), verifier: z.string().min(43), returnTo: z.string() });

/** Only a path of this registry: never an absolute URL another site could be sent to. */
const safeReturn = (value: unknown) => (typeof value === "string" && /^\/(?![/\\])[^\s]*$/.test(value) ? value.slice(0, 512) : "/");

export function oidcSignIn(options: OidcSignInOptions) {
  let discovery: Promise<Discovery> | undefined;
  // Fetched on first use and kept; a failure is not kept, so the next sign-in tries again.
  const provider = (): Promise<Discovery> => {
    discovery ??= (async () => {
      const res = await fetch(`${options.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`the provider's discovery document answered HTTP ${res.status}`);
      const doc = Discovery.parse(await res.json());
      if (doc.issuer !== options.issuer) throw new Error(`the provider names issuer ${doc.issuer}, not ${options.issuer}`);
      return doc;
    })().catch((err: unknown) => {
      discovery = undefined;
      throw err;
    });
    return discovery;
  };
  const base = (req: Request) => (options.publicUrl ?? `${req.protocol}://${req.headers.host ?? "127.0.0.1"}`).replace(/\/+$/, "");
  const secure = (req: Request) => base(req).startsWith("https:");
  const unavailable = (res: Response, err: unknown) =>
    res.status(503).type("html").send(messagePage("Sign-in unavailable", `The identity provider cannot be reached: ${(err as Error).message}. Try again in a moment.`));

  const router = Router();

  router.get("/login", async (req, res) => {
    let p: Discovery;
    try {
      p = await provider();
    } catch (err) {
      return void unavailable(res, err);
    }
    const flow = { state: randomBytes(24).toString("base64url"), verifier: randomBytes(32).toString("base64url"), returnTo: safeReturn(req.query.return) };
    // Lax, not Strict: the provider sends the browser back with a top-level cross-site redirect.
    res.cookie(FLOW_COOKIE, Buffer.from(JSON.stringify(flow)).toString("base64url"), { httpOnly: true, sameSite: "lax", secure: secure(req), path: FLOW_PATH, maxAge: 600_000 });
    const url = new URL(p.authorization_endpoint);
    for (const [k, v] of Object.entries({
      response_type: "code",
      client_id: options.clientId,
      redirect_uri: `${base(req)}${FLOW_PATH}`,
      scope: "openid",
      state: flow.state,
      code_challenge: createHash("sha256").update(flow.verifier).digest("base64url"),
      code_challenge_method: "S256",
    })) url.searchParams.set(k, v);
    res.redirect(303, url.toString());
  });

  router.get(FLOW_PATH, async (req, res) => {
    const refuse = (status: number, message: string) => res.status(status).type("html").send(messagePage("Sign-in failed", message));
    const raw = cookie(req, FLOW_COOKIE);
    res.clearCookie(FLOW_COOKIE, { path: FLOW_PATH });
    let flow: z.output<typeof Flow>;
    try {
      flow = Flow.parse(JSON.parse(Buffer.from(raw ?? "", "base64url").toString("utf8")));
    } catch {
      return void refuse(400, "This sign-in was not started here, or took too long. Start again from the registry.");
    }
    if (req.query.state !== flow.state) return void refuse(400, "This answer is not for the sign-in this browser started. Start again from the registry.");
    if (typeof req.query.error === "string") return void refuse(401, `The identity provider refused the sign-in: ${req.query.error}.`);
    const code = req.query.code;
    if (typeof code !== "string" || code.length === 0 || code.length > 4096) return void refuse(400, "The identity provider sent no code.");
    let p: Discovery;
    try {
      p = await provider();
    } catch (err) {
      return void unavailable(res, err);
    }
    let tokenAnswer: Response | globalThis.Response;
    try {
      tokenAnswer = await fetch(p.token_endpoint, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: `${base(req)}${FLOW_PATH}`, client_id: options.clientId, code_verifier: flow.verifier }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      return void unavailable(res, err);
    }
    const body = (await tokenAnswer.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown };
    if (!tokenAnswer.ok || typeof body.access_token !== "string") return void refuse(401, `The identity provider would not issue a token: ${String(body.error ?? `HTTP ${tokenAnswer.status}`)}.`);
    // The token is checked as every API call checks it: a token the registry would refuse is never kept.
    const outcome = await options.authn.identify(`Bearer ${body.access_token}`);
    if (!outcome.ok) return void refuse(outcome.status, `The registry does not accept this sign-in: ${outcome.message}.`);
    const maxAge = typeof body.expires_in === "number" ? body.expires_in * 1000 : undefined;
    res.cookie(TOKEN_COOKIE, body.access_token, { httpOnly: true, sameSite: "lax", secure: secure(req), path: "/", ...(maxAge ? { maxAge } : {}) });
    res.redirect(303, flow.returnTo);
  });

  router.post("/logout", async (req, res) => {
    res.clearCookie(TOKEN_COOKIE, { path: "/" });
    try {
      const p = await provider();
      if (p.end_session_endpoint) {
        const url = new URL(p.end_session_endpoint);
        url.searchParams.set("client_id", options.clientId);
        url.searchParams.set("post_logout_redirect_uri", `${base(req)}/`);
        return void res.redirect(303, url.toString());
      }
    } catch {
      // The provider is away: the local sign-out stands.
    }
    res.redirect(303, "/");
  });

  return router;
}
