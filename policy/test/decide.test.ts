import { describe, expect, it } from "@jest/globals";
import { decideServerAccess, decideToolAccess, visibleTools, type Caller } from "../decide.js";
import { ServerPolicy, ServerPolicyError, parseServerPolicy, type ServerPolicyInput } from "../server-policy.js";

const input: ServerPolicyInput = {
  server: { namespace: "data-platform", name: "presto", registryName: "dev.toolfleet.data-platform/presto" },
  access: { allowedGroups: ["ads-eng", "finance", "data-platform"], allowedServiceAccounts: ["agents/incident-bot"] },
  tools: [
    { name: "run_query", readOnly: true, minutesSaved: 5 },
    { name: "kill_query", sensitive: true, allowedGroups: ["data-platform"] },
    { name: "refresh_cache", allowServiceAccounts: true },
    { name: "drop_table" },
  ],
  verifier: "toolfleet-system/toolfleet-operator",
};
const policy = ServerPolicy.parse(input);

const ana: Caller = { kind: "user", subject: "ana", groups: ["ads-eng"] };
const dev: Caller = { kind: "user", subject: "dev", groups: ["other", "data-platform"] };
const outsider: Caller = { kind: "user", subject: "eve", groups: ["marketing"] };
const bot: Caller = { kind: "serviceAccount", namespace: "agents", name: "incident-bot" };
const strangerBot: Caller = { kind: "serviceAccount", namespace: "agents", name: "other-bot" };
const verifier: Caller = { kind: "serviceAccount", namespace: "toolfleet-system", name: "toolfleet-operator" };

describe("decideServerAccess", () => {
  it("admits a person in one of the server's groups and names the group", () => {
    expect(decideServerAccess(policy, ana)).toEqual({ allowed: true, code: "group-allowed", reason: "member of group ads-eng, which may use this server" });
  });
  it("refuses a person in none of them and lists the groups that would do", () => {
    const d = decideServerAccess(policy, outsider);
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe("not a member of any group allowed on this server (allowed: ads-eng, finance, data-platform)");
  });
  it("refuses a person with no groups at all", () => {
    expect(decideServerAccess(policy, { kind: "user", subject: "x", groups: [] }).allowed).toBe(false);
  });
  it("admits listed service accounts and the verifier, refuses others", () => {
    expect(decideServerAccess(policy, bot).allowed).toBe(true);
    expect(decideServerAccess(policy, verifier).code).toBe("verifier-lists-only");
    expect(decideServerAccess(policy, strangerBot)).toMatchObject({ allowed: false, code: "service-account-not-allowed" });
  });
  it("does not mistake a person named like a service account for one", () => {
    const d = decideServerAccess(policy, { kind: "user", subject: "agents/incident-bot", groups: [] });
    expect(d.allowed).toBe(false);
  });
});

describe("decideToolAccess", () => {
  it("lets server members call tools without their own groups", () => {
    expect(decideToolAccess(policy, ana, "run_query").allowed).toBe(true);
    expect(decideToolAccess(policy, ana, "drop_table").allowed).toBe(true);
  });
  it("narrows a tool to its own groups", () => {
    expect(decideToolAccess(policy, ana, "kill_query")).toEqual({
      allowed: false,
      code: "not-in-tool-groups",
      reason: "tool kill_query is limited to groups data-platform, and the caller is in none of them",
    });
    expect(decideToolAccess(policy, dev, "kill_query")).toMatchObject({ allowed: true, code: "tool-group-allowed" });
  });
  it("refuses outsiders with the server-level reason", () => {
    expect(decideToolAccess(policy, outsider, "run_query").code).toBe("no-allowed-group");
  });
  it("denies an unknown tool to everyone", () => {
    for (const c of [ana, dev, bot, verifier]) expect(decideToolAccess(policy, c, "rm_rf").code).toBe("unknown-tool");
  });
  it("lets a service account call read-only tools and tools that admit services only", () => {
    expect(decideToolAccess(policy, bot, "run_query").allowed).toBe(true);
    expect(decideToolAccess(policy, bot, "refresh_cache").allowed).toBe(true);
    expect(decideToolAccess(policy, bot, "drop_table").code).toBe("not-read-only");
    expect(decideToolAccess(policy, bot, "kill_query").code).toBe("sensitive-needs-person");
  });
  it("never lets a service account call a sensitive tool, even a read-only one", () => {
    const p = ServerPolicy.parse({ ...input, tools: [{ name: "peek", readOnly: true, sensitive: true }] });
    expect(decideToolAccess(p, bot, "peek").code).toBe("sensitive-needs-person");
  });
  it("refuses an unlisted service account before looking at the tool", () => {
    expect(decideToolAccess(policy, strangerBot, "run_query").code).toBe("service-account-not-allowed");
  });
  it("lets the verifier call nothing, even when it is also an allowed service account", () => {
    const p = ServerPolicy.parse({ ...input, access: { ...input.access, allowedServiceAccounts: ["toolfleet-system/toolfleet-operator"] } });
    expect(decideToolAccess(p, verifier, "run_query").code).toBe("verifier-lists-only");
  });
});

