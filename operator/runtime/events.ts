/** Kubernetes Events (core/v1) about an object, for `kubectl describe`. */
import { randomBytes } from "node:crypto";
import type { KubeClient } from "./kube-client.js";
import { apiVersionOf, CoreTypes, type KubeObject, type ResourceType } from "./objects.js";
import type { Logger } from "./log.js";

export type EventType = "Normal" | "Warning";

export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly log: Logger,
  ) {}

  /** Best effort: a lost Event must never fail a reconcile. */
  async record(type: ResourceType, obj: KubeObject, eventType: EventType, reason: string, message: string): Promise<void> {
    const now = new Date().toISOString();
    const namespace = obj.metadata.namespace ?? "default";
    try {
      await this.client.create(CoreTypes.Event, {
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
    } catch (err) {
      this.log.warn("could not record an event", { reason, error: (err as Error).message });
    }
  }
}
