/**
 * `toolfleet` (also `kubectl toolfleet`): the people's command line. `run` takes the argument
 * words and where to print, and returns the exit code, so tests drive it as a person would,
 * against the real registry, provider and API server.
 */
import { spawn } from "node:child_process";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { clientConfigFile, configFileContent, type McpClient } from "../registry-api/ui/client-configs.js";
import { writeClientConfig } from "./client-config-file.js";
import { helpText, parse, staticCandidates, type Invocation } from "./command-line.js";
import { COMMANDS } from "./commands.js";
import { completionScript } from "./completion.js";
import { CliError, EXIT, usageError } from "./errors.js";
import { feedback, impact } from "./impact.js";
import { DEFAULT_CLIENT_ID, deviceSignIn, discoverProvider, identityOf, loopbackSignIn } from "./oidc.js";
import { emit, parseFormat, processOut, table, type Format, type Out } from "./output.js";
import { RegistryClient, metaOf, type ServerEntry } from "./registry-client.js";
import { decide, kubeClient, parseRef, reviewDiff, reviewQueue, whoReviews } from "./review.js";
import { activeSession } from "./session.js";
import { readSession, removeSession, sessionFile, writeSession } from "./settings.js";
import { renderDiff } from "./spec-diff.js";

export interface CliIo {
  out: Out;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Opens a URL in the person's browser (login --open). */
  openUrl?: (url: string) => void;
}

const INTRO = "toolfleet: find, check and connect the MCP servers you may use; review them if you are a reviewer.";

const str = (inv: Invocation, name: string) => {
  const v = inv.flags[name];
  return typeof v === "string" ? v : undefined;
};

function statusOf(e: ServerEntry): string {
  const m = metaOf(e);
  return m.published ? "Live" : (m.phase ?? "Not reconciled");
}
function reviewOf(e: ServerEntry): string {
  const m = metaOf(e);
  if (m.review.approved) return "approved";
  const open = m.review.areas.filter((a) => a.state !== "Approved").map((a) => `${a.area}: ${a.state.toLowerCase()}`);
  return open.join(", ") || "not approved";
}

/** The machine form of a server: what the registry said, flattened for scripts. */
function serverData(e: ServerEntry) {
  const m = metaOf(e);
  return {
    name: m.name,
    namespace: m.namespace,
    registryName: e.server.name,
    title: e.server.title,
    description: e.server.description,
    version: e.server.version,
    url: e.server.remotes[0]?.url,
    owner: m.owner,
    status: statusOf(e),
    published: m.published,
    review: m.review,
    access: m.access,
    tools: m.tools,
  };
}

