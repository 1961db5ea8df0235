/**
 * The chart on the local control plane. `helm install`: every object accepted. Then the
 * operator runs with exactly the chart's ServiceAccount identity (a TokenRequest token in a
 * kubeconfig) and takes servers through review, deployment (kwok makes the pods Ready),
 * verification and publication — so the ClusterRole is enough — while SelfSubjectAccessReviews
 * as that identity show what it cannot do (Secrets, other namespaces, RBAC, pods, who reviews).
 * `helm upgrade` with other reviewer groups moves who may approve; `helm uninstall` leaves
 * only the CRD.
 *
 * The control plane is shared with other suites and already has the project's own review gate
 * (default reviewer groups, every namespace). The release's gate is scoped to this suite's
 * namespace, and its reviewers are in the default groups too, so the difference between
 * "may approve" and "may not" is the release's groups alone.
 */
import { afterAll, beforeAll, expect } from "@jest/globals";
import { AuthorizationV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { DEFAULT_REVIEWER_GROUPS, SYSTEM_NAMESPACE } from "../crds/index.js";
import { SERVER_PODS_WRITERS_CONFIGMAP } from "../crds/server-pods-policy.js";
import { McpServerType } from "../mcpserver/type.js";
import { startOperator, type RunningOperator } from "../operator/operator.js";
import { KubeClient } from "../runtime/index.js";
import { adminConfig, cluster, clusterTls, deleteNamespace, kubectl, testNamespace, userConfig } from "../local/cluster/harness.js";
import { adminKubeconfigPath, stateDir } from "../local/cluster/paths.js";
import { adminClient, conditionOf, getServer, grantRoles, operatorConfig, releaseMcpServers, testLogger, waitFor } from "../test/operator/harness.js";
import { journey } from "../test/journey-steps.js";
import { startRemoteMcpServer, type RemoteMcpServer } from "../test/remote-mcp-server.js";
import { chartPath, helm, helmOk } from "./helm.js";

const DIGEST = `sha256:${"cd".repeat(32)}`;
const release = `tfc-${randomBytes(2).toString("hex")}`;
const operatorName = `${release}-toolfleet-operator`;
const work = join(stateDir(), "chart-test", release);
const kube = { kubeconfig: adminKubeconfigPath() };

let releaseNs = "";
let serverNs = "";
let otherNs = "";
let manifest = "";
let operatorKc: KubeConfig;
let op: RunningOperator | undefined;
let mcp: RemoteMcpServer | undefined;
const bearerSubjects: string[] = [];

/** A reviewer of the security area: in the project-wide group (RBAC, the shared gate) and in `releaseGroup`. */
const reviewer = (user: string, releaseGroup: string) => ({ user, groups: [DEFAULT_REVIEWER_GROUPS.security!, releaseGroup] });
const ana = reviewer("ana", "team-a:security");
const bo = reviewer("bo", "team-b:security");

/** `who` approves the security review of `name`; with `dryRun`, only asks admission whether it would pass. */
async function writeReview(who: { user: string; groups: string[] }, name: string, specHash: string, dryRun = false): Promise<void> {
  const client = new KubeClient(userConfig(who.user, who.groups), { userAgent: `reviewer-${who.user}` });
  await client.request(
    "PATCH",
    client.path(McpServerType, serverNs, name),
    { spec: { review: { security: { decision: "Approved", reviewer: who.user, specHash, at: new Date().toISOString().replace(/\.\d+Z$/, "Z") } } } },
    dryRun ? { dryRun: "All" } : undefined,
    "application/merge-patch+json",
  );
}

async function pendingHash(name: string): Promise<string> {
  const s = await waitFor(`${name} to wait for review`, async () => {
    const got = await getServer(serverNs, name);
    return got?.status?.specHash ? got : undefined;
  });
  return s.status!.specHash!;
}

function valuesFile(securityGroup: string): string {
  const file = join(work, `values-${securityGroup.replace(/\W/g, "-")}.yaml`);
  writeFileSync(
    file,
    stringify({
      images: { operator: { digest: DIGEST }, registry: { digest: DIGEST } },
      userRoles: { create: false }, // the control plane already has the project's people roles
      operator: { watchNamespaces: [serverNs] },
      review: {
        reviewerGroups: { security: securityGroup, legal: "team-a:legal", genai: "team-a:genai" },
        requiredAreas: ["security"],
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": serverNs } },
      },
      oidc: { issuer: "https://idp.example.com", jwksUrl: "https://idp.example.com/jwks" },
      registry: { audience: "toolfleet-registry" },
    }),
  );
  return file;
}

/** The chart's operator identity: a TokenRequest token for its ServiceAccount, in a kubeconfig. */
async function operatorIdentity(): Promise<KubeConfig> {
  const core = adminConfig().makeApiClient(CoreV1Api);
  const res = await core.createNamespacedServiceAccountToken({ name: operatorName, namespace: releaseNs, body: { spec: { expirationSeconds: 3600 } } });
  const token = res.status?.token;
  if (!token) throw new Error("TokenRequest returned no token");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "local", server: cluster().server, caData: Buffer.from(clusterTls().ca).toString("base64") }],
    users: [{ name: operatorName, token }],
    contexts: [{ name: "operator", cluster: "local", user: operatorName }],
    currentContext: "operator",
  });
  writeFileSync(join(work, "operator.kubeconfig"), kc.exportConfig(), { mode: 0o600 });
  return kc;
}

