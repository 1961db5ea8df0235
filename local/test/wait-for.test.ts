import { describe, expect, it } from "@jest/globals";
import { waitFor } from "../wait-for.js";

describe("waitFor", () => {
  it("resolves with the first value that is neither undefined nor false, looking again until then", async () => {
    let looks = 0;
    const value = await waitFor("the third look", () => (++looks === 3 ? { ready: 3 } : looks === 1 ? undefined : false), 5_000, 1);
    expect(value).toEqual({ ready: 3 });
    expect(looks).toBe(3);
  });

  it("takes 0 and the empty string as values, and async checks", async () => {
    expect(await waitFor("zero", () => 0)).toBe(0);
    expect(await waitFor("empty", async () => "")).toBe("");
    expect(await waitFor("true", () => true)).toBe(true);
  });

  it("counts a check that throws as not yet", async () => {
    let looks = 0;
    const value = await waitFor(
      "a port that answers on the second look",
      async () => {
        if (++looks < 2) throw new Error("ECONNREFUSED");
        return "answered";
      },
      5_000,
      1,
    );
    expect(value).toBe("answered");
  });

  it("rejects after the timeout, naming what it waited for and the last error", async () => {
    await expect(waitFor("the McpServer to be published", () => false, 30, 5)).rejects.toThrow("timed out after 30 ms waiting for the McpServer to be published");
    await expect(
      waitFor(
        "the registry",
        () => {
          throw new Error("connect ECONNREFUSED 127.0.0.1:8080");
        },
        30,
        5,
      ),
    ).rejects.toThrow("timed out after 30 ms waiting for the registry (last error: connect ECONNREFUSED 127.0.0.1:8080)");
  });

  it("gives up at once, with the reason, when giveUpIf gives one, without waiting out the timeout", async () => {
    let looks = 0;
    let asked = 0;
    const outcome = waitFor(
      "etcd",
      () => {
        looks++;
        return false;
      },
      3_600_000,
      1,
      () => (++asked === 3 ? "etcd exited (1); see etcd.log" : undefined),
    );
    await expect(outcome).rejects.toThrow("etcd: etcd exited (1); see etcd.log");
    expect(looks).toBe(2);
  });
});
