/**
 * What lets several replicas of one server stand behind a plain round-robin balancer with no
 * shared store: values the server hands to a client and gets back later (a 2025 session id, a
 * 2026 confirmation's request state) are sealed with a key every replica holds and name the
 * replica that issued them. Any replica can check such a value; the few requests that must
 * reach the issuing process (a live 2025 session, a confirmation's single use) are forwarded
 * to it, to the address inside the seal, so a client cannot steer the forwarding elsewhere.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Request, Response } from "express";
import { z } from "zod";
import { HOP_BY_HOP, writeWebResponse } from "./web.js";

/** The header on a forwarded request: it is served where it lands, never forwarded again. */
export const FORWARDED_HEADER = "x-toolfleet-forwarded-by";

export class ReplicaSeal {
  private readonly key: Buffer;

  /**
   * `key`: shared by every replica (at least 32 bytes); without one, a random key good for
   * this process only. `self`: this replica's own address as the others reach it, or
   * undefined when it runs alone.
   */
  constructor(key: string | undefined, readonly self: string | undefined) {
    if (key !== undefined && Buffer.byteLength(key) < 32) throw new Error("the replica key must be at least 32 bytes");
    this.key = key === undefined ? randomBytes(32) : Buffer.from(key);
  }

  /** `purpose` keeps a value sealed for one use from being accepted as another. */
  seal(purpose: string, payload: Record<string, unknown>): string {
    const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
    return `${body}.${this.mac(purpose, body)}`;
  }

  /** The payload, or undefined when the value was not sealed by a replica for `purpose`. */
  open(purpose: string, sealed: string): unknown {
    const [body, mac, extra] = sealed.split(".");
    if (!body || !mac || extra !== undefined) return undefined;
    const expected = Buffer.from(this.mac(purpose, body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as unknown;
    } catch {
      return undefined;
    }
  }

  /** Whether `replica` (from a sealed value) is this process. */
  isSelf(replica: string | undefined): boolean {
    return (replica ?? "") === (this.self ?? "");
  }

  private mac(purpose: string, body: string): string {
    return createHmac("sha256", this.key).update(`${purpose}\0${body}`).digest("base64url");
  }
}

const SessionClaim = z.object({ r: z.string(), n: z.string() });
const SESSION = "session";

/** A 2025 session id: random, sealed, naming the replica that holds the session. */
export function newSessionId(seal: ReplicaSeal): string {
  return seal.seal(SESSION, { r: seal.self ?? "", n: randomBytes(16).toString("base64url") });
}

/** The replica holding a session, or undefined when the id was not issued by any replica. */
export function sessionReplica(seal: ReplicaSeal, id: string): string | undefined {
  const claim = SessionClaim.safeParse(seal.open(SESSION, id));
  return claim.success ? claim.data.r : undefined;
}

/**
 * Sends the request on to the replica at `target` (a sealed address, so never one a client
 * chose) and streams its answer back, SSE included. The other replica authenticates and
 * authorizes the request again itself.
 */
export async function forwardToReplica(target: string, req: Request, res: Response, from: string): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  headers.set(FORWARDED_HEADER, from);
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  let answer: globalThis.Response;
  try {
    answer = await fetch(new URL(req.originalUrl, target), {
      method: req.method,
      headers,
      ...(req.method === "POST" ? { body: JSON.stringify(req.body) } : {}),
      signal: abort.signal,
      redirect: "manual",
    });
  } catch {
    res.status(503).json({ jsonrpc: "2.0", error: { code: -32001, message: "the replica holding this session or confirmation is gone; start again" }, id: null });
    return;
  }
  await writeWebResponse(answer, res);
}
