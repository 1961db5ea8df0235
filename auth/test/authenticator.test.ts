import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthConfigError, bearerChallenge, createAuthenticator, kubernetesJwksFetch, type Authenticator } from "../index.js";
import { AuthError } from "../errors.js";
import { TestIssuer, makeKey } from "./token-issuer.js";

const AUDIENCE = "https://presto.example.com/mcp";
const SA_ISSUER = "https://kubernetes.default.svc.cluster.local";
let idp: TestIssuer;
let cluster: TestIssuer;
let auth: Authenticator;

beforeAll(async () => {
  idp = await TestIssuer.start("https://idp.example.com", AUDIENCE);
  cluster = await TestIssuer.start(SA_ISSUER, AUDIENCE);
  auth = createAuthenticator({
    users: { issuer: idp.issuer, audience: AUDIENCE, keys: { jwksUrl: idp.jwksUrl, cooldownMs: 0 } },
    serviceAccounts: { issuer: SA_ISSUER, audience: AUDIENCE, keys: { jwksUrl: cluster.jwksUrl } },
  });
});
afterAll(async () => {
  await idp.stop();
  await cluster.stop();
});

const refusal = async (header: string | undefined): Promise<AuthError> => {
  const result = await auth.authenticate(header);
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.caller)}`);
  return result.error;
};

describe("people's tokens", () => {
  it("accepts a valid token and reads the subject and groups", async () => {
    const result = await auth.authenticate(`Bearer ${await idp.userToken("ana", ["ads-eng", "finance"])}`);
    expect(result).toMatchObject({ ok: true, caller: { kind: "user", subject: "ana", groups: ["ads-eng", "finance"] } });
  });

  it("reads a groups claim under another name, nested", async () => {
    const nested = createAuthenticator({
      users: { issuer: idp.issuer, audience: AUDIENCE, keys: { jwksUrl: idp.jwksUrl }, groupsClaim: "realm_access.roles" },
    });
    const token = await idp.sign({ sub: "bo", extra: { realm_access: { roles: ["finance"] } } });
    expect(await nested.authenticate(`Bearer ${token}`)).toMatchObject({ ok: true, caller: { groups: ["finance"] } });
  });

  it("treats a token without a groups claim as a person in no groups", async () => {
    expect(await auth.authenticate(`Bearer ${await idp.sign({ sub: "nogroups" })}`)).toMatchObject({ ok: true, caller: { groups: [] } });
  });

  it("refuses every token in the attack set, each with its reason", async () => {
    const reasons: Record<string, string> = {};
    for (const [name, token] of Object.entries(await idp.attackSet())) {
      const err = await refusal(`Bearer ${token}`);
      expect(err.code).toBe("invalid");
      reasons[name] = err.reason;
    }
    expect(reasons).toEqual({
      expired: "token expired",
      "not yet valid": "token not yet valid (nbf is in the future)",
      "wrong issuer": "token from an untrusted issuer",
      "wrong audience": "token not issued for this audience",
      "bad signature": "token signature verification failed",
      "tampered payload": "token signature verification failed",
      "alg none": "token signing algorithm not allowed",
      "HS256 with the public key as secret": "token signing algorithm not allowed",
      "unknown kid": "no trusted key matches the token (unknown kid or algorithm)",
      garbage: "malformed token",
      "garbage segments": "Authorization must be a single Bearer token",
    });
  });

  it("says a missing header is missing, and a non-bearer scheme is invalid", async () => {
    expect((await refusal(undefined)).code).toBe("missing");
    expect((await refusal("Basic YW5hOnB3")).code).toBe("invalid");
  });

  it("accepts a token within the clock skew and refuses one beyond it", async () => {
    expect((await auth.authenticate(`Bearer ${await idp.sign({ expiresIn: -10 })}`)).ok).toBe(true);
    expect((await refusal(`Bearer ${await idp.sign({ expiresIn: -45 })}`)).reason).toBe("token expired");
  });

  it("picks up a rotated key by refetching the JWKS on an unknown kid", async () => {
    const next = await makeKey("key-2");
    const token = await idp.sign({ key: next });
    expect((await refusal(`Bearer ${token}`)).reason).toMatch(/unknown kid/);
    idp.keys.push(next);
    const before = idp.jwksFetches;
    expect((await auth.authenticate(`Bearer ${token}`)).ok).toBe(true);
    expect(idp.jwksFetches).toBe(before + 1);
  });

  it("does not keep a cached token alive past its expiry", async () => {
    const strict = createAuthenticator({ users: { issuer: idp.issuer, audience: AUDIENCE, keys: { jwksUrl: idp.jwksUrl }, clockToleranceSec: 0 } });
    const token = await idp.sign({ expiresIn: 1 });
    expect((await strict.authenticate(`Bearer ${token}`)).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 1100));
    const again = await strict.authenticate(`Bearer ${token}`);
    expect(again.ok ? "accepted" : again.error.reason).toBe("token expired");
  });

  it("answers unavailable, not invalid, when the keys cannot be fetched", async () => {
    const down = createAuthenticator({ users: { issuer: idp.issuer, audience: AUDIENCE, keys: { jwksUrl: "http://127.0.0.1:9/jwks" } } });
    const result = await down.authenticate(`Bearer ${await idp.sign()}`);
    expect(result.ok ? "accepted" : result.error.code).toBe("unavailable");
  });

  it("refuses configurations that would accept forgeries", () => {
    const keys = { jwks: { keys: [] } };
    expect(() => createAuthenticator({ users: { issuer: "i", audience: "a", keys, algorithms: ["HS256"] } })).toThrow(AuthConfigError);
    expect(() => createAuthenticator({ users: { issuer: "i", audience: "a", keys, algorithms: ["none"] } })).toThrow(/algorithm none is not allowed/);
    expect(() => createAuthenticator({})).toThrow(AuthConfigError);
  });
});

describe("service-account tokens", () => {
  const sa = (ns: string, name: string, extra = {}) =>
    cluster.sign({ sub: `system:serviceaccount:${ns}:${name}`, extra: { "kubernetes.io": { namespace: ns, serviceaccount: { name, uid: "u1" } }, ...extra } });

  it("maps the subject to the service account", async () => {
    expect(await auth.authenticate(`Bearer ${await sa("agents", "incident-bot")}`)).toMatchObject({
      ok: true,
      caller: { kind: "serviceAccount", namespace: "agents", name: "incident-bot" },
    });
  });

  it("refuses a cluster token for another audience, and one whose claims disagree", async () => {
    const other = await cluster.sign({ sub: "system:serviceaccount:agents:bot", aud: "https://kubernetes.default.svc" });
    expect((await refusal(`Bearer ${other}`)).reason).toBe("token not issued for this audience");
    const forged = await cluster.sign({ sub: "system:serviceaccount:agents:bot", extra: { "kubernetes.io": { namespace: "kube-system", serviceaccount: { name: "bot" } } } });
    expect((await refusal(`Bearer ${forged}`)).reason).toMatch(/disagrees with its subject/);
    expect((await refusal(`Bearer ${await cluster.sign({ sub: "ana" })}`)).reason).toMatch(/not a service-account token/);
  });

  it("does not accept a cluster-signed token claiming the IdP's issuer, nor the reverse", async () => {
    const wrongKey = await cluster.sign({ iss: idp.issuer, sub: "ana", extra: { groups: ["ads-eng"] } });
    expect((await refusal(`Bearer ${wrongKey}`)).code).toBe("invalid");
    const idpAsSa = await idp.sign({ iss: SA_ISSUER, sub: "system:serviceaccount:agents:incident-bot" });
    expect((await refusal(`Bearer ${idpAsSa}`)).code).toBe("invalid");
  });

  it("fetches the cluster's keys over TLS with its CA and credentials", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kit-ca-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { cwd: dir, stdio: "ignore" });
    const ca = readFileSync(join(dir, "cert.pem"));
    const server = createServer({ cert: ca, key: readFileSync(join(dir, "key.pem")) }, (req, res) => {
      if (req.url !== "/openid/v1/jwks" || req.headers.authorization !== "Bearer admin-token") {
        res.statusCode = 401;
        return res.end();
      }
      res.setHeader("content-type", "application/jwk-set+json");
      res.end(JSON.stringify({ keys: cluster.keys.map((k) => k.jwk) }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/openid/v1/jwks`;
    const viaCluster = (bearerToken?: string) =>
      // Only the key fetch is under test here: this fake API server has no TokenReview
      // (service-account-liveness.test.ts checks that against the real control plane).
      createAuthenticator({
        serviceAccounts: { issuer: SA_ISSUER, audience: AUDIENCE, keys: { jwksUrl: url, fetch: kubernetesJwksFetch({ ca, ...(bearerToken ? { bearerToken } : {}) }) }, liveness: "off" },
      });
    try {
      const token = `Bearer ${await sa("agents", "incident-bot")}`;
      expect(await viaCluster("admin-token").authenticate(token)).toMatchObject({ ok: true, caller: { name: "incident-bot" } });
      const anonymous = await viaCluster().authenticate(token);
      expect(anonymous.ok ? "accepted" : anonymous.error.code).toBe("unavailable");
      const noCa = await createAuthenticator({ serviceAccounts: { issuer: SA_ISSUER, audience: AUDIENCE, keys: { jwksUrl: url } } }).authenticate(token);
      expect(noCa.ok ? "accepted" : noCa.error.code).toBe("unavailable");
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe("bearerChallenge", () => {
  it("points at the resource metadata and explains an invalid token", () => {
    const meta = "https://presto.example.com/.well-known/oauth-protected-resource/mcp";
    expect(bearerChallenge(meta)).toBe(`Bearer resource_metadata="${meta}"`);
    expect(bearerChallenge(meta, new AuthError("invalid", 'bad "quote"'))).toBe(
      `Bearer resource_metadata="${meta}", error="invalid_token", error_description="bad \\"quote\\""`,
    );
  });
});