async function can(kc: KubeConfig, attrs: { verb: string; resource: string; group?: string; namespace?: string; subresource?: string; name?: string }): Promise<boolean> {
  const res = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attrs } } });
  return res.status?.allowed === true;
}

/**
 * The control plane's own server-pods policy (installed with the API, in every namespace) trusts
 * the admin as the operator. The release's operator runs as its ServiceAccount, so for this suite
 * it joins that list too, as it would on a cluster that had the project's policy before the chart.
 */
async function trustInProjectPolicy(identity: string, trusted: boolean): Promise<void> {
  const cm = JSON.parse((await kubectl(["get", "configmap", SERVER_PODS_WRITERS_CONFIGMAP, "-n", SYSTEM_NAMESPACE, "-o", "json"])).stdout) as { data: Record<string, string> };
  const writers = cm.data.deployments!.split(",").filter((w) => w !== identity);
  cm.data.deployments = (trusted ? [identity, ...writers] : writers).join(",");
  await kubectl(["replace", "-f", "-"], { input: JSON.stringify(cm) });
}

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  releaseNs = await testNamespace("tf-chart");
  await trustInProjectPolicy(`system:serviceaccount:${releaseNs}:${operatorName}`, true);
  serverNs = await testNamespace("tf-chart-srv");
  otherNs = await testNamespace("tf-chart-other");
  await grantRoles(serverNs);
  // Two tools for any caller with a bearer token (whose subject it records); the hints say what
  // the McpServer declares (lookup_order readOnly), as verification checks.
  mcp = await startRemoteMcpServer({
    seen: (request) => void bearerSubjects.push(request.claims.sub ?? ""),
    tools: () => [{ name: "lookup_order", readOnly: true }, { name: "refund_order" }],
  });
}, 120_000);

afterAll(async () => {
  await op?.stop();
  if (serverNs) await releaseMcpServers(serverNs);
  await helm(["uninstall", release, "-n", releaseNs, "--ignore-not-found"], kube);
  await mcp?.close();
  for (const ns of [serverNs, otherNs, releaseNs]) if (ns) await deleteNamespace(ns);
  if (releaseNs) await trustInProjectPolicy(`system:serviceaccount:${releaseNs}:${operatorName}`, false);
});

