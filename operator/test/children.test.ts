import { describe, expect, it } from "@jest/globals";
import { parseServerPolicy } from "../../policy/server-policy.js";
import { desiredChildren } from "../children.js";
import { loadConfig, OperatorConfigError } from "../config.js";
import { POLICY_HASH_ANNOTATION } from "../../mcpserver/names.js";
import { sampleServer } from "./fixtures.js";

const config = { registryPrefix: "dev.toolfleet.local", clusterDomain: "cluster.local", ingressNamespaces: ["toolfleet-system"], verifierServiceAccount: "toolfleet-system/toolfleet-operator", auth: {} };

/** Reads a dotted path of plain JSON; what is there is asserted, not assumed. */
const at = (o: unknown, path: string): unknown => path.split(".").reduce<unknown>((x, k) => (x as Record<string, unknown> | undefined)?.[k], o);

describe("children of a workload server", () => {
  const { object, spec } = sampleServer();
  const children = desiredChildren(object, spec, 2, config);
  const byKind = Object.fromEntries(children.map((c) => [c.type.kind, c.object as unknown]));

  it("are the five kinds, each controlled by the McpServer", () => {
    expect(Object.keys(byKind).sort()).toEqual(["ConfigMap", "Deployment", "NetworkPolicy", "Service", "ServiceAccount"]);
    for (const c of children) {
      expect(c.object.metadata.ownerReferences).toEqual([
        { apiVersion: "toolfleet.dev/v1alpha1", kind: "McpServer", name: "presto", uid: object.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
      expect(c.object.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("toolfleet-operator");
    }
  });

  it("run hardened pods, probed on the kit's endpoints, with the policy mounted", () => {
    const pod = at(byKind.Deployment, "spec.template.spec");
    const c = at(pod, "containers.0");
    expect(at(pod, "securityContext.runAsNonRoot")).toBe(true);
    expect(at(c, "securityContext")).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(at(c, "readinessProbe.httpGet.path")).toBe("/readyz");
    expect(at(c, "livenessProbe.httpGet.path")).toBe("/healthz");
    expect(at(c, "volumeMounts")).toContainEqual({ name: "policy", mountPath: "/etc/toolfleet", readOnly: true });
    expect(at(pod, "volumes")).toContainEqual({ name: "policy", configMap: { name: "presto-policy" } });
    expect(at(byKind.Deployment, "spec.replicas")).toBe(2);
  });

  it("write the policy file the kit parses, and roll pods when it changes", () => {
    const policy = parseServerPolicy((at(byKind.ConfigMap, "data") as Record<string, string>)["policy.json"]!);
    expect(policy.server).toMatchObject({ namespace: "data-platform", name: "presto", registryName: "dev.toolfleet.local.data-platform/presto" });
    expect(policy.tools.find((t) => t.name === "cancel_query")).toMatchObject({ sensitive: true, allowedGroups: ["data-platform"], minutesSaved: 3 });
    expect(policy.verifier).toBe("toolfleet-system/toolfleet-operator");
    const annotation = (d: unknown) => (at(d, "spec.template.metadata.annotations") as Record<string, string>)[POLICY_HASH_ANNOTATION];
    const hash = annotation(byKind.Deployment);
    const changed = desiredChildren(object, { ...spec, access: { ...spec.access, allowedGroups: [...spec.access.allowedGroups, "ml-eng"] } }, 2, config);
    const hash2 = annotation(changed.find((c) => c.type.kind === "Deployment")!.object);
    expect(hash2).not.toBe(hash);
  });

  it("admit to the server's port only the ingress namespaces, the verifier's and those of its allowed service accounts", () => {
    const np = at(byKind.NetworkPolicy, "spec");
    expect(at(np, "policyTypes")).toEqual(["Ingress"]);
    // agents/incident-bot is the sample's allowed service account; toolfleet-system the ingress and verifier namespace.
    expect(at(np, "ingress.0.from.0.namespaceSelector.matchExpressions.0.values")).toEqual(["agents", "toolfleet-system"]);
    const other = desiredChildren(object, spec, 2, { ...config, ingressNamespaces: ["gateways"], verifierServiceAccount: "ops/verifier" });
    expect(at(other.find((c) => c.type.kind === "NetworkPolicy")!.object, "spec.ingress.0.from.0.namespaceSelector.matchExpressions.0.values")).toEqual(["agents", "gateways", "ops"]);
    expect(at(np, "ingress.0.ports")).toEqual([{ port: 8080, protocol: "TCP" }]);
    // The server's own replicas forward sessions and confirmations to each other.
    expect(at(np, "ingress.0.from.1")).toEqual({ podSelector: { matchLabels: { "toolfleet.dev/server": object.metadata.name } } });
    expect(at(np, "ingress.0.from")).toHaveLength(2);
  });

  it("are none for a remote server", () => {
    expect(desiredChildren(object, { ...spec, workload: undefined, remote: { url: "https://x.example/mcp" } }, 0, config)).toEqual([]);
  });
});

describe("configuration", () => {
  it("reads flags over environment, with defaults", () => {
    const c = loadConfig(["--namespaces=a,b", "--allow-tag-images=true", "--resync-period=30s"], { TOOLFLEET_REGISTRY_PREFIX: "com.example", TOOLFLEET_NAMESPACES: "z" });
    expect(c.namespaces).toEqual(["a", "b"]);
    expect(c.registryPrefix).toBe("com.example");
    expect(c.allowTagImages).toBe(true);
    expect(c.resyncPeriodMs).toBe(30_000);
    expect(c.requiredReviews).toEqual(["security", "legal", "genai"]);
    expect(c.verifier.serviceAccount).toBe("toolfleet-system/toolfleet-operator");
  });
  it("refuses a bad value naming the flag", () => {
    expect(() => loadConfig(["--kube-api-qps=fast"], {})).toThrow(OperatorConfigError);
    expect(() => loadConfig(["--kube-api-qps=fast"], {})).toThrow(/--kube-api-qps/);
    expect(() => loadConfig(["--bogus"], {})).toThrow(/unknown argument/);
  });
});
