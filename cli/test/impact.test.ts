/**
 * `toolfleet impact` and `toolfleet feedback` as people run them, against a real registry with
 * its usage store (its own process, SQLite, as registry-api/usage/test starts it): usage posted
 * by the servers' own service accounts, people's sessions holding tokens of a test issuer the
 * registry trusts (signing in itself is cli.test.ts's), and what each person sees: the tables,
 * JSON and YAML, and the errors (not signed in, unknown or invisible server, minutes out of
 * range refused before any request, the registry's 400 naming the field). No cluster: it is
 * in the unit project (`make build` first: the registry runs from dist/).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { UsageRecord } from "../../crds/usage.js";
import { GROUP_BY } from "../../registry-api/usage/store.js";
import { ADMINS, Identity, PRESTO, REGISTRY_AUDIENCE, SPARK, api, registryNameOf, startRegistryProcess, type FleetServer, type RegistryProcess } from "../../registry-api/usage/test/fleet.js";
import { EXIT } from "../errors.js";
import { writeSession } from "../settings.js";
import { people } from "./people.js";

const P = registryNameOf(PRESTO);
const S = registryNameOf(SPARK);
const work = mkdtempSync(join(tmpdir(), "toolfleet-cli-impact-"));
let identity: Identity;
let registry: RegistryProcess;
const { toolfleet } = people(work, () => registry.url);

/** Who signs in here: ana and cy see presto and spark, bob only presto; rita, an admin, the whole fleet. */
const GROUPS = { ana: ["ads-eng"], bob: ["finance"], cy: ["data-platform"], rita: [ADMINS] } as const;

async function signIn(person: keyof typeof GROUPS): Promise<void> {
  const token = await identity.person(person, [...GROUPS[person]], REGISTRY_AUDIENCE);
  writeSession(
    {
      registry: registry.url,
      issuer: identity.idp.issuer,
      clientId: "toolfleet-cli",
      tokenEndpoint: `${identity.idp.issuer}/token`,
      accessToken: token,
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
      user: person,
      groups: [...GROUPS[person]],
    },
    { TOOLFLEET_CONFIG_DIR: join(work, "config", person) },
  );
}

const caller = (who: string) => createHash("sha256").update(who).digest("hex");
function record(server: FleetServer, tool: string, who: string, outcome: UsageRecord["outcome"], minutesSaved: number, at: string): UsageRecord {
  return { id: randomUUID(), server: registryNameOf(server), tool, caller: caller(who), callerKind: "person", outcome, durationMs: 20, minutesSaved, at };
}

/** Posts records as the server's own service account, as its kit does. */
async function report(server: FleetServer, records: UsageRecord[]): Promise<void> {
  const token = await identity.serviceAccount(`${server.namespace}/${server.name}`, REGISTRY_AUDIENCE);
  const r = await api(registry.url, "/api/v1/usage", token, { method: "POST", body: JSON.stringify({ records }) });
  if (r.status !== 200) throw new Error(`usage answered ${r.status}: ${JSON.stringify(r.body)}`);
}

const RANGE = ["--from", "2026-03-01", "--to", "2026-04-30"];

beforeAll(async () => {
  identity = await Identity.start();
  registry = await startRegistryProcess(identity, { file: join(work, "usage.sqlite") });
  // presto: 3 run_query (5 min) by ana in March, revenue (2 min) by bob and a failed flaky in April.
  await report(PRESTO, [
    record(PRESTO, "run_query", "ana", "ok", 5, "2026-03-10T10:00:00Z"),
    record(PRESTO, "run_query", "ana", "ok", 5, "2026-03-10T11:00:00Z"),
    record(PRESTO, "run_query", "ana", "ok", 5, "2026-03-11T09:00:00Z"),
    record(PRESTO, "revenue", "bob", "ok", 2, "2026-04-02T09:00:00Z"),
    record(PRESTO, "flaky", "bob", "error", 0, "2026-04-02T09:30:00Z"),
  ]);
  // spark: 2 run_query by cy in March, and one outside the range.
  await report(SPARK, [
    record(SPARK, "run_query", "cy", "ok", 5, "2026-03-15T10:00:00Z"),
    record(SPARK, "run_query", "cy", "ok", 5, "2026-03-15T10:05:00Z"),
    record(SPARK, "run_query", "cy", "ok", 5, "2026-05-02T10:00:00Z"),
  ]);
  for (const p of Object.keys(GROUPS) as Array<keyof typeof GROUPS>) await signIn(p);
}, 180_000);

afterAll(async () => {
  await registry?.stop();
  await identity?.stop();
  rmSync(work, { recursive: true, force: true });
});

