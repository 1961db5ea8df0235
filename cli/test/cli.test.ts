/**
 * Every toolfleet command as a person runs it, against the real registry (in this process, on
 * the real control plane), the real Keycloak of local/backends (sign-in on its own pages, over
 * HTTP) and the API server's review gate: the answers, the exit codes and the errors (not signed
 * in, expired session, unknown or invisible server, denied tool, not a reviewer, stale spec, a
 * client configuration file that is not JSON).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { REVIEWER_ROLE } from "../../crds/rbac.js";
import { DEFAULT_REVIEWER_GROUPS } from "../../crds/index.js";
import { McpServerType, type McpServerObject } from "../../mcpserver/index.js";
import { startKeycloak, type KeycloakBackend } from "../../local/backends/harness.js";
import { deleteNamespace, testNamespace } from "../../local/cluster/harness.js";
import { adminConfig } from "../../local/cluster/harness.js";
import { loadRegistryConfig } from "../../registry-api/config.js";
import { startRegistry, type RunningRegistry } from "../../registry-api/registry.js";
import { REGISTRY_AUDIENCE, UI_CLIENT_ID } from "../../registry-api/demo-identity.js";
import { kube, putServer } from "../../registry-api/test/fixtures.js";
import { waitFor } from "../../local/wait-for.js";
import { COMMANDS } from "../commands.js";
import { EXIT } from "../errors.js";
import { readSession, writeSession } from "../settings.js";
import { people } from "./people.js";

let keycloak: KeycloakBackend;
let registry: RunningRegistry;
let ns: string;
const work = mkdtempSync(join(tmpdir(), "toolfleet-cli-"));
const bindingName = `toolfleet-cli-test-${process.pid}`;

const { toolfleet, login, kubeconfigOf } = people(work, () => registry.url);

async function getServer(name: string): Promise<McpServerObject> {
  return (await kube().request("GET", kube().path(McpServerType, ns, name))) as McpServerObject;
}

/** Writes status as the operator would: the hash of the generation it has seen. */
async function hashAs(name: string, specHash: string): Promise<number> {
  const s = await getServer(name);
  await kube().request(
    "PATCH",
    kube().path(McpServerType, ns, name, "status"),
    { status: { observedGeneration: s.metadata.generation, specHash, phase: "PendingReview", review: { approved: false, pending: ["security", "legal", "genai"], stale: [], rejected: [] } } },
    undefined,
    "application/merge-patch+json",
  );
  return s.metadata.generation ?? 0;
}

beforeAll(async () => {
  keycloak = await startKeycloak();
  ns = await testNamespace("cli");
  const client = kube();
  const tools = [
    { name: "run_query", description: "Run a read-only SQL query", readOnly: true, minutesSaved: 5 },
    { name: "kill_query", description: "Kill a running query", sensitive: true, minutesSaved: 1, allowedGroups: ["data-platform"] },
  ];
  await putServer(client, ns, "presto", { title: "Presto", groups: ["ads-eng", "data-platform"], tools });
  await putServer(client, ns, "ledger", { title: "Ledger", groups: ["finance"] });
  await putServer(client, ns, "airflow", { title: "Airflow", groups: ["ads-eng"], published: false });
  await client.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: bindingName },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: REVIEWER_ROLE },
    subjects: Object.values(DEFAULT_REVIEWER_GROUPS).map((g) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: g })),
  });
  const config = loadRegistryConfig([], {
    REGISTRY_PORT: "0",
    TOOLFLEET_NAMESPACES: ns,
    REGISTRY_OIDC_ISSUER: keycloak.issuer,
    REGISTRY_OIDC_AUDIENCE: REGISTRY_AUDIENCE,
    REGISTRY_OIDC_JWKS_URL: `${keycloak.issuer}/protocol/openid-connect/certs`,
    REGISTRY_UI_CLIENT_ID: UI_CLIENT_ID,
  });
  registry = await startRegistry(config, adminConfig());
  await waitFor("every server in the registry's catalog", async () => registry.catalog.entries().length === 3, 10_000, 25);
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  await kube().request("DELETE", `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${bindingName}`).catch(() => undefined);
  if (ns) await deleteNamespace(ns);
  rmSync(work, { recursive: true, force: true });
});

