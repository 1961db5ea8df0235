import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { McpServerSpec } from "../../crds/index.js";
import { deleteNamespace, kubectl, testNamespace } from "../../local/cluster/harness.js";
import { clone, inNamespace, sample, toYaml } from "./fixtures.js";

/** A change to the valid base: paths into the manifest (`spec.tools.0.name`) set to a value, or removed. */
interface BadCase {
  what: string;
  set?: Record<string, unknown>;
  unset?: string[];
  /** Text the API server's refusal must contain: the field, named. */
  says: string | RegExp;
  /** The zod schema (the same rules, in TypeScript) refuses it too; false for metadata-only rules. */
  zodRefuses?: boolean;
}

type Json = Record<string, unknown> | unknown[];

function edit(root: Json, path: string, value: unknown, remove: boolean): void {
  const keys = path.split(".");
  const last = keys.pop()!;
  let node: Json = root;
  for (const k of keys) node = (node as Record<string, unknown>)[k] as Json;
  if (remove) delete (node as Record<string, unknown>)[last];
  else (node as Record<string, unknown>)[last] = value;
}

const remote = (url: string): Pick<BadCase, "set" | "unset"> => ({ unset: ["spec.workload"], set: { "spec.remote": { url } } });

const cases: BadCase[] = [
  { what: "title missing", unset: ["spec.title"], says: "spec.title: Required value" },
  { what: "title of the wrong type", set: { "spec.title": 42 }, says: /spec\.title: Invalid value: "integer"/ },
  { what: "description missing", unset: ["spec.description"], says: "spec.description: Required value" },
  { what: "description over 100 characters", set: { "spec.description": "x".repeat(101) }, says: "spec.description: Too long" },
  { what: "version not semantic", set: { "spec.version": "v1" }, says: "spec.version" },
  { what: "owner missing", unset: ["spec.owner"], says: "spec.owner: Required value" },
  { what: "owner team malformed", set: { "spec.owner.team": "Data_Platform" }, says: "spec.owner.team" },
  { what: "both workload and remote", set: { "spec.remote": { url: "https://x.example.com/mcp" } }, says: "exactly one of spec.workload" },
  { what: "neither workload nor remote", unset: ["spec.workload"], says: "exactly one of spec.workload" },
  { what: "port 0", set: { "spec.workload.port": 0 }, says: "spec.workload.port" },
  { what: "port above 65535", set: { "spec.workload.port": 70000 }, says: "spec.workload.port" },
  { what: "port as a word", set: { "spec.workload.port": "http" }, says: "spec.workload.port" },
  { what: "image malformed", set: { "spec.workload.image": "Registry Example/Presto" }, says: "spec.workload.image" },
  { what: "negative replicas", set: { "spec.workload.replicas": -1 }, says: "spec.workload.replicas" },
  { what: "path not absolute", set: { "spec.workload.path": "mcp" }, says: "spec.workload.path" },
  { what: "resource quantity malformed", set: { "spec.workload.resources.limits.memory": "lots" }, says: "spec.workload.resources.limits.memory" },
  {
    what: "env with both value and valueFrom",
    set: { "spec.workload.env.0.valueFrom": { secretKeyRef: { name: "a", key: "b" } } },
    says: "spec.workload.env[0]",
  },
  { what: "env valueFrom with no reference", set: { "spec.workload.env.0": { name: "X", valueFrom: {} } }, says: "spec.workload.env[0].valueFrom" },
  { what: "remote URL that is no URL", ...remote("not a url"), says: "spec.remote.url" },
  { what: "remote URL with another scheme", ...remote("ftp://files.example.com/mcp"), says: "spec.remote.url" },
  { what: "no tools", set: { "spec.tools": [] }, says: "spec.tools" },
  { what: "duplicate tool names", set: { "spec.tools.1.name": "list_catalogs" }, says: "spec.tools[1]: Duplicate value" },
  { what: "tool name malformed", set: { "spec.tools.0.name": "run query!" }, says: "spec.tools[0].name" },
  { what: "negative minutes saved", set: { "spec.tools.0.minutesSaved": -5 }, says: "spec.tools[0].minutesSaved" },
  { what: "minutes saved as a word", set: { "spec.tools.0.minutesSaved": "five" }, says: "spec.tools[0].minutesSaved" },
  {
    what: "a tool's groups outside the server's",
    set: { "spec.tools.0.allowedGroups": ["finance", "hr"] },
    says: "spec.tools[].allowedGroups must be a subset of spec.access.allowedGroups",
  },
  {
    what: "a sensitive tool that admits service accounts",
    set: { "spec.tools.7.allowServiceAccounts": true },
    says: "spec.tools[7].allowServiceAccounts",
  },
  { what: "a group name with a space", set: { "spec.access.allowedGroups": ["ads eng"] }, says: "spec.access.allowedGroups[0]" },
  {
    what: "a service account without a namespace",
    set: { "spec.access.allowedServiceAccounts": ["incident-bot"] },
    says: "spec.access.allowedServiceAccounts[0]",
  },
  { what: "access missing", unset: ["spec.access"], says: "spec.access: Required value" },
  { what: "an unknown field in spec", set: { "spec.replicaCount": 3 }, says: 'unknown field "spec.replicaCount"' },
  { what: "an unknown field in a tool", set: { "spec.tools.0.dangerous": true }, says: 'unknown field "spec.tools[0].dangerous"' },
  { what: "an unknown review decision", set: { "spec.review": { security: { decision: "Maybe" } } }, says: "spec.review.security.decision: Unsupported value" },
  {
    what: "an approval that names no specHash",
    set: { "spec.review": { security: { decision: "Approved", reviewer: "sam" } } },
    says: "spec.review[security]: Invalid value: an Approved or Rejected review must name its reviewer",
  },
  { what: "a name that is no DNS label", set: { "metadata.name": "presto.v2" }, says: "metadata.name must be a DNS label", zodRefuses: false },
];

let ns: string;
beforeAll(async () => {
  ns = await testNamespace("bad-manifests");
});
afterAll(async () => deleteNamespace(ns));

describe("bad McpServer manifests", () => {
  it("there are at least 25 distinct ones", () => {
    expect(new Set(cases.map((c) => c.what)).size).toBeGreaterThanOrEqual(25);
  });

  it("the valid base is accepted by both the API server (dry run) and zod", async () => {
    const m = inNamespace(sample("presto.yaml"), ns, "base");
    expect(McpServerSpec.safeParse(m.spec).success).toBe(true);
    await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: toYaml(m) });
  });

  it.each(cases.map((c, i) => [c.what, c, i] as const))("%s: refused at kubectl apply, naming the field, and nothing stored", async (_what, c, i) => {
    const m = clone(inNamespace(sample("presto.yaml"), ns, `bad-${i}`));
    for (const [path, value] of Object.entries(c.set ?? {})) edit(m as unknown as Json, path, value, false);
    for (const path of c.unset ?? []) edit(m as unknown as Json, path, undefined, true);
    const r = await kubectl(["apply", "-f", "-"], { input: toYaml(m), allowFailure: true });
    expect(r.code).not.toBe(0);
    if (typeof c.says === "string") expect(r.stderr).toContain(c.says);
    else expect(r.stderr).toMatch(c.says);
    const after = await kubectl(["get", "mcpserver", m.metadata.name, "-n", ns, "--ignore-not-found", "-o", "name"]);
    expect(after.stdout.trim()).toBe("");
    if (c.zodRefuses !== false) expect(McpServerSpec.safeParse(m.spec).success).toBe(false);
  });
});
