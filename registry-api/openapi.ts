/**
 * `/openapi.json`: every endpoint of the registry. The registry paths and schemas follow the
 * official MCP registry document (modelcontextprotocol/registry, docs/reference/api/openapi.yaml)
 * field for field; Toolfleet's additions are the access check and `_meta["dev.toolfleet/server"]`.
 */
import { DEFAULT_LIMIT, MAX_LIMIT } from "./list-query.js";
import { OFFICIAL_META, TOOLFLEET_META } from "./server-response.js";
import { usageOpenApiPaths } from "./usage/openapi.js";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ "application/json": { schema } });
const error = (description: string) => ({ description, content: json(ref("Error")) });
const auth = { "401": error("Missing or invalid token (with WWW-Authenticate)"), "503": error("The issuer's keys cannot be fetched") };

const serverNameParam = {
  name: "serverName",
  in: "path",
  required: true,
  description: 'URL-encoded server name (e.g., "dev.toolfleet.local.data-platform%2Fpresto")',
  schema: { type: "string" },
};
const includeDeleted = {
  name: "include_deleted",
  in: "query",
  required: false,
  description: "Accepted for compatibility; this registry serves no deleted servers",
  schema: { type: "boolean", default: false },
};

function registryPaths(prefix: string) {
  return {
    [`${prefix}/servers`]: {
      get: {
        tags: ["servers"],
        summary: "List MCP servers the caller may see",
        parameters: [
          { name: "cursor", in: "query", required: false, description: "Opaque cursor from metadata.nextCursor", schema: { type: "string" } },
          { name: "limit", in: "query", required: false, description: `Maximum number of items to return (1-${MAX_LIMIT}, default ${DEFAULT_LIMIT})`, schema: { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT } },
          { name: "search", in: "query", required: false, description: "Case-insensitive substring of the name, title or description", schema: { type: "string" } },
          { name: "updated_since", in: "query", required: false, description: "Servers written at or after this RFC 3339 time", schema: { type: "string", format: "date-time" } },
          { name: "version", in: "query", required: false, description: "'latest' or an exact version", schema: { type: "string" } },
          includeDeleted,
        ],
        responses: { "200": { description: "A list of MCP servers", content: json(ref("ServerList")) }, "400": error("A bad parameter, named in the error"), ...auth },
      },
    },
    [`${prefix}/servers/{serverName}/versions`]: {
      get: {
        tags: ["servers"],
        summary: "List all versions of an MCP server (one: the reviewed spec)",
        parameters: [serverNameParam, includeDeleted],
        responses: { "200": { description: "A list of all versions for the server", content: json(ref("ServerList")) }, "404": error("Server not found"), ...auth },
      },
    },
    [`${prefix}/servers/{serverName}/versions/{version}`]: {
      get: {
        tags: ["servers"],
        summary: "Get specific MCP server version ('latest' for the latest)",
        parameters: [serverNameParam, { name: "version", in: "path", required: true, description: "URL-encoded version or 'latest'", schema: { type: "string" } }, includeDeleted],
        responses: { "200": { description: "Detailed server information", content: json(ref("ServerResponse")) }, "404": error("Server or version not found"), ...auth },
      },
      put: notImplemented("Update specific MCP server version (optional; not supported)", [serverNameParam, versionParam]),
      delete: notImplemented("Delete specific MCP server version (optional; not supported)", [serverNameParam, versionParam]),
    },
    [`${prefix}/publish`]: { post: notImplemented("Publish MCP server (optional; not supported: apply an McpServer)", []) },
  };
}

const versionParam = { name: "version", in: "path", required: true, description: "URL-encoded version", schema: { type: "string" } };

/** The official API's optional write endpoints: this registry is read-only and says so with 501. */
function notImplemented(summary: string, parameters: object[]) {
  return { tags: ["publish"], summary, parameters, responses: { "501": error("Not Implemented: this registry is read-only"), ...auth } };
}

const health = (summary: string) => ({ get: { tags: ["operations"], summary, security: [], responses: { "200": { description: "OK" }, "503": { description: "Not OK" } } } });

