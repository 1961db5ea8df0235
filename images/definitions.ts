/**
 * What each image is: its name, the program it runs and a line on what it does. The three
 * domain servers share one definition (the kit serves each the same way); only the server's
 * name differs.
 */
import { OPERATOR_NODE_FLAGS } from "../operator/node-flags.js";

export interface ImageDefinition {
  name: string;
  /** Compiled entrypoint, relative to the repository (and to the image's /app). */
  entry: string;
  description: string;
  /** Ports the program listens on by default. */
  ports: number[];
  /** Flags for node before the entrypoint (V8's among them). */
  nodeFlags?: readonly string[];
}

export const DOMAIN_SERVER_NAMES = ["presto", "spark", "airflow"] as const;

/** A domain MCP server on the kit: listens on the kit's default port 8080. */
export const domainServerImage = (server: (typeof DOMAIN_SERVER_NAMES)[number]): ImageDefinition => ({
  name: `toolfleet-${server}`,
  entry: `dist/servers/${server}/main.js`,
  description: `The ${server} MCP server of Toolfleet, configured by its environment`,
  ports: [8080],
});

export const IMAGES: readonly ImageDefinition[] = [
  { name: "toolfleet-operator", entry: "dist/operator/main.js", description: "The Toolfleet operator: reconciles McpServers", ports: [8080], nodeFlags: OPERATOR_NODE_FLAGS },
  { name: "toolfleet-registry", entry: "dist/registry-api/main.js", description: "The Toolfleet registry: the MCP servers each caller may use", ports: [8080] },
  ...DOMAIN_SERVER_NAMES.map(domainServerImage),
];
