/**
 * The SDK's v2 server speaks web-standard Request and Response; the kit's HTTP layer is
 * Express (Node streams). These two functions are the whole bridge: the parsed JSON body is
 * handed to the SDK beside the Request, so the body is read once, under the kit's own limit.
 */
import type { Request as ExpressRequest, Response as ExpressResponse } from "express";

export const HOP_BY_HOP = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive", "upgrade", "expect"]);

/** A body-less web Request with the original method, URL and headers, aborted when the client goes. */
export function toWebRequest(req: ExpressRequest, res: ExpressResponse): globalThis.Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const abort = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  return new Request(new URL(req.originalUrl, `http://${req.headers.host ?? "localhost"}`), { method: req.method, headers, signal: abort.signal });
}

/** Writes a fetch Response to an Express response, streaming its body as it comes. */
export async function writeWebResponse(answer: globalThis.Response, res: ExpressResponse): Promise<void> {
  res.status(answer.status);
  answer.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== "content-encoding") res.setHeader(name, value);
  });
  if (!answer.body) return void res.end();
  res.flushHeaders();
  const reader = answer.body.getReader();
  res.once("close", () => void reader.cancel().catch(() => undefined));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // The client or the other side went away; nothing more to write.
  }
  res.end();
}
