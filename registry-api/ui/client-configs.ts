/**
 * Ready-to-paste client configuration for a server: VS Code's mcp.json, Claude Code's
 * `claude mcp add`, and Cursor's mcp.json. The token is never embedded: each asks for it or
 * reads it from the environment.
 */
export interface ClientConfig {
  id: string;
  client: string;
  where: string;
  text: string;
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function clientConfigs(name: string, url: string): ClientConfig[] {
  const vscode = {
    inputs: [{ type: "promptString", id: "toolfleet-token", description: "Your Toolfleet token", password: true }],
    servers: { [name]: { type: "http", url, headers: { Authorization: "Bearer ${input:toolfleet-token}" } } },
  };
  const cursor = { mcpServers: { [name]: { url, headers: { Authorization: "Bearer ${env:TOOLFLEET_TOKEN}" } } } };
  return [
    { id: "vscode", client: "VS Code", where: ".vscode/mcp.json", text: JSON.stringify(vscode, null, 2) },
    {
      id: "claude",
      client: "Claude Code",
      where: "a terminal, with TOOLFLEET_TOKEN set",
      text: `claude mcp add --transport http ${shellQuote(name)} ${shellQuote(url)} --header "Authorization: Bearer $TOOLFLEET_TOKEN"`,
    },
    { id: "cursor", client: "Cursor", where: "~/.cursor/mcp.json, with TOOLFLEET_TOKEN set", text: JSON.stringify(cursor, null, 2) },
  ];
}