describe("the command line itself", () => {
  it("has --help on every command, and refuses what it does not know with exit code 2", async () => {
    for (const c of COMMANDS) {
      const r = await toolfleet("nobody", [...c.path, "--help"]);
      expect({ command: c.path.join(" "), code: r.code }).toEqual({ command: c.path.join(" "), code: 0 });
      expect(r.stdout).toContain(`Usage: toolfleet ${c.path.join(" ")}`);
    }
    expect((await toolfleet("nobody", ["review", "--help"])).stdout).toContain("review approve");
    const bare = await toolfleet("nobody", []);
    expect(bare.code).toBe(EXIT.usage);
    expect(bare.stdout).toContain("connect");
    const unknown = await toolfleet("nobody", ["frobnicate"]);
    expect([unknown.code, unknown.stderr]).toEqual([EXIT.usage, expect.stringContaining('unknown command "frobnicate"')]);
    const flag = await toolfleet("nobody", ["servers", "--colour"]);
    expect([flag.code, flag.stderr]).toEqual([EXIT.usage, expect.stringContaining("unknown flag --colour")]);
    const format = await toolfleet("nobody", ["servers", "-o", "xml"]);
    expect([format.code, format.stderr]).toEqual([EXIT.usage, expect.stringContaining('"xml" is not one of table, json, yaml')]);
    const client = await toolfleet("nobody", ["connect", "presto", "--client", "emacs"]);
    expect(client.code).toBe(EXIT.usage);
  });

  it("completes commands, flags and their values from the same table", async () => {
    expect((await toolfleet("nobody", ["completion", "bash"])).stdout).toContain("complete -o default -F _toolfleet toolfleet kubectl-toolfleet");
    expect((await toolfleet("nobody", ["completion", "zsh"])).stdout).toContain("compdef _toolfleet");
    expect((await toolfleet("nobody", ["__complete", "ser"])).stdout.split("\n").sort()).toEqual(["server", "servers"]);
    expect((await toolfleet("nobody", ["__complete", "review", "a"])).stdout).toBe("approve");
    expect((await toolfleet("nobody", ["__complete", "connect", "presto", "--client", ""])).stdout.split("\n")).toEqual(["vscode", "claude-code", "cursor"]);
  });
});

