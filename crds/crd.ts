/** Builds the CustomResourceDefinition for McpServer from the zod schema. */
import { z } from "zod";
import {
  API_VERSION, CATEGORIES, GROUP, KIND, McpServerSpec, McpServerStatus, PLURAL, SHORT_NAMES, SINGULAR, VERSION,
  rootValidations,
} from "./mcpserver.js";

type JsonSchema = { [key: string]: unknown };

/**
 * zod emits JSON Schema; a CRD needs a structural OpenAPI v3 schema. The differences: no
 * `$schema`, no `additionalProperties: false` (strict objects are enforced by the API server's
 * field validation instead), no `propertyNames`, and `format` instead of a pattern for dates.
 */
export function toStructural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toStructural);
  if (node === null || typeof node !== "object") return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node as JsonSchema)) {
    if (key === "$schema" || key === "propertyNames") continue;
    if (key === "additionalProperties" && value === false) continue;
    if (key === "pattern" && (node as JsonSchema).format === "date-time") continue;
    if ((key === "maximum" && value === Number.MAX_SAFE_INTEGER) || (key === "minimum" && value === Number.MIN_SAFE_INTEGER)) continue;
    // CEL rules and list-map keys are data, not schemas: copy them as they are.
    out[key] = key.startsWith("x-kubernetes-") || key === "enum" || key === "required" || key === "default" ? value : toStructural(value);
  }
  return out;
}

export function openApiSchema(schema: z.ZodType): JsonSchema {
  return toStructural(z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", unrepresentable: "throw" })) as JsonSchema;
}

const condition = (type: string) => `.status.conditions[?(@.type=="${type}")].status`;

export function mcpServerCrd(): JsonSchema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: SHORT_NAMES, categories: CATEGORIES },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Phase", type: "string", jsonPath: ".status.phase", description: "A one-word summary." },
            { name: "URL", type: "string", jsonPath: ".status.url", description: "Where clients reach the server." },
            { name: "Reviewed", type: "string", jsonPath: condition("Reviewed"), description: "Every required review approved this spec." },
            { name: "Ready", type: "string", jsonPath: condition("Ready"), description: "Reviewed, available, verified and published." },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: `An MCP server run and published by Toolfleet (${API_VERSION}). Teams write spec (but spec.review); reviewers write spec.review; the operator writes status.`,
              required: ["spec"],
              properties: {
                apiVersion: { type: "string", description: "APIVersion defines the versioned schema of this representation of an object." },
                kind: { type: "string", description: "Kind is a string value representing the REST resource this object represents." },
                metadata: { type: "object" },
                spec: openApiSchema(McpServerSpec),
                status: openApiSchema(McpServerStatus),
              },
              "x-kubernetes-validations": rootValidations,
            },
          },
        },
      ],
    },
  };
}
