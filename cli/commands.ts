/** Every command of `toolfleet`: its arguments, flags, help and examples (see command-line.ts). */
import { CLIENTS } from "../registry-api/ui/client-configs.js";
import { ESTIMATES, GROUP_BY } from "../registry-api/usage/store.js";
import type { CommandSpec, FlagSpec } from "./command-line.js";

const kubeconfig: FlagSpec = { name: "kubeconfig", value: "path", help: "your kubeconfig (default KUBECONFIG, then ~/.kube/config)" };
const area: FlagSpec = { name: "area", value: "area", help: "the review area you decide for (security, legal, genai, …)" };
const specHash: FlagSpec = { name: "spec-hash", value: "hash", help: "the spec hash you were shown by review diff; refused if the spec has another now" };

export const COMMANDS: readonly CommandSpec[] = [
  {
    path: ["login"],
    summary: "Sign in with your organisation's identity provider",
    description:
      "Finds the provider from the registry's protected-resource metadata. By default opens a sign-in page through a\n" +
      "loopback redirect (authorization code with PKCE); --device shows a code to enter on any device instead.\n" +
      "The session is kept in your config folder (0600) and refreshed while the provider allows.",
    args: [],
    flags: [
      { name: "registry", value: "url", help: "the registry's URL (default TOOLFLEET_REGISTRY, then the last one used)" },
      { name: "device", boolean: true, help: "sign in with the device flow (a code to enter on another device)" },
      { name: "client-id", value: "id", help: "the provider's client for this CLI (default toolfleet-cli)" },
      { name: "open", boolean: true, help: "open the sign-in page in your browser (xdg-open or open)" },
    ],
    examples: ["toolfleet login --registry http://127.0.0.1:8080", "toolfleet login --device"],
  },
  { path: ["logout"], summary: "Sign out: end the provider session and forget the tokens", args: [], flags: [] },
  { path: ["whoami"], summary: "Who you are signed in as, in which groups, until when", args: [], flags: [] },
  {
    path: ["token"],
    summary: "Print a fresh access token (for MCP clients: TOOLFLEET_TOKEN=$(toolfleet token))",
    args: [],
    flags: [],
  },
  {
    path: ["servers"],
    summary: "The servers you may use (reviewers and admins: all, with their review state)",
    args: [{ name: "search", required: false, help: "words in the name, title or description" }],
    flags: [],
    examples: ["toolfleet servers", "toolfleet servers presto -o json"],
  },
  {
    path: ["server"],
    summary: "One server: owner, contact, review posture, status and tools",
    args: [{ name: "name", required: true, help: "short name (presto), namespace/name, or registry name", complete: "servers" }],
    flags: [],
  },
  {
    path: ["access"],
    summary: "May you call this server (or this tool)? The registry's decision and its reason",
    description: "Exit code 0 when allowed, 5 when denied.",
    args: [
      { name: "server", required: true, help: "short name, namespace/name, or registry name", complete: "servers" },
      { name: "tool", required: false, help: "a tool of the server" },
    ],
    flags: [],
    examples: ["toolfleet access presto run_query"],
  },
  {
    path: ["connect"],
    summary: "An MCP client's configuration for a server: printed, or merged into its file with --write",
    description:
      "Only this server's entry is added or replaced; every other entry is kept. A file that is not valid JSON is\n" +
      "refused and left untouched. Files: vscode .vscode/mcp.json, claude-code .mcp.json (both in the current folder),\n" +
      "cursor ~/.cursor/mcp.json. Claude Code and Cursor read the token from TOOLFLEET_TOKEN; VS Code asks for it.",
    args: [{ name: "server", required: true, help: "short name, namespace/name, or registry name", complete: "servers" }],
    flags: [
      { name: "client", value: "client", help: `the MCP client: ${CLIENTS.join(", ")}`, choices: CLIENTS },
      { name: "write", boolean: true, help: "merge into the client's configuration file instead of printing" },
      { name: "file", value: "path", help: "the file to merge into (default: the client's own)" },
    ],
    examples: ["toolfleet connect presto --client claude-code --write", "TOOLFLEET_TOKEN=$(toolfleet token) claude"],
  },
  {
    path: ["impact"],
    summary: "Calls, people and time saved by the servers you may see (reviewers and admins: the whole fleet)",
    description:
      "Days are UTC, both included; without --from and --to, the last 30 days. --estimate declared counts each\n" +
      "successful call at the tool's declared minutes; feedback at the median of what people said it saved them.",
    args: [],
    flags: [
      { name: "from", value: "YYYY-MM-DD", help: "first day (default: 29 days before --to)" },
      { name: "to", value: "YYYY-MM-DD", help: "last day (default: today)" },
      { name: "by", value: "group", help: `one row per ${GROUP_BY.join(", ")} (default server)`, choices: GROUP_BY },
      { name: "estimate", value: "estimate", help: `minutes saved as ${ESTIMATES.join(" or ")} (default declared)`, choices: ESTIMATES },
      { name: "server", value: "name", help: "only this server (short name, namespace/name, or registry name)" },
    ],
    examples: ["toolfleet impact", "toolfleet impact --by month --from 2026-01-01 --estimate feedback", "toolfleet impact --server presto --by tool -o json"],
  },
  {
    path: ["feedback"],
    summary: "Say how many minutes a call of a tool saved you (one answer per tool and day)",
    description: "A second answer on the same day replaces the first. The registry calibrates impact --estimate feedback by them.",
    args: [
      { name: "server", required: true, help: "short name, namespace/name, or registry name", complete: "servers" },
      { name: "tool", required: true, help: "a tool of the server" },
    ],
    flags: [
      { name: "minutes", value: "N", help: "minutes saved by one call, 0 to 1440 (required)" },
      { name: "helpful", value: "yes|no", help: "was the answer helpful (default yes)", choices: ["yes", "no"] },
      { name: "comment", value: "text", help: "a few words for the server's team (at most 1000 characters)" },
    ],
    examples: ["toolfleet feedback presto run_query --minutes 15", "toolfleet feedback presto run_query --minutes 0 --helpful no --comment \"wrong catalog\""],
  },
  {
    path: ["review", "queue"],
    summary: "Servers waiting for your review areas (as your kubeconfig's user)",
    args: [],
    flags: [{ name: "namespace", short: "n", value: "namespace", help: "only this namespace (default: every namespace you may read)" }, kubeconfig],
  },
  {
    path: ["review", "diff"],
    summary: "What a review of a server would vouch for, and its spec hash",
    args: [{ name: "server", required: true, help: "namespace/name", complete: "review-refs" }],
    flags: [kubeconfig],
  },
  {
    path: ["review", "approve"],
    summary: "Approve exactly the spec hash shown, in your area; refused if the spec changed",
    description: "Without --spec-hash, the diff is shown and that hash approved; either way the write fails if the spec moves.",
    args: [{ name: "server", required: true, help: "namespace/name", complete: "review-refs" }],
    flags: [area, { name: "comment", value: "text", help: "why, for the owner and the other reviewers" }, specHash, kubeconfig],
    examples: ["toolfleet review approve data-platform/presto --area security --spec-hash 3f2a…"],
  },
  {
    path: ["review", "reject"],
    summary: "Reject exactly the spec hash shown, in your area, saying why",
    args: [{ name: "server", required: true, help: "namespace/name", complete: "review-refs" }],
    flags: [area, { name: "comment", value: "text", help: "why (required)" }, specHash, kubeconfig],
  },
  {
    path: ["completion"],
    summary: "A shell completion script: source <(toolfleet completion bash)",
    args: [{ name: "shell", required: true, help: "bash or zsh" }],
    flags: [],
  },
];
