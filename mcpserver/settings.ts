/**
 * The settings the operator, the registry and `make run` must agree on, with their defaults in
 * one place: a registry name, a server's URL and its verifier are derived from them on each side.
 */
import { SYSTEM_NAMESPACE } from "../crds/index.js";

/** Registry names are `<prefix>.<namespace>/<name>`. */
export const DEFAULT_REGISTRY_PREFIX = "dev.toolfleet.local";
/** The cluster's DNS domain, for a workload server's Service URL. */
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";
/** The operator's service account (namespace/name), which may list tools and call none. */
export const DEFAULT_VERIFIER_SERVICE_ACCOUNT = `${SYSTEM_NAMESPACE}/toolfleet-operator`;
/**
 * The audience of the service-account tokens servers report usage with: the registry accepts
 * it (--service-account-audience), the operator projects a token for it into every workload pod.
 */
export const DEFAULT_USAGE_AUDIENCE = "toolfleet-usage";
