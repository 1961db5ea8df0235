// Which application and attempt ids may go into a Spark REST path. `.` and `..` survive
// encodeURIComponent and are resolved as path steps (`/applications/..` is the API's root), so
// an id is checked against the shapes Spark gives them (local-…, app-…, application_…_…,
// spark-…; attempts are short names such as 1) before any request.
import { z } from "zod";

const notDotStep = "(?!\\.{1,2}$)";
export const APP_ID_PATTERN = new RegExp(`^${notDotStep}[A-Za-z0-9_.-]{1,256}$`);
export const ATTEMPT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export type SparkIdKind = "application id" | "attempt id";

const rules: Record<SparkIdKind, { pattern: RegExp; allowed: string }> = {
  "application id": { pattern: APP_ID_PATTERN, allowed: "letters, digits, _, . and - (at most 256), and not . or .. alone" },
  "attempt id": { pattern: ATTEMPT_ID_PATTERN, allowed: "letters, digits, _ and - (at most 64)" },
};

/** Why Spark could not have issued this id, or undefined when it could. */
export function idProblem(kind: SparkIdKind, value: string): string | undefined {
  const rule = rules[kind];
  return rule.pattern.test(value) ? undefined : `${JSON.stringify(value)} is not a Spark ${kind}: use ${rule.allowed}`;
}

/** The tool argument's schema: the same rule, so a bad id is refused naming the argument. */
export function idSchema(kind: SparkIdKind, max: number) {
  const rule = rules[kind];
  return z.string().min(1).max(max).regex(rule.pattern, { message: `not a Spark ${kind}: use ${rule.allowed}` });
}