const rows = (stdout: string) => stdout.split("\n").slice(1).map((l) => l.trim().split(/\s{3,}/));

describe("the commands on the command line", () => {
  it("have --help, and complete their flags' values and server names", async () => {
    const impactHelp = await toolfleet("nobody", ["impact", "--help"]);
    expect(impactHelp.code).toBe(EXIT.ok);
    expect(impactHelp.stdout).toContain("Usage: toolfleet impact --from <YYYY-MM-DD> --to <YYYY-MM-DD> --by <group> --estimate <estimate> --server <name>");
    expect(impactHelp.stdout).toContain("one row per server, tool, team, month, week, day (default server)");
    const feedbackHelp = await toolfleet("nobody", ["feedback", "--help"]);
    expect(feedbackHelp.stdout).toContain("Usage: toolfleet feedback <server> <tool> --minutes <N> --helpful <yes|no> --comment <text>");
    expect((await toolfleet("nobody", ["--help"])).stdout).toMatch(/\n {2}impact\s+Calls, people and time saved[^\n]*\n {2}feedback\s+Say how many minutes/);
    expect((await toolfleet("nobody", ["__complete", "imp"])).stdout).toBe("impact");
    expect((await toolfleet("nobody", ["__complete", "impact", "--by", ""])).stdout.split("\n")).toEqual([...GROUP_BY]);
    expect((await toolfleet("nobody", ["__complete", "impact", "--estimate", ""])).stdout.split("\n")).toEqual(["declared", "feedback"]);
    expect((await toolfleet("nobody", ["__complete", "feedback", "presto", "run_query", "--helpful", ""])).stdout.split("\n")).toEqual(["yes", "no"]);
    expect((await toolfleet("nobody", ["__complete", "feedback", "presto", "run_query", "--m"])).stdout).toBe("--minutes");
    // Server names come from the registry, as the signed-in person sees them.
    expect((await toolfleet("bob", ["__complete", "feedback", ""])).stdout).toBe("presto");
    expect((await toolfleet("ana", ["__complete", "feedback", "s"])).stdout).toBe("spark");
    expect((await toolfleet("nobody", ["__complete", "feedback", ""])).stdout).toBe("");
  });

  it("refuse a person who is not signed in with exit code 3", async () => {
    for (const argv of [["impact"], ["feedback", "presto", "run_query", "--minutes", "5"]]) {
      const r = await toolfleet("nobody", argv);
      expect([argv[0], r.code, r.stderr]).toEqual([argv[0], EXIT.notSignedIn, "toolfleet: not signed in: run toolfleet login --registry <url>"]);
    }
  });
});

