/**
 * The two requests clients make all the time, the server list (`GET /v0.1/servers`, `/v0/servers`)
 * and the access check (`POST /api/v1/access`), answered on node's own request and response:
 * express's router and response helpers cost several times the registry's own work for them.
 * The steps are the express routes' steps, in their order (body, credential, answer), through the
 * same functions, and the answers are express's byte for byte (test/hot-paths.test.ts sends both
 * the same requests). Only a request in the plain common form is taken: any other spelling of the
 * path, a conditional request, or a body that is not JSON of a declared length in UTF-8 goes to
 * express untouched, which answers it as it always did.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { parse as parseQuery } from "node:querystring";
import express from "express";
import type { Logger } from "../common/log.js";
import { ACCESS_BODY, answerAccess } from "./access-routes.js";
import type { AuthOutcome, createAuthn } from "./authn.js";
import type { Catalog } from "./catalog.js";
import { refusalOf } from "./errors.js";
import type { RegistryMetrics } from "./metrics.js";
import { serverListPage } from "./registry-routes.js";
import type { ServerListPages } from "./server-list.js";

export interface HotPathDeps {
  catalog: Catalog;
  pages: ServerListPages;
  authn: ReturnType<typeof createAuthn>;
  metrics: RegistryMetrics;
  log: Logger;
}

/** The list's mount points, by the path of their `/servers`. */
const LISTS = new Map([
  ["/v0.1/servers", "/v0.1"],
  ["/v0/servers", "/v0"],
]);
const ACCESS_PATH = "/api/v1/access";
const JSON_TYPES = new Set(["application/json", "application/json; charset=utf-8"]);
/** Query strings express reads exactly as node's querystring does (no fragment, spaces or non-ASCII). */
const PLAIN_QUERY = /^[\x21-\x22\x24-\x7e]*$/;

/** A body express's JSON parser reads as plain UTF-8 JSON of the declared length. */
function plainJsonBody(req: IncomingMessage): boolean {
  const h = req.headers;
  return h["content-length"] !== undefined && h["transfer-encoding"] === undefined && h["content-encoding"] === undefined && JSON_TYPES.has((h["content-type"] ?? "").toLowerCase());
}

/** express's answer to `res.json(...)` or `res.type("application/json").send(bytes)`. */
function sendJson(res: ServerResponse, status: number, body: string | Buffer): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", typeof body === "string" ? Buffer.byteLength(body) : body.length);
  res.end(body);
}

/** Serves the hot requests; hands every other request to `fallback` (the express app). */
export function withHotPaths(deps: HotPathDeps, fallback: RequestListener): RequestListener {
  const { catalog, pages, authn, metrics, log } = deps;
  const accessBody = express.json(ACCESS_BODY);

  /** Answers once the response is written; `route` labels its metrics as express's would be. */
  function answer(req: IncomingMessage, res: ServerResponse, start: bigint, route: string, status: number, body: string | Buffer): void {
    res.once("finish", () => metrics.record(req.method ?? "", route, res.statusCode, start));
    sendJson(res, status, body);
  }

  function fail(req: IncomingMessage, res: ServerResponse, start: bigint, route: string, err: unknown): void {
    // Failed while answering: nothing sensible can follow a half-sent answer.
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const refusal = refusalOf(err);
    if (refusal) return answer(req, res, start, route, refusal.status, JSON.stringify(refusal.body));
    log.error("request failed", { path: (req.url ?? "").split("?")[0], error: String((err as { message?: string } | null)?.message ?? err) });
    answer(req, res, start, route, 500, JSON.stringify({ error: "internal error" }));
  }

  /** Authenticates, then `then(viewer)`; a refused credential is answered here, labelled by its mount. */
  function authenticated(req: IncomingMessage, res: ServerResponse, start: bigint, mount: string, then: (outcome: Extract<AuthOutcome, { ok: true }>) => void): void {
    authn
      .identify(req.headers.authorization)
      .then((outcome) => {
        if (outcome.ok) return then(outcome);
        const refused = authn.refusal(outcome);
        res.setHeader("WWW-Authenticate", refused.challenge);
        answer(req, res, start, `${mount}/*`, refused.status, JSON.stringify(refused.body));
      })
      .catch((err: unknown) => fail(req, res, start, "unmatched", err));
  }

  function access(req: IncomingMessage, res: ServerResponse): void {
    const start = process.hrtime.bigint();
    accessBody(req, res, (err?: unknown) => {
      // The parser runs before routing: its refusals are unmatched, as in express.
      if (err) return fail(req, res, start, "unmatched", err);
      authenticated(req, res, start, "/api/v1", ({ viewer }) => {
        let body: string;
        try {
          body = JSON.stringify(answerAccess(catalog, (req as IncomingMessage & { body?: unknown }).body, viewer));
        } catch (e) {
          return fail(req, res, start, ACCESS_PATH, e);
        }
        answer(req, res, start, ACCESS_PATH, 200, body);
      });
    });
  }

  function list(req: IncomingMessage, res: ServerResponse, path: string, mount: string, query: string): void {
    const start = process.hrtime.bigint();
    authenticated(req, res, start, mount, ({ viewer }) => {
      let body: Buffer;
      try {
        body = serverListPage({ catalog, pages }, parseQuery(query), viewer);
      } catch (e) {
        return fail(req, res, start, path, e);
      }
      answer(req, res, start, path, 200, body);
    });
  }

  return (req, res) => {
    const url = req.url ?? "";
    if (req.method === "POST") {
      if (url === ACCESS_PATH && plainJsonBody(req)) return access(req, res);
    } else if (req.method === "GET" && req.headers["if-none-match"] === undefined && req.headers["if-modified-since"] === undefined) {
      const q = url.indexOf("?");
      const path = q < 0 ? url : url.slice(0, q);
      const mount = LISTS.get(path);
      const query = q < 0 ? "" : url.slice(q + 1);
      if (mount !== undefined && PLAIN_QUERY.test(query)) return list(req, res, path, mount, query);
    }
    fallback(req, res);
  };
}
