/**
 * The SDK's own clients as tests use them, one per protocol revision a kit server meets: the
 * v2 client pinned to 2026-07-28 (stateless, confirmation by input-required), and the 1.x
 * client, which speaks 2025-11-25 only (sessions, confirmation by elicitation), playing the
 * older clients that stay in use. `manual` gives the v2 client's manual multi-round-trip mode,
 * in which a test holds the question and forges, alters or replays the answer itself.
 */
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from "@modelcontextprotocol/client";
import { Client as LegacyClient } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as LegacyTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

export type Revision = "2026-07-28" | "2025-11-25";
export const REVISIONS: readonly Revision[] = ["2026-07-28", "2025-11-25"];

export type Action = "accept" | "decline" | "cancel";

export interface ToolAnswer {
  text: string;
  isError: boolean;
  structured: unknown;
}

/** A client of either revision, as a test sees it. */
export interface RevisionClient {
  revision: Revision;
  /** The confirmation messages the person was shown. */
  asked: string[];
  listTools(): Promise<string[]>;
  call(tool: string, args?: Record<string, unknown>): Promise<ToolAnswer>;
  /** The negotiated revision, as the SDK reports it. */
  protocolVersion(): string | undefined;
  close(): Promise<void>;
}

export interface ConnectOptions {
  url: string;
  token: string;
  /** How the person answers a confirmation; absent: a client that cannot ask (no elicitation). */
  answer?: Action | ((message: string) => Action);
}

const answerOf = (answer: NonNullable<ConnectOptions["answer"]>, message: string): Action => (typeof answer === "function" ? answer(message) : answer);

function toAnswer(result: { content?: unknown; isError?: unknown; structuredContent?: unknown }): ToolAnswer {
  const content = Array.isArray(result.content) ? (result.content as { type: string; text?: string }[]) : [];
  return {
    text: content.map((c) => (c.type === "text" ? (c.text ?? "") : JSON.stringify(c))).join("\n"),
    isError: result.isError === true,
    structured: result.structuredContent,
  };
}

export async function connectRevision(revision: Revision, options: ConnectOptions): Promise<RevisionClient> {
  return revision === "2026-07-28" ? connectModern(options) : connectLegacy(options);
}

export async function connectModern(options: ConnectOptions): Promise<RevisionClient> {
  const client = new ModernClient(
    { name: "on-call-engineer", version: "2.0.0" },
    { capabilities: options.answer ? { elicitation: { form: {} } } : {}, versionNegotiation: { mode: { pin: "2026-07-28" } } },
  );
  const asked: string[] = [];
  const { answer } = options;
  if (answer) {
    client.setRequestHandler("elicitation/create", async (request) => {
      const message = request.params.message;
      asked.push(message);
      const action = answerOf(answer, message);
      return action === "accept" ? { action, content: {} } : { action };
    });
  }
  await client.connect(new ModernTransport(new URL(options.url), { requestInit: { headers: { authorization: `Bearer ${options.token}` } } }));
  return {
    revision: "2026-07-28",
    asked,
    listTools: async () => (await client.listTools()).tools.map((t) => t.name),
    call: async (tool, args = {}) => toAnswer(await client.callTool({ name: tool, arguments: args }, { timeout: 300_000 })),
    protocolVersion: () => client.getNegotiatedProtocolVersion(),
    close: () => client.close(),
  };
}

export async function connectLegacy(options: ConnectOptions): Promise<RevisionClient> {
  const client = new LegacyClient({ name: "on-call-engineer", version: "1.0.0" }, { capabilities: options.answer ? { elicitation: { form: {} } } : {} });
  const asked: string[] = [];
  const { answer } = options;
  if (answer) {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      const message = request.params.message;
      asked.push(message);
      const action = answerOf(answer, message);
      return action === "accept" ? { action, content: {} } : { action };
    });
  }
  const transport = new LegacyTransport(new URL(options.url), { requestInit: { headers: { authorization: `Bearer ${options.token}` } } });
  await client.connect(transport);
  return {
    revision: "2025-11-25",
    asked,
    listTools: async () => (await client.listTools()).tools.map((t) => t.name),
    call: async (tool, args = {}) => toAnswer((await client.callTool({ name: tool, arguments: args }, undefined, { timeout: 300_000 })) as Record<string, unknown>),
    protocolVersion: () => transport.protocolVersion,
    close: async () => {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}

/** What a 2026 server asked, held by a test instead of answered by the client. */
export interface HeldQuestion {
  message: string;
  requestState: string;
}

/** The v2 client in manual multi-round-trip mode: the test answers (or forges) by itself. */
export interface ManualClient {
  /** Calls the tool; returns the question if the server asked one, or the finished result. */
  ask(tool: string, args: Record<string, unknown>): Promise<HeldQuestion | ToolAnswer>;
  /** Sends the call again with an answer and a request state of the test's choosing. */
  answer(tool: string, args: Record<string, unknown>, action: Action, requestState: string): Promise<ToolAnswer>;
  close(): Promise<void>;
}

export async function connectManual(url: string, token: string): Promise<ManualClient> {
  const client = new ModernClient(
    { name: "scripted-client", version: "2.0.0" },
    { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: "2026-07-28" } }, inputRequired: { autoFulfill: false } },
  );
  await client.connect(new ModernTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return {
    async ask(tool, args) {
      const result = (await client.callTool({ name: tool, arguments: args }, { allowInputRequired: true })) as Record<string, unknown>;
      if (result.resultType !== "input_required") return toAnswer(result);
      const requests = result.inputRequests as Record<string, { params?: { message?: string } }> | undefined;
      const first = Object.values(requests ?? {})[0];
      return { message: first?.params?.message ?? "", requestState: String(result.requestState) };
    },
    async answer(tool, args, action, requestState) {
      const response = action === "accept" ? { action, content: {} } : { action };
      const params = { name: tool, arguments: args, inputResponses: { confirm: response }, requestState };
      return toAnswer(await client.callTool(params, { allowInputRequired: true }));
    },
    close: () => client.close(),
  };
}

export const isQuestion = (x: HeldQuestion | ToolAnswer): x is HeldQuestion => "requestState" in x;