describe("toolfleet impact", () => {
  it("shows the servers the person may see, a row each and the total", async () => {
    const ana = await toolfleet("ana", ["impact", ...RANGE]);
    expect(ana.code).toBe(EXIT.ok);
    const lines = ana.stdout.split("\n");
    expect(lines[0]).toBe("Impact 2026-03-01 to 2026-04-30, minutes saved as the tools declare them:");
    expect(lines[1]).toMatch(/^SERVER\s+CALLS\s+OK\s+PEOPLE\s+MINUTES SAVED\s+HOURS SAVED$/);
    expect(rows(lines.slice(1).join("\n"))).toEqual([
      ["data-platform/presto", "5", "4", "2", "17", "0.28"],
      ["ml/spark", "2", "2", "1", "10", "0.17"],
      ["TOTAL", "7", "6", "3", "27", "0.45"],
    ]);
    // bob (finance) may see presto, not spark.
    const bob = await toolfleet("bob", ["impact", ...RANGE]);
    expect(rows(bob.stdout.split("\n").slice(1).join("\n"))).toEqual([
      ["data-platform/presto", "5", "4", "2", "17", "0.28"],
      ["TOTAL", "5", "4", "2", "17", "0.28"],
    ]);
  });

  it("groups by tool, team and month, and answers JSON and YAML for scripts", async () => {
    const byTool = await toolfleet("ana", ["impact", ...RANGE, "--by", "tool"]);
    expect(rows(byTool.stdout.split("\n").slice(1).join("\n"))).toEqual([
      ["data-platform/presto", "flaky", "1", "0", "1", "0", "0"],
      ["data-platform/presto", "revenue", "1", "1", "1", "2", "0.03"],
      ["data-platform/presto", "run_query", "3", "3", "1", "15", "0.25"],
      ["ml/spark", "run_query", "2", "2", "1", "10", "0.17"],
      ["TOTAL", "7", "6", "3", "27", "0.45"],
    ]);
    const byMonth = await toolfleet("ana", ["impact", "--from", "2026-03-01", "--to", "2026-05-31", "--by", "month"]);
    expect(rows(byMonth.stdout.split("\n").slice(1).join("\n"))).toEqual([
      ["2026-03", "5", "5", "2", "25", "0.42"],
      ["2026-04", "2", "1", "1", "2", "0.03"],
      ["2026-05", "1", "1", "1", "5", "0.08"],
      ["TOTAL", "8", "7", "3", "32", "0.53"],
    ]);
    const json = await toolfleet("ana", ["impact", ...RANGE, "--by", "team", "-o", "json"]);
    expect(json.code).toBe(EXIT.ok);
    expect(JSON.parse(json.stdout)).toEqual({
      from: "2026-03-01",
      to: "2026-04-30",
      groupBy: "team",
      estimate: "declared",
      total: { calls: 7, okCalls: 6, people: 3, minutesSaved: 27, hoursSaved: 0.45 },
      groups: [
        { key: "data-platform", team: "data-platform", calls: 5, okCalls: 4, people: 2, minutesSaved: 17, hoursSaved: 0.28 },
        { key: "ml", team: "ml", calls: 2, okCalls: 2, people: 1, minutesSaved: 10, hoursSaved: 0.17 },
      ],
    });
    const yaml = parseYaml((await toolfleet("ana", ["impact", ...RANGE, "--server", "spark", "-o", "yaml"])).stdout) as { total: { calls: number }; groups: Array<{ server: string }> };
    expect([yaml.total.calls, yaml.groups.map((g) => g.server)]).toEqual([2, [S]]);
  });

  it("shows admins the whole fleet, and says when there is nothing", async () => {
    const rita = await toolfleet("rita", ["impact", "--from", "2026-05-01", "--to", "2026-05-31", "--server", `${SPARK.namespace}/${SPARK.name}`]);
    expect(rows(rita.stdout.split("\n").slice(1).join("\n"))).toEqual([
      ["ml/spark", "1", "1", "1", "5", "0.08"],
      ["TOTAL", "1", "1", "1", "5", "0.08"],
    ]);
    const none = await toolfleet("ana", ["impact", "--from", "2025-01-01", "--to", "2025-01-31", "--server", "presto"]);
    expect([none.code, none.stdout]).toEqual([EXIT.ok, "Impact 2025-01-01 to 2025-01-31 of presto, minutes saved as the tools declare them:\nNo calls you may see to presto in these days."]);
  });

  it("refuses an unknown or invisible server with exit code 4, and a bad date with the registry's 400", async () => {
    const invisible = await toolfleet("bob", ["impact", "--server", "spark"]);
    expect([invisible.code, invisible.stderr]).toEqual([EXIT.notFound, "toolfleet: no server named spark that you (bob) may see: toolfleet servers lists them"]);
    const unknown = await toolfleet("ana", ["impact", "--server", "ledger"]);
    expect(unknown.code).toBe(EXIT.notFound);
    const date = await toolfleet("ana", ["impact", "--from", "2026-02-30"]);
    expect([date.code, date.stderr]).toEqual([EXIT.usage, "toolfleet: the registry refused the request: from: must be a date, YYYY-MM-DD"]);
    const order = await toolfleet("ana", ["impact", "--from", "2026-05-01", "--to", "2026-04-01"]);
    expect([order.code, order.stderr]).toEqual([EXIT.usage, "toolfleet: the registry refused the request: from: 2026-05-01 is after to (2026-04-01)"]);
    const by = await toolfleet("ana", ["impact", "--by", "year"]);
    expect([by.code, by.stderr]).toEqual([EXIT.usage, `toolfleet: --by: "year" is not one of ${GROUP_BY.join(", ")}`]);
  });
});

