/**
 * The `WWW-Authenticate` answer to a refused request (RFC 6750 §3 with RFC 9728's
 * `resource_metadata`), so MCP clients can discover where to get a token.
 */
import type { AuthError } from "./errors.js";

const quote = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, " ")}"`;

export function bearerChallenge(resourceMetadataUrl: string, error?: AuthError): string {
  const params = [`resource_metadata=${quote(resourceMetadataUrl)}`];
  // No error code when no credential was sent at all (RFC 6750 §3.1).
  if (error && error.code !== "missing") {
    params.push(`error="invalid_token"`, `error_description=${quote(error.reason)}`);
  }
  return `Bearer ${params.join(", ")}`;
}

/** For 403: authenticated, but not allowed. */
export function insufficientScopeChallenge(resourceMetadataUrl: string, reason: string): string {
  return `Bearer resource_metadata=${quote(resourceMetadataUrl)}, error="insufficient_scope", error_description=${quote(reason)}`;
}
