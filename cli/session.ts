/**
 * The signed-in person's access token for each command: read from the session file, refreshed
 * with the refresh token when it has expired (or is about to), and refused with "run toolfleet
 * login" when neither works, so no command ever sends a token it knows is dead.
 */
import { CliError, EXIT } from "./errors.js";
import { identityOf, refreshTokens } from "./oidc.js";
import { readSession, writeSession, type Session } from "./settings.js";

/** Refresh a little before expiry: the request must still be valid when it arrives. */
const EARLY_SECONDS = 30;

export async function activeSession(env: NodeJS.ProcessEnv = process.env, now = Date.now() / 1000): Promise<Session> {
  const session = readSession(env);
  if (!session) throw new CliError("not signed in: run toolfleet login --registry <url>", EXIT.notSignedIn);
  if (session.expiresAt - EARLY_SECONDS > now) return session;
  if (!session.refreshToken) throw new CliError(`your session as ${session.user} expired: run toolfleet login`, EXIT.notSignedIn);
  const fresh = await refreshTokens(session.tokenEndpoint, session.clientId, session.refreshToken);
  if (!fresh) throw new CliError(`your session as ${session.user} expired and the provider would not refresh it: run toolfleet login`, EXIT.notSignedIn);
  const who = identityOf(fresh.access_token);
  const next: Session = {
    ...session,
    accessToken: fresh.access_token,
    expiresAt: who.expiresAt || Math.floor(now) + (fresh.expires_in ?? 60),
    ...(fresh.refresh_token ? { refreshToken: fresh.refresh_token } : {}),
    ...(fresh.id_token ? { idToken: fresh.id_token } : {}),
    user: who.user,
    groups: who.groups,
  };
  writeSession(next, env);
  return next;
}
