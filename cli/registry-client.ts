/**
 * The registry API as the CLI uses it, with the signed-in person's token: the servers they may
 * see (the official registry list, every page), one server by its short or registry name, the
 * access check, the impact figures and feedback. HTTP answers become CLI errors with their exit
 * code; a 400 keeps the parameter the registry names.
 */
import type { ToolEstimate } from "../registry-api/usage/feedback-route.js";
import type { Estimate, GroupBy, ImpactReport } from "../registry-api/usage/store.js";
import { CliError, EXIT, usageError } from "./errors.js";
import type { Session } from "./settings.js";

export const TOOLFLEET_META = "dev.toolfleet/server";

export interface ServerMeta {
  namespace: string;
  name: string;
  owner: { team: string; contact: string };
  access: { allowedGroups: string[]; allowedServiceAccounts: string[] };
  tools: Array<{ name: string; description?: string; readOnly: boolean; sensitive: boolean; minutesSaved: number; allowedGroups?: string[] }>;
  review: { approved: boolean; areas: Array<{ area: string; state: string; reviewer?: string; at?: string; comment?: string }> };
  published: boolean;
  phase?: string;
  readyReplicas?: number;
  serverInfo?: { name: string; version: string; protocolVersion: string };
  conditions: Array<{ type: string; status: string; reason: string; message: string }>;
}
export interface ServerEntry {
  server: { name: string; title: string; description: string; version: string; remotes: Array<{ type: string; url: string }> };
  _meta: Record<string, unknown> & { [TOOLFLEET_META]: ServerMeta };
}
export interface AccessAnswer {
  allowed: boolean;
  code: string;
  reason: string;
  server: string;
  tool?: string;
}

/** The impact API's answer: the query as the registry understood it, then the figures. */
export interface ImpactAnswer extends ImpactReport {
  from: string;
  to: string;
  groupBy: GroupBy;
  estimate: Estimate;
}
export interface ImpactAsk {
  from?: string;
  to?: string;
  groupBy?: GroupBy;
  estimate?: Estimate;
  /** A registry name. */
  server?: string;
}
export interface FeedbackGiven {
  server: string;
  tool: string;
  minutesSaved: number;
  helpful: boolean;
  comment?: string;
}

export const metaOf = (e: ServerEntry): ServerMeta => e._meta[TOOLFLEET_META];

export class RegistryClient {
  constructor(private readonly session: Pick<Session, "registry" | "accessToken" | "user">) {}

  private async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const url = new URL(path, this.session.registry).toString();
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000), headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.session.accessToken}`, accept: "application/json" } });
    } catch (err) {
      throw new CliError(`cannot reach the registry at ${this.session.registry}: ${(err as Error).message}`, EXIT.unavailable);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: text.slice(0, 200) };
    }
    const message = (body as { error?: unknown }).error;
    const parameter = (body as { parameter?: unknown }).parameter;
    if (res.status === 401) throw new CliError(`the registry refused your token (${String(message ?? "unauthorized")}): run toolfleet login`, EXIT.notSignedIn);
    if (res.status === 404) throw new CliError(String(message ?? "not found"), EXIT.notFound);
    if (res.status === 403) throw new CliError(String(message ?? "forbidden"), EXIT.denied);
    if (res.status >= 500) throw new CliError(`the registry failed (HTTP ${res.status}): ${String(message ?? "")}`, EXIT.unavailable);
    // The registry's message starts with the parameter at fault; say it when it does not.
    const named = typeof parameter === "string" && !String(message ?? "").startsWith(parameter) ? ` (${parameter})` : "";
    // A 400 is the person's input (a date, a tool, a comment), so it is a usage error.
    if (res.status === 400) throw new CliError(`the registry refused the request: ${String(message ?? "bad request")}${named}`, EXIT.usage);
    if (!res.ok) throw new CliError(`the registry refused the request (HTTP ${res.status}): ${String(message ?? "")}${named}`, EXIT.failure);
    return body as T;
  }

  /** Every server the caller may see, across pages; `search` as the registry matches it. */
  async servers(search?: string): Promise<ServerEntry[]> {
    const out: ServerEntry[] = [];
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams({ limit: "100", ...(search ? { search } : {}), ...(cursor ? { cursor } : {}) });
      const page = await this.call<{ servers: ServerEntry[]; metadata: { nextCursor?: string } }>(`/v0.1/servers?${q}`);
      out.push(...page.servers);
      cursor = page.metadata.nextCursor;
    } while (cursor);
    return out;
  }

  /**
   * One server: by registry name (`<prefix>.<namespace>/<name>`), `namespace/name`, or its
   * short name when that names exactly one server the caller may see.
   */
  async server(name: string): Promise<ServerEntry> {
    const all = await this.servers();
    const found = all.filter((e) => {
      const m = metaOf(e);
      return e.server.name === name || `${m.namespace}/${m.name}` === name || m.name === name;
    });
    if (found.length === 0) throw new CliError(`no server named ${name} that you (${this.session.user}) may see: toolfleet servers lists them`, EXIT.notFound);
    if (found.length > 1) throw usageError(`${name} names ${found.length} servers: say which, as ${found.map((e) => `${metaOf(e).namespace}/${metaOf(e).name}`).join(" or ")}`);
    return found[0]!;
  }

  async access(server: string, tool?: string): Promise<AccessAnswer> {
    return this.call<AccessAnswer>("/api/v1/access", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ server, ...(tool ? { tool } : {}) }),
    });
  }

  async impact(ask: ImpactAsk): Promise<ImpactAnswer> {
    const q = new URLSearchParams(Object.entries(ask).filter((e): e is [string, string] => typeof e[1] === "string"));
    return this.call<ImpactAnswer>(`/api/v1/impact?${q}`);
  }

  /** Stores the person's feedback; `replaced` when it replaced theirs of the same day. */
  async feedback(given: FeedbackGiven): Promise<{ stored: boolean; replaced: boolean }> {
    return this.call("/api/v1/feedback", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(given) });
  }

  /** Each tool's declared estimate beside the median of people's feedback. */
  async estimates(server: string): Promise<{ server: string; tools: ToolEstimate[] }> {
    return this.call(`/api/v1/feedback?${new URLSearchParams({ server })}`);
  }
}
