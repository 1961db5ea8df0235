// The Presto/Trino domain server: catalogs, schemas and tables, read-only queries and plans,
// and a query's status, all as the calling person; cancelling a query needs their confirmation.
import { z } from "zod";
import { callerName, type Caller } from "../../policy/index.js";
import type { CallToolResult } from "@modelcontextprotocol/server";
import { createDomainServer, explainingFailures, textResult, textTable, type DomainServer } from "../kit/index.js";
import { PrestoClient, type QueryOptions } from "./client.js";
import { prestoConfigFromEnv, type PrestoServerConfig } from "./config.js";
import { prestoFailure, queryResult, statusResult } from "./results.js";

const identifier = (what: string) => z.string().min(1).max(256).describe(what);
const catalog = identifier("A catalog, as list_catalogs names it, e.g. hive or tpch");
const schema = identifier("A schema within the catalog, as list_schemas names it");
const queryId = z
  .string()
  .regex(/^[A-Za-z0-9_]+$/, "a query id looks like 20250101_120000_00001_abcde")
  .describe("The query id, as run_query or the Presto UI shows it, e.g. 20250101_120000_00001_abcde");

interface Backend {
  client: PrestoClient;
  config: PrestoServerConfig;
}

/** The person (or service account) a query runs as: the cluster sees who asked. */
const userOf = (caller: Caller) => callerName(caller);