journey("the chart's life: helm install, the operator at work as its ServiceAccount, helm upgrade, helm uninstall", (step) => {
  step("helm install is accepted whole by the API server", async () => {
    await helmOk(["install", release, chartPath(), "-n", releaseNs, "-f", valuesFile("team-a:security")], kube);
    manifest = await helmOk(["get", "manifest", release, "-n", releaseNs], kube);
    const objects = parseAllDocuments(manifest).map((d) => d.toJS() as { kind: string } | null).filter((d) => d !== null);
    expect(objects.length).toBeGreaterThanOrEqual(20);
    const { stdout } = await kubectl(["get", "-f", "-", "-o", "name"], { input: manifest });
    expect(stdout.trim().split("\n")).toHaveLength(objects.length);
    const status = await helmOk(["status", release, "-n", releaseNs, "-o", "json"], kube);
    expect((JSON.parse(status) as { info: { status: string } }).info.status).toBe("deployed");
  }, 120_000);

  step("helm install gives the operator's ServiceAccount what it manages and nothing else (SelfSubjectAccessReview as it)", async () => {
    operatorKc = await operatorIdentity();
    const allowed = [
      { verb: "create", group: "apps", resource: "deployments", namespace: serverNs },
      { verb: "patch", group: "toolfleet.dev", resource: "mcpservers", subresource: "status", namespace: serverNs },
      { verb: "watch", group: "toolfleet.dev", resource: "mcpservers", namespace: serverNs },
      { verb: "create", group: "apps", resource: "controllerrevisions", namespace: serverNs },
      { verb: "delete", group: "networking.k8s.io", resource: "networkpolicies", namespace: serverNs },
      { verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: releaseNs },
      { verb: "create", resource: "serviceaccounts", subresource: "token", name: operatorName, namespace: releaseNs },
      { verb: "create", group: "authentication.k8s.io", resource: "tokenreviews" },
    ];
    const refused = [
      { verb: "get", resource: "secrets", namespace: serverNs },
      { verb: "list", resource: "secrets" },
      { verb: "get", resource: "secrets", namespace: releaseNs },
      { verb: "create", resource: "pods", namespace: serverNs },
      { verb: "create", resource: "pods", subresource: "exec", namespace: serverNs },
      { verb: "create", group: "apps", resource: "deployments", namespace: otherNs },
      { verb: "list", group: "toolfleet.dev", resource: "mcpservers", namespace: otherNs },
      { verb: "list", group: "toolfleet.dev", resource: "mcpservers" },
      { verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings", namespace: serverNs },
      { verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterroles" },
      { verb: "update", resource: "configmaps", name: `${release}-toolfleet-reviewers`, namespace: releaseNs },
      { verb: "update", resource: "configmaps", name: `${release}-toolfleet-server-pods`, namespace: releaseNs },
      { verb: "patch", group: "admissionregistration.k8s.io", resource: "validatingadmissionpolicies" },
      { verb: "create", resource: "serviceaccounts", subresource: "token", name: "default", namespace: releaseNs },
      { verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: otherNs },
      { verb: "delete", resource: "namespaces" },
    ];
    for (const a of allowed) expect({ ...a, allowed: await can(operatorKc, a) }).toEqual({ ...a, allowed: true });
    for (const r of refused) expect({ ...r, allowed: await can(operatorKc, r) }).toEqual({ ...r, allowed: false });
  });

  step("helm install is enough for the operator, run as that identity, to take servers through review, deployment, verification and publication", async () => {
    const url = mcp!.url();
    op = await startOperator(
      operatorConfig(serverNs, [
        `--leader-election-namespace=${releaseNs}`,
        `--leader-election-id=${operatorName}`,
        `--verifier-service-account=${releaseNs}/${operatorName}`,
        "--required-reviews=security",
        "--verify-interval=1s",
        "--verify-allow-http=true",
      ]),
      operatorKc,
      { log: testLogger(`chart-${release}`) },
    );
    await op.leading;
    const base = { apiVersion: "toolfleet.dev/v1alpha1", kind: "McpServer", spec: { version: "1.0.0", owner: { team: "commerce", contact: "#orders" }, access: { allowedGroups: ["support"] } } };
    await adminClient().create(McpServerType, {
      ...base,
      metadata: { name: "orders", namespace: serverNs },
      spec: { ...base.spec, title: "Orders", description: "Look up and refund orders", remote: { url }, tools: [{ name: "lookup_order", readOnly: true }, { name: "refund_order" }] },
    } as never);
    await adminClient().create(McpServerType, {
      ...base,
      metadata: { name: "catalog", namespace: serverNs },
      spec: {
        ...base.spec,
        title: "Catalog",
        description: "Browse the catalog",
        workload: { image: `registry.example.com/catalog@${DIGEST}`, port: 8080, path: "/mcp", replicas: 1 },
        tools: [{ name: "search", readOnly: true }],
      },
    } as never);

    await writeReview(ana, "orders", await pendingHash("orders"));
    const published = await waitFor("orders to be verified and published by the chart's identity", async () => {
      const s = await getServer(serverNs, "orders");
      return s?.status?.phase === "Published" ? s : undefined;
    }, 60_000);
    expect(conditionOf(published, "ToolsVerified")?.status).toBe("True");
    expect(bearerSubjects).toContain(`system:serviceaccount:${releaseNs}:${operatorName}`);

    await writeReview(ana, "catalog", await pendingHash("catalog"));
    const deployed = await waitFor("catalog's Deployment to be Available (kwok's pods)", async () => {
      const s = await getServer(serverNs, "catalog");
      return conditionOf(s, "Available")?.status === "True" ? s : undefined;
    }, 60_000);
    expect(conditionOf(deployed, "Reviewed")?.status).toBe("True");
    const { stdout } = await kubectl(["get", "serviceaccount,configmap,deployment,service,networkpolicy", "-n", serverNs, "-l", "app.kubernetes.io/managed-by=toolfleet-operator", "-o", "name"]);
    expect(stdout).toMatch(/deployment\.apps\/catalog/);
    expect(stdout).toMatch(/networkpolicy\.networking\.k8s\.io\/catalog/);
    expect(stdout).toMatch(/service\/catalog/);
  }, 150_000);

  step("helm upgrade with other reviewer groups lets the new group approve and refuses the old one", async () => {
    await adminClient().create(McpServerType, {
      apiVersion: "toolfleet.dev/v1alpha1",
      kind: "McpServer",
      metadata: { name: "gated", namespace: serverNs },
      spec: { title: "Gated", description: "Reviewed by whoever the release names", version: "1.0.0", owner: { team: "t", contact: "#t" }, remote: { url: "http://127.0.0.1:9/mcp" }, access: { allowedGroups: ["x"] }, tools: [{ name: "t" }] },
    } as never);
    const hash = await pendingHash("gated");
    const refused = (who: typeof ana) => writeReview(who, "gated", hash, true).then(() => false, (err: Error) => /spec\.review\.security: only the area's reviewer group/.test(err.message));
    // The API server loads a new policy within a moment: wait for it (dry runs change nothing).
    await waitFor("the release's gate to refuse bo (team-b)", () => refused(bo), 30_000, 250);
    await expect(writeReview(bo, "gated", hash)).rejects.toThrow(/spec\.review\.security: only the area's reviewer group/);

    await helmOk(["upgrade", release, chartPath(), "-n", releaseNs, "-f", valuesFile("team-b:security")], kube);
    await waitFor("the upgraded gate to let bo (team-b) approve", async () => !(await refused(bo)), 30_000, 250);
    await writeReview(bo, "gated", hash);
    const reviews = ((await getServer(serverNs, "gated"))?.spec as { review?: Record<string, { reviewer?: string }> } | undefined)?.review;
    expect(reviews?.security?.reviewer).toBe("bo");
    await expect(writeReview(ana, "gated", hash)).rejects.toThrow(/spec\.review\.security: only the area's reviewer group/);
  }, 90_000);

  step("helm uninstall leaves nothing of the release behind but the CRD", async () => {
    await op?.stop();
    op = undefined;
    await releaseMcpServers(serverNs);
    await helmOk(["uninstall", release, "-n", releaseNs, "--wait"], kube);
    const left = await kubectl(["get", "-f", "-", "-o", "name", "--ignore-not-found"], { input: manifest });
    expect(left.stdout.trim()).toBe("");
    const crd = await kubectl(["get", "crd", "mcpservers.toolfleet.dev", "-o", "name"]);
    expect(crd.stdout.trim()).toBe("customresourcedefinition.apiextensions.k8s.io/mcpservers.toolfleet.dev");
  }, 120_000);
});