async function login(inv: Invocation, io: CliIo): Promise<number> {
  const registry = str(inv, "registry") ?? io.env.TOOLFLEET_REGISTRY ?? safeSession(io.env)?.registry;
  if (!registry) throw usageError("login: which registry? pass --registry <url> (or set TOOLFLEET_REGISTRY)");
  if (!/^https?:\/\//.test(registry)) throw usageError(`--registry: "${registry}" is not an http(s) URL`);
  const provider = await discoverProvider(registry);
  const clientId = str(inv, "client-id") ?? DEFAULT_CLIENT_ID;
  io.out.note(`Signing in with ${provider.issuer} for ${registry}`);
  const answer = inv.flags.device
    ? await deviceSignIn({
        provider,
        clientId,
        show: (p) => {
          io.out.note(`Open ${p.verificationUri} and enter the code ${p.userCode}`);
          if (p.verificationUriComplete) io.out.note(`(or open ${p.verificationUriComplete})`);
        },
      })
    : await loopbackSignIn({
        provider,
        clientId,
        show: (url) => {
          io.out.note(`Open this page to sign in:\n  ${url}`);
          if (inv.flags.open) io.openUrl?.(url);
        },
      });
  const who = identityOf(answer.access_token);
  const file = writeSession(
    {
      registry: registry.replace(/\/+$/, ""),
      issuer: provider.issuer,
      clientId,
      tokenEndpoint: provider.token_endpoint,
      ...(provider.end_session_endpoint ? { endSessionEndpoint: provider.end_session_endpoint } : {}),
      accessToken: answer.access_token,
      expiresAt: who.expiresAt || Math.floor(Date.now() / 1000) + (answer.expires_in ?? 60),
      ...(answer.refresh_token ? { refreshToken: answer.refresh_token } : {}),
      ...(answer.id_token ? { idToken: answer.id_token } : {}),
      user: who.user,
      groups: who.groups,
    },
    io.env,
  );
  io.out.line(`Signed in as ${who.user}${who.groups.length ? ` (${who.groups.join(", ")})` : ""}; session in ${file}`);
  return EXIT.ok;
}

/** A session file that cannot be read counts as none here (logout and defaults must still work). */
function safeSession(env: NodeJS.ProcessEnv) {
  try {
    return readSession(env);
  } catch {
    return undefined;
  }
}

async function logout(io: CliIo): Promise<number> {
  const session = safeSession(io.env);
  if (session?.endSessionEndpoint && session.refreshToken) {
    // Ends the provider's session too, so the refresh token is dead everywhere; best effort,
    // the local tokens go in any case.
    try {
      await fetch(session.endSessionEndpoint, {
        method: "POST",
        body: new URLSearchParams({ client_id: session.clientId, refresh_token: session.refreshToken }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      io.out.note(`could not reach ${session.endSessionEndpoint} to end the provider session; the local tokens are removed anyway`);
    }
  }
  const removed = removeSession(io.env);
  io.out.line(removed ? `Signed out${session ? ` (${session.user})` : ""}; removed ${sessionFile(io.env)}` : "Not signed in.");
  return EXIT.ok;
}

async function servers(inv: Invocation, io: CliIo, format: Format): Promise<number> {
  const session = await activeSession(io.env);
  const list = await new RegistryClient(session).servers(inv.args.search);
  emit(io.out, format, list.map(serverData), () => {
    if (list.length === 0) {
      io.out.line(inv.args.search ? `No server you may see matches "${inv.args.search}".` : "No server you may see.");
      return;
    }
    io.out.line(
      table(
        ["NAME", "NAMESPACE", "TITLE", "OWNER", "CONTACT", "STATUS", "REVIEW", "TOOLS"],
        list.map((e) => {
          const m = metaOf(e);
          return [m.name, m.namespace, e.server.title, m.owner.team, m.owner.contact, statusOf(e), reviewOf(e), String(m.tools.length)];
        }),
      ),
    );
  });
  return EXIT.ok;
}

async function server(inv: Invocation, io: CliIo, format: Format): Promise<number> {
  const session = await activeSession(io.env);
  const e = await new RegistryClient(session).server(inv.args.name!);
  const d = serverData(e);
  emit(io.out, format, d, () => {
    io.out.line(`${d.title} (${d.namespace}/${d.name}) v${d.version}`);
    io.out.line(`  ${d.description}`);
    io.out.line(
      table(
        ["", ""],
        [
          ["Registry name", d.registryName],
          ["Endpoint", d.url ?? ""],
          ["Owner", d.owner.team],
          ["Contact", d.owner.contact],
          ["Status", d.status],
          ["Review", `${reviewOf(e)} (${d.review.areas.map((a) => `${a.area}: ${a.state}${a.reviewer ? ` by ${a.reviewer}` : ""}`).join("; ")})`],
          ["Who may use it", d.access.allowedGroups.join(", ") || "no group"],
        ],
      )
        .split("\n")
        .slice(1)
        .join("\n"),
    );
    io.out.line();
    io.out.line(
      table(
        ["TOOL", "KIND", "MINUTES SAVED", "GROUPS", "DESCRIPTION"],
        d.tools.map((t) => [t.name, `${t.readOnly ? "read-only" : "writes"}${t.sensitive ? ", confirm each call" : ""}`, String(t.minutesSaved), t.allowedGroups?.join(", ") ?? "(the server's)", t.description ?? ""]),
      ),
    );
  });
  return EXIT.ok;
}

async function access(inv: Invocation, io: CliIo, format: Format): Promise<number> {
  const session = await activeSession(io.env);
  const registry = new RegistryClient(session);
  const e = await registry.server(inv.args.server!);
  const answer = await registry.access(e.server.name, inv.args.tool);
  emit(io.out, format, answer, () => {
    const what = `${metaOf(e).name}${inv.args.tool ? ` ${inv.args.tool}` : ""}`;
    io.out.line(`${answer.allowed ? "allowed" : "denied"}: ${session.user} → ${what}: ${answer.reason}`);
  });
  return answer.allowed ? EXIT.ok : EXIT.denied;
}

async function connect(inv: Invocation, io: CliIo, format: Format): Promise<number> {
  const client = str(inv, "client") as McpClient | undefined;
  if (!client) throw usageError("connect: which client? pass --client vscode, claude-code or cursor");
  const session = await activeSession(io.env);
  const e = await new RegistryClient(session).server(inv.args.server!);
  const url = e.server.remotes[0]?.url;
  if (!url) throw new CliError(`${e.server.name} has no endpoint in the registry yet`, EXIT.failure);
  const name = metaOf(e).name;
  const config = clientConfigFile(client, name, url);
  const home = io.env.HOME ?? homedir();
  const given = str(inv, "file");
  const path = given ? (isAbsolute(given) ? given : resolve(io.cwd, given)) : config.file.scope === "home" ? join(home, config.file.path) : join(io.cwd, config.file.path);
  const signIn = client === "vscode" ? "VS Code asks for the token: paste the output of toolfleet token" : "start it with TOOLFLEET_TOKEN=$(toolfleet token)";
  if (!inv.flags.write) {
    const content = configFileContent(config, name);
    emit(io.out, format, { client, file: path, content }, () => {
      io.out.line(`# ${config.label}: merge into ${path} (or run again with --write); ${signIn}`);
      io.out.line(JSON.stringify(content, null, 2));
    });
    return EXIT.ok;
  }
  const result = writeClientConfig(path, config, name);
  emit(io.out, format, { client, file: path, created: result.created, replaced: result.replaced, server: name, url }, () => {
    io.out.line(`${result.created ? "Created" : result.replaced ? "Updated" : "Added to"} ${path}: ${name} → ${url}`);
    io.out.line(`Sign-in: ${signIn}`);
  });
  return EXIT.ok;
}

async function review(sub: string, inv: Invocation, io: CliIo, format: Format): Promise<number> {
  const client = kubeClient(str(inv, "kubeconfig") ?? undefined);
  if (sub === "diff") {
    const d = await reviewDiff(client, parseRef(inv.args.server!));
    emit(io.out, format, d, () => {
      io.out.line(`${d.namespace}/${d.name} generation ${d.generation}, spec hash ${d.specHash}`);
      for (const r of d.reviews) io.out.line(`  ${r.area}: ${r.decision}${r.reviewer ? ` by ${r.reviewer}` : ""}${r.current ? "" : r.decision === "Pending" ? "" : " (for another hash: stale)"}`);
      io.out.line(`Changes since the last approval (${d.base}):`);
      io.out.line(renderDiff(d.changes));
      if (d.cut) io.out.line("This diff is cut (the status keeps 64 changes and 2 KB of each value): read the whole spec before you approve.");
      io.out.line(`Decide with: toolfleet review approve ${d.namespace}/${d.name} --area <area> --spec-hash ${d.specHash}`);
    });
    return EXIT.ok;
  }
  const who = await whoReviews(client);
  if (sub === "queue") {
    const items = await reviewQueue(client, who, str(inv, "namespace"));
    emit(io.out, format, { reviewer: who.username, areas: who.areas, items }, () => {
      if (items.length === 0) return io.out.line(`Nothing waits for ${who.username} (${who.areas.join(", ")}).`);
      io.out.line(
        table(
          ["SERVER", "TITLE", "OWNER", "WAITING FOR", "STATUS", "SPEC HASH"],
          items.map((i) => [`${i.namespace}/${i.name}`, i.title, i.owner, i.waiting.map((w) => `${w.area}${w.state === "Stale" ? " (stale)" : ""}`).join(", "), i.phase ?? "", i.specHash?.slice(0, 12) ?? "not hashed yet"]),
        ),
      );
    });
    return EXIT.ok;
  }
  const areaName = str(inv, "area");
  if (!areaName) throw usageError(`review ${sub}: --area is required`);
  const comment = str(inv, "comment");
  if (sub === "reject" && !comment) throw usageError("review reject: --comment is required: say why, for the owner");
  const done = await decide(client, who, parseRef(inv.args.server!), {
    area: areaName,
    decision: sub === "approve" ? "Approved" : "Rejected",
    ...(comment ? { comment } : {}),
    ...(str(inv, "spec-hash") ? { specHash: str(inv, "spec-hash")! } : {}),
  });
  emit(io.out, format, done, () => {
    if (done.shown) {
      io.out.line(`Shown: ${done.shown.changes.length} reviewed fields of ${done.namespace}/${done.name} at spec hash ${done.shown.specHash}`);
      io.out.line(renderDiff(done.shown.changes));
    }
    io.out.line(`${done.area}: ${done.review.decision} ${done.namespace}/${done.name} at spec hash ${done.review.specHash} as ${done.review.reviewer}`);
  });
  return EXIT.ok;
}

async function complete(words: string[], io: CliIo): Promise<number> {
  const current = words.at(-1) ?? "";
  const { words: found, arg } = staticCandidates(COMMANDS, words.slice(0, -1), current);
  const out = [...found];
  if (arg?.complete === "servers") {
    try {
      const session = await activeSession(io.env);
      out.push(...(await new RegistryClient(session).servers()).map((e) => metaOf(e).name).filter((n) => n.startsWith(current)));
    } catch {
      // Completion never fails loudly: no session, no server names.
    }
  }
  for (const w of out) io.out.line(w);
  return EXIT.ok;
}

export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    if (argv[0] === "__complete") return await complete(argv.slice(1), io);
    if (argv.length === 0) {
      io.out.line(helpText(COMMANDS, [], INTRO));
      return EXIT.usage;
    }
    const parsed = parse(COMMANDS, argv);
    if (parsed.kind === "help") {
      io.out.line(helpText(COMMANDS, parsed.path, INTRO));
      return EXIT.ok;
    }
    const { command, invocation: inv } = parsed;
    const format = parseFormat(str(inv, "output"));
    switch (command.path.join(" ")) {
      case "login":
        return await login(inv, io);
      case "logout":
        return await logout(io);
      case "whoami": {
        const s = await activeSession(io.env);
        const data = { user: s.user, groups: s.groups, registry: s.registry, issuer: s.issuer, expiresAt: new Date(s.expiresAt * 1000).toISOString() };
        emit(io.out, format, data, () => io.out.line(`${s.user} (${s.groups.join(", ") || "no groups"}) on ${s.registry}, token valid until ${data.expiresAt}`));
        return EXIT.ok;
      }
      case "token":
        io.out.line((await activeSession(io.env)).accessToken);
        return EXIT.ok;
      case "servers":
        return await servers(inv, io, format);
      case "server":
        return await server(inv, io, format);
      case "access":
        return await access(inv, io, format);
      case "connect":
        return await connect(inv, io, format);
      case "impact":
        return await impact(inv, io.out, io.env, format);
      case "feedback":
        return await feedback(inv, io.out, io.env, format);
      case "review queue":
      case "review diff":
      case "review approve":
      case "review reject":
        return await review(command.path[1]!, inv, io, format);
      case "completion":
        io.out.line(completionScript(inv.args.shell!));
        return EXIT.ok;
      default:
        throw usageError(`unknown command ${command.path.join(" ")}`);
    }
  } catch (err) {
    if (err instanceof CliError) {
      io.out.note(`toolfleet: ${err.message}`);
      return err.exitCode;
    }
    io.out.note(`toolfleet: unexpected error: ${(err as Error).stack ?? String(err)}`);
    return EXIT.failure;
  }
}

/** Opens a URL with the desktop's opener, if there is one; the URL is printed either way. */
export function openInBrowser(url: string): void {
  const opener = process.platform === "darwin" ? "open" : "xdg-open";
  const child = spawn(opener, [url], { stdio: "ignore", detached: true });
  child.on("error", () => undefined);
  child.unref();
}

export const processIo = (): CliIo => ({ out: processOut, env: process.env, cwd: process.cwd(), openUrl: openInBrowser });
