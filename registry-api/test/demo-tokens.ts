/**
 * A test fixture: a hand-made issuer whose signing key lives in `<dir>/demo-issuer/`, and
 * signed tokens for the demo people in `<dir>/tokens/<user>.jwt`, for suites that exercise the
 * registry's local login without an identity provider. `make run` signs people in with
 * Keycloak instead (local/backends, registry-api/demo-identity.ts). Idempotent: the key is made
 * once, tokens are re-signed on every call so they are always fresh.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK } from "jose";
import { stateDir } from "../../local/cluster/paths.js";
import { DEMO_PEOPLE, type DemoPerson } from "../demo-identity.js";

export const DEMO_ISSUER = "https://demo-issuer.toolfleet.local";
export const DEMO_AUDIENCE = "toolfleet";
const ALG = "ES256";

export interface DemoIdentity {
  issuer: string;
  audience: string;
  /** The issuer's public keys, for verifiers configured with static keys. */
  jwks: JSONWebKeySet;
  jwksFile: string;
  tokensDir: string;
  people: Array<DemoPerson & { tokenFile: string; token: string }>;
}

export interface DemoIdentityOptions {
  /** Default `.toolfleet/` (TOOLFLEET_STATE_DIR). */
  dir?: string;
  audience?: string;
  /** Token lifetime; default 24 h. */
  ttlSeconds?: number;
}

async function signingKey(dir: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const keyFile = join(dir, "signing-key.json");
  if (existsSync(keyFile)) {
    const privateJwk = JSON.parse(readFileSync(keyFile, "utf8")) as JWK;
    const { d: _private, ...publicJwk } = privateJwk;
    return { privateJwk, publicJwk: { ...publicJwk, use: "sig" } };
  }
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const kid = `demo-${Date.now().toString(36)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: "sig" };
  writeFileSync(keyFile, JSON.stringify(privateJwk), { mode: 0o600 });
  return { privateJwk, publicJwk };
}

export async function ensureDemoIdentity(options: DemoIdentityOptions = {}): Promise<DemoIdentity> {
  const root = options.dir ?? stateDir();
  const issuerDir = join(root, "demo-issuer");
  const tokensDir = join(root, "tokens");
  mkdirSync(issuerDir, { recursive: true, mode: 0o700 });
  mkdirSync(tokensDir, { recursive: true, mode: 0o700 });
  const { privateJwk, publicJwk } = await signingKey(issuerDir);
  const jwks: JSONWebKeySet = { keys: [publicJwk] };
  const jwksFile = join(issuerDir, "jwks.json");
  writeFileSync(jwksFile, JSON.stringify(jwks, null, 2) + "\n");

  const audience = options.audience ?? DEMO_AUDIENCE;
  const key = await importJWK(privateJwk, ALG);
  const now = Math.floor(Date.now() / 1000);
  const people = [];
  for (const person of DEMO_PEOPLE) {
    const token = await new SignJWT({ groups: person.groups, name: person.name, demo_role: person.role })
      .setProtectedHeader({ alg: ALG, kid: privateJwk.kid!, typ: "JWT" })
      .setIssuer(DEMO_ISSUER)
      .setAudience(audience)
      .setSubject(person.name)
      .setIssuedAt(now)
      .setExpirationTime(now + (options.ttlSeconds ?? 24 * 3600))
      .sign(key);
    const tokenFile = join(tokensDir, `${person.name}.jwt`);
    writeFileSync(tokenFile, token + "\n", { mode: 0o600 });
    chmodSync(tokenFile, 0o600);
    people.push({ ...person, tokenFile, token });
  }
  return { issuer: DEMO_ISSUER, audience, jwks, jwksFile, tokensDir, people };
}
