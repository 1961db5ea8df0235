/**
 * `POST /api/v1/feedback` `{ server, tool, minutesSaved, helpful, comment? }` from a signed-in
 * person who can see the server: how many minutes a call of the tool saved them. One per
 * person, tool and day; a second the same day replaces the first. `GET /api/v1/feedback?server=`
 * answers each tool's declared estimate beside the median and count of feedback.
 */
import { Router } from "express";
import { z } from "zod";
import { viewerFrom } from "../authn.js";
import type { Catalog, CatalogEntry } from "../catalog.js";
import { BadParameter, HttpError, NotFound } from "../errors.js";
import { canSee, type Viewer } from "../visibility.js";
import { firstIssue } from "./ingest-route.js";
import type { FeedbackSummary, UsageStore } from "./store.js";

export const FeedbackRequest = z
  .object({
    server: z.string().min(1).max(512),
    tool: z.string().min(1).max(64),
    minutesSaved: z.number().min(0).max(1440),
    helpful: z.boolean(),
    comment: z.string().max(1000).optional(),
  })
  .strict();
export type FeedbackRequest = z.output<typeof FeedbackRequest>;

export interface ToolEstimate {
  tool: string;
  declaredMinutes: number;
  feedbackCount: number;
  feedbackMedianMinutes: number | null;
  helpful: number;
}

/** Validates and stores one person's feedback; the UI's form comes through here too. */
export async function giveFeedback(catalog: Catalog, store: UsageStore, viewer: Viewer, body: unknown): Promise<{ replaced: boolean; entry: CatalogEntry }> {
  if (viewer.caller.kind !== "user" || viewer.caller.subject === "anonymous") throw new HttpError(403, "feedback comes from signed-in people only", "authorization");
  const parsed = FeedbackRequest.safeParse(body);
  if (!parsed.success) throw firstIssue(parsed.error);
  const f = parsed.data;
  const entry = catalog.get(f.server);
  if (!entry || !canSee(entry, viewer)) throw new NotFound(`Server not found: ${f.server}`, "server");
  if (!entry.spec.tools.some((t) => t.name === f.tool)) throw new BadParameter("tool", `${entry.registryName} has no tool ${f.tool}`);
  const { replaced } = await store.putFeedback({ server: entry.registryName, tool: f.tool, person: viewer.caller.subject, minutesSaved: f.minutesSaved, helpful: f.helpful, ...(f.comment ? { comment: f.comment } : {}), at: new Date() });
  return { replaced, entry };
}

export function toolEstimates(entry: CatalogEntry, summary: readonly FeedbackSummary[]): ToolEstimate[] {
  return entry.spec.tools.map((t) => {
    const s = summary.find((x) => x.server === entry.registryName && x.tool === t.name);
    return { tool: t.name, declaredMinutes: t.minutesSaved, feedbackCount: s?.count ?? 0, feedbackMedianMinutes: s ? s.medianMinutes : null, helpful: s?.helpful ?? 0 };
  });
}

export function feedbackRoute(catalog: Catalog, store: UsageStore): Router {
  const router = Router();
  router.post("/", async (req, res) => {
    if (!req.is("application/json")) throw new BadParameter("body", "send a JSON object with Content-Type: application/json");
    const { replaced } = await giveFeedback(catalog, store, viewerFrom(res), req.body);
    res.status(replaced ? 200 : 201).json({ stored: true, replaced });
  });
  router.get("/", async (req, res) => {
    const name = req.query.server;
    if (typeof name !== "string" || name === "") throw new BadParameter("server", "required: the server's registry name");
    const entry = catalog.get(name);
    if (!entry || !canSee(entry, viewerFrom(res))) throw new NotFound(`Server not found: ${name}`, "server");
    res.json({ server: entry.registryName, tools: toolEstimates(entry, await store.feedbackSummary([entry.registryName])) });
  });
  return router;
}
