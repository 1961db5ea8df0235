import { afterEach, describe, expect, it, jest } from "@jest/globals";
import { createLogger, silentLogger } from "../log.js";

const collect = () => {
  const lines: string[] = [];
  return { lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>), sink: (l: string) => void lines.push(l) };
};

describe("createLogger", () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it("writes one JSON object a line with time, level and msg, then the fields", () => {
    const out = collect();
    createLogger({ component: "toolfleet-operator" }, { sink: out.sink }).info("reconciled", { namespace: "data-platform", name: "presto" });
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).not.toContain("\n");
    const [line] = out.parsed();
    expect(Object.keys(line!)).toEqual(["time", "level", "msg", "component", "namespace", "name"]);
    expect(line).toMatchObject({ level: "info", msg: "reconciled", component: "toolfleet-operator", namespace: "data-platform", name: "presto" });
    expect(new Date(line!.time as string).toISOString()).toBe(line!.time);
  });

  it("drops lines below its level (info by default)", () => {
    const out = collect();
    const log = createLogger({}, { sink: out.sink });
    log.debug("hidden");
    log.info("i");
    log.warn("w");
    log.error("e");
    const quiet = createLogger({}, { sink: out.sink, level: "warn" });
    quiet.info("hidden");
    quiet.warn("w2");
    expect(out.parsed().map((l) => `${l.level}:${l.msg}`)).toEqual(["info:i", "warn:w", "error:e", "warn:w2"]);
  });

  it("gives children their parent's fields, their own, and the parent's level and sink", () => {
    const out = collect();
    const parent = createLogger({ component: "registry" }, { sink: out.sink, level: "warn" });
    const child = parent.child({ controller: "mcpservers" }).child({ namespace: "a" });
    child.info("hidden");
    child.warn("slow", { namespace: "b" });
    parent.warn("plain");
    expect(out.parsed().map(({ time: _t, ...rest }) => rest)).toEqual([
      { level: "warn", msg: "slow", component: "registry", controller: "mcpservers", namespace: "b" },
      { level: "warn", msg: "plain", component: "registry" },
    ]);
  });

  it("writes an Error as its message, at any depth", () => {
    const out = collect();
    createLogger({}, { sink: out.sink }).error("failed", { error: new TypeError("no such key"), detail: { cause: new Error("inner") } });
    expect(out.parsed()[0]).toMatchObject({ error: "no such key", detail: { cause: "inner" } });
  });

  it("writes to stderr, never stdout, unless given a sink", () => {
    const stderr = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    const stdout = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    createLogger({ server: "presto" }).warn("policy file rejected");
    silentLogger.error("never shown");
    expect(stdout).not.toHaveBeenCalled();
    expect(stderr).toHaveBeenCalledTimes(1);
    const written = String(stderr.mock.calls[0]![0]);
    expect(written.endsWith("\n")).toBe(true);
    expect(JSON.parse(written)).toMatchObject({ level: "warn", msg: "policy file rejected", server: "presto" });
  });
});
