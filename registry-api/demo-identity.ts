/**
 * The demo people of `make run` and the tests, and how the local identity provider is set up
 * for Toolfleet. The people, their groups and their passwords are the users of the Keycloak
 * realm file (local/backends/keycloak-realm.json), read from there so the two never disagree.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { repoRoot } from "../local/cluster/paths.js";

/** The audience of tokens for the registry API and UI. */
export const REGISTRY_AUDIENCE = "toolfleet-registry";
/** The audience of tokens for the domain servers (the provider cannot issue one per server URL: no RFC 8707). */
export const MCP_AUDIENCE = "toolfleet-mcp";
/** The public client of the toolfleet CLI (loopback PKCE and device flow). */
export const CLI_CLIENT_ID = "toolfleet-cli";
/** The public client of the registry's web UI (authorization code with PKCE). */
export const UI_CLIENT_ID = "toolfleet-registry-ui";

export interface DemoPerson {
  name: string;
  groups: string[];
  /** What the person is in the demo. */
  role: string;
  /** Demo only: each person's password is their name. */
  password: string;
}

const RealmUsers = z.object({
  users: z.array(
    z.object({
      username: z.string(),
      groups: z.array(z.string()).default([]),
      attributes: z.object({ demo_role: z.array(z.string()).optional() }).loose().optional(),
      credentials: z.array(z.object({ type: z.string(), value: z.string() })).default([]),
    }),
  ),
});

export const realmFile = () => join(repoRoot(), "local", "backends", "keycloak-realm.json");

function readDemoPeople(): DemoPerson[] {
  const realm = RealmUsers.parse(JSON.parse(readFileSync(realmFile(), "utf8")));
  return realm.users.map((u) => ({
    name: u.username,
    // The realm names groups by path (/ads-eng); the groups claim carries the plain name.
    groups: u.groups.map((g) => g.replace(/^\//, "")),
    role: u.attributes?.demo_role?.[0] ?? "",
    password: u.credentials.find((c) => c.type === "password")?.value ?? "",
  }));
}

/** The samples' servers admit data-platform, ads-eng, finance and ml-eng; marketing is in none. */
export const DEMO_PEOPLE: readonly DemoPerson[] = readDemoPeople();