describe("visibleTools", () => {
  const names = (c: Caller) => visibleTools(policy, c).map((t) => t.name);
  it("shows each caller exactly what it may call", () => {
    expect(names(ana)).toEqual(["run_query", "refresh_cache", "drop_table"]);
    expect(names(dev)).toEqual(["run_query", "kill_query", "refresh_cache", "drop_table"]);
    expect(names(bot)).toEqual(["run_query", "refresh_cache"]);
    expect(names(outsider)).toEqual([]);
    expect(names(strangerBot)).toEqual([]);
  });
  it("shows the verifier every declared tool so it can compare them with the spec", () => {
    expect(names(verifier)).toEqual(["run_query", "kill_query", "refresh_cache", "drop_table"]);
  });
});

describe("parseServerPolicy", () => {
  it("parses the operator's file and fills defaults", () => {
    const p = parseServerPolicy(JSON.stringify(input));
    expect(p.server.path).toBe("/mcp");
    expect(p.tools[3]).toMatchObject({ readOnly: false, sensitive: false, minutesSaved: 0, allowServiceAccounts: false });
  });
  const bad = (mutate: (x: Record<string, unknown>) => void): ServerPolicyError => {
    const copy = structuredClone(input) as unknown as Record<string, unknown>;
    mutate(copy);
    try {
      parseServerPolicy(JSON.stringify(copy));
    } catch (err) {
      if (err instanceof ServerPolicyError) return err;
      throw err;
    }
    throw new Error("expected the policy to be refused");
  };
  it("names the field that is wrong", () => {
    const err = bad((x) => ((x.tools as Record<string, unknown>[])[1]!.minutesSaved = -3));
    expect(err.issues[0]?.field).toBe("tools[1].minutesSaved");
    expect(err.message).toMatch(/^invalid server policy: tools\[1\]\.minutesSaved: /);
  });
  it("refuses a tool group outside the server's groups", () => {
    const err = bad((x) => ((x.tools as Record<string, unknown>[])[0]!.allowedGroups = ["hr"]));
    expect(err.issues).toEqual([
      { field: "tools[0].allowedGroups[0]", message: 'group "hr" is not among access.allowedGroups; a tool can only narrow the server\'s groups' },
    ]);
  });
  it("refuses duplicate tools, unknown fields, a bad verifier and a sensitive tool that admits services", () => {
    expect(bad((x) => (x.tools as unknown[]).push({ name: "run_query" })).issues[0]?.field).toBe("tools[4].name");
    expect(bad((x) => (x.acess = {})).message).toMatch(/acess/);
    expect(bad((x) => (x.verifier = "operator")).issues[0]?.field).toBe("verifier");
    expect(bad((x) => (x.tools as unknown[]).push({ name: "x", sensitive: true, allowServiceAccounts: true })).issues[0]?.field).toBe(
      "tools[4].allowServiceAccounts",
    );
  });
  it("says when the file is not JSON", () => {
    expect(() => parseServerPolicy("{ nope")).toThrow(/^invalid server policy: not valid JSON/);
  });
});
