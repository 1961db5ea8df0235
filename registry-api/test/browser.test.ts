/**
 * The web UI in a real browser: Debian's headless Chromium driven by playwright-core. A member
 * signs in through the local login, searches, opens a server and copies its Claude Code
 * command; a reviewer sees the queue; an outsider sees nothing. Screenshots go to
 * test-artifacts/registry-ui/.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { repoRoot } from "../../local/cluster/paths.js";
import { deleteNamespace, testNamespace } from "../../local/cluster/harness.js";
import { sample } from "../../test/api/fixtures.js";
import { API_VERSION, KIND } from "../../crds/index.js";
import { McpServerType } from "../../mcpserver/index.js";
import { adminConfig } from "../../local/cluster/harness.js";
import { ensureDemoIdentity, type DemoIdentity } from "./demo-tokens.js";
import { loadRegistryConfig } from "../config.js";
import { startRegistry, type RunningRegistry } from "../registry.js";
import { kube, setStatus } from "./fixtures.js";
import { waitFor } from "../../local/wait-for.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(repoRoot(), "test-artifacts", "registry-ui");
let ns: string;
let stateDir: string;
let demo: DemoIdentity;
let registry: RunningRegistry;
let browser: Browser;

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

async function signIn(user: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: registry.url, viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: registry.url });
  const page = await context.newPage();
  await page.goto("/");
  expect(new URL(page.url()).pathname).toBe("/login");
  await page.getByTestId(`login-${user}`).click();
  await page.waitForURL((u) => u.pathname === "/");
  return { context, page };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run registry-api/test/ensure-chromium.sh`);
  mkdirSync(ARTIFACTS, { recursive: true });
  ns = await testNamespace("registry-ui");
  stateDir = mkdtempSync(join(tmpdir(), "toolfleet-demo-"));
  demo = await ensureDemoIdentity({ dir: stateDir });
  const client = kube();
  for (const file of ["presto.yaml", "spark.yaml", "airflow.yaml"]) {
    const m = sample(file);
    await client.request("POST", client.path(McpServerType, ns), { apiVersion: API_VERSION, kind: KIND, metadata: { name: m.metadata.name, namespace: ns }, spec: m.spec });
    // Presto and Spark are live; Airflow waits for its reviews.
    await setStatus(client, ns, m.metadata.name, m.metadata.name === "airflow" ? { published: false, pending: ["security", "genai"] } : { published: true });
  }
  const config = loadRegistryConfig([], {
    REGISTRY_PORT: "0",
    TOOLFLEET_NAMESPACES: ns,
    REGISTRY_OIDC_ISSUER: demo.issuer,
    REGISTRY_OIDC_AUDIENCE: demo.audience,
    REGISTRY_OIDC_JWKS_FILE: demo.jwksFile,
    REGISTRY_DEMO_TOKENS_DIR: demo.tokensDir,
  });
  registry = await startRegistry(config, adminConfig());
  await waitFor("every server in the registry's catalog", async () => registry.catalog.entries().length === 3, 10_000, 25);
  // playwright gives every launch a fresh, temporary user-data-dir of its own.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await registry?.stop();
  await deleteNamespace(ns);
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("the registry UI in Chromium", () => {
  it("a member signs in, searches, opens a server and copies its Claude Code command", async () => {
    const { context, page } = await signIn("ana");
    try {
      await expect(page.getByTestId("viewer").textContent()).resolves.toBe("ana");
      const cards = page.getByTestId("catalog").getByTestId("server-card");
      await expect(cards.evaluateAll((els) => els.map((e) => e.getAttribute("data-server")))).resolves.toEqual([
        `dev.toolfleet.local.${ns}/presto`,
        `dev.toolfleet.local.${ns}/spark`,
      ]);
      await shot(page, "1-catalog-ana");

      await page.getByTestId("search").fill("spark");
      await page.getByRole("button", { name: "Search" }).click();
      await page.waitForURL((u) => u.searchParams.get("q") === "spark");
      await expect(cards.count()).resolves.toBe(1);
      await shot(page, "2-search-spark");

      await cards.first().getByRole("link", { name: "Spark" }).click();
      await page.waitForURL((u) => u.pathname === `/servers/${ns}/spark`);
      await expect(page.getByTestId("server-title").textContent()).resolves.toContain("Spark");
      await expect(page.getByTestId("endpoint").textContent()).resolves.toBe("https://mcp.example.com/mcp");
      await expect(page.getByTestId("tools").locator("tbody tr").count()).resolves.toBe(7);

      await page.getByTestId("copy-claude").click();
      await page.getByTestId("copy-claude").filter({ hasText: "Copied" }).waitFor();
      const copied = await page.evaluate<string>("navigator.clipboard.readText()");
      expect(copied).toBe('claude mcp add --transport http spark https://mcp.example.com/mcp --header "Authorization: Bearer $TOOLFLEET_TOKEN"');
      await page.getByTestId("copy-vscode").click();
      const vscode = JSON.parse(await page.evaluate<string>("navigator.clipboard.readText()")) as { servers: Record<string, { type: string; url: string }> };
      expect(vscode.servers.spark).toMatchObject({ type: "http", url: "https://mcp.example.com/mcp" });
      await shot(page, "3-server-spark");
    } finally {
      await context.close();
    }
  }, 60_000);

  it("a reviewer sees the queue of servers waiting for their area", async () => {
    const { context, page } = await signIn("sam");
    try {
      const queue = page.getByTestId("review-queue");
      await expect(queue.locator("h2").textContent()).resolves.toContain("Waiting for your review (security) · 1");
      await expect(queue.getByTestId("server-card").getAttribute("data-server")).resolves.toBe(`dev.toolfleet.local.${ns}/airflow`);
      // Reviewers see the unpublished server in the catalog too.
      await expect(page.getByTestId("catalog").getByTestId("server-card").count()).resolves.toBe(3);
      await shot(page, "4-review-queue-sam");
    } finally {
      await context.close();
    }
  }, 60_000);

  it("an outsider sees no server, and a person may not open one they may not use", async () => {
    const { context, page } = await signIn("otto");
    try {
      await page.getByTestId("catalog-empty").waitFor();
      const res = await page.goto(`/servers/${ns}/presto`);
      expect(res?.status()).toBe(404);
      await shot(page, "5-outsider");
    } finally {
      await context.close();
    }
  }, 60_000);
});
