/**
 * The registry in a pod reads the cluster with its projected service-account token, which the
 * kubelet rotates. The registry checks service-account callers with the API server's keys and a
 * TokenReview on those credentials: it must use the token as it is now, not the one it started
 * with. Here the registry's token file is swapped for a new token and the old one is made invalid
 * (its bound Secret deleted); a new service-account caller is still checked and served.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CoreV1Api } from "@kubernetes/client-node";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadKubeconfigFile } from "../../runtime/index.js";
import { adminConfig, cluster, deleteNamespace, kubectl, serviceAccountToken, testNamespace } from "../../local/cluster/harness.js";
import { pki } from "../../local/cluster/controlplane.js";
import { AUDIENCE, call, startTestRegistry, type TestRegistry } from "./fixtures.js";
import { waitFor } from "../../test/operator/harness.js";

let ns = "";
let dir = "";
let reg: TestRegistry | undefined;
let started = "";
const tokenFile = () => join(dir, "token");

/** A token of the registry's account, bound to a Secret: deleting the Secret makes it invalid. */
async function registryToken(secret: string): Promise<string> {
  const core = adminConfig().makeApiClient(CoreV1Api);
  const s = await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: secret } } });
  const res = await core.createNamespacedServiceAccountToken({
    name: "registry",
    namespace: ns,
    body: { spec: { audiences: [], expirationSeconds: 3600, boundObjectRef: { apiVersion: "v1", kind: "Secret", name: secret, uid: s.metadata!.uid! } } },
  });
  return res.status?.token ?? "";
}

/** The API server's answer to `token` (200 while it is valid, 401 once it is not). */
function statusFor(token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${cluster().server}/apis`, { ca: readFileSync(pki().caCert), headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
  });
}

beforeAll(async () => {
  ns = await testNamespace("reg-rotate");
  dir = mkdtempSync(join(tmpdir(), "reg-rotate-"));
  await kubectl(["create", "serviceaccount", "registry", "-n", ns]);
  await kubectl(["create", "clusterrolebinding", `${ns}-auth`, "--clusterrole=system:auth-delegator", `--serviceaccount=${ns}:registry`]);
  await kubectl(["create", "rolebinding", "registry-view", "--clusterrole=view", `--serviceaccount=${ns}:registry`, "-n", ns]);
  started = await registryToken("bind-a");
  writeFileSync(tokenFile(), started);
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "local", cluster: { server: cluster().server, "certificate-authority": pki().caCert } }],
      users: [{ name: "registry", user: { tokenFile: tokenFile() } }],
      contexts: [{ name: "registry", context: { cluster: "local", user: "registry" } }],
      "current-context": "registry",
    }),
  );
  reg = await startTestRegistry(ns, {}, loadKubeconfigFile(kubeconfig));
}, 60_000);

afterAll(async () => {
  await reg?.stop();
  await kubectl(["delete", "clusterrolebinding", `${ns}-auth`, "--ignore-not-found"]);
  if (ns) await deleteNamespace(ns);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the registry's own credentials rotate", () => {
  it("a service-account caller is checked with the token the registry has now, not the one it started with", async () => {
    const before = await call(reg!.registry.url, "/v0.1/servers", await serviceAccountToken(ns, "caller", [AUDIENCE]));
    expect(before.status).toBe(200);

    // The kubelet writes a new token; the old one stops working (here: its bound Secret is gone).
    writeFileSync(tokenFile(), await registryToken("bind-b"));
    expect(await statusFor(started)).toBe(200);
    await kubectl(["delete", "secret", "bind-a", "-n", ns]);
    await waitFor("the API server to refuse the registry's first token", async () => (await statusFor(started)) === 401);

    const after = await call(reg!.registry.url, "/v0.1/servers", await serviceAccountToken(ns, "caller", [AUDIENCE]));
    expect(after.status).toBe(200);
  }, 60_000);
});
