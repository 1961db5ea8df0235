/**
 * The web UI: `/` the catalog the viewer may see (search with ?q=; reviewers also get their
 * queue), `/servers/{namespace}/{name}` one server, and, in a local run, `/login` to pick a
 * demo user (its token goes into an HttpOnly cookie). Behind an auth proxy the token comes in
 * the Authorization header and no login page exists.
 */
import express, { Router, type Request, type Response } from "express";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { bearerChallenge } from "../../auth/index.js";
import { TOKEN_COOKIE, type createAuthn } from "../authn.js";
import type { Catalog } from "../catalog.js";
import { matches } from "../listing.js";
import { canSee, type Viewer } from "../visibility.js";
import { catalogPage, loginPage, messagePage, serverPage, type DemoUser } from "./pages.js";
import type { UsageStore } from "../usage/store.js";
import { impactUiRoutes, serverImpact } from "./impact-routes.js";

export interface UiDeps {
  catalog: Catalog;
  authn: ReturnType<typeof createAuthn>;
  areas: readonly string[];
  demoTokensDir?: string;
  resourceMetadataUrl: () => string;
  usage?: UsageStore | undefined;
  /** Sign-in through the OIDC provider (oidc-sign-in.ts): /login, /auth/callback, /logout. */
  signIn?: Router;
}

const USER_NAME = /^[a-z][a-z0-9-]{0,62}$/;

function demoUsers(dir: string): DemoUser[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".jwt"));
  } catch {
    return [];
  }
  return files.sort().flatMap((f) => {
    try {
      const claims = decodeJwt(readFileSync(join(dir, f), "utf8").trim());
      const groups = Array.isArray(claims.groups) ? claims.groups.filter((g): g is string => typeof g === "string") : [];
      return [{ name: f.slice(0, -4), groups, role: typeof claims.demo_role === "string" ? claims.demo_role : "" }];
    } catch {
      return [];
    }
  });
}

export function uiRoutes(deps: UiDeps): Router {
  const router = Router();
  const demoLogin = deps.demoTokensDir !== undefined;

  /** The viewer, or an answer already sent (login redirect, 401, 503). */
  async function viewerOr(req: Request, res: Response): Promise<Viewer | undefined> {
    const outcome = await deps.authn.ui(req);
    if (outcome.ok) return outcome.viewer;
    if ((demoLogin || deps.signIn) && outcome.status === 401) {
      res.redirect(303, deps.signIn ? `/login?return=${encodeURIComponent(req.originalUrl)}` : "/login");
      return undefined;
    }
    res.setHeader("WWW-Authenticate", bearerChallenge(deps.resourceMetadataUrl(), outcome.error));
    res.status(outcome.status).type("html").send(messagePage("Not signed in", outcome.message));
    return undefined;
  }

  router.get("/", async (req, res) => {
    const viewer = await viewerOr(req, res);
    if (!viewer) return;
    const q = typeof req.query.q === "string" ? req.query.q.slice(0, 200) : "";
    const search = q.trim().toLowerCase();
    const visible = deps.catalog.entries().filter((e) => canSee(e, viewer) && (search === "" || matches(e, { search })));
    res.type("html").send(catalogPage(visible, q, { viewer, areas: deps.areas, demoLogin, signOut: deps.signIn !== undefined }));
  });

  router.get("/servers/:namespace/:name", async (req, res) => {
    const viewer = await viewerOr(req, res);
    if (!viewer) return;
    const entry = deps.catalog.entries().find((e) => e.namespace === req.params.namespace && e.name === req.params.name);
    if (!entry || !canSee(entry, viewer)) {
      res.status(404).type("html").send(messagePage("Server not found", "No server by that name that you may see.", viewer));
      return;
    }
    const impact = deps.usage ? await serverImpact({ catalog: deps.catalog, usage: deps.usage }, entry.registryName, viewer) : undefined;
    res.type("html").send(serverPage(entry, { viewer, areas: deps.areas, demoLogin, signOut: deps.signIn !== undefined }, impact));
  });

  if (deps.usage) router.use(impactUiRoutes({ catalog: deps.catalog, usage: deps.usage, demoLogin, viewerOr }));

  if (deps.signIn) router.use(deps.signIn);
  else if (deps.demoTokensDir !== undefined) {
    const dir = deps.demoTokensDir;
    router.get("/login", (_req, res) => {
      res.type("html").send(loginPage(demoUsers(dir)));
    });
    router.post("/login", express.urlencoded({ extended: false, limit: "1kb" }), (req, res) => {
      const user = (req.body as Record<string, unknown> | undefined)?.user;
      if (typeof user !== "string" || !USER_NAME.test(user) || !demoUsers(dir).some((u) => u.name === user)) {
        res.status(400).type("html").send(messagePage("Unknown demo user", "Pick one of the users on the sign-in page."));
        return;
      }
      const token = readFileSync(join(dir, `${user}.jwt`), "utf8").trim();
      res.cookie(TOKEN_COOKIE, token, { httpOnly: true, sameSite: "strict", path: "/" });
      res.redirect(303, "/");
    });
    router.post("/logout", (_req, res) => {
      res.clearCookie(TOKEN_COOKIE, { path: "/" });
      res.redirect(303, "/login");
    });
  }
  return router;
}
