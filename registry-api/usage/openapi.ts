/** The usage API's paths for `/openapi.json`, with request schemas from the same zod schemas the routes check. */
import { z } from "zod";
import { UsageBatch } from "../../crds/usage.js";
import { FeedbackRequest } from "./feedback-route.js";
import { ESTIMATES, GROUP_BY } from "./store.js";

const json = (schema: unknown) => ({ "application/json": { schema } });
const error = (description: string) => ({ description, content: json({ $ref: "#/components/schemas/Error" }) });
const figures = { type: "object", properties: Object.fromEntries(["calls", "okCalls", "people", "minutesSaved", "hoursSaved"].map((k) => [k, { type: "number" }])) };

export function usageOpenApiPaths() {
  const auth = { "401": error("No valid token"), "403": error("Not allowed: the reason is named") };
  return {
    "/api/v1/usage": {
      post: {
        tags: ["usage"],
        summary: "A server's own usage records, with its own service-account token; stored once by id",
        requestBody: { required: true, content: json(z.toJSONSchema(UsageBatch)) },
        responses: { "200": { description: "Stored", content: json({ type: "object", properties: { accepted: { type: "integer" }, duplicates: { type: "integer" } } }) }, "400": error("A bad field, named (e.g. records[3].outcome)"), ...auth },
      },
    },
    "/api/v1/usage/callers/{hash}": {
      get: {
        tags: ["usage"],
        summary: "Who a caller hash in the usage records stands for; admins only",
        parameters: [{ name: "hash", in: "path", required: true, schema: { type: "string", pattern: "^[0-9a-f]{64}$" } }],
        responses: {
          "200": { description: "The caller", content: json({ type: "object", properties: { caller: { type: "string" }, callerKind: { type: "string", enum: ["person", "service"] }, name: { type: "string" } } }) },
          "400": error("Not a caller hash"),
          "404": error("No record has this caller"),
          ...auth,
        },
      },
    },
    "/api/v1/impact": {
      get: {
        tags: ["usage"],
        summary: "Calls, successful calls, distinct people, minutes and hours saved, of the servers the caller may see",
        parameters: [
          { name: "from", in: "query", schema: { type: "string", format: "date" }, description: "First day (UTC), default 29 days before `to`" },
          { name: "to", in: "query", schema: { type: "string", format: "date" }, description: "Last day (UTC), default today" },
          { name: "groupBy", in: "query", schema: { type: "string", enum: [...GROUP_BY], default: "server" } },
          { name: "estimate", in: "query", schema: { type: "string", enum: [...ESTIMATES], default: "declared" }, description: "Minutes per call as declared, or the median of people's feedback" },
          { name: "server", in: "query", schema: { type: "string" }, description: "One server's registry name" },
        ],
        responses: { "200": { description: "The figures", content: json({ type: "object", properties: { total: figures, groups: { type: "array", items: figures } } }) }, "400": error("A bad parameter, named"), ...auth },
      },
    },
    "/api/v1/feedback": {
      post: {
        tags: ["usage"],
        summary: "A person's minutes saved by a tool; one per person, tool and day (a second replaces the first)",
        requestBody: { required: true, content: json(z.toJSONSchema(FeedbackRequest)) },
        responses: { "201": { description: "Stored" }, "200": { description: "Replaced today's" }, "400": error("A bad field, named"), "404": error("No such server the person may see"), ...auth },
      },
      get: {
        tags: ["usage"],
        summary: "Each tool's declared estimate beside the median and count of feedback",
        parameters: [{ name: "server", in: "query", required: true, schema: { type: "string" } }],
        responses: { "200": { description: "Estimates" }, "400": error("server missing"), "404": error("No such server the caller may see"), ...auth },
      },
    },
  };
}
