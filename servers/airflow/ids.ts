// Which DAG, run and task ids may go into an Airflow API path. `.` and `..` survive
// encodeURIComponent and are resolved as path steps (`/dags/./dagRuns` asks for a DAG called
// dagRuns), so an id is checked against what Airflow itself accepts before any request: its
// key rule for DAG and task ids, its default allowed_run_id_pattern for run ids.
import { z } from "zod";

const notDotStep = "(?!\\.{1,2}$)";
/** Airflow's KEY_REGEX for DAG and task ids: ASCII letters, digits, `_`, `.` and `-`. */
export const KEY_PATTERN = new RegExp(`^${notDotStep}[A-Za-z0-9_.-]{1,250}$`);
/** Airflow's default `[scheduler] allowed_run_id_pattern`, which also covers manual__<timestamp>. */
export const RUN_ID_PATTERN = new RegExp(`^${notDotStep}[A-Za-z0-9_.~:+-]{1,250}$`);

export type IdKind = "DAG id" | "run id" | "task id";

const rules: Record<IdKind, { pattern: RegExp; allowed: string }> = {
  "DAG id": { pattern: KEY_PATTERN, allowed: "letters, digits, _, . and - (at most 250), and not . or .. alone" },
  "task id": { pattern: KEY_PATTERN, allowed: "letters, digits, _, . and - (at most 250), and not . or .. alone" },
  "run id": { pattern: RUN_ID_PATTERN, allowed: "letters, digits, _, ., ~, :, + and - (at most 250), and not . or .. alone" },
};

/** Why Airflow would not accept this id, or undefined when it would. */
export function idProblem(kind: IdKind, value: string): string | undefined {
  const rule = rules[kind];
  return rule.pattern.test(value) ? undefined : `${JSON.stringify(value)} is not an Airflow ${kind}: use ${rule.allowed}`;
}

/** The tool argument's schema: the same rule, so a bad id is refused naming the argument. */
export function idSchema(kind: IdKind) {
  const rule = rules[kind];
  return z.string().min(1).max(250).regex(rule.pattern, { message: `not an Airflow ${kind}: use ${rule.allowed}` });
}
