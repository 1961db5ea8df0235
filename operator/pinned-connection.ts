/**
 * A fetch whose every connection goes to one address, whatever the URL's host resolves to by
 * then: verification resolves a target once, checks that address, and connects to exactly it.
 * Without the pin the HTTP client would resolve the name again, and a DNS answer that changed
 * in between (rebinding) would send the operator's request and token where the check refused to.
 * The URL is left as it is, so the Host header and TLS server name (SNI) remain the name.
 */
import { isIP } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";

export type PinnedFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface PinnedConnection {
  fetch: PinnedFetch;
  close(): Promise<void>;
}

type LookupCallback = (err: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void;

export function pinnedConnection(address: string): PinnedConnection {
  const family = isIP(address);
  if (family === 0) throw new TypeError(`cannot pin a connection to "${address}": not an IP address`);
  // Called by net.connect and tls.connect for a host name; an IP host is connected to as it is
  // (and was itself the checked address).
  const lookup = (_hostname: string, options: { all?: boolean }, callback: LookupCallback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const agent = new Agent({ connect: { lookup } });
  const fetch: PinnedFetch = (url, init) => undiciFetch(url, { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
  return { fetch, close: () => agent.close() };
}
