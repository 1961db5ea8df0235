/**
 * The chart without a cluster: its copies of crds/ are current, `helm lint --strict` is clean,
 * images are named by digest (and a missing one is refused by name), bad values are refused by
 * values.schema.json naming the field, and every metric the alerts and the dashboard query is
 * one the code exports.
 */
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../local/cluster/paths.js";
import { chartGeneratedFiles } from "./generate.js";
import { chartPath, helm, helmOk } from "./helm.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const IMAGES = [`--set=images.operator.digest=${DIGEST}`, `--set=images.registry.digest=${DIGEST}`];

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
async function render(args: string[] = []): Promise<Manifest[]> {
  const out = await helmOk(["template", "tf", chartPath(), "--namespace=toolfleet-system", ...IMAGES, ...args]);
  const docs = parseAllDocuments(out);
  // A duplicated key (e.g. a label written twice) is an error here, as it is for strict parsers.
  for (const d of docs) if (d.errors.length > 0) throw new Error(`helm template wrote invalid YAML: ${d.errors.map((e) => e.message).join("; ")}`);
  return docs
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

describe("charts/toolfleet", () => {
  it.each(Object.keys(chartGeneratedFiles(repoRoot())))("%s is what crds/ generates (run `make chart` after `make crds`)", (path) => {
    expect(readFileSync(join(repoRoot(), path), "utf8")).toBe(chartGeneratedFiles(repoRoot())[path]);
  });

  it("helm lint --strict is clean, with the monitoring objects and the registry's routes on too", async () => {
    const all = ["--set=monitoring.serviceMonitor.enabled=true", "--set=monitoring.prometheusRule.enabled=true", "--set=registry.ingress.enabled=true", "--set=registry.ingress.host=mcp.example.com", "--set=registry.httpRoute.enabled=true", "--set=registry.httpRoute.parentRefs[0].name=gw", "--set=oidc.issuer=https://idp.example.com", "--set=oidc.jwksUrl=https://idp.example.com/jwks", "--set=registry.audience=toolfleet-registry"];
    for (const extra of [[], all]) {
      const r = await helm(["lint", "--strict", chartPath(), ...IMAGES, ...extra]);
      expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: expect.stringContaining("0 chart(s) failed") });
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it("names images by digest, and refuses an image with neither digest nor tag by its value's name", async () => {
    const docs = await render();
    const images = docs.filter((d) => d.kind === "Deployment").map((d) => JSON.stringify(d.spec).match(/"image":"([^"]+)"/)?.[1]);
    expect(images).toEqual([`localhost/toolfleet/toolfleet-operator@${DIGEST}`, `localhost/toolfleet/toolfleet-registry@${DIGEST}`]);
    const r = await helm(["template", "tf", chartPath(), `--set=images.registry.digest=${DIGEST}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("images.operator: set digest");
  });

  it.each([
    [["--set=review.requiredAreas=null"], "requiredAreas"],
    [["--set=review.reviewerGroups.Security=x"], "Security"],
    [["--set=images.operator.digest=sha256:short"], "digest"],
    [["--set=operator.replicas=0"], "replicas"],
    [["--set=operator.logLevel=loud"], "logLevel"],
    [["--set=registry.publicUrl=ftp://x"], "publicUrl"],
  ])("refuses %j, naming %s", async (args, field) => {
    const r = await helm(["template", "tf", chartPath(), ...IMAGES, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(field);
  });

  it("passes the people's OIDC settings and the service-account issuer to the operator as flags", async () => {
    const docs = await render(["--set=oidc.issuer=https://idp.example.com", "--set=oidc.jwksUrl=https://idp.example.com/jwks", "--set=oidc.audience=toolfleet", "--set=oidc.groupsClaim=roles", "--set=serviceAccountIssuer.jwksUrl=https://kubernetes.default.svc/openid/v1/jwks"]);
    const operator = docs.find((d) => d.kind === "Deployment" && d.metadata.name === "tf-toolfleet-operator");
    const args = (operator!.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]!.args;
    expect(args).toEqual(
      expect.arrayContaining([
        "--oidc-issuer=https://idp.example.com",
        "--oidc-jwks-url=https://idp.example.com/jwks",
        "--oidc-audience=toolfleet",
        "--groups-claim=roles",
        "--sa-issuer=https://kubernetes.default.svc.cluster.local",
        "--sa-jwks-url=https://kubernetes.default.svc/openid/v1/jwks",
        "--verifier-service-account=toolfleet-system/tf-toolfleet-operator",
        "--leader-elect=true",
      ]),
    );
    expect((operator!.spec as { replicas: number }).replicas).toBe(2);
  });

  it("names every object once, also when the release's own namespace is one the operator watches", async () => {
    const docs = (await render(["--set=operator.watchNamespaces={toolfleet-system,team-a}"])) as Array<Manifest & { metadata: { namespace?: string } }>;
    const keys = docs.map((d) => `${d.kind}/${d.metadata.namespace ?? ""}/${d.metadata.name}`);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    expect(keys).toContain("RoleBinding/toolfleet-system/tf-toolfleet-operator");
    expect(keys).toContain("RoleBinding/toolfleet-system/tf-toolfleet-operator-self");
  });

  it("gives the registry its own audience, and refuses oidc.issuer without one by the value's name", async () => {
    const oidc = ["--set=oidc.issuer=https://idp.example.com", "--set=oidc.jwksUrl=https://idp.example.com/jwks"];
    const registryArgs = async (args: string[]) => {
      const registry = (await render(args)).find((d) => d.kind === "Deployment" && d.metadata.name === "tf-toolfleet-registry");
      return (registry!.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]!.args;
    };
    expect(await registryArgs([...oidc, "--set=registry.audience=toolfleet-registry", "--set=oidc.audience=toolfleet-mcp"])).toContain("--oidc-audience=toolfleet-registry");
    expect(await registryArgs([...oidc, "--set=oidc.audience=toolfleet"])).toContain("--oidc-audience=toolfleet");
    const refused = await helm(["template", "tf", chartPath(), "--namespace=toolfleet-system", ...IMAGES, ...oidc]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("registry.audience: required with oidc.issuer");
  });

  it("lets the registry and the managed namespaces' service accounts create TokenReviews, and only with the value on", async () => {
    type Binding = Manifest & { subjects?: Array<{ kind: string; name: string; namespace?: string }> };
    const subjects = async (args: string[]) =>
      ((await render(args)).find((d) => d.kind === "ClusterRoleBinding" && d.metadata.name === "tf-toolfleet-operator-tokenreview") as Binding | undefined)?.subjects?.map((x) => `${x.kind}:${x.name}`);
    expect(await subjects([])).toEqual(["ServiceAccount:tf-toolfleet-operator", "ServiceAccount:tf-toolfleet-registry", "Group:system:serviceaccounts"]);
    expect(await subjects(["--set=operator.watchNamespaces={team-a,team-b}"])).toEqual([
      "ServiceAccount:tf-toolfleet-operator",
      "ServiceAccount:tf-toolfleet-registry",
      "Group:system:serviceaccounts:team-a",
      "Group:system:serviceaccounts:team-b",
    ]);
    expect(await subjects(["--set=serviceAccountIssuer.grantTokenReview=false"])).toEqual(["ServiceAccount:tf-toolfleet-operator"]);
  });

  it("trusts only its own operator and the Kubernetes controllers to make server pods", async () => {
    const docs = await render();
    const writers = docs.find((d) => d.kind === "ConfigMap" && d.metadata.name === "tf-toolfleet-server-pods")!.data!;
    expect(writers.deployments!.split(",")[0]).toBe("system:serviceaccount:toolfleet-system:tf-toolfleet-operator");
    expect(Object.values(writers).join(",")).not.toMatch(/system:serviceaccounts(,|$)|system:authenticated|system:masters/);
    const binding = docs.find((d) => d.kind === "ValidatingAdmissionPolicyBinding" && d.metadata.name === "tf-toolfleet-server-pods")!;
    expect(binding.spec).toMatchObject({ policyName: "tf-toolfleet-server-pods", paramRef: { name: "tf-toolfleet-server-pods", parameterNotFoundAction: "Deny" } });
  });

  it("alerts and the dashboard query only metrics the code exports", async () => {
    const docs = await render(["--set=monitoring.prometheusRule.enabled=true"]);
    const rules = JSON.stringify(docs.find((d) => d.kind === "PrometheusRule"));
    const dashboard = docs.find((d) => d.kind === "ConfigMap" && d.metadata.name.endsWith("-dashboard"))!.data!["toolfleet.json"]!;
    JSON.parse(dashboard);
    const exported = ["servers/kit/metrics.ts", "runtime/metrics.ts", "operator/operator.ts"].map((f) => readFileSync(join(repoRoot(), f), "utf8")).join("\n");
    const used = new Set([...`${rules}\n${dashboard}`.matchAll(/\b(toolfleet_[a-z_]+?)(?:_bucket)?\b/g)].map((m) => m[1]!));
    expect([...used].sort()).toEqual(["toolfleet_mcpservers", "toolfleet_minutes_saved_total", "toolfleet_reconcile_total", "toolfleet_tool_call_duration_seconds", "toolfleet_tool_calls_total"]);
    for (const metric of used) expect({ metric, exported: exported.includes(`"${metric}"`) }).toEqual({ metric, exported: true });
    for (const alert of ["ToolfleetServerUnpublished", "ToolfleetVerificationFailing", "ToolfleetReconcileErrors", "ToolfleetToolErrorRate"]) expect(rules).toContain(alert);
  });
});
