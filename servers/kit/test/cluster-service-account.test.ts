/**
 * Service-only callers with real tokens: the local control plane's TokenRequest API mints
 * audience-bound service-account tokens, and the kit verifies them against the API server's
 * own keys (/openid/v1/jwks), exactly as it does in a cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { kubernetesJwksFetch } from "../../../auth/index.js";
import { cluster, clusterTls, deleteNamespace, serviceAccountToken, testNamespace } from "../../../local/cluster/harness.js";
import { RESOURCE, basePolicy, call, connect, initialize, ran, startHarness, type Harness } from "./fixture.js";

let h: Harness;
let ns: string;

beforeAll(async () => {
  ns = await testNamespace("kit-sa");
  const tls = clusterTls();
  const policy = basePolicy();
  policy.access.allowedServiceAccounts = [`${ns}/incident-bot`];
  h = await startHarness(
    {
      auth: {
        users: { issuer: "https://idp.example.com", keys: { jwks: { keys: [] } } },
        // The API server's --service-account-issuer is its own URL on the local control plane.
        serviceAccounts: { issuer: cluster().server, keys: { jwksUrl: `${cluster().server}/openid/v1/jwks`, fetch: kubernetesJwksFetch({ ca: tls.ca, clientCert: tls.admin }) } },
      },
    },
    policy,
  );
});
afterAll(async () => {
  await h?.stop();
  await deleteNamespace(ns);
});

describe("service-account tokens minted by the cluster", () => {
  it("admits the account the policy names, for read-only tools only", async () => {
    const token = await serviceAccountToken(ns, "incident-bot", [RESOURCE]);
    const bot = await connect(h, token);
    expect((await bot.listTools()).tools.map((t) => t.name).sort()).toEqual(["revenue", "run_query", "slow"]);
    expect(await call(bot, "run_query", { sql: "select 1" })).toEqual({ isError: false, text: "rows for select 1" });

    const before = ran.flaky ?? 0;
    const refused = await call(bot, "flaky");
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain(`tool flaky is not read-only and does not admit service accounts, so service account ${ns}/incident-bot cannot call it`);
    expect(ran.flaky ?? 0).toBe(before);
  });

  it("refuses an account the policy does not name with 403", async () => {
    const token = await serviceAccountToken(ns, "other-bot", [RESOURCE]);
    const res = await initialize(h, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(403);
  });

  it("refuses a token minted for another audience with 401", async () => {
    const token = await serviceAccountToken(ns, "incident-bot", ["https://some-other-service.example.com"]);
    const res = await initialize(h, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });
});
