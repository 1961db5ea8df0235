/**
 * The UI's usage pages: `/impact`, and `POST /ui/feedback` for the server page's widget. The
 * widget posts JSON with the sign-in cookie through the same validation as the API's
 * `POST /api/v1/feedback`.
 */
import express, { Router, type Request, type Response } from "express";
import type { Catalog } from "../catalog.js";
import { HttpError } from "../errors.js";
import { giveFeedback, toolEstimates } from "../usage/feedback-route.js";
import { impactQuery } from "../usage/impact-route.js";
import type { UsageStore } from "../usage/store.js";
import type { Viewer } from "../visibility.js";
import { impactPage, serverImpactSection } from "./impact-page.js";
import type { Html } from "./html.js";

export interface ImpactUiDeps {
  catalog: Catalog;
  usage: UsageStore;
  demoLogin: boolean;
  /** The viewer, or undefined when an answer (login redirect, 401) was already sent. */
  viewerOr: (req: Request, res: Response) => Promise<Viewer | undefined>;
}

const serverHref = (namespace: string, name: string) => `/servers/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

export function impactUiRoutes(deps: ImpactUiDeps): Router {
  const router = Router();
  router.get("/impact", async (req, res) => {
    const viewer = await deps.viewerOr(req, res);
    if (!viewer) return;
    const trendBy = req.query.trend === "month" ? "month" : "week";
    const estimate = req.query.estimate === "feedback" ? "feedback" : "declared";
    const base = impactQuery(deps.catalog, viewer, { estimate });
    // The trend looks further back than the headline: twelve weeks or twelve months.
    const trendFrom = new Date(Date.parse(base.to) - (trendBy === "week" ? 83 : 364) * 86_400_000).toISOString().slice(0, 10);
    const [total, trend, byServer, byTool] = await Promise.all([
      deps.usage.impact({ ...base, groupBy: "server" }),
      deps.usage.impact({ ...base, from: trendFrom, groupBy: trendBy }),
      deps.usage.impact({ ...base, groupBy: "server" }),
      deps.usage.impact({ ...base, groupBy: "tool" }),
    ]);
    const hrefOf = (registryName: string) => {
      const e = deps.catalog.get(registryName);
      return e ? serverHref(e.namespace, e.name) : undefined;
    };
    res.type("html").send(impactPage({ from: base.from, to: base.to, estimate, trendBy, total, trend, byServer, byTool, hrefOf }, { viewer, demoLogin: deps.demoLogin }));
  });

  router.post("/ui/feedback", express.json({ limit: "16kb" }), async (req, res) => {
    // JSON only: a page on another site can post a form, but not JSON without asking first
    // (CORS), so the cookie (or an auth proxy's session) cannot be used to post as the person.
    if (!req.is("application/json")) {
      res.status(415).json({ error: "body: send JSON with Content-Type: application/json", parameter: "body" });
      return;
    }
    const viewer = await deps.viewerOr(req, res);
    if (!viewer) return;
    try {
      const { replaced } = await giveFeedback(deps.catalog, deps.usage, viewer, req.body);
      res.status(replaced ? 200 : 201).json({ stored: true, replaced });
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      res.status(err.status).json(err.body());
    }
  });
  return router;
}

/** The server page's impact section for this viewer. */
export async function serverImpact(deps: Pick<ImpactUiDeps, "catalog" | "usage">, registryName: string, viewer: Viewer): Promise<Html> {
  const entry = deps.catalog.get(registryName)!;
  const q = impactQuery(deps.catalog, viewer, { server: registryName });
  const [report, summary] = await Promise.all([deps.usage.impact(q), deps.usage.feedbackSummary([registryName])]);
  const person = viewer.caller.kind === "user" && viewer.caller.subject !== "anonymous";
  return serverImpactSection(entry, report, toolEstimates(entry, summary), person);
}