export function openApiDocument(serverUrl: string) {
  return {
    openapi: "3.1.0",
    info: { title: "Toolfleet registry API", version: "0.1.0", summary: "The MCP servers of the fleet that the caller may use, in the official MCP registry API shape" },
    servers: [{ url: serverUrl }],
    security: [{ bearerAuth: [] }],
    tags: [{ name: "servers" }, { name: "publish" }, { name: "access" }, { name: "operations" }],
    paths: {
      ...registryPaths("/v0.1"),
      ...registryPaths("/v0"),
      "/api/v1/access": {
        post: {
          tags: ["access"],
          summary: "May the caller use server S, or call its tool T? The decision the server makes at call time",
          requestBody: { required: true, content: json(ref("AccessRequest")) },
          responses: { "200": { description: "The decision", content: json(ref("AccessDecision")) }, "400": error("Bad JSON or a bad field, named"), "404": error("Server not found"), ...auth },
        },
      },
      ...usageOpenApiPaths(),
      "/openapi.json": { get: { tags: ["operations"], summary: "This document", security: [], responses: { "200": { description: "OpenAPI 3.1" } } } },
      "/metrics": { get: { tags: ["operations"], summary: "Prometheus metrics", security: [], responses: { "200": { description: "text exposition format" } } } },
      "/healthz": health("Liveness: the process serves and its watch is not failing"),
      "/readyz": health("Readiness: the McpServer cache has synced"),
      "/.well-known/oauth-protected-resource": { get: { tags: ["operations"], summary: "RFC 9728 protected-resource metadata", security: [], responses: { "200": { description: "metadata" } } } },
    },
    components: {
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A person's token from the configured issuer, or a Kubernetes service-account token" },
      },
      schemas: {
        Error: { type: "object", required: ["error"], properties: { error: { type: "string" }, parameter: { type: "string", description: "The parameter at fault" } } },
        ServerList: {
          type: "object",
          required: ["servers"],
          properties: {
            servers: { type: "array", items: ref("ServerResponse") },
            metadata: { type: "object", properties: { nextCursor: { type: "string" }, count: { type: "integer" } } },
          },
        },
        StreamableHttpTransport: { type: "object", required: ["type", "url"], properties: { type: { type: "string", enum: ["streamable-http"] }, url: { type: "string" } } },
        ServerDetail: {
          type: "object",
          required: ["name", "description", "version"],
          properties: {
            $schema: { type: "string", format: "uri" },
            name: { type: "string", minLength: 3, maxLength: 200, pattern: "^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$", description: "<prefix>.<namespace>/<name>" },
            description: { type: "string", minLength: 1, maxLength: 100 },
            title: { type: "string", minLength: 1, maxLength: 100 },
            version: { type: "string", maxLength: 255 },
            remotes: { type: "array", items: ref("StreamableHttpTransport") },
          },
        },
        ServerResponse: {
          type: "object",
          required: ["server"],
          properties: {
            server: ref("ServerDetail"),
            _meta: {
              type: "object",
              properties: {
                [OFFICIAL_META]: {
                  type: "object",
                  additionalProperties: false,
                  properties: {
                    status: { type: "string", enum: ["active", "deprecated", "deleted"] },
                    publishedAt: { type: "string", format: "date-time" },
                    updatedAt: { type: "string", format: "date-time" },
                    isLatest: { type: "boolean" },
                  },
                },
                [TOOLFLEET_META]: ref("ToolfleetServer"),
              },
            },
          },
        },
        ToolfleetServer: {
          type: "object",
          description: "Toolfleet's own fields: owner, access, tools, review posture and live status",
          properties: {
            namespace: { type: "string" },
            name: { type: "string" },
            owner: { type: "object", properties: { team: { type: "string" }, contact: { type: "string" } } },
            access: { type: "object", properties: { allowedGroups: { type: "array", items: { type: "string" } }, allowedServiceAccounts: { type: "array", items: { type: "string" } } } },
            tools: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  name: { type: "string" },
                  description: { type: "string" },
                  readOnly: { type: "boolean" },
                  sensitive: { type: "boolean" },
                  minutesSaved: { type: "number" },
                  allowedGroups: { type: "array", items: { type: "string" } },
                },
              },
            },
            review: {
              type: "object",
              properties: {
                approved: { type: "boolean" },
                areas: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: { area: { type: "string" }, state: { type: "string", enum: ["Approved", "Rejected", "Pending", "Stale"] }, reviewer: { type: "string" }, at: { type: "string" }, comment: { type: "string" } },
                  },
                },
              },
            },
            published: { type: "boolean" },
            statusMessage: { type: "string", description: "Why an unpublished server is not live yet" },
            phase: { type: "string" },
            readyReplicas: { type: "integer" },
            serverInfo: { type: "object" },
            conditions: { type: "array", items: { type: "object" } },
          },
        },
        AccessRequest: {
          type: "object",
          required: ["server"],
          additionalProperties: false,
          properties: { server: { type: "string", description: "Registry name" }, tool: { type: "string" } },
        },
        AccessDecision: {
          type: "object",
          required: ["allowed", "code", "reason", "server"],
          properties: { allowed: { type: "boolean" }, code: { type: "string" }, reason: { type: "string" }, server: { type: "string" }, tool: { type: "string" } },
        },
      },
    },
  };
}
