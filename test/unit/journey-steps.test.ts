import { describe, expect, it } from "@jest/globals";
import { journey, runInOrder } from "../journey-steps.js";

const ran: string[] = [];
journey("a journey runs its steps in order, in one test", (step) => {
  step("first", () => void ran.push("first"));
  step("second, after an await", async () => {
    await Promise.resolve();
    ran.push("second");
  });
  step("third, seeing both before it", () => expect(ran).toEqual(["first", "second"]));
});

describe("runInOrder", () => {
  it("stops at the first failing step and names it", async () => {
    const seen: string[] = [];
    const steps = [
      { title: "approve", run: () => void seen.push("approve"), timeoutMs: 1 },
      {
        title: "publish",
        run: async () => {
          seen.push("publish");
          throw new Error("not published");
        },
        timeoutMs: 1,
      },
      { title: "delete", run: () => void seen.push("delete"), timeoutMs: 1 },
    ];
    await expect(runInOrder(steps)).rejects.toThrow('step 2 of 3, "publish": not published');
    expect(seen).toEqual(["approve", "publish"]);
  });
});
