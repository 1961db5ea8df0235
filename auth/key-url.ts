/**
 * Where a key set may be fetched from. Whoever can answer the fetch decides which tokens are
 * accepted, so a JWKS over plain http from another host lets anyone on the path forge every
 * caller. Only https, or http to this machine's own loopback (tests, a local issuer), is taken.
 */
import { isIP } from "node:net";
import { AuthConfigError } from "./errors.js";

/** 127.0.0.0/8, ::1 (also as an IPv4-mapped address) and `localhost`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || /^::ffff:127\./.test(host) || /^(0:){5}ffff:7f/.test(host) || host === "0:0:0:0:0:0:0:1";
  return false;
}

/**
 * The URL, parsed, when a key set may be fetched from it; otherwise an AuthConfigError naming
 * `option` and the reason.
 */
export function checkKeySetUrl(url: string | URL, option: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AuthConfigError(`${option}: "${String(url)}" is not a URL`);
  }
  if (parsed.username || parsed.password) throw new AuthConfigError(`${option}: a key set URL must not carry credentials`);
  if (parsed.protocol === "https:") return parsed;
  if (parsed.protocol === "http:") {
    if (isLoopbackHost(parsed.hostname)) return parsed;
    throw new AuthConfigError(`${option}: "${parsed.href}" is plain http to another host; keys must come over https (http only to loopback)`);
  }
  throw new AuthConfigError(`${option}: "${parsed.href}" is not an https URL`);
}
