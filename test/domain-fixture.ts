/**
 * A domain server as clients meet it, for its tests: the real kit server over HTTP with the
 * policy the operator would derive from its sample McpServer, people's tokens from a test
 * issuer, service-account tokens (the operator's verifier, the incident bot) from another,
 * and the SDK's own Client. The backend behind it is the real one from this directory.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema, type CallToolResult, type ElicitResult } from "@modelcontextprotocol/sdk/types.js";
import { TestIssuer } from "../auth/test/token-issuer.js";
import { MemoryAuditSink, type DomainServer, type RunningServer } from "../servers/kit/index.js";
import { PolicyVolume } from "../servers/kit/test/fixture.js";
import { DEFAULT_VERIFIER, policyFromMcpServer, readSample, type DomainServerName } from "../local/domain-servers.js";
import { connectManual, isQuestion, type ToolAnswer as RevisionAnswer } from "./mcp-clients.js";
import { createLogger } from "../common/log.js";

export interface DomainHarness {
  name: DomainServerName;
  server: RunningServer;
  audit: MemoryAuditSink;
  logs: string[];
  idp: TestIssuer;
  cluster: TestIssuer;
  mcpUrl: string;
  stop(): Promise<void>;
}

export async function startDomainHarness(name: DomainServerName, server: DomainServer): Promise<DomainHarness> {
  const publicUrl = `https://${name}.data-platform.example.com`;
  const resource = `${publicUrl}/mcp`;
  const idp = await TestIssuer.start("https://idp.example.com", resource);
  const cluster = await TestIssuer.start("https://kubernetes.default.svc.cluster.local", resource);
  const volume = new PolicyVolume();
  volume.write(policyFromMcpServer(readSample(name)));
  const audit = new MemoryAuditSink();
  const logs: string[] = [];
  const running = await server.start({
    policyFile: volume.path,
    publicUrl,
    port: 0,
    host: "127.0.0.1",
    auth: {
      users: { issuer: idp.issuer, keys: { jwksUrl: idp.jwksUrl } },
      serviceAccounts: { issuer: cluster.issuer, keys: { jwksUrl: cluster.jwksUrl } },
    },
    audit,
    logger: createLogger({}, { sink: (l) => void logs.push(l) }),
    processMetrics: false,
    elicitationTimeoutMs: 5000,
  });
  const clients: Client[] = [];
  const h: DomainHarness & { clients: Client[] } = {
    name,
    server: running,
    audit,
    logs,
    idp,
    cluster,
    mcpUrl: `${running.url}/mcp`,
    clients,
    async stop() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await running.stop();
      await idp.stop();
      await cluster.stop();
    },
  };
  return h;
}

export const serviceAccountToken = (h: DomainHarness, ref: string) => {
  const [ns, name] = ref.split("/") as [string, string];
  return h.cluster.sign({ sub: `system:serviceaccount:${ns}:${name}`, extra: { "kubernetes.io": { namespace: ns, serviceaccount: { name } } } });
};
export const verifierToken = (h: DomainHarness) => serviceAccountToken(h, DEFAULT_VERIFIER);

export type Answer = "accept" | "decline";

export interface TestClient {
  client: Client;
  /** The confirmation messages the person was shown. */
  asked: string[];
  call(tool: string, args?: Record<string, unknown>): Promise<ToolAnswer>;
}

export interface ToolAnswer {
  text: string;
  isError: boolean;
  structured: Record<string, unknown> | undefined;
}

/** The SDK's Client with a bearer token; `answer` makes it a client that can confirm (elicitation). */
export async function connectAs(h: DomainHarness, token: string, answer?: Answer | (() => Answer)): Promise<TestClient> {
  const client = new Client({ name: "on-call-engineer", version: "1.0.0" }, { capabilities: answer ? { elicitation: { form: {} } } : {} });
  const asked: string[] = [];
  if (answer) {
    client.setRequestHandler(ElicitRequestSchema, async (request): Promise<ElicitResult> => {
      asked.push(request.params.message);
      const action = typeof answer === "function" ? answer() : answer;
      return action === "accept" ? { action, content: {} } : { action };
    });
  }
  await client.connect(new StreamableHTTPClientTransport(new URL(h.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  (h as DomainHarness & { clients: Client[] }).clients.push(client);
  return {
    client,
    asked,
    async call(tool, args = {}) {
      const result = (await client.callTool({ name: tool, arguments: args }, undefined, { timeout: 300_000 })) as CallToolResult;
      const text = result.content.map((c) => (c.type === "text" ? c.text : JSON.stringify(c))).join("\n");
      return { text, isError: result.isError === true, structured: result.structuredContent };
    },
  };
}

/** The tool names of the sample McpServer, which the operator checks tools/list against. */
export const declaredTools = (name: DomainServerName) => readSample(name).spec.tools.map((t) => t.name);

/** What each attempt on a 2026-07-28 confirmation got, in the order they were made. */
export interface ConfirmationAttempts {
  /** The person was asked this. */
  message: string;
  /** Another caller sent the owner's answer. */
  stolen: RevisionAnswer;
  /** The owner carried the answer over to other arguments. */
  altered: RevisionAnswer;
  /** The owner stretched the state's expiry (the seal no longer holds). */
  forged: RevisionAnswer;
  /** The owner's genuine answer: the tool runs. */
  accepted: RevisionAnswer;
  /** The same answer once more. */
  replayed: RevisionAnswer;
}

/**
 * Asks for a 2026 confirmation of `tool(args)` as `owner` and tries everything an attacker
 * would with the answer before and after using it genuinely once. Only `accepted` may run.
 */
export async function attackConfirmation(
  h: DomainHarness,
  options: { tool: string; args: Record<string, unknown>; otherArgs: Record<string, unknown>; owner: string; thief: string },
): Promise<ConfirmationAttempts> {
  const owner = await connectManual(h.mcpUrl, options.owner);
  const thief = await connectManual(h.mcpUrl, options.thief);
  try {
    const question = await owner.ask(options.tool, options.args);
    if (!isQuestion(question)) throw new Error(`expected ${options.tool} to ask for a confirmation, got: ${question.text}`);
    const [body, mac] = question.requestState.split(".") as [string, string];
    const claim = JSON.parse(Buffer.from(body, "base64url").toString()) as Record<string, unknown>;
    const stretched = `${Buffer.from(JSON.stringify({ ...claim, e: Date.now() + 86_400_000 })).toString("base64url")}.${mac}`;
    const stolen = await thief.answer(options.tool, options.args, "accept", question.requestState);
    const altered = await owner.answer(options.tool, options.otherArgs, "accept", question.requestState);
    const forged = await owner.answer(options.tool, options.args, "accept", stretched);
    const accepted = await owner.answer(options.tool, options.args, "accept", question.requestState);
    const replayed = await owner.answer(options.tool, options.args, "accept", question.requestState);
    return { message: question.message, stolen, altered, forged, accepted, replayed };
  } finally {
    await owner.close();
    await thief.close();
  }
}

/** The texts a refused 2026 confirmation answers with, by attempt. */
export const REFUSED = {
  stolen: /^Not run: \w+ was not run: its confirmation is not valid: the confirmation was given to another caller\.$/,
  altered: /^Not run: \w+ was not run: its confirmation is not valid: the confirmation was for another tool or other arguments\.$/,
  forged: /^Not run: \w+ was not run: its confirmation is not valid: the confirmation's state was not issued by this server or was altered\.$/,
  replayed: /^Not run: \w+ was not run: its confirmation is not valid: the confirmation was already used\.$/,
};
