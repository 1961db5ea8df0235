/**
 * The Impact page and the feedback widget in a real browser (Debian's headless Chromium driven
 * by playwright-core), on a registry process whose usage came in through its own API with the
 * servers' service-account tokens. Screenshots go to test-artifacts/impact-ui/.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { repoRoot } from "../../../local/cluster/paths.js";
import { Identity, PRESTO, REGISTRY_AUDIENCE, SPARK, api, registryNameOf, startRegistryProcess, tempDir, type RegistryProcess } from "./fleet.js";

jest.setTimeout(180_000); // a browser on a shared, loaded machine

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(repoRoot(), "test-artifacts", "impact-ui");
const DAY = 86_400_000;
let identity: Identity;
let registry: RegistryProcess;
let browser: Browser;

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const hex = (n: number) => n.toString(16).padStart(64, "0");

/** Usage over the last 60 days: presto run_query and revenue, spark run_query, five people. */
function history(server: string, now: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let d = 0; d < 60; d++) {
    for (let i = 0; i < (d % 7) + 2; i++) {
      const tool = server.endsWith("presto") && i % 3 === 0 ? "revenue" : "run_query";
      out.push({ id: randomUUID(), server, tool, caller: hex((i % 5) + 1), callerKind: "person", outcome: i % 4 === 3 ? "error" : "ok", durationMs: 20, minutesSaved: i % 4 === 3 ? 0 : tool === "revenue" ? 2 : 5, at: new Date(now - d * DAY - i * 60_000).toISOString() });
    }
  }
  return out;
}

async function signedIn(who: string, groups: string[]): Promise<Page> {
  const context = await browser.newContext({ baseURL: registry.url, viewport: { width: 1280, height: 900 } });
  await context.addCookies([{ name: "toolfleet_token", value: await identity.person(who, groups, REGISTRY_AUDIENCE), url: registry.url }]);
  return context.newPage();
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run registry-api/test/ensure-chromium.sh`);
  mkdirSync(ARTIFACTS, { recursive: true });
  identity = await Identity.start();
  registry = await startRegistryProcess(identity, { file: join(tempDir("impact-ui-"), "usage.sqlite") });
  const now = Date.now();
  for (const s of [PRESTO, SPARK]) {
    const token = await identity.serviceAccount(`${s.namespace}/${s.name}`, REGISTRY_AUDIENCE);
    const r = await api(registry.url, "/api/v1/usage", token, { method: "POST", body: JSON.stringify({ records: history(registryNameOf(s), now) }) });
    expect(r.status).toBe(200);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await registry?.stop();
  await identity?.stop();
});

describe("the Impact page and the feedback widget", () => {
  it("shows the last 30 days' headline figures, the trend and the tables, as the API counts them", async () => {
    const page = await signedIn("ann", ["ads-eng"]);
    await page.goto("/");
    await page.getByTestId("nav-impact").click();
    await page.waitForURL((u) => u.pathname === "/impact");
    const figures = (await api<{ total: { calls: number; people: number; hoursSaved: number } }>(registry.url, "/api/v1/impact?groupBy=server", await identity.person("ann", ["ads-eng"], REGISTRY_AUDIENCE))).body.total;
    expect(figures.calls).toBeGreaterThan(0);
    expect(await page.getByTestId("calls").textContent()).toBe(figures.calls.toLocaleString("en-US"));
    expect(await page.getByTestId("people").textContent()).toBe(String(figures.people));
    expect(await page.getByTestId("hours").textContent()).toBe(figures.hoursSaved.toLocaleString("en-US", { maximumFractionDigits: 1 }));
    expect(await page.getByTestId("by-server").locator("tbody tr").count()).toBe(2);
    expect(await page.getByTestId("by-tool").locator("tbody tr").count()).toBe(3);
    expect(await page.getByTestId("trend-row").count()).toBeGreaterThanOrEqual(9);
    await shot(page, "impact-by-week");
    await page.getByRole("link", { name: "by month" }).click();
    await page.waitForURL((u) => u.searchParams.get("trend") === "month");
    expect(await page.getByTestId("trend-row").count()).toBeGreaterThanOrEqual(2);
    await shot(page, "impact-by-month");
    await page.close();
  });

  it("sends feedback from the server page, and shows the median and count beside the declared estimate", async () => {
    const page = await signedIn("ann", ["ads-eng"]);
    await page.goto(`/servers/${PRESTO.namespace}/${PRESTO.name}`);
    expect(await page.getByTestId("server-impact").textContent()).toContain("calls");
    const row = page.locator('[data-testid=estimate-row][data-tool="run_query"]');
    expect(await row.getByTestId("count").textContent()).toBe("0");
    await page.getByTestId("feedback-tool").selectOption("run_query");
    await page.getByTestId("feedback-minutes").fill("12");
    await page.getByTestId("feedback-comment").fill("Saved me writing the query by hand");
    await page.getByTestId("feedback-send").click();
    await page.getByText("Thanks: feedback recorded.").waitFor();
    await shot(page, "server-feedback-sent");
    await page.getByTestId("feedback-minutes").fill("18");
    await page.getByTestId("feedback-send").click();
    await page.getByText("today's feedback for this tool was replaced").waitFor();
    await page.reload();
    expect(await row.getByTestId("count").textContent()).toBe("1");
    expect(await row.getByTestId("median").textContent()).toBe("18");
    await shot(page, "server-impact-and-estimates");
    await page.close();
  });

  it("shows a person only what they can see: no page, no widget for a server they cannot use", async () => {
    const page = await signedIn("bob", ["finance"]);
    const res = await page.goto(`/servers/${SPARK.namespace}/${SPARK.name}`);
    expect(res?.status()).toBe(404);
    await page.goto("/impact");
    expect(await page.getByTestId("by-server").locator("tbody tr").count()).toBe(1);
    // The widget's endpoint refuses a server bob cannot see, whatever the page shows.
    const answer = await page.evaluate(async (server) => {
      const r = await fetch("/ui/feedback", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ server, tool: "run_query", minutesSaved: 5, helpful: true }) });
      return { status: r.status, body: await r.json() };
    }, registryNameOf(SPARK));
    expect(answer).toMatchObject({ status: 404, body: { parameter: "server" } });
    // A form, which any other site could make the browser post, is refused before anything is read.
    const form = await page.evaluate(async (server) => {
      const r = await fetch("/ui/feedback", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ server, tool: "run_query", minutesSaved: "5", helpful: "true" }).toString() });
      return r.status;
    }, registryNameOf(PRESTO));
    expect(form).toBe(415);
    await shot(page, "impact-as-finance");
    await page.close();
  });
});
