/**
 * The kit server the official conformance suite runs against: the tools its server scenarios
 * call, by the names and with the results they expect, written with the kit as any server
 * team would. Scenarios a server of tools cannot meet are in baseline.yml, each with why.
 */
import { z } from "zod";
import { createDomainServer } from "../../servers/kit/index.js";
import type { ServerPolicyInput } from "../../policy/index.js";

/** A 1x1 red PNG. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/** A WAV header with no samples: the smallest valid audio. */
const WAV = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=";

export const conformanceServer = createDomainServer({
  name: "conformance",
  version: "1.0.0",
  tools: [
    { name: "test_simple_text", description: "Returns simple text", readOnly: true, handler: () => "This is a simple text response for testing." },
    {
      name: "test_image_content",
      description: "Returns an image",
      readOnly: true,
      handler: () => ({ content: [{ type: "image", data: PNG, mimeType: "image/png" }] }),
    },
    {
      name: "test_audio_content",
      description: "Returns audio",
      readOnly: true,
      handler: () => ({ content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }] }),
    },
    {
      name: "test_embedded_resource",
      description: "Returns an embedded resource",
      readOnly: true,
      handler: () => ({
        content: [{ type: "resource", resource: { uri: "test://embedded-resource", mimeType: "text/plain", text: "This is an embedded resource content." } }],
      }),
    },
    {
      name: "test_multiple_content_types",
      description: "Returns text, an image and a resource",
      readOnly: true,
      handler: () => ({
        content: [
          { type: "text", text: "Multiple content types test:" },
          { type: "image", data: PNG, mimeType: "image/png" },
          { type: "resource", resource: { uri: "test://mixed-content-resource", mimeType: "application/json", text: '{"test":"data","value":123}' } },
        ],
      }),
    },
    {
      name: "test_error_handling",
      description: "Always fails",
      readOnly: true,
      handler: () => {
        throw new Error("This tool intentionally returns an error for testing");
      },
    },
    {
      name: "json_schema_2020_12_tool",
      description: "Tool with JSON Schema 2020-12 features",
      readOnly: true,
      input: z.strictObject({ name: z.string().optional(), address: z.object({ street: z.string().optional(), city: z.string().optional() }).optional() }),
      handler: () => "ok",
    },
  ],
});

export const CONFORMANCE_GROUP = "conformance-testers";

export function conformancePolicy(): ServerPolicyInput {
  return {
    server: { namespace: "conformance", name: "conformance", registryName: "dev.toolfleet.conformance/conformance" },
    access: { allowedGroups: [CONFORMANCE_GROUP], allowedServiceAccounts: [] },
    tools: conformanceServer.tools.map((t) => ({ name: t.name, readOnly: true })),
    verifier: "toolfleet-system/toolfleet-operator",
  };
}
