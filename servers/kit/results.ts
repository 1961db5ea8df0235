/** Tool results with both faces: text a person reads, and structured content a program reads. */
import type { CallToolResult } from "@modelcontextprotocol/server";

export function textResult(text: string, structured?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text }], ...(structured ? { structuredContent: structured } : {}) };
}

/** A failure the caller can act on: the model sees `isError` and the text naming the cause. */
export function errorResult(text: string, structured?: Record<string, unknown>): CallToolResult {
  return { ...textResult(text, structured), isError: true };
}

/**
 * Wraps a tool's backend work: a failure `explain` recognises becomes the tool error it
 * returns; anything else (a bug) propagates. Each domain server passes its own `explain`.
 */
export function explainingFailures(explain: (err: unknown) => CallToolResult): (run: () => Promise<CallToolResult>) => Promise<CallToolResult> {
  return async (run) => {
    try {
      return await run();
    } catch (err) {
      return explain(err);
    }
  };
}
