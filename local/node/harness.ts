/**
 * What real-node test suites use: the node itself (started once, then reused by every suite
 * and run), namespaces whose pods go to it, and the locally built Node image. The bulk of the
 * suites never import this and keep the fast kwok node: the real node is tainted, and only a
 * namespace carrying the annotations below gets the toleration and the node selector, added
 * by the API server's PodTolerationRestriction and PodNodeSelector admission plugins — so the
 * operator's Deployments land on it with no change to the operator.
 */
import { CoreV1Api } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { adminConfig } from "../cluster/harness.js";
import { REAL_NODE_LABEL, REAL_NODE_TAINT } from "./config.js";
import { nodeImage } from "./images.js";
import { startRealNode, type NodeState } from "./node.js";

export { REAL_NODE } from "./config.js";

/** Namespace annotations that send every pod of the namespace to the real node. */
export const REAL_NODE_NAMESPACE_ANNOTATIONS = {
  "scheduler.alpha.kubernetes.io/node-selector": `${REAL_NODE_LABEL.key}=${REAL_NODE_LABEL.value}`,
  "scheduler.alpha.kubernetes.io/defaultTolerations": JSON.stringify([{ key: REAL_NODE_TAINT.key, operator: "Exists", effect: REAL_NODE_TAINT.effect }]),
};

/** Starts the real node unless it runs (first call: builds, ~1 min to Ready once built). */
export function ensureRealNode(): Promise<NodeState> {
  return startRealNode();
}

/** A fresh namespace `<prefix>-<random>` whose pods run on the real node. */
export async function realNodeNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`.slice(0, 63);
  await adminConfig()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name, labels: { "toolfleet.dev/test": "true", ...labels }, annotations: REAL_NODE_NAMESPACE_ANNOTATIONS } } });
  return name;
}

/** The Node image the node has imported (reference for `imagePullPolicy: Never`). */
export function nodeImageRef(): string {
  return nodeImage().ref;
}
