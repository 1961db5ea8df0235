/** Tool results with both faces: text a person reads, and structured content a program reads. */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

export function textResult(text: string, structured?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text }], ...(structured ? { structuredContent: structured } : {}) };
}

/** A failure the caller can act on: the model sees `isError` and the text naming the cause. */
export function errorResult(text: string, structured?: Record<string, unknown>): CallToolResult {
  return { ...textResult(text, structured), isError: true };
}