describe("signing in", () => {
  it("refuses every registry command before login with exit code 3", async () => {
    const r = await toolfleet("ana", ["servers"]);
    expect([r.code, r.stderr]).toEqual([EXIT.notSignedIn, expect.stringContaining("not signed in: run toolfleet login")]);
  });

  it("signs in through the provider's page (loopback PKCE) and keeps the session readable only by the person", async () => {
    const r = await login("ana");
    expect([r.code, r.stderr]).toEqual([EXIT.ok, expect.stringContaining(`Signing in with ${keycloak.issuer}`)]);
    expect(r.stdout).toContain("Signed in as ana (ads-eng)");
    const file = join(work, "config", "ana", "session.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(work, "config", "ana")).mode & 0o777).toBe(0o700);
    const who = await toolfleet("ana", ["whoami", "-o", "json"]);
    expect(JSON.parse(who.stdout)).toMatchObject({ user: "ana", groups: ["ads-eng"], registry: registry.url, issuer: keycloak.issuer });
  }, 60_000);

  it("signs in with the device flow", async () => {
    const r = await login("otto", ["--device"]);
    expect(r.stderr).toMatch(/enter the code [A-Z]{4}-[A-Z]{4}/);
    expect([r.code, r.stdout]).toEqual([EXIT.ok, expect.stringContaining("Signed in as otto (marketing)")]);
  }, 60_000);

  it("refreshes an expired access token, and sends the person back to login when it cannot", async () => {
    const session = readSession({ TOOLFLEET_CONFIG_DIR: join(work, "config", "ana") })!;
    const refreshDir = { TOOLFLEET_CONFIG_DIR: join(work, "config", "ana-refresh") };
    writeSession({ ...session, expiresAt: Math.floor(Date.now() / 1000) - 60 }, refreshDir);
    const refreshed = await toolfleet("ana-refresh", ["servers", "-o", "json"]);
    expect(refreshed.code).toBe(EXIT.ok);
    const after = readSession(refreshDir)!;
    expect(after.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(after.accessToken).not.toBe(session.accessToken);

    writeSession({ ...session, expiresAt: Math.floor(Date.now() / 1000) - 60, refreshToken: "not-a-refresh-token" }, { TOOLFLEET_CONFIG_DIR: join(work, "config", "ana-expired") });
    const expired = await toolfleet("ana-expired", ["servers"]);
    expect([expired.code, expired.stderr]).toEqual([EXIT.notSignedIn, expect.stringContaining("your session as ana expired and the provider would not refresh it: run toolfleet login")]);

    // A token the registry refuses (here: one signed by nobody it trusts) is "sign in again" too.
    writeSession({ ...session, accessToken: `${session.accessToken.split(".").slice(0, 2).join(".")}.c2lnbmVk` }, { TOOLFLEET_CONFIG_DIR: join(work, "config", "ana-forged") });
    const forged = await toolfleet("ana-forged", ["servers"]);
    expect([forged.code, forged.stderr]).toEqual([EXIT.notSignedIn, expect.stringContaining("the registry refused your token (token signature verification failed): run toolfleet login")]);
  }, 60_000);
});

describe("finding and checking servers", () => {
  it("lists what the person may use, as a table, JSON or YAML", async () => {
    const table = await toolfleet("ana", ["servers"]);
    expect(table.code).toBe(EXIT.ok);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toMatch(/^NAME\s+NAMESPACE\s+TITLE\s+OWNER\s+CONTACT\s+STATUS\s+REVIEW\s+TOOLS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["presto"]);
    expect(lines[1]).toMatch(/presto\s+\S+\s+Presto\s+data-platform\s+#help\s+Live\s+approved\s+2$/);
    const json = JSON.parse((await toolfleet("ana", ["servers", "-o", "json"])).stdout) as Array<{ name: string; url: string }>;
    expect(json.map((s) => s.name)).toEqual(["presto"]);
    const yaml = parseYaml((await toolfleet("ana", ["servers", "pres", "-o", "yaml"])).stdout) as Array<{ name: string }>;
    expect(yaml.map((s) => s.name)).toEqual(["presto"]);
    const none = await toolfleet("ana", ["servers", "nothing-like-this"]);
    expect([none.code, none.stdout]).toEqual([EXIT.ok, 'No server you may see matches "nothing-like-this".']);
    // The outsider sees nothing.
    expect((await toolfleet("otto", ["servers", "-o", "json"])).stdout).toBe("[]");
  });

  it("shows one server with its tools; an unknown or invisible one is exit code 4", async () => {
    const one = await toolfleet("ana", ["server", "presto"]);
    expect(one.code).toBe(EXIT.ok);
    expect(one.stdout).toContain("Presto (" + ns + "/presto) v1.0.0");
    expect(one.stdout).toMatch(/kill_query\s+writes, confirm each call\s+1\s+data-platform/);
    expect(JSON.parse((await toolfleet("ana", ["server", `${ns}/presto`, "-o", "json"])).stdout)).toMatchObject({ name: "presto", owner: { team: "data-platform" }, status: "Live" });
    for (const name of ["ledger", "airflow", "no-such-server"]) {
      const r = await toolfleet("ana", ["server", name]);
      expect([name, r.code, r.stderr]).toEqual([name, EXIT.notFound, `toolfleet: no server named ${name} that you (ana) may see: toolfleet servers lists them`]);
    }
  });

  it("answers the access check with the registry's reason: exit code 0 allowed, 5 denied, 4 invisible", async () => {
    const allowed = await toolfleet("ana", ["access", "presto", "run_query"]);
    expect([allowed.code, allowed.stdout]).toEqual([EXIT.ok, expect.stringMatching(/^allowed: ana → presto run_query: /)]);
    const denied = await toolfleet("ana", ["access", "presto", "kill_query", "-o", "json"]);
    expect(denied.code).toBe(EXIT.denied);
    expect(JSON.parse(denied.stdout)).toMatchObject({ allowed: false, server: `dev.toolfleet.local.${ns}/presto`, tool: "kill_query" });
    const invisible = await toolfleet("otto", ["access", "presto", "run_query"]);
    expect([invisible.code, invisible.stderr]).toEqual([EXIT.notFound, expect.stringContaining("no server named presto that you (otto) may see")]);
  });
});

describe("connecting an MCP client", () => {
  it("prints a client's configuration, or merges it into the file without touching other entries", async () => {
    const project = join(work, "project");
    mkdirSync(project, { recursive: true });
    const url = "https://mcp.example.com/mcp";
    const printed = await toolfleet("ana", ["connect", "presto", "--client", "claude-code", "-o", "json"], { cwd: project });
    expect(JSON.parse(printed.stdout)).toEqual({
      client: "claude-code",
      file: join(project, ".mcp.json"),
      content: { mcpServers: { presto: { type: "http", url, headers: { Authorization: "Bearer ${TOOLFLEET_TOKEN}" } } } },
    });

    const other = { type: "stdio", command: "other-server", args: ["--x"] };
    writeFileSync(join(project, ".mcp.json"), JSON.stringify({ mcpServers: { other, presto: { url: "http://old" } }, keep: true }));
    const written = await toolfleet("ana", ["connect", "presto", "--client", "claude-code", "--write"], { cwd: project });
    expect([written.code, written.stdout]).toEqual([EXIT.ok, expect.stringContaining(`Updated ${join(project, ".mcp.json")}: presto → ${url}`)]);
    expect(JSON.parse(readFileSync(join(project, ".mcp.json"), "utf8"))).toEqual({
      mcpServers: { other, presto: { type: "http", url, headers: { Authorization: "Bearer ${TOOLFLEET_TOKEN}" } } },
      keep: true,
    });

    const vscode = await toolfleet("ana", ["connect", "presto", "--client", "vscode", "--write"], { cwd: project });
    expect(vscode.code).toBe(EXIT.ok);
    expect(JSON.parse(readFileSync(join(project, ".vscode", "mcp.json"), "utf8"))).toMatchObject({
      inputs: [{ id: "toolfleet-token", type: "promptString", password: true }],
      servers: { presto: { type: "http", url, headers: { Authorization: "Bearer ${input:toolfleet-token}" } } },
    });
    const home = join(work, "home", "ana");
    expect((await toolfleet("ana", ["connect", "presto", "--client", "cursor", "--write"], { cwd: project, home })).code).toBe(EXIT.ok);
    expect(JSON.parse(readFileSync(join(home, ".cursor", "mcp.json"), "utf8"))).toEqual({ mcpServers: { presto: { url, headers: { Authorization: "Bearer ${env:TOOLFLEET_TOKEN}" } } } });
  });

  it("refuses a configuration file that is not valid JSON and leaves it untouched", async () => {
    const project = join(work, "broken");
    mkdirSync(project, { recursive: true });
    const text = '{ "mcpServers": { "other": { "command": "x" }, } // a comment\n';
    writeFileSync(join(project, ".mcp.json"), text);
    const r = await toolfleet("ana", ["connect", "presto", "--client", "claude-code", "--write"], { cwd: project });
    expect([r.code, r.stderr]).toEqual([EXIT.failure, expect.stringContaining(`${join(project, ".mcp.json")} is not valid JSON`)]);
    expect(r.stderr).toContain("refused, the file is left untouched");
    expect(readFileSync(join(project, ".mcp.json"), "utf8")).toBe(text);
    writeFileSync(join(project, ".mcp.json"), '{"mcpServers": ["not", "an", "object"]}');
    const wrongShape = await toolfleet("ana", ["connect", "presto", "--client", "claude-code", "--write"], { cwd: project });
    expect([wrongShape.code, readFileSync(join(project, ".mcp.json"), "utf8")]).toEqual([EXIT.failure, '{"mcpServers": ["not", "an", "object"]}']);
  });

  it("will not connect a server the person may not see", async () => {
    const r = await toolfleet("otto", ["connect", "presto", "--client", "claude-code"]);
    expect(r.code).toBe(EXIT.notFound);
  });
});

describe("reviewing through the reviewer's own kubeconfig", () => {
  const hash = (c: string) => c.repeat(64);

  it("shows the queue and the diff, approves exactly the hash shown, and refuses a stale one", async () => {
    const generation = await hashAs("airflow", hash("1"));
    const sam = kubeconfigOf("sam", [DEFAULT_REVIEWER_GROUPS.security!]);
    const queue = await toolfleet("sam", ["review", "queue", "-n", ns, "--kubeconfig", sam]);
    expect(queue.code).toBe(EXIT.ok);
    expect(queue.stdout).toMatch(new RegExp(`${ns}/airflow\\s+Airflow\\s+data-platform\\s+security\\s+PendingReview\\s+111111111111`));
    const queueJson = JSON.parse((await toolfleet("sam", ["review", "queue", "-n", ns, "--kubeconfig", sam, "-o", "json"])).stdout) as { reviewer: string; areas: string[]; items: Array<{ name: string }> };
    expect(queueJson).toMatchObject({ reviewer: "sam", areas: ["security"] });
    expect(queueJson.items.map((i) => i.name).sort()).toEqual(["airflow", "ledger", "presto"]);

    const diff = await toolfleet("sam", ["review", "diff", `${ns}/airflow`, "--kubeconfig", sam]);
    expect(diff.code).toBe(EXIT.ok);
    expect(diff.stdout).toContain(`generation ${generation}, spec hash ${hash("1")}`);
    expect(diff.stdout).toContain("+ access.allowedGroups[0]: \"ads-eng\"");
    expect(diff.stdout).toContain(`--spec-hash ${hash("1")}`);

    // A hash other than the current one is refused, and nothing is written.
    const wrong = await toolfleet("sam", ["review", "approve", `${ns}/airflow`, "--area", "security", "--spec-hash", hash("2"), "--kubeconfig", sam]);
    expect([wrong.code, wrong.stderr]).toEqual([EXIT.stale, expect.stringContaining(`changed since it was shown: its spec hash is now ${hash("1")}, not ${hash("2")}`)]);
    expect((await getServer("airflow")).spec).not.toHaveProperty("review");

    const ok = await toolfleet("sam", ["review", "approve", `${ns}/airflow`, "--area", "security", "--spec-hash", hash("1"), "--comment", "looks fine", "--kubeconfig", sam]);
    expect([ok.code, ok.stdout]).toEqual([EXIT.ok, `security: Approved ${ns}/airflow at spec hash ${hash("1")} as sam`]);
    expect((await getServer("airflow")).spec).toMatchObject({ review: { security: { decision: "Approved", reviewer: "sam", specHash: hash("1"), comment: "looks fine" } } });
    // Done for sam's area: no longer in the queue.
    const after = JSON.parse((await toolfleet("sam", ["review", "queue", "-n", ns, "--kubeconfig", sam, "-o", "json"])).stdout) as { items: Array<{ name: string }> };
    expect(after.items.map((i) => i.name)).not.toContain("airflow");

    // The owner changes the spec after the next reviewer looked (the operator hashes it anew):
    // the hash that reviewer was shown is stale, and nothing is written.
    // The review added a generation; the operator hashes it (the same hash: reviews are not hashed).
    expect(await hashAs("airflow", hash("1"))).toBe(generation + 1);
    const lee = kubeconfigOf("lee", [DEFAULT_REVIEWER_GROUPS.legal!]);
    const shown = JSON.parse((await toolfleet("lee", ["review", "diff", `${ns}/airflow`, "--kubeconfig", lee, "-o", "json"])).stdout) as { specHash: string; generation: number };
    expect(shown).toMatchObject({ specHash: hash("1"), generation: generation + 1 });
    await kube().request("PATCH", kube().path(McpServerType, ns, "airflow"), { spec: { description: "Changed after the review" } }, undefined, "application/merge-patch+json");
    await hashAs("airflow", hash("4"));
    const stale = await toolfleet("lee", ["review", "approve", `${ns}/airflow`, "--area", "legal", "--spec-hash", shown.specHash, "--kubeconfig", lee]);
    expect([stale.code, stale.stderr]).toEqual([EXIT.stale, expect.stringContaining(`changed since it was shown: its spec hash is now ${hash("4")}, not ${hash("1")}`)]);
    expect((await getServer("airflow")).spec).not.toHaveProperty("review.legal");
    // Sam's approval was for the old hash: the change is back in sam's queue, as stale.
    const again = JSON.parse((await toolfleet("sam", ["review", "queue", "-n", ns, "--kubeconfig", sam, "-o", "json"])).stdout) as { items: Array<{ name: string; waiting: unknown }> };
    expect(again.items.find((i) => i.name === "airflow")?.waiting).toEqual([{ area: "security", state: "Stale" }]);
  });

  it("diffs against the approved revision as the operator compared it (status.pendingChange)", async () => {
    await hashAs("presto", hash("5"));
    const sam = kubeconfigOf("sam", [DEFAULT_REVIEWER_GROUPS.security!]);
    const showDiff = async () => {
      const r = await toolfleet("sam", ["review", "diff", `${ns}/presto`, "--kubeconfig", sam, "-o", "json"]);
      return { code: r.code, stderr: r.stderr, shown: r.code === EXIT.ok ? (JSON.parse(r.stdout) as { base: string; changes: Array<{ op: string; path: string; before?: string; after?: string }> }) : undefined };
    };
    const setStatus = (status: Record<string, unknown>) => kube().request("PATCH", kube().path(McpServerType, ns, "presto", "status"), { status }, undefined, "application/merge-patch+json");
    const revision = { name: `presto-${"a".repeat(10)}`, revision: 1, specHash: hash("6") };
    // The operator compared an older spec: the CLI will not show a diff for another hash.
    await setStatus({ approvedRevision: revision, pendingChange: { specHash: hash("7"), paths: ["spec.description"], changes: [{ path: "spec.description", old: '"old"', new: '"new"' }] } });
    const stale = await showDiff();
    expect([stale.code, stale.stderr]).toEqual([EXIT.stale, expect.stringContaining(`has not yet compared spec hash ${hash("5")}`)]);
    await setStatus({
      pendingChange: {
        specHash: hash("5"),
        paths: ["spec.description", "spec.tools[cancel_query]"],
        changes: [
          { path: "spec.description", old: '"The approved description"', new: '"Query and inspect Presto clusters"' },
          { path: "spec.tools[cancel_query]", new: '{"name":"cancel_query"}' },
        ],
      },
    });
    const { code, shown } = await showDiff();
    expect(code).toBe(EXIT.ok);
    expect(shown!.base).toBe(`approved revision 1 (${revision.name})`);
    expect(shown!.changes).toEqual([
      { op: "~", path: "description", before: '"The approved description"', after: '"Query and inspect Presto clusters"' },
      { op: "+", path: "tools[cancel_query]", after: '{"name":"cancel_query"}' },
    ]);
    // A diff the status had to cut is shown as cut, and approving it without a hash is refused.
    const many = Array.from({ length: 64 }, (_, i) => ({ path: `spec.workload.env[name=V${String(i).padStart(2, "0")}]`, new: '"x"' }));
    await setStatus({ pendingChange: { specHash: hash("5"), paths: many.map((c) => c.path), changes: many } });
    const cutDiff = await toolfleet("sam", ["review", "diff", `${ns}/presto`, "--kubeconfig", sam]);
    expect(cutDiff.stdout).toContain("This diff is cut");
    const blind = await toolfleet("sam", ["review", "approve", `${ns}/presto`, "--area", "security", "--kubeconfig", sam]);
    expect([blind.code, blind.stderr]).toEqual([EXIT.stale, expect.stringContaining("too large to show in full")]);
    expect((await getServer("presto")).spec).not.toHaveProperty("review.security");
    // Nothing pending: the current spec is the approved revision.
    await kube().request("PATCH", kube().path(McpServerType, ns, "presto", "status"), [{ op: "remove", path: "/status/pendingChange" }], undefined, "application/json-patch+json");
    expect((await showDiff()).shown).toMatchObject({ base: `approved revision 1 (${revision.name})`, changes: [] });
  });

  it("rejects with a reason, and refuses people who are not reviewers of the area", async () => {
    await hashAs("ledger", hash("3"));
    const gina = kubeconfigOf("gina", [DEFAULT_REVIEWER_GROUPS.genai!]);
    const noReason = await toolfleet("gina", ["review", "reject", `${ns}/ledger`, "--area", "genai", "--kubeconfig", gina]);
    expect([noReason.code, noReason.stderr]).toEqual([EXIT.usage, expect.stringContaining("--comment is required")]);
    const rejected = await toolfleet("gina", ["review", "reject", `${ns}/ledger`, "--area", "genai", "--comment", "tool descriptions too vague", "--kubeconfig", gina]);
    expect(rejected.code).toBe(EXIT.ok);
    expect(rejected.stdout).toContain(`genai: Rejected ${ns}/ledger at spec hash ${hash("3")} as gina`);
    expect((await getServer("ledger")).spec).toMatchObject({ review: { genai: { decision: "Rejected", reviewer: "gina", specHash: hash("3") } } });

    const otherArea = await toolfleet("gina", ["review", "approve", `${ns}/ledger`, "--area", "security", "--kubeconfig", gina]);
    expect([otherArea.code, otherArea.stderr]).toEqual([EXIT.denied, expect.stringContaining("gina may not decide for security: not in toolfleet:security-reviewers")]);
    const outsider = kubeconfigOf("otto", ["marketing"]);
    const notReviewer = await toolfleet("otto", ["review", "queue", "--kubeconfig", outsider]);
    expect([notReviewer.code, notReviewer.stderr]).toEqual([EXIT.denied, expect.stringContaining("otto is not a reviewer")]);
    const unknownArea = await toolfleet("gina", ["review", "approve", `${ns}/ledger`, "--area", "style", "--kubeconfig", gina]);
    expect(unknownArea.code).toBe(EXIT.usage);
    const badRef = await toolfleet("gina", ["review", "diff", "ledger", "--kubeconfig", gina]);
    expect([badRef.code, badRef.stderr]).toEqual([EXIT.usage, expect.stringContaining('"ledger" is not namespace/name')]);
    const missing = await toolfleet("gina", ["review", "diff", `${ns}/nothing`, "--kubeconfig", gina]);
    expect(missing.code).toBe(EXIT.notFound);
  });
});

describe("signing out", () => {
  it("forgets the session, after which commands ask for login again", async () => {
    const out = await toolfleet("ana", ["logout"]);
    expect([out.code, out.stdout]).toEqual([EXIT.ok, expect.stringContaining("Signed out (ana)")]);
    expect((await toolfleet("ana", ["servers"])).code).toBe(EXIT.notSignedIn);
    expect((await toolfleet("ana", ["logout"])).stdout).toBe("Not signed in.");
  });
});
