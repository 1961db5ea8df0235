/**
 * Kubernetes Events (core/v1) about an object, for `kubectl describe`. Sent in the background
 * from a bounded buffer, through their own client and rate limit, as client-go's broadcaster
 * does: Events are for people, and must never slow or fail a reconcile.
 */
import { randomBytes } from "node:crypto";
import type { KubeClient } from "./kube-client.js";
import { apiVersionOf, CoreTypes, type KubeObject, type ResourceType } from "./objects.js";
import type { Logger } from "../common/log.js";

export type EventType = "Normal" | "Warning";

export class EventRecorder {
  private readonly buffer: KubeObject[] = [];
  private sending = false;
  private dropped = 0;
  private idle: Array<() => void> = [];

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly log: Logger,
    private readonly maxBuffered = 1000,
  ) {}

  record(type: ResourceType, obj: KubeObject, eventType: EventType, reason: string, message: string): void {
    if (this.buffer.length >= this.maxBuffered) {
      if (this.dropped++ % 100 === 0) this.log.warn("event buffer full; dropping events", { dropped: this.dropped });
      return;
    }
    const now = new Date().toISOString();
    const namespace = obj.metadata.namespace ?? "default";
    this.buffer.push({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString("hex")}`, namespace },
      involvedObject: {
        apiVersion: apiVersionOf(type),
        kind: type.kind,
        name: obj.metadata.name,
        namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      type: eventType,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    } as KubeObject);
    void this.drain();
  }

  /** Resolves once every buffered event has been sent (or given up on). */
  flush(): Promise<void> {
    if (!this.sending && this.buffer.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    while (this.buffer.length > 0) {
      const event = this.buffer.shift()!;
      try {
        await this.client.create(CoreTypes.Event, event);
      } catch (err) {
        this.log.warn("could not record an event", { reason: (event as unknown as { reason: string }).reason, error: (err as Error).message });
      }
    }
    this.sending = false;
    const idle = this.idle;
    this.idle = [];
    for (const f of idle) f();
  }
}
