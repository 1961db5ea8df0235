/**
 * `GET /api/v1/usage/callers/<hash>`: who a caller hash in the usage records stands for. Admins
 * only: everyone else, reviewers included, sees figures, never names.
 */
import { Router } from "express";
import { viewerFrom } from "../authn.js";
import { BadParameter, HttpError } from "../errors.js";
import type { UsageStore } from "./store.js";

export function callerRoute(store: UsageStore): Router {
  const router = Router();
  router.get("/callers/:hash", async (req, res) => {
    if (!viewerFrom(res).admin) throw new HttpError(403, "only an admin may look up who a caller hash stands for", "authorization");
    const hash = String(req.params.hash);
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new BadParameter("hash", "must be 64 lowercase hex digits");
    const found = await store.callerName(hash);
    if (!found) throw new HttpError(404, `no usage record has the caller ${hash}`, "hash");
    res.json(found);
  });
  return router;
}
