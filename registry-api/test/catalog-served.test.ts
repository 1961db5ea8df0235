/**
 * The catalog's data source: what an entry serves comes from status.served (the approved
 * revision the operator wrote), never from the spec an editor can change, so even with no
 * operator running, an edited spec is never served; a status that claims published without
 * approved content is not served at all. Each version of an object is parsed once, however often
 * the informer hands it over again.
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

describe("the catalog's parsed entries", () => {
  /** A source whose objects can be replaced, as the informer replaces them (watch events, relists). */
  function changingSource(initial: CachedServer[]) {
    let objects = initial;
    const listeners: Array<() => void> = [];
    return {
      source: { list: () => objects, onChange: (l: () => void) => (listeners.push(l), () => {}) },
      replace(next: CachedServer[]) {
        objects = next;
        for (const l of listeners) l();
      },
    };
  }
  const published = (n: string, resourceVersion: string | undefined, spec: unknown = approved) => {
    const s = server(n, spec, { registry: { published: true }, served: { revision: `${n}-abc`, specHash: "a".repeat(64), narrowed: false, spec: ServedSpec.parse(spec) } });
    return resourceVersion === undefined ? s : { ...s, metadata: { ...s.metadata, resourceVersion } };
  };
  const options = { registryPrefix: "dev.toolfleet.local", clusterDomain: "cluster.local", verifierServiceAccount: "toolfleet-system/toolfleet-operator" };

  it("stay the same objects when a relist brings the same versions again, and are parsed again for a new version", () => {
    const { source, replace } = changingSource([published("orders", "10"), published("refunds", "11")]);
    const c = new Catalog(source, options);
    const [orders, refunds] = c.entries();
    // A relist: new objects (a deep copy), the same resourceVersions.
    replace(structuredClone([published("orders", "10"), published("refunds", "11")]));
    expect(c.get("dev.toolfleet.local.shop/orders")).toBe(orders);
    expect(c.get("dev.toolfleet.local.shop/refunds")).toBe(refunds);
    // orders changes: a new version is a new entry with the new content; refunds is untouched.
    replace([published("orders", "12", { ...approved, title: "Orders v2" }), published("refunds", "11")]);
    const changed = c.get("dev.toolfleet.local.shop/orders")!;
    expect(changed).not.toBe(orders);
    expect(changed.spec.title).toBe("Orders v2");
    expect(c.get("dev.toolfleet.local.shop/refunds")).toBe(refunds);
    // A deleted server is gone, and coming back under the same name at an old version is parsed anew.
    replace([published("refunds", "11")]);
    expect(c.get("dev.toolfleet.local.shop/orders")).toBeUndefined();
    replace([published("orders", "10"), published("refunds", "11")]);
    expect(c.get("dev.toolfleet.local.shop/orders")).not.toBe(orders);
    expect(c.get("dev.toolfleet.local.shop/orders")!.spec.title).toBe("Orders");
  });

  it("of objects without a resourceVersion are kept by object: a replaced object is parsed again", () => {
    const first = published("orders", undefined);
    const { source, replace } = changingSource([first]);
    const c = new Catalog(source, options);
    const entry = c.get("dev.toolfleet.local.shop/orders");
    replace([first]);
    expect(c.get("dev.toolfleet.local.shop/orders")).toBe(entry);
    replace([published("orders", undefined, { ...approved, title: "Orders v2" })]);
    expect(c.get("dev.toolfleet.local.shop/orders")!.spec.title).toBe("Orders v2");
  });
});
