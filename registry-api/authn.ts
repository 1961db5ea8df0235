/**
 * Who is calling: the bearer token (people's JWT or a service-account token) through the shared
 * authenticator; for the UI also the local login's cookie. A missing or bad credential is 401
 * with a `WWW-Authenticate` challenge (503 when the issuer's keys cannot be fetched), unless
 * anonymous access is configured, when a caller without a token is a person in no group.
 */
import type { NextFunction, Request, Response } from "express";
import { bearerChallenge, type Authenticator } from "../auth/index.js";
import type { AuthError } from "../auth/index.js";
import type { Caller } from "../policy/index.js";
import { viewerOf, type RoleGroups, type Viewer } from "./visibility.js";

export const TOKEN_COOKIE = "toolfleet_token";
export const ANONYMOUS: Caller = { kind: "user", subject: "anonymous", groups: [] };

export interface AuthnOptions {
  authenticator?: Authenticator;
  roles: RoleGroups;
  allowAnonymous: boolean;
  /** RFC 9728 metadata URL put in challenges. */
  resourceMetadataUrl: () => string;
}

export type AuthRefusal = { ok: false; status: 401 | 503; error: AuthError | undefined; message: string };
export type AuthOutcome = { ok: true; viewer: Viewer } | AuthRefusal;

/** Reads one cookie without a parser dependency. */
export function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

export function createAuthn(options: AuthnOptions) {
  async function identify(header: string | undefined): Promise<AuthOutcome> {
    if ((header === undefined || header.trim() === "") && options.allowAnonymous) {
      return { ok: true, viewer: viewerOf(ANONYMOUS, options.roles) };
    }
    if (!options.authenticator) return { ok: false, status: 401, error: undefined, message: "this registry accepts no tokens" };
    const result = await options.authenticator.authenticate(header);
    if (result.ok) return { ok: true, viewer: viewerOf(result.caller, options.roles) };
    return { ok: false, status: result.error.code === "unavailable" ? 503 : 401, error: result.error, message: result.error.reason };
  }

  /** The answer to a refused credential: its status, the bearer challenge and the JSON body. */
  function refusal(outcome: AuthRefusal): { status: 401 | 503; challenge: string; body: { error: string } } {
    return { status: outcome.status, challenge: bearerChallenge(options.resourceMetadataUrl(), outcome.error), body: { error: outcome.message } };
  }

  /** For the API: the Authorization header only (a cookie would make it CSRF-prone). */
  async function api(req: Request, res: Response, next: NextFunction): Promise<void> {
    const outcome = await identify(req.headers.authorization);
    if (outcome.ok) {
      res.locals.viewer = outcome.viewer;
      return next();
    }
    // Refused before routing: labelled by mount point only, so metrics labels stay bounded.
    res.locals.route = `${req.baseUrl}/*`;
    const refused = refusal(outcome);
    res.setHeader("WWW-Authenticate", refused.challenge);
    res.status(refused.status).json(refused.body);
  }

  /** For the UI: the header (behind an auth proxy) or the local login's cookie. */
  function ui(req: Request): Promise<AuthOutcome> {
    const fromCookie = cookie(req, TOKEN_COOKIE);
    return identify(req.headers.authorization ?? (fromCookie ? `Bearer ${fromCookie}` : undefined));
  }

  return { api, ui, identify, refusal };
}

export function viewerFrom(res: Response): Viewer {
  return res.locals.viewer as Viewer;
}
