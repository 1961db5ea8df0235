/**
 * Tool verification against a real MCP server: the SDK's McpServer over Streamable HTTP on
 * 127.0.0.1, registered as a remote McpServer. Verified while it lists exactly the declared
 * tools; False and unpublished as soon as it offers one more. The operator calls with a
 * service-account token it minted for itself.
 */
import { afterAll, beforeAll, expect } from "@jest/globals";
import { SYSTEM_NAMESPACE } from "../../crds/index.js";
import { McpServerType } from "../../mcpserver/type.js";
import type { RunningOperator } from "../../operator/operator.js";
import { deleteNamespace, testNamespace } from "../../local/cluster/harness.js";
import { journey } from "../journey-steps.js";
import { startRemoteMcpServer, type RemoteMcpServer } from "../remote-mcp-server.js";
import { adminClient, conditionsOf, ensureVerifierAccount, getServer, grantRoles, review, startTestOperator, waitFor, releaseMcpServers } from "./harness.js";

const DECLARED = ["lookup_order", "refund_order"];
let offered = [...DECLARED];
const bearerSubjects: string[] = [];
let mcp: RemoteMcpServer;
let url: string;
let ns: string;
let op: RunningOperator;

beforeAll(async () => {
  // Offers whatever `offered` holds at the time of the request, with hints as the kit sets them:
  // readOnlyHint for the tools declared readOnly (verification compares them).
  mcp = await startRemoteMcpServer({
    version: "2.3.4",
    seen: (request) => void bearerSubjects.push(request.claims.sub ?? ""),
    tools: () => offered.map((name) => ({ name, readOnly: name === "lookup_order" })),
  });
  url = mcp.url();
  ns = await testNamespace("op-remote");
  await grantRoles(ns);
  // The operator's identity: tokens are minted for this service account.
  await ensureVerifierAccount();
  // The test server listens on 127.0.0.1 over plain http: allowed here, as in development.
  op = await startTestOperator(ns, ["--verify-interval=1s", "--required-reviews=security", "--verify-allow-http=true"]);
  await adminClient().create(McpServerType, {
    apiVersion: "toolfleet.dev/v1alpha1",
    kind: "McpServer",
    metadata: { name: "orders", namespace: ns },
    spec: {
      title: "Orders",
      description: "Look up and refund orders",
      version: "2.3.4",
      owner: { team: "commerce", contact: "#orders" },
      remote: { url },
      access: { allowedGroups: ["support"] },
      tools: DECLARED.map((name) => ({ name, readOnly: name === "lookup_order" })),
    },
  } as never);
}, 60_000);

afterAll(async () => {
  await op?.stop();
  await releaseMcpServers(ns);
  await mcp?.close();
  await deleteNamespace(ns);
});

journey("tool verification of a remote server: verified, then an undeclared tool, then gone", (step) => {
  step("verifies the tools a real MCP server lists, and publishes it once approved", async () => {
    const first = await waitFor("a specHash", async () => (await getServer(ns, "orders"))?.status?.specHash);
    await review(ns, "orders", "security", first);
    const s = await waitFor("Published=True", async () => {
      const s = await getServer(ns, "orders");
      return s?.status?.registry?.published ? s : undefined;
    });
    expect(conditionsOf(s)).toMatchObject({ Reviewed: "True/Approved", Available: "True/Reachable", ToolsVerified: "True/ToolsMatch", Published: "True/Published", Ready: "True/Ready" });
    expect(s.status!.url).toBe(url);
    expect(s.status!.serverInfo).toMatchObject({ name: "orders-mcp", version: "2.3.4" });
    expect(s.status!.serverInfo!.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(s.status!.tools).toEqual(DECLARED.map((name) => ({ name, declared: true, discovered: true })));
    expect(s.status!.readyReplicas).toBeUndefined();
    expect(bearerSubjects.length).toBeGreaterThan(0);
    expect(new Set(bearerSubjects)).toEqual(new Set([`system:serviceaccount:${SYSTEM_NAMESPACE}:toolfleet-operator`]));
  }, 60_000);

  step("sets ToolsVerified=False and unpublishes when the server offers an undeclared tool", async () => {
    offered = [...DECLARED, "delete_customer"];
    const s = await waitFor("ToolsVerified=False", async () => {
      const s = await getServer(ns, "orders");
      return s?.status?.conditions?.find((c) => c.type === "ToolsVerified")?.status === "False" ? s : undefined;
    });
    expect(conditionsOf(s)).toMatchObject({ ToolsVerified: "False/ToolsMismatch", Published: "False/ToolsMismatch" });
    expect(s.status!.registry!.published).toBe(false);
    expect(s.status!.phase).toBe("Degraded");
    expect(s.status!.tools).toContainEqual({ name: "delete_customer", declared: false, discovered: true });
    expect(s.status!.conditions!.find((c) => c.type === "ToolsVerified")!.message).toContain("listed but not declared: delete_customer");
  }, 30_000);

  step("reports an unreachable server as Unavailable and unverified, never as verified", async () => {
    await mcp.close();
    const s = await waitFor(
      "Available=False",
      async () => {
        const s = await getServer(ns, "orders");
        return s?.status?.conditions?.find((c) => c.type === "Available")?.status === "False" ? s : undefined;
      },
      60_000,
    );
    expect(conditionsOf(s)).toMatchObject({ Available: "False/Unreachable", ToolsVerified: "Unknown/NotAvailable", Published: "False/NotAvailable" });
  }, 90_000);
});
