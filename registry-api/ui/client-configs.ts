/**
 * Client configuration for a server, one definition for the UI and the CLI: VS Code's
 * `.vscode/mcp.json`, Claude Code's project `.mcp.json` (and its `claude mcp add` command), and
 * Cursor's `~/.cursor/mcp.json`. The token is never embedded: VS Code asks for it, Claude Code
 * and Cursor read it from TOOLFLEET_TOKEN (`toolfleet token` prints a fresh one).
 */
export const CLIENTS = ["vscode", "claude-code", "cursor"] as const;
export type McpClient = (typeof CLIENTS)[number];

export interface ClientConfigFile {
  client: McpClient;
  label: string;
  /** Where the client reads it: in the project folder, or in the home folder. */
  file: { scope: "project" | "home"; path: string };
  /** The object in that file that holds the servers, by name. */
  serversKey: "servers" | "mcpServers";
  entry: Record<string, unknown>;
  /** VS Code's prompts the entry refers to, merged by id. */
  inputs?: Array<{ id: string; [k: string]: unknown }>;
}

export interface ClientConfig {
  id: string;
  client: string;
  where: string;
  text: string;
}

const TOKEN_INPUT = "toolfleet-token";

export function clientConfigFile(client: McpClient, _name: string, url: string): ClientConfigFile {
  switch (client) {
    case "vscode":
      return {
        client,
        label: "VS Code",
        file: { scope: "project", path: ".vscode/mcp.json" },
        serversKey: "servers",
        entry: { type: "http", url, headers: { Authorization: `Bearer \${input:${TOKEN_INPUT}}` } },
        inputs: [{ type: "promptString", id: TOKEN_INPUT, description: "Your Toolfleet token", password: true }],
      };
    case "claude-code":
      return {
        client,
        label: "Claude Code",
        file: { scope: "project", path: ".mcp.json" },
        serversKey: "mcpServers",
        entry: { type: "http", url, headers: { Authorization: "Bearer ${TOOLFLEET_TOKEN}" } },
      };
    case "cursor":
      return {
        client,
        label: "Cursor",
        file: { scope: "home", path: ".cursor/mcp.json" },
        serversKey: "mcpServers",
        entry: { url, headers: { Authorization: "Bearer ${env:TOOLFLEET_TOKEN}" } },
      };
  }
}

/** The file's content with only this server in it. */
export function configFileContent(config: ClientConfigFile, name: string): Record<string, unknown> {
  return { ...(config.inputs ? { inputs: config.inputs } : {}), [config.serversKey]: { [name]: config.entry } };
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Ready-to-paste snippets for the UI. */
export function clientConfigs(name: string, url: string): ClientConfig[] {
  const text = (client: McpClient) => JSON.stringify(configFileContent(clientConfigFile(client, name, url), name), null, 2);
  return [
    { id: "vscode", client: "VS Code", where: ".vscode/mcp.json", text: text("vscode") },
    {
      id: "claude",
      client: "Claude Code",
      where: "a terminal, with TOOLFLEET_TOKEN set",
      text: `claude mcp add --transport http ${shellQuote(name)} ${shellQuote(url)} --header "Authorization: Bearer $TOOLFLEET_TOKEN"`,
    },
    { id: "cursor", client: "Cursor", where: "~/.cursor/mcp.json, with TOOLFLEET_TOKEN set", text: text("cursor") },
  ];
}
