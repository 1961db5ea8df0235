import { describe, expect, it } from "@jest/globals";
import { cachedServerShape, LAST_APPLIED_ANNOTATION } from "../cached-server.js";
import type { KubeObject } from "../../runtime/index.js";

const server = (name: string): KubeObject =>
  ({
    apiVersion: "toolfleet.dev/v1alpha1",
    kind: "McpServer",
    metadata: {
      name,
      namespace: "team-a",
      uid: `uid-${name}`,
      resourceVersion: "7",
      annotations: { [LAST_APPLIED_ANNOTATION]: '{"spec":{"title":"a copy of the manifest"}}', "team.example.com/owner": "sam" },
      managedFields: [{ manager: "kubectl", operation: "Apply" }],
    },
    spec: { title: `Server ${name}`, tools: [{ name: "lookup", readOnly: true }] },
    status: { phase: "PendingReview", conditions: [{ type: "Reviewed", status: "False", reason: "ReviewPending", message: "waiting for the review of security" }] },
  }) as unknown as KubeObject;

describe("what the operator caches of an McpServer", () => {
  it("drops managedFields and kubectl's last-applied copy, and keeps everything else as it was", () => {
    const shape = cachedServerShape();
    const cached = shape(server("s1"));
    const { managedFields: _m, annotations: _a, ...identity } = server("s1").metadata;
    expect(cached).toEqual({ ...server("s1"), metadata: { ...identity, annotations: { "team.example.com/owner": "sam" } } });
  });

  it("leaves an object with neither as it is", () => {
    const plain = { apiVersion: "toolfleet.dev/v1alpha1", kind: "McpServer", metadata: { name: "s2", namespace: "team-a" }, spec: { title: "Plain" } } as unknown as KubeObject;
    expect(cachedServerShape()(JSON.parse(JSON.stringify(plain)) as KubeObject)).toEqual(plain);
  });
});