export function createPrestoServer(configure: PrestoServerConfig | (() => PrestoServerConfig) = () => prestoConfigFromEnv()): DomainServer {
  // Built on first use, so that a server module imported without its environment (a test, the
  // kit's main) starts, and a configuration error is a clear tool error naming the variable.
  let backend: Backend | undefined;
  const connect = (): Backend => {
    if (!backend) {
      const config = typeof configure === "function" ? configure() : configure;
      backend = { config, client: new PrestoClient(config.client) };
    }
    return backend;
  };
  const as = (caller: Caller, signal: AbortSignal, extra: Partial<QueryOptions> = {}): QueryOptions => ({ user: userOf(caller), signal, ...extra });
  // Every backend failure becomes a tool error naming its cause; nothing else is caught.
  const explained = explainingFailures(prestoFailure);
  const guarded = <T>(run: () => Promise<T>, render: (value: T) => CallToolResult) => explained(async () => render(await run()));
  const list = (title: string, key: string, names: string[]) => textResult(names.length ? `${title}:\n${names.join("\n")}` : `no ${title.toLowerCase()}`, { [key]: names });

  return createDomainServer({
    name: "presto",
    version: "1.4.0",
    instructions:
      "Presto/Trino as the calling person. Find data with list_catalogs → list_schemas → list_tables → describe_table, then run_query (read-only, row-limited). " +
      "explain_query shows a plan without running the query; query_status and cancel_query work on a query id.",
    tools: [
      {
        name: "list_catalogs",
        description: "List the catalogs of the cluster",
        readOnly: true,
        handler: (_args, ctx) => guarded(() => connect().client.listCatalogs(as(ctx.caller, ctx.signal)), (names) => list("Catalogs", "catalogs", names)),
      },
      {
        name: "list_schemas",
        description: "List the schemas of a catalog",
        input: z.object({ catalog }),
        readOnly: true,
        handler: (args, ctx) => guarded(() => connect().client.listSchemas(args.catalog, as(ctx.caller, ctx.signal)), (names) => list(`Schemas in ${args.catalog}`, "schemas", names)),
      },
      {
        name: "list_tables",
        description: "List the tables of a schema",
        input: z.object({ catalog, schema }),
        readOnly: true,
        handler: (args, ctx) =>
          guarded(() => connect().client.listTables(args.catalog, args.schema, as(ctx.caller, ctx.signal)), (names) => list(`Tables in ${args.catalog}.${args.schema}`, "tables", names)),
      },
      {
        name: "describe_table",
        description: "Show a table's columns and types",
        input: z.object({ catalog, schema, table: identifier("A table within the schema, as list_tables names it") }),
        readOnly: true,
        handler: (args, ctx) =>
          guarded(
            () => connect().client.describeTable(args.catalog, args.schema, args.table, as(ctx.caller, ctx.signal)),
            (columns) =>
              textResult(`${args.catalog}.${args.schema}.${args.table}:\n${textTable(["column", "type", "extra", "comment"], columns.map((c) => [c.column, c.type, c.extra, c.comment]))}`, {
                table: `${args.catalog}.${args.schema}.${args.table}`,
                columns,
              }),
          ),
      },
      {
        name: "run_query",
        description: "Run a read-only SQL query (SELECT, SHOW, DESCRIBE, EXPLAIN, WITH)",
        input: z.object({
          sql: z.string().min(1).max(100_000).describe("One read-only statement: SELECT, SHOW, DESCRIBE, EXPLAIN or WITH. No comments, no second statement."),
          catalog: catalog.optional().describe("The catalog unqualified table names resolve in (default: the server's)"),
          schema: schema.optional().describe("The schema unqualified table names resolve in (default: the server's)"),
          maxRows: z.number().int().min(1).max(100_000).optional().describe("Stop after this many rows (default 100, at most the server's limit)"),
          timeoutSeconds: z.number().int().min(1).max(3600).optional().describe("Cancel the query after this long (default and upper bound: the server's limit)"),
        }),
        readOnly: true,
        handler: (args, ctx) => {
          const { client, config } = connect();
          const maxRows = Math.min(args.maxRows ?? 100, config.maxRows);
          const timeoutMs = Math.min((args.timeoutSeconds ?? Infinity) * 1000, config.timeoutMs);
          const scope = { ...(args.catalog ? { catalog: args.catalog } : {}), ...(args.schema ? { schema: args.schema } : {}) };
          return guarded(() => client.runReadOnly(args.sql, as(ctx.caller, ctx.signal, { maxRows, timeoutMs, ...scope })), (result) => queryResult(result, maxRows));
        },
      },
      {
        name: "explain_query",
        description: "Show the distributed plan of a query",
        input: z.object({
          sql: z.string().min(1).max(100_000).describe("The read-only statement to plan; it is not run"),
          catalog: catalog.optional().describe("The catalog unqualified table names resolve in"),
          schema: schema.optional().describe("The schema unqualified table names resolve in"),
        }),
        readOnly: true,
        handler: (args, ctx) => {
          const scope = { ...(args.catalog ? { catalog: args.catalog } : {}), ...(args.schema ? { schema: args.schema } : {}) };
          return guarded(() => connect().client.explain(args.sql, as(ctx.caller, ctx.signal, scope)), (plan) => textResult(plan, { plan }));
        },
      },
      {
        name: "query_status",
        description: "Show the state and progress of a query",
        input: z.object({ queryId }),
        readOnly: true,
        handler: (args, ctx) => guarded(() => connect().client.status(args.queryId, { user: userOf(ctx.caller), signal: ctx.signal }), statusResult),
      },
      {
        name: "cancel_query",
        description: "Cancel a running query",
        input: z.object({ queryId }),
        sensitive: true,
        // Looks the query up, so the person sees whose query and which SQL they are stopping.
        confirm: async (args, ctx) => {
          const { client, config } = connect();
          const s = await client.status(args.queryId, { user: userOf(ctx.caller), signal: ctx.signal });
          if (isFinal(s.state)) throw new Error(`query ${s.queryId} has already finished (${s.state}); there is nothing to cancel`);
          const sql = s.query.length > 300 ? `${s.query.slice(0, 299)}…` : s.query;
          return `Cancel query ${s.queryId} on ${config.client.url}? It is ${s.state}, run by ${s.user}: ${sql} — it stops at once and ${s.user} gets a USER_CANCELED error.`;
        },
        handler: (args, ctx) =>
          guarded(
            async () => {
              const client = connect().client;
              const cancelled = await client.cancel(args.queryId, { user: userOf(ctx.caller), signal: ctx.signal });
              return { cancelled, status: await client.status(args.queryId, { user: userOf(ctx.caller), signal: ctx.signal }) };
            },
            ({ cancelled, status }) =>
              textResult(cancelled ? `Cancelled query ${args.queryId}; it is now ${status.state}.` : `Query ${args.queryId} had already finished (${status.state}); nothing was cancelled.`, {
                cancelled,
                queryId: args.queryId,
                state: status.state,
              }),
          ),
      },
    ],
  });
}

const isFinal = (state: string) => state === "FINISHED" || state === "FAILED";

export default createPrestoServer();
