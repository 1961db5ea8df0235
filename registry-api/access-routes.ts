/**
 * `POST /api/v1/access` with `{ server, tool? }`: the shared policy's answer for the caller, on
 * the servers the caller can see.
 */
import { Router } from "express";
import { z } from "zod";
import { checkAccess, type AccessAnswer } from "./access-check.js";
import { viewerFrom } from "./authn.js";
import type { Catalog } from "./catalog.js";
import { BadParameter, NotFound } from "./errors.js";
import { canSee, type Viewer } from "./visibility.js";

/** The access check's body parser: JSON objects (or arrays, refused by the schema) of 16 kB at most. */
export const ACCESS_BODY = { limit: "16kb", strict: true } as const;

export const AccessRequest = z
  .object({
    server: z.string().min(1).max(512).describe("The server's registry name, e.g. dev.toolfleet.local.data-platform/presto."),
    tool: z.string().min(1).max(64).optional().describe("A tool of the server; omitted: may the caller use the server at all."),
  })
  .strict();

/**
 * The answer to an access request's body (already parsed JSON) for `viewer`. A bad body is a
 * BadParameter naming the field; a server the caller cannot see is NotFound.
 */
export function answerAccess(catalog: Catalog, body: unknown, viewer: Viewer): AccessAnswer {
  const parsed = AccessRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? issue.path.join(".") : "body";
    throw new BadParameter(field, issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")}; send { server, tool? }` : issue.message);
  }
  const entry = catalog.get(parsed.data.server);
  // As the listing: a server the caller cannot see is not found, so neither its existence, its
  // groups nor its tools are told to a caller who may not use it. Who sees it sees all of that
  // in its listing entry already, so the reasons below reveal nothing more.
  if (!entry || !canSee(entry, viewer)) throw new NotFound(`Server not found: ${parsed.data.server}`, "server");
  return checkAccess(entry, viewer, parsed.data.tool);
}

export function accessRoutes(catalog: Catalog): Router {
  const router = Router();
  router.post("/access", (req, res) => {
    if (!req.is("application/json")) throw new BadParameter("body", "send a JSON object with Content-Type: application/json");
    res.json(answerAccess(catalog, req.body, viewerFrom(res)));
  });
  return router;
}