describe("toolfleet feedback", () => {
  const estimates = async (server: string) =>
    (await api<{ tools: Array<{ tool: string; feedbackCount: number }> }>(registry.url, `/api/v1/feedback?server=${encodeURIComponent(server)}`, await identity.person("rita", [ADMINS], REGISTRY_AUDIENCE))).body.tools;

  it("refuses minutes out of range before any request, signed in or not", async () => {
    for (const [minutes, message] of [
      ["1441", "--minutes: 1441 is more than 1440 (a whole day)"],
      ["ten", '--minutes: "ten" is not a number of minutes (0 to 1440)'],
      ["-5", "--minutes: -5 is less than 0"],
      ["1e3", '--minutes: "1e3" is not a number of minutes (0 to 1440)'],
      ["", '--minutes: "" is not a number of minutes (0 to 1440)'],
    ] as const) {
      // Not signed in: a request would have answered exit code 3.
      const r = await toolfleet("nobody", ["feedback", "presto", "run_query", `--minutes=${minutes}`]);
      expect([minutes, r.code, r.stderr]).toEqual([minutes, EXIT.usage, `toolfleet: ${message}`]);
    }
    const missing = await toolfleet("ana", ["feedback", "presto", "run_query"]);
    expect([missing.code, missing.stderr]).toEqual([EXIT.usage, "toolfleet: feedback: --minutes is required: how many minutes one call saved you (0 to 1440)"]);
    const helpful = await toolfleet("ana", ["feedback", "presto", "run_query", "--minutes", "5", "--helpful", "maybe"]);
    expect([helpful.code, helpful.stderr]).toEqual([EXIT.usage, 'toolfleet: --helpful: "maybe" is not one of yes, no']);
    const comment = await toolfleet("ana", ["feedback", "presto", "run_query", "--minutes", "5", "--comment", "x".repeat(1001)]);
    expect([comment.code, comment.stderr]).toEqual([EXIT.usage, "toolfleet: --comment: 1001 characters, at most 1000"]);
    const tool = await toolfleet("ana", ["feedback", "presto"]);
    expect([tool.code, tool.stderr]).toEqual([EXIT.usage, expect.stringContaining("feedback: missing <tool>")]);
    expect((await estimates(P)).every((t) => t.feedbackCount === 0)).toBe(true);
  });

  it("stores a person's minutes, replaces them the same day, and shows the tool's estimate beside", async () => {
    const first = await toolfleet("ana", ["feedback", "presto", "run_query", "--minutes", "12"]);
    expect([first.code, first.stdout]).toEqual([
      EXIT.ok,
      `Thank you: run_query of ${PRESTO.namespace}/presto saved you 12 minutes.\nrun_query: declared 5 minutes; people's median 12 minutes from 1 answer, 1 helpful.`,
    ]);
    const again = await toolfleet("ana", ["feedback", "presto", "run_query", "--minutes", "10", "--comment", "saved me a dashboard"]);
    expect(again.stdout.split("\n")[0]).toBe(`Replaced your feedback of today: run_query of ${PRESTO.namespace}/presto saved you 10 minutes.`);
    const cy = await toolfleet("cy", ["feedback", P, "run_query", "--minutes", "22", "--helpful", "no", "-o", "json"]);
    expect(cy.code).toBe(EXIT.ok);
    expect(JSON.parse(cy.stdout)).toEqual({
      server: P,
      tool: "run_query",
      minutesSaved: 22,
      helpful: false,
      replaced: false,
      estimate: { tool: "run_query", declaredMinutes: 5, feedbackCount: 2, feedbackMedianMinutes: 16, helpful: 1 },
    });
    // impact --estimate feedback counts presto's 3 run_query calls at the median, 16 minutes.
    const calibrated = await toolfleet("ana", ["impact", ...RANGE, "--by", "tool", "--server", "presto", "--estimate", "feedback"]);
    expect(calibrated.stdout.split("\n")[0]).toBe("Impact 2026-03-01 to 2026-04-30 of presto, minutes saved as people's feedback says (declared where there is none):");
    expect(rows(calibrated.stdout.split("\n").slice(1).join("\n"))).toContainEqual(["data-platform/presto", "run_query", "3", "3", "1", "48", "0.80"]);
  });

  it("refuses an unknown or invisible server with exit code 4, and an unknown tool with the registry's 400", async () => {
    const invisible = await toolfleet("bob", ["feedback", "spark", "run_query", "--minutes", "5"]);
    expect([invisible.code, invisible.stderr]).toEqual([EXIT.notFound, "toolfleet: no server named spark that you (bob) may see: toolfleet servers lists them"]);
    // By its registry name too: the registry does not list it to bob.
    const byRegistryName = await toolfleet("bob", ["feedback", S, "run_query", "--minutes", "5"]);
    expect(byRegistryName.code).toBe(EXIT.notFound);
    expect((await toolfleet("ana", ["feedback", "ledger", "run_query", "--minutes", "5"])).code).toBe(EXIT.notFound);
    const tool = await toolfleet("ana", ["feedback", "presto", "drop_tables", "--minutes", "5"]);
    expect([tool.code, tool.stderr]).toEqual([EXIT.usage, `toolfleet: the registry refused the request: tool: ${P} has no tool drop_tables`]);
    expect((await estimates(S)).every((t) => t.feedbackCount === 0)).toBe(true);
  });
});
