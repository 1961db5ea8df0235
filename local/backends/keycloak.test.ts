/**
 * The local identity provider as Toolfleet needs it: the demo people with their groups in the
 * `groups` claim, the CLI's client with the registry's and the servers' audiences, the UI's client
 * with the registry's only, and an MCP client that registers itself (RFC 7591) from loopback
 * getting tokens for the servers' audience once the person consents.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt } from "jose";
import { CLI_CLIENT_ID, DEMO_PEOPLE, MCP_AUDIENCE, REGISTRY_AUDIENCE, UI_CLIENT_ID } from "../../registry-api/demo-identity.js";
import { personAccessToken } from "../../cli/test/provider-browser.js";
import { startKeycloak, type KeycloakBackend } from "./harness.js";

let keycloak: KeycloakBackend;
let callback: Server;
let redirectUri: string;

beforeAll(async () => {
  keycloak = await startKeycloak();
  callback = createServer((_req, res) => res.end("ok"));
  await new Promise<void>((r) => callback.listen(0, "127.0.0.1", r));
  redirectUri = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
}, 300_000);
afterAll(() => void callback?.close());

/** The claims of `person`'s access token for `clientId`, signing in on the provider's pages. */
async function accessTokenClaims(clientId: string, person: string): Promise<Record<string, unknown>> {
  return decodeJwt(await personAccessToken(keycloak.issuer, clientId, person, redirectUri));
}

describe("the local identity provider", () => {
  it("issues the CLI's tokens with the person's groups and both audiences, the UI's with the registry's only", async () => {
    for (const person of DEMO_PEOPLE) {
      const claims = await accessTokenClaims(CLI_CLIENT_ID, person.name);
      expect({ sub: claims.sub, groups: claims.groups, aud: [...(claims.aud as string[])].sort(), iss: claims.iss }).toEqual({ sub: person.name, groups: person.groups, aud: [MCP_AUDIENCE, REGISTRY_AUDIENCE].sort(), iss: keycloak.issuer });
    }
    const ui = await accessTokenClaims(UI_CLIENT_ID, "ana");
    expect([ui.aud, ui.groups]).toEqual([REGISTRY_AUDIENCE, ["ads-eng"]]);
  }, 120_000);

  it("lets an MCP client register itself from loopback and get tokens for the servers once the person consents", async () => {
    const discovery = (await (await fetch(`${keycloak.issuer}/.well-known/openid-configuration`)).json()) as { registration_endpoint: string; code_challenge_methods_supported: string[] };
    expect(discovery.code_challenge_methods_supported).toContain("S256");
    const registered = await fetch(discovery.registration_endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_name: "an MCP client", redirect_uris: [redirectUri], token_endpoint_auth_method: "none", grant_types: ["authorization_code"], response_types: ["code"] }),
    });
    expect(registered.status).toBe(201);
    const { client_id } = (await registered.json()) as { client_id: string };
    const claims = await accessTokenClaims(client_id, "ana");
    expect([claims.aud, claims.groups, claims.azp]).toEqual([MCP_AUDIENCE, ["ads-eng"], client_id]);
  }, 120_000);
});
