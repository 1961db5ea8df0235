/**
 * Steps whose order is the point (a server approved, then changed, then deleted): one jest test
 * that runs them one after another, so that no test depends on another having run before it,
 * `-t` selects the whole journey or nothing, and a failure names the step it happened in.
 * Declared like a describe block: `journey("a server's life", (step) => { step("…", fn); … })`.
 */
import { it } from "@jest/globals";

export type Step = (title: string, run: () => Promise<void> | void, timeoutMs?: number) => void;
export interface JourneyStep {
  title: string;
  run: () => Promise<void> | void;
  timeoutMs: number;
}

/** The test's timeout is the sum of its steps' (60 s each unless given). */
export function journey(title: string, define: (step: Step) => void): void {
  const steps: JourneyStep[] = [];
  define((stepTitle, run, timeoutMs = 60_000) => void steps.push({ title: stepTitle, run, timeoutMs }));
  if (steps.length === 0) throw new Error(`journey "${title}" has no steps`);
  it(title, () => runInOrder(steps), steps.reduce((total, step) => total + step.timeoutMs, 0));
}

/** Runs each step after the one before; the first failure stops the rest and names its step. */
export async function runInOrder(steps: readonly JourneyStep[]): Promise<void> {
  for (const [i, step] of steps.entries()) {
    try {
      await step.run();
    } catch (err) {
      if (err instanceof Error) err.message = `step ${i + 1} of ${steps.length}, "${step.title}": ${err.message}`;
      throw err;
    }
  }
}
