import type { z } from "zod";

/**
 * A cross-field rule stated once and enforced twice: as a CEL `x-kubernetes-validations`
 * entry that the API server runs at admission, and as a zod check that the operator, the
 * registry and the server kit run on what they read. A test feeds the same bad manifests to
 * both, so the two cannot drift apart unnoticed.
 */
export interface CrossFieldRule<T> {
  /**
   * The CEL expression, evaluated with `self` bound to the object the rule sits on. Absent when
   * the schema itself already makes the API server enforce the rule (e.g. list-map keys).
   */
  cel?: string;
  /** The message users see; it names the field. */
  message: string;
  /** Where the API server reports the problem, relative to the object (e.g. `.workload`). */
  fieldPath?: string;
  /** The same rule in TypeScript: returns true when the value is valid. */
  holds: (value: T) => boolean;
}

export interface CelValidation {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

/** Attaches rules to an object schema: CEL for the CRD, a zod check for everything else. */
export function withRules<S extends z.ZodType>(schema: S, rules: CrossFieldRule<z.output<S>>[]): S {
  const checked = schema.superRefine((value, ctx) => {
    for (const rule of rules) {
      if (!rule.holds(value as z.output<S>)) {
        ctx.addIssue({ code: "custom", message: rule.message, path: fieldPathToZod(rule.fieldPath) });
      }
    }
  }) as S;
  const validations: CelValidation[] = rules.flatMap((r) =>
    r.cel === undefined ? [] : [{ rule: r.cel, message: r.message, ...(r.fieldPath ? { fieldPath: r.fieldPath } : {}) }],
  );
  return (validations.length > 0 ? checked.meta({ "x-kubernetes-validations": validations }) : checked) as S;
}

function fieldPathToZod(fieldPath: string | undefined): (string | number)[] {
  if (!fieldPath) return [];
  return fieldPath.split(".").filter((p) => p.length > 0);
}
