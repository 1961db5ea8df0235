/**
 * The official registry API, read side: `GET /servers`, `/servers/{serverName}/versions` and
 * `/servers/{serverName}/versions/{version}`, mounted under both /v0.1 and /v0. Server names
 * arrive URL-encoded (`dev.toolfleet.local.data-platform%2Fpresto`); an unencoded slash is
 * accepted too, since many clients do not encode it. The optional write endpoints answer 501.
 */
import { Router, type Request, type Response } from "express";
import type { Catalog, CatalogEntry } from "./catalog.js";
import { HttpError, NotFound } from "./errors.js";
import { parseBoolean, parseListQuery } from "./list-query.js";
import { listPage } from "./listing.js";
import type { ResponseRenderer } from "./server-response.js";
import type { ServerListPages } from "./server-list.js";
import { viewerFrom } from "./authn.js";
import { canSee, type Viewer } from "./visibility.js";

export interface RegistryRoutesDeps {
  catalog: Catalog;
  renderer: ResponseRenderer;
  pages: ServerListPages;
}

function sendJson(res: Response, bytes: Buffer): void {
  res.status(200).type("application/json").send(bytes);
}

/** `GET /servers`: the page the query asks for, of the servers `viewer` can see, as bytes. A bad query is a BadParameter naming it. */
export function serverListPage({ catalog, pages }: Pick<RegistryRoutesDeps, "catalog" | "pages">, rawQuery: Record<string, unknown>, viewer: Viewer): Buffer {
  const query = parseListQuery(rawQuery);
  const page = listPage(catalog.entries(), viewer, query);
  return pages.page(page.entries, page.nextCursor);
}

export function registryRoutes({ catalog, renderer, pages }: RegistryRoutesDeps): Router {
  const router = Router();

  router.get("/servers", (req, res) => {
    sendJson(res, serverListPage({ catalog, pages }, req.query as Record<string, unknown>, viewerFrom(res)));
  });

  const visibleServer = (req: Request, res: Response): CatalogEntry => {
    const params = req.params as Record<string, string | undefined>;
    const name = params.namespace ? `${params.namespace}/${params.serverName ?? ""}` : (params.serverName ?? "");
    parseBoolean(req.query as Record<string, unknown>, "include_deleted");
    const entry = catalog.get(name);
    // Not found and not visible are one answer: no caller learns what it may not see.
    if (!entry || !canSee(entry, viewerFrom(res))) throw new NotFound(`Server not found: ${name}`, "serverName");
    return entry;
  };

  const versions = (req: Request, res: Response) => sendJson(res, pages.page([visibleServer(req, res)]));
  const version = (req: Request, res: Response) => {
    const entry = visibleServer(req, res);
    const wanted = (req.params as Record<string, string>).version ?? "";
    if (wanted !== "latest" && wanted !== entry.spec.version) {
      throw new NotFound(`Server version not found: ${entry.registryName} has version ${entry.spec.version}`, "version");
    }
    sendJson(res, renderer.bytes(entry));
  };

  // The official API's optional write endpoints: this registry is read-only (servers come from
  // McpServers through review), so each answers 501 as the specification suggests.
  const readOnly = (what: string) => () => {
    throw new HttpError(501, `${what} is not supported by this registry: servers are published by applying an McpServer, which is reviewed`);
  };
  for (const path of ["/servers/:serverName/versions/:version", "/servers/:namespace/:serverName/versions/:version"]) {
    router.put(path, readOnly("Updating a server version"));
    router.delete(path, readOnly("Deleting a server version"));
  }
  router.post("/publish", readOnly("Publishing"));

  router.get("/servers/:serverName/versions", versions);
  router.get("/servers/:serverName/versions/:version", version);
  router.get("/servers/:namespace/:serverName/versions", versions);
  router.get("/servers/:namespace/:serverName/versions/:version", version);
  return router;
}
