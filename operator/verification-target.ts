/**
 * Where verification may go. Before any request (and before a token is minted), the URL's host
 * is resolved and every address checked: never link-local or cloud-metadata addresses, never the
 * API server, never an unspecified address; plain http only to a cluster Service name unless the
 * operator allows it (--verify-allow-http). An owner writes spec.remote.url before any review,
 * so without this the operator would fetch whatever they point it at, with its own identity.
 * The connection then goes to exactly the address that passed (operator/pinned-connection.ts).
 *
 * A workload server's own cluster URL (http://<name>.<namespace>.svc.<domain>) is not looked up
 * in DNS: its address is the cluster IP of the Service the operator made for it, from the
 * operator's cache. So verification needs no cluster DNS (the operator may run outside the
 * cluster), and no DNS answer can point it elsewhere.
 */
import { lookup, resolve4, resolve6 } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

export interface TargetPolicy {
  allowPlainHttp: boolean;
  clusterDomain: string;
  /** host:port pairs of the API server (its URL as the operator reaches it, and the in-cluster Service). */
  apiServers: Array<{ address: string; port: number }>;
}

export class TargetRefused extends Error {
  readonly code = "ETARGETREFUSED";
  override readonly name = "TargetRefused";
}

const forbidden = new BlockList();
forbidden.addSubnet("169.254.0.0", 16, "ipv4"); // link-local, cloud metadata (169.254.169.254)
forbidden.addSubnet("fe80::", 10, "ipv6"); // link-local
forbidden.addAddress("fd00:ec2::254", "ipv6"); // AWS metadata over IPv6
forbidden.addAddress("100.100.100.200", "ipv4"); // Alibaba Cloud metadata
forbidden.addAddress("0.0.0.0", "ipv4");
forbidden.addAddress("::", "ipv6");

const METADATA_NAMES = new Set(["metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"]);

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is checked as its IPv4 address. */
const unmapped = (address: string) => {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
};

/** Every address `host` resolves to (A and AAAA); a name with none is an error with its DNS code. */
export async function resolveAll(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  if (!host.includes(".")) return (await lookup(host, { all: true })).map((a) => a.address);
  // c-ares, not getaddrinfo: the libuv thread pool must not queue a fleet's DNS misses.
  const [v4, v6] = await Promise.allSettled([resolve4(host), resolve6(host)]);
  const addresses = [...(v4.status === "fulfilled" ? v4.value : []), ...(v6.status === "fulfilled" ? v6.value : [])];
  if (addresses.length > 0) return addresses;
  throw v4.status === "rejected" ? v4.reason : v6.status === "rejected" ? v6.reason : Object.assign(new Error(`${host} has no address`), { code: "ENODATA" });
}

export function isClusterHost(host: string, clusterDomain: string): boolean {
  return host.endsWith(".svc") || host.endsWith(`.svc.${clusterDomain}`);
}

/**
 * Checks `url` and returns the lookup listServerTools runs before contacting it: it throws
 * TargetRefused (with the reason, never anything the server said) or the DNS error.
 */
export function guardedLookup(url: string, policy: TargetPolicy, resolve: (host: string) => Promise<string[]> = resolveAll): (host: string) => Promise<string[]> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
  return async (hostname: string) => {
    const host = hostname.toLowerCase().replace(/\.$/, "");
    if (METADATA_NAMES.has(host)) throw new TargetRefused(`${host} is a cloud metadata service`);
    if (/^kubernetes(\.default(\.svc(\..+)?)?)?$/.test(host)) throw new TargetRefused(`${host} is the Kubernetes API server`);
    if (u.protocol === "http:" && !policy.allowPlainHttp && !isClusterHost(host, policy.clusterDomain)) {
      throw new TargetRefused(`plain http to ${host}, which is not a cluster Service: use https (or start the operator with --verify-allow-http)`);
    }
    const addresses = await resolve(host);
    for (const raw of addresses) {
      const address = unmapped(raw);
      const family = isIP(address) === 6 ? "ipv6" : "ipv4";
      if (forbidden.check(address, family)) throw new TargetRefused(`${host} resolves to ${address}, a link-local, metadata or unspecified address`);
      if (policy.apiServers.some((a) => unmapped(a.address) === address && a.port === port)) throw new TargetRefused(`${host}:${port} is the Kubernetes API server`);
    }
    return addresses;
  };
}

export class NoServiceAddress extends Error {
  readonly code = "ENOSERVICEIP";
  override readonly name = "NoServiceAddress";
}

/**
 * Resolves the names of a workload server's own Service (`<service>.<namespace>.svc` and
 * `….svc.<clusterDomain>`) to its cluster IP as `clusterIP()` reads it when asked (undefined
 * while the Service is not cached or has none), and every other name with `resolve`.
 */
export function ownServiceResolver(
  service: { name: string; namespace: string; clusterDomain: string; clusterIP: () => string | undefined },
  resolve: (host: string) => Promise<string[]> = resolveAll,
): (host: string) => Promise<string[]> {
  const own = `${service.name}.${service.namespace}.svc`.toLowerCase();
  const names = new Set([own, `${own}.${service.clusterDomain.toLowerCase()}`]);
  return async (host: string) => {
    if (!names.has(host.toLowerCase().replace(/\.$/, ""))) return resolve(host);
    const ip = service.clusterIP();
    if (!ip || ip === "None" || !isIP(ip)) throw new NoServiceAddress(`Service ${service.namespace}/${service.name} has no cluster IP`);
    return [ip];
  };
}
