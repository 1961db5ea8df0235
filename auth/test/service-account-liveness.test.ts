/**
 * Service-account tokens are bound to live objects: against the real local control plane, a
 * token minted with TokenRequest (for the account alone, or bound to a pod) works in the
 * registry and in the kit, and once its account or pod is deleted (or the account recreated
 * under the same name, a new object) the same token is refused within 60 s, though its signature
 * and expiry are still good. Waits on the refusal with a timeout; no sleeps.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { kubernetesJwksFetch } from "../index.js";
import { cluster, clusterTls, deleteNamespace, testNamespace } from "../../local/cluster/harness.js";
import type { KubeClient } from "../../runtime/index.js";
import { AUDIENCE, call, kube, putServer, startTestRegistry, type TestRegistry } from "../../registry-api/test/fixtures.js";
import { RESOURCE, basePolicy, initialize, startHarness, type Harness } from "../../servers/kit/test/fixture.js";
import { waitFor } from "../../local/wait-for.js";

const REFUSED_WITHIN_MS = 60_000;
jest.setTimeout(3 * REFUSED_WITHIN_MS);

/** Asks again every half second (each ask may open a session in the kit) until `status` is 401. */
const refusedWithin = (ms: number, status: () => Promise<number>) => waitFor("the token to be refused (401)", async () => (await status()) === 401, ms, 500);

let ns: string;
let client: KubeClient;
let registry: TestRegistry;
let kit: Harness;

const createAccount = async (name: string): Promise<string> =>
  ((await client.request("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name } })) as { metadata: { uid: string } }).metadata.uid;
const deleteAccount = (name: string) => client.request("DELETE", `/api/v1/namespaces/${ns}/serviceaccounts/${name}`);

/** TokenRequest for `audiences`, bound to `pod` when given (name and uid). */
async function mint(account: string, audiences: string[], pod?: { name: string; uid: string }): Promise<string> {
  const answer = (await client.request("POST", `/api/v1/namespaces/${ns}/serviceaccounts/${account}/token`, {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: { audiences, expirationSeconds: 3600, ...(pod ? { boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid } } : {}) },
  })) as { status: { token: string } };
  return answer.status.token;
}

async function createPod(name: string, account: string): Promise<{ name: string; uid: string }> {
  const pod = (await client.request("POST", `/api/v1/namespaces/${ns}/pods`, {
    metadata: { name },
    spec: { serviceAccountName: account, automountServiceAccountToken: false, containers: [{ name: "main", image: "registry.invalid/none:1" }] },
  })) as { metadata: { uid: string } };
  return { name, uid: pod.metadata.uid };
}
const deletePod = (name: string) => client.request("DELETE", `/api/v1/namespaces/${ns}/pods/${name}`, { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: 0 });

const registryStatus = async (token: string) => (await call(registry.registry.url, "/v0.1/servers", token)).status;
const kitStatus = async (token: string) => (await initialize(kit, { authorization: `Bearer ${token}` })).status;

beforeAll(async () => {
  ns = await testNamespace("sa-liveness");
  client = kube();
  await putServer(client, ns, "presto", { groups: [], serviceAccounts: ["bot-a", "bot-b", "bot-c", "bot-d", "bot-e", "bot-f"].map((b) => `${ns}/${b}`) });
  registry = await startTestRegistry(ns);
  const tls = clusterTls();
  const policy = basePolicy();
  policy.access.allowedServiceAccounts = ["kit-a", "kit-b", "kit-c"].map((b) => `${ns}/${b}`);
  kit = await startHarness(
    {
      auth: {
        users: { issuer: "https://idp.example.com", keys: { jwks: { keys: [] } } },
        serviceAccounts: { issuer: cluster().server, keys: { jwksUrl: `${cluster().server}/openid/v1/jwks`, fetch: kubernetesJwksFetch({ ca: tls.ca, clientCert: tls.admin }) } },
      },
    },
    policy,
  );
  await waitFor("every server in the registry's catalog", async () => registry.registry.catalog.entries().length === 1, 10_000, 25);
}, 120_000);
afterAll(async () => {
  await kit?.stop();
  await registry?.stop();
  await deleteNamespace(ns);
});

describe("the registry", () => {
  it("refuses a token once its service account is deleted", async () => {
    await createAccount("bot-a");
    const token = await mint("bot-a", [AUDIENCE]);
    expect(await registryStatus(token)).toBe(200);
    await deleteAccount("bot-a");
    await refusedWithin(REFUSED_WITHIN_MS, () => registryStatus(token));
    const refused = await call(registry.registry.url, "/v0.1/servers", token);
    expect(refused.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
  });

  it("refuses a token bound to a pod once the pod is deleted, while the account's other tokens work", async () => {
    await createAccount("bot-b");
    const pod = await createPod("runner-b", "bot-b");
    const bound = await mint("bot-b", [AUDIENCE], pod);
    const unbound = await mint("bot-b", [AUDIENCE]);
    expect(await registryStatus(bound)).toBe(200);
    await deletePod(pod.name);
    await refusedWithin(REFUSED_WITHIN_MS, () => registryStatus(bound));
    expect(await registryStatus(unbound)).toBe(200);
  });

  it("refuses an old token once the account is recreated under the same name (a new object)", async () => {
    const first = await createAccount("bot-c");
    const old = await mint("bot-c", [AUDIENCE]);
    expect(await registryStatus(old)).toBe(200);
    await deleteAccount("bot-c");
    expect(await createAccount("bot-c")).not.toBe(first);
    await refusedWithin(REFUSED_WITHIN_MS, () => registryStatus(old));
    expect(await registryStatus(await mint("bot-c", [AUDIENCE]))).toBe(200);
  });
});

describe("the kit", () => {
  it("refuses a token once its service account is deleted", async () => {
    await createAccount("kit-a");
    const token = await mint("kit-a", [RESOURCE]);
    expect(await kitStatus(token)).toBe(200);
    await deleteAccount("kit-a");
    await refusedWithin(REFUSED_WITHIN_MS, () => kitStatus(token));
  });

  it("refuses a token bound to a pod once the pod is deleted", async () => {
    await createAccount("kit-b");
    const pod = await createPod("runner-kit-b", "kit-b");
    const bound = await mint("kit-b", [RESOURCE], pod);
    expect(await kitStatus(bound)).toBe(200);
    await deletePod(pod.name);
    await refusedWithin(REFUSED_WITHIN_MS, () => kitStatus(bound));
  });
});
