/**
 * The catalog's data source: what an entry serves comes from status.served (the approved
 * revision the operator wrote), never from the spec an editor can change, so even with no
 * operator running, an edited spec is never served; a status that claims published without
 * approved content is not served at all.
 */
import { describe, expect, it } from "@jest/globals";
import { McpServerSpec, ServedSpec } from "../../crds/index.js";
import { Catalog } from "../catalog.js";
import type { CachedServer } from "../server-cache.js";

const approved = {
  title: "Orders",
  description: "Look up orders",
  version: "1.0.0",
  owner: { team: "commerce", contact: "#orders" },
  remote: { url: "https://orders.example.com/mcp" },
  access: { allowedGroups: ["support"] },
  tools: [{ name: "lookup_order", description: "Look up an order", readOnly: true }],
};
const edited = { ...approved, title: "Orders (edited)", access: { allowedGroups: ["support", "everyone"] }, tools: [{ name: "drop_orders", description: "Drop every order" }] };

function server(name: string, spec: unknown, status: CachedServer["status"]): CachedServer {
  return { apiVersion: "toolfleet.dev/v1alpha1", kind: "McpServer", metadata: { name, namespace: "shop", creationTimestamp: "2026-11-30T00:00:00Z" }, spec, status, lastWriteAt: "2026-11-30T00:00:00Z" } as CachedServer;
}

const catalog = (servers: CachedServer[]) => new Catalog({ list: () => servers, onChange: () => () => {} }, { registryPrefix: "dev.toolfleet.local", clusterDomain: "cluster.local", verifierServiceAccount: "toolfleet-system/toolfleet-operator" });

describe("the catalog's source", () => {
  it("serves the approved revision from status.served while the spec holds an unreviewed edit", () => {
    const c = catalog([server("orders", edited, { registry: { published: true }, served: { revision: "orders-abc", specHash: "a".repeat(64), narrowed: false, spec: ServedSpec.parse(approved) } })]);
    const e = c.get("dev.toolfleet.local.shop/orders")!;
    expect(e.published).toBe(true);
    expect(e.spec.title).toBe("Orders");
    expect(e.spec.tools.map((t) => t.name)).toEqual(["lookup_order"]);
    expect(e.policy.access.allowedGroups).toEqual(["support"]);
    expect(e.servedRevision).toBe("orders-abc");
  });

  it("never publishes a server whose status has no approved content, whatever its published flag says", () => {
    const c = catalog([server("orders", McpServerSpec.parse(edited), { registry: { published: true } })]);
    expect(c.get("dev.toolfleet.local.shop/orders")!.published).toBe(false);
  });
});
