/**
 * `POST /api/v1/usage` `{ records: [...] }`: a server's own usage records. Only a service
 * account may post, only the server's own (the ServiceAccount named after the McpServer in its
 * namespace), and only records of that server. For a workload server that is the account the
 * operator creates for its pods; a remote server reports with a token of the account of that
 * name that its team creates (the same people who may edit the McpServer, so no one gains a
 * power they lacked); without one it cannot report.
 */
import { Router } from "express";
import { UsageBatch } from "../../crds/usage.js";
import { childNames } from "../../mcpserver/index.js";
import { viewerFrom } from "../authn.js";
import type { Catalog, CatalogEntry } from "../catalog.js";
import { BadParameter, HttpError } from "../errors.js";
import type { UsageStore } from "./store.js";

/** Clocks of pods drift, but a record from tomorrow is a bug. */
const FUTURE_SLACK_MS = 24 * 3_600_000;

export function firstIssue(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code: string; keys?: string[] }> }): BadParameter {
  const issue = error.issues[0]!;
  const field = issue.path.length ? issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") : "body";
  return new BadParameter(field, issue.code === "unrecognized_keys" ? `unknown field(s) ${(issue.keys ?? []).join(", ")}` : issue.message);
}

/** The server whose own ServiceAccount is `namespace/name`. */
function serverOfAccount(catalog: Catalog, namespace: string, name: string): CatalogEntry | undefined {
  return catalog.entries().find((e) => e.namespace === namespace && childNames(e.name).serviceAccount === name);
}

export function ingestRoute(catalog: Catalog, store: UsageStore, onIngest?: (accepted: number, duplicates: number) => void): Router {
  const router = Router();
  router.post("/", async (req, res) => {
    const caller = viewerFrom(res).caller;
    if (caller.kind !== "serviceAccount") throw new HttpError(403, "only a server's own service account may post usage records", "authorization");
    const entry = serverOfAccount(catalog, caller.namespace, caller.name);
    if (!entry) throw new HttpError(403, `service account ${caller.namespace}/${caller.name} is not the service account of any server (a server reports with the account named after it in its namespace)`, "authorization");
    if (!req.is("application/json")) throw new BadParameter("body", "send a JSON object with Content-Type: application/json");
    const parsed = UsageBatch.safeParse(req.body);
    if (!parsed.success) throw firstIssue(parsed.error);
    const latest = Date.now() + FUTURE_SLACK_MS;
    parsed.data.records.forEach((r, i) => {
      if (r.server !== entry.registryName) throw new HttpError(403, `records[${i}].server: ${r.server} is not ${entry.registryName}, the server this service account belongs to`, `records[${i}].server`);
      if (Date.parse(r.at) > latest) throw new BadParameter(`records[${i}].at`, `${r.at} is in the future`);
    });
    const team = entry.spec.owner.team;
    const result = await store.ingest(parsed.data.records.map((r) => ({ ...r, team })));
    onIngest?.(result.accepted, result.duplicates);
    res.json(result);
  });
  return router;
}
