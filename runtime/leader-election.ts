/**
 * Leader election on a coordination.k8s.io Lease, after client-go's: the leader renews the
 * lease every retry period; a candidate takes it once it has seen the same record unchanged for
 * a whole lease duration (measured on its own clock, so clocks need not agree); updates carry
 * the resourceVersion read, so two candidates can never both win. On a clean shutdown the
 * leader releases the lease so a standby takes over at once.
 */
import { KubeApiError, type KubeClient } from "./kube-client.js";
import { CoreTypes, type KubeObject } from "./objects.js";
import { sleep } from "./backoff.js";
import { silentLogger, type Logger } from "../common/log.js";

interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  /** The leader gives up if it could not renew for this long (less than the lease duration). */
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log?: Logger;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
const microTime = (d = new Date()) => d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private observed: { record: string; at: number } | undefined;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly options: LeaderElectionOptions,
  ) {
    this.leaseDurationMs = options.leaseDurationMs ?? 12_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 8_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationMs) throw new RangeError("leader election: the renew deadline must be shorter than the lease duration");
    this.log = (options.log ?? silentLogger).child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until leading, then calls `onStartedLeading` and keeps renewing. If a renewal
   * does not succeed within the renew deadline (e.g. the API server is down), it calls
   * `onStoppedLeading` — the caller must stop writing — and campaigns again, so a replica
   * rides out an API server restart without restarting itself.
   */
  start(callbacks: { onStartedLeading: () => void; onStoppedLeading: () => void }): void {
    this.loop = this.run(callbacks);
  }

  private async run(cb: { onStartedLeading: () => void; onStoppedLeading: () => void }): Promise<void> {
    while (!this.stopped) {
      while (!this.stopped && !this.leading) {
        if (await this.tryAcquireOrRenew()) {
          this.leading = true;
          this.log.info("became the leader");
          cb.onStartedLeading();
          break;
        }
        await sleep(this.retryPeriodMs * (1 + Math.random() * 0.2), this.abort.signal);
      }
      let lastRenew = Date.now();
      while (!this.stopped && this.leading) {
        await sleep(this.retryPeriodMs, this.abort.signal);
        if (this.stopped) break;
        if (await this.tryAcquireOrRenew()) {
          lastRenew = Date.now();
          continue;
        }
        if (Date.now() - lastRenew > this.renewDeadlineMs) {
          this.leading = false;
          this.log.warn("lost the lease: could not renew it within the renew deadline; campaigning again");
          cb.onStoppedLeading();
        }
      }
    }
  }

  /** Stops campaigning; a leader hands the lease over by clearing its holder. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.client.get<Lease>(CoreTypes.Lease, this.options.namespace, this.options.name);
      if (lease?.spec?.holderIdentity !== this.options.identity) return;
      await this.client.replace(CoreTypes.Lease, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime() },
      } as Lease);
      this.log.info("released the lease");
    } catch (err) {
      this.log.warn("could not release the lease; a standby takes over when it expires", { error: (err as Error).message });
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = new Date();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    try {
      const lease = await this.client.get<Lease>(CoreTypes.Lease, namespace, name);
      if (!lease) {
        await this.client.create(CoreTypes.Lease, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        } as Lease);
        return true;
      }
      const spec = lease.spec ?? {};
      const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
      if (!this.observed || this.observed.record !== record) this.observed = { record, at: Date.now() };
      const holder = spec.holderIdentity ?? "";
      const heldByOther = holder !== "" && holder !== identity;
      const expired = Date.now() > this.observed.at + (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (heldByOther && !expired) return false;
      const taking = holder !== identity;
      await this.client.replace(CoreTypes.Lease, {
        ...lease,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          renewTime: microTime(now),
          acquireTime: taking ? microTime(now) : spec.acquireTime,
          leaseTransitions: (spec.leaseTransitions ?? 0) + (taking ? 1 : 0),
        },
      } as Lease);
      return true;
    } catch (err) {
      // A conflict means another candidate wrote first: not leader this round.
      if (!(err instanceof KubeApiError && err.conflict)) this.log.warn("lease update failed", { error: (err as Error).message });
      return false;
    }
  }
}
