/**
 * A real token issuer for tests: RSA keys, a JWKS served over HTTP on loopback (counting its
 * fetches), and every forged or broken token the verifiers must refuse.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from "jose";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

export async function makeKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, publicKey, jwk };
}

export interface TokenClaims {
  sub?: string;
  iss?: string;
  aud?: string | string[];
  /** Seconds from now; negative for the past. Default 300. */
  expiresIn?: number;
  /** Seconds from now. */
  notBefore?: number;
  extra?: JWTPayload;
  key?: SigningKey;
  /** Sign with this key but claim another kid. */
  kid?: string;
}

export class TestIssuer {
  readonly keys: SigningKey[] = [];
  jwksFetches = 0;
  private server?: Server;
  jwksUrl = "";

  constructor(
    readonly issuer: string,
    readonly audience: string,
  ) {}

  static async start(issuer: string, audience: string): Promise<TestIssuer> {
    const t = new TestIssuer(issuer, audience);
    t.keys.push(await makeKey("key-1"));
    t.server = createServer((_req, res) => {
      t.jwksFetches++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: t.keys.map((k) => k.jwk) }));
    });
    await new Promise<void>((resolve) => t.server!.listen(0, "127.0.0.1", resolve));
    t.jwksUrl = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}/jwks`;
    return t;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  get key(): SigningKey {
    return this.keys[0] as SigningKey;
  }

  async sign(claims: TokenClaims = {}): Promise<string> {
    const key = claims.key ?? this.key;
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ ...(claims.extra ?? {}) })
      .setProtectedHeader({ alg: "RS256", kid: claims.kid ?? key.kid, typ: "JWT" })
      .setSubject(claims.sub ?? "ana")
      .setIssuer(claims.iss ?? this.issuer)
      .setAudience(claims.aud ?? this.audience)
      .setIssuedAt(now - 5)
      .setExpirationTime(now + (claims.expiresIn ?? 300));
    if (claims.notBefore !== undefined) jwt.setNotBefore(now + claims.notBefore);
    return jwt.sign(key.privateKey);
  }

  async userToken(sub: string, groups: string[], claims: TokenClaims = {}): Promise<string> {
    return this.sign({ ...claims, sub, extra: { groups, ...(claims.extra ?? {}) } });
  }

  /** Every token in the attack set, by name; each must be refused. */
  async attackSet(): Promise<Record<string, string>> {
    const valid = { sub: "ana", extra: { groups: ["ads-eng"] } };
    const stranger = await makeKey("key-1"); // same kid, another key: a bad signature
    const unknown = await makeKey("key-unknown");
    const b64 = (x: object) => Buffer.from(JSON.stringify(x)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: "ana", iss: this.issuer, aud: this.audience, exp: now + 300, iat: now, groups: ["ads-eng"] };
    const pem = await exportSPKI(this.key.publicKey);
    const hs256 = await new SignJWT(payload).setProtectedHeader({ alg: "HS256", kid: this.key.kid }).sign(new TextEncoder().encode(pem));
    const good = await this.sign(valid);
    const [h, p] = good.split(".");
    return {
      expired: await this.sign({ ...valid, expiresIn: -120 }),
      "not yet valid": await this.sign({ ...valid, notBefore: 600 }),
      "wrong issuer": await this.sign({ ...valid, iss: "https://evil.example.com" }),
      "wrong audience": await this.sign({ ...valid, aud: "https://other-server.example.com/mcp" }),
      "bad signature": await this.sign({ ...valid, key: stranger }),
      "tampered payload": `${h}.${b64({ ...payload, groups: ["data-platform"] })}.${good.split(".")[2]}`,
      "alg none": `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.`,
      "HS256 with the public key as secret": hs256,
      "unknown kid": await this.sign({ ...valid, key: unknown }),
      garbage: "not-a-jwt",
      "garbage segments": `${h}.%%%.${p}`,
    };
  }
}
