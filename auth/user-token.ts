/**
 * People's tokens: a bearer JWT from the organisation's identity provider. The subject is the
 * person, the groups claim (configurable; some providers nest it, e.g. `realm_access.roles`)
 * their business groups.
 */
import type { JWTPayload } from "jose";
import type { Caller } from "../policy/index.js";
import { AuthError } from "./errors.js";
import { checkAlgorithms, verifyJwt, type JwtCheck } from "./jwt.js";
import { resolveKeys, type KeySource } from "./key-source.js";

export interface UserTokenOptions {
  issuer: string;
  /** The audience tokens must be issued for: the server's own URL (RFC 8707 resource). */
  audience: string | string[];
  keys: KeySource;
  /** Default `groups`. A dotted name is tried as a path when no claim has that exact name. */
  groupsClaim?: string;
  /** Default: the asymmetric algorithms. `none` and HS* are refused. */
  algorithms?: string[];
  /** Default 30 s. */
  clockToleranceSec?: number;
}

export interface VerifiedToken {
  caller: Caller;
  /** Seconds since the epoch. */
  expiresAt: number;
  /** Epoch ms after which the token must be checked again (a live check's answer expires). */
  trustUntilMs?: number;
}

export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

export function createUserTokenVerifier(options: UserTokenOptions): TokenVerifier {
  const check: JwtCheck = {
    keys: resolveKeys(options.keys),
    issuer: options.issuer,
    audience: options.audience,
    algorithms: checkAlgorithms(options.algorithms, "users.algorithms"),
    clockToleranceSec: options.clockToleranceSec ?? 30,
  };
  const groupsClaim = options.groupsClaim ?? "groups";
  return async (token) => {
    const payload = await verifyJwt(token, check);
    const groups = readGroups(payload, groupsClaim);
    return { caller: { kind: "user", subject: payload.sub as string, groups }, expiresAt: payload.exp as number };
  };
}

function readGroups(payload: JWTPayload, claim: string): string[] {
  let value: unknown = payload[claim];
  if (value === undefined && claim.includes(".")) {
    value = claim.split(".").reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), payload);
  }
  // No groups claim is a person in no groups: they are let in nowhere that needs one.
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((g): g is string => typeof g === "string")) return value;
  throw new AuthError("invalid", `token claim ${claim} must be a list of group names`);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
