/**
 * Key sets decide which tokens pass, so they are fetched over https only (plain http only from
 * this machine's loopback). Refused where the kit and the registry are configured, and by the
 * shared authenticator itself, before any fetch.
 */
import { describe, expect, it } from "@jest/globals";
import { AuthConfigError, checkKeySetUrl, createAuthenticator } from "../index.js";
import { loadRegistryConfig } from "../../registry-api/config.js";
import { optionsFromEnv } from "../../servers/kit/env.js";

const plainHttp = ["http://idp.example.com/jwks", "http://10.0.0.7:8080/jwks", "http://kubernetes.default.svc/openid/v1/jwks", "http://[fd00::1]/jwks", "http://127.0.0.1.nip.io/jwks"];
const allowed = ["https://idp.example.com/jwks", "http://127.0.0.1:9000/jwks", "http://localhost:9000/jwks", "http://[::1]:9000/jwks", "http://127.8.9.10/jwks"];

describe("where a key set may come from", () => {
  it.each(plainHttp)("refuses %s, naming the option", (url) => {
    expect(() => checkKeySetUrl(url, "users.keys")).toThrow(/^users\.keys: .*plain http to another host/);
  });
  it.each(allowed)("accepts %s", (url) => {
    expect(checkKeySetUrl(url, "x").href).toBe(new URL(url).href);
  });
  it("refuses other schemes and credentials in the URL", () => {
    expect(() => checkKeySetUrl("file:///etc/jwks.json", "x")).toThrow(/not an https URL/);
    expect(() => checkKeySetUrl("https://user:pw@idp.example.com/jwks", "x")).toThrow(/credentials/);
    expect(() => checkKeySetUrl("not a url", "x")).toThrow(/not a URL/);
  });

  it("the shared authenticator refuses a plain-http key set from another host at construction", () => {
    for (const url of plainHttp) {
      expect(() => createAuthenticator({ users: { issuer: "https://idp.example.com", audience: "a", keys: { jwksUrl: url } } })).toThrow(AuthConfigError);
      expect(() => createAuthenticator({ serviceAccounts: { issuer: "https://k8s", audience: "a", keys: { jwksUrl: url } } })).toThrow(AuthConfigError);
    }
    expect(() => createAuthenticator({ users: { issuer: "https://idp.example.com", audience: "a", keys: { jwksUrl: "http://127.0.0.1:1/jwks" } } })).not.toThrow();
  });

  it("the registry refuses it at start, naming --oidc-jwks-url", () => {
    const env = { REGISTRY_OIDC_ISSUER: "https://idp.example.com", REGISTRY_OIDC_AUDIENCE: "https://registry.example.com" };
    for (const url of plainHttp) {
      expect(() => loadRegistryConfig([], { ...env, REGISTRY_OIDC_JWKS_URL: url })).toThrow(/^--oidc-jwks-url \(REGISTRY_OIDC_JWKS_URL\): .*plain http/);
    }
    expect(loadRegistryConfig([], { ...env, REGISTRY_OIDC_JWKS_URL: "https://idp.example.com/jwks" }).users?.jwksUrl).toBe("https://idp.example.com/jwks");
  });

  it("the kit refuses it at start, naming the variable", () => {
    for (const url of plainHttp) {
      expect(() => optionsFromEnv({ TOOLFLEET_OIDC_ISSUER: "https://idp.example.com", TOOLFLEET_OIDC_JWKS_URL: url })).toThrow(/TOOLFLEET_OIDC_JWKS_URL: .*https/);
      expect(() => optionsFromEnv({ TOOLFLEET_SA_ISSUER: "https://k8s", TOOLFLEET_SA_JWKS_URL: url })).toThrow(/TOOLFLEET_SA_JWKS_URL: .*https/);
    }
    const ok = optionsFromEnv({ TOOLFLEET_OIDC_ISSUER: "https://idp.example.com", TOOLFLEET_OIDC_JWKS_URL: "http://127.0.0.1:8080/jwks" });
    expect(ok.auth.users?.keys).toEqual({ jwksUrl: "http://127.0.0.1:8080/jwks" });
  });
});
