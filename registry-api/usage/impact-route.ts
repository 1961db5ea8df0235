/**
 * `GET /api/v1/impact?from=&to=&groupBy=&estimate=&server=`: calls, successful calls,
 * distinct people, minutes and hours saved. A person or service gets the figures of the
 * servers it may see; reviewers and admins the whole fleet, servers since deleted included.
 */
import { Router, type Request } from "express";
import { z } from "zod";
import { viewerFrom } from "../authn.js";
import type { Catalog } from "../catalog.js";
import { BadParameter } from "../errors.js";
import { canSee, type Viewer } from "../visibility.js";
import { firstIssue } from "./ingest-route.js";
import { ESTIMATES, GROUP_BY, type ImpactQuery, type UsageStore } from "./store.js";

const DAY_MS = 86_400_000;
/** Long enough for two years side by side, short enough to bound one query. */
const MAX_DAYS = 800;
const isoDay = z.iso.date("must be a date, YYYY-MM-DD");

export const ImpactParams = z
  .object({
    from: isoDay.optional(),
    to: isoDay.optional(),
    groupBy: z.enum(GROUP_BY).default("server"),
    estimate: z.enum(ESTIMATES).default("declared"),
    server: z.string().min(1).max(512).optional(),
  })
  .strict();

/** The servers whose figures the viewer may see; undefined: all of them. */
export function visibleServers(catalog: Catalog, viewer: Viewer): string[] | undefined {
  if (viewer.privileged) return undefined;
  return catalog.entries().filter((e) => canSee(e, viewer)).map((e) => e.registryName);
}

export function impactQuery(catalog: Catalog, viewer: Viewer, raw: Record<string, unknown>, now = new Date()): ImpactQuery {
  const parsed = ImpactParams.safeParse(raw);
  if (!parsed.success) throw firstIssue(parsed.error);
  const p = parsed.data;
  const to = p.to ?? now.toISOString().slice(0, 10);
  const from = p.from ?? new Date(Date.parse(to) - 29 * DAY_MS).toISOString().slice(0, 10);
  if (from > to) throw new BadParameter("from", `${from} is after to (${to})`);
  if ((Date.parse(to) - Date.parse(from)) / DAY_MS + 1 > MAX_DAYS) throw new BadParameter("from", `at most ${MAX_DAYS} days at once`);
  let servers = visibleServers(catalog, viewer);
  if (p.server !== undefined) {
    if (servers && !servers.includes(p.server)) throw new BadParameter("server", `no server ${p.server} that you may see`);
    servers = [p.server];
  }
  return { from, to, servers, groupBy: p.groupBy, estimate: p.estimate };
}

function queryOf(req: Request): Record<string, unknown> {
  return Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, Array.isArray(v) ? v.at(-1) : v]));
}

export function impactRoute(catalog: Catalog, store: UsageStore): Router {
  const router = Router();
  router.get("/", async (req, res) => {
    const q = impactQuery(catalog, viewerFrom(res), queryOf(req));
    const report = await store.impact(q);
    res.json({ from: q.from, to: q.to, groupBy: q.groupBy, estimate: q.estimate, ...report });
  });
  return router;
}
