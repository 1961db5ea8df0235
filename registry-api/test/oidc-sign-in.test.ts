/**
 * The registry UI's sign-in through the identity provider (Keycloak of local/backends), in
 * Debian's Chromium driven by playwright-core: authorization code with PKCE on the provider's
 * own login page, the catalog as the person sees it, sign-out, and the refusals (a callback this
 * browser did not start, a token from another issuer). Screenshots go to
 * test-artifacts/registry-ui-sign-in/.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { repoRoot } from "../../local/cluster/paths.js";
import { adminConfig, deleteNamespace, testNamespace } from "../../local/cluster/harness.js";
import { startKeycloak, type KeycloakBackend } from "../../local/backends/harness.js";
import { loadRegistryConfig } from "../config.js";
import { REGISTRY_AUDIENCE, UI_CLIENT_ID } from "../demo-identity.js";
import { startRegistry, type RunningRegistry } from "../registry.js";
import { call, kube, putServer } from "./fixtures.js";
import { waitFor } from "../../local/wait-for.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(repoRoot(), "test-artifacts", "registry-ui-sign-in");
let ns: string;
let keycloak: KeycloakBackend;
let registry: RunningRegistry;
let browser: Browser;

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

/** Opens the registry in a fresh browser and signs in on the provider's page. */
async function signIn(user: string, path = "/"): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: registry.url, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(path);
  // The registry sent the browser to the provider's login page.
  await page.waitForURL((u) => u.href.startsWith(`${keycloak.issuer}/protocol/openid-connect/auth`));
  await page.locator("#username").fill(user);
  await page.locator("#password").fill(user);
  if (user === "ana") await shot(page, "1-provider-login");
  await page.locator("#kc-login").click();
  await page.waitForURL((u) => u.origin === registry.url && u.pathname === path.split("?")[0]);
  return { context, page };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run registry-api/test/ensure-chromium.sh`);
  mkdirSync(ARTIFACTS, { recursive: true });
  keycloak = await startKeycloak();
  ns = await testNamespace("ui-sign-in");
  await putServer(kube(), ns, "presto", { title: "Presto", groups: ["ads-eng"] });
  await putServer(kube(), ns, "ledger", { title: "Ledger", groups: ["finance"] });
  const config = loadRegistryConfig([], {
    REGISTRY_PORT: "0",
    TOOLFLEET_NAMESPACES: ns,
    REGISTRY_OIDC_ISSUER: keycloak.issuer,
    REGISTRY_OIDC_AUDIENCE: REGISTRY_AUDIENCE,
    REGISTRY_OIDC_JWKS_URL: `${keycloak.issuer}/protocol/openid-connect/certs`,
    REGISTRY_UI_CLIENT_ID: UI_CLIENT_ID,
  });
  registry = await startRegistry(config, adminConfig());
  await waitFor("every server in the registry's catalog", async () => registry.catalog.entries().length === 2, 10_000, 25);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await registry?.stop();
  if (ns) await deleteNamespace(ns);
});

describe("signing in to the registry UI with the identity provider", () => {
  it("a member signs in on the provider's page, lands where they were going, and signs out", async () => {
    const { context, page } = await signIn("ana", `/servers/${ns}/presto`);
    try {
      await expect(page.getByTestId("server-title").textContent()).resolves.toContain("Presto");
      await expect(page.getByTestId("viewer").textContent()).resolves.toBe("ana");
      const cookies = await context.cookies();
      expect(cookies.find((c) => c.name === "toolfleet_token")).toMatchObject({ httpOnly: true, sameSite: "Lax" });
      await page.goto("/");
      const cards = page.getByTestId("catalog").getByTestId("server-card");
      await expect(cards.evaluateAll((els) => els.map((e) => e.getAttribute("data-server")))).resolves.toEqual([`dev.toolfleet.local.${ns}/presto`]);
      await shot(page, "2-catalog-ana");

      await page.getByTestId("sign-out").click();
      // The provider ends its session too (it asks to confirm, or goes straight back).
      await page.waitForURL((u) => u.origin === new URL(keycloak.url).origin);
      await shot(page, "3-provider-sign-out");
      expect((await context.cookies()).some((c) => c.name === "toolfleet_token")).toBe(false);
    } finally {
      await context.close();
    }
  }, 120_000);

  it("an outsider signs in and sees no server", async () => {
    const { context, page } = await signIn("otto");
    try {
      await page.getByTestId("catalog-empty").waitFor();
      await expect(page.getByTestId("viewer").textContent()).resolves.toBe("otto");
      await shot(page, "4-catalog-otto");
    } finally {
      await context.close();
    }
  }, 120_000);

  it("refuses a callback this browser did not start, and a token from another issuer", async () => {
    const forged = await call(registry.url, "/auth/callback?code=abc&state=def");
    expect(forged.status).toBe(400);
    expect(String(forged.body)).toContain("This sign-in was not started here");
    // A real token of the same provider's master realm: signed, unexpired, but by another realm's
    // key for another issuer: no key the registry trusts matches it.
    const res = await fetch(`${keycloak.url}/realms/master/protocol/openid-connect/token`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: keycloak.admin.username, password: keycloak.admin.password }),
    });
    const { access_token } = (await res.json()) as { access_token: string };
    const refused = await call<{ error: string }>(registry.url, "/v0.1/servers", access_token);
    expect([refused.status, refused.body.error]).toEqual([401, "no trusted key matches the token (unknown kid or algorithm)"]);
    expect(refused.headers.get("www-authenticate")).toContain("resource_metadata=");
    const metadata = await call<{ authorization_servers: string[] }>(registry.url, "/.well-known/oauth-protected-resource");
    expect(metadata.body.authorization_servers).toEqual([keycloak.issuer]);
  }, 60_000);
});
