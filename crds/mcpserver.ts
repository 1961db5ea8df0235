/**
 * The McpServer API (`toolfleet.dev/v1alpha1`): the single source of truth. The CRD YAML,
 * the TypeScript types and every validation in the project come from the schemas below.
 * Descriptions become `kubectl explain`; rules in `withRules` run both in the API server (CEL)
 * and in TypeScript (zod).
 */
import { z } from "zod";
import { withRules } from "./cel.js";

export const GROUP = "toolfleet.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "McpServer";
export const PLURAL = "mcpservers";
export const SINGULAR = "mcpserver";
export const SHORT_NAMES = ["mcps"];
export const CATEGORIES = ["toolfleet"];

/** RFC 1035 label: what a Service name must be, since each server gets one. */
export const DNS_LABEL = "^[a-z]([-a-z0-9]*[a-z0-9])?$";
/** MCP tool names: letters, digits, `_`, `-` and `.`, as the specification recommends. */
export const TOOL_NAME = "^[A-Za-z0-9_][A-Za-z0-9_.-]*$";
/** A business group as it appears in a token's groups claim: no spaces or commas. */
export const GROUP_NAME = "^[^\\s,]+$";
/** `namespace/name` of a Kubernetes ServiceAccount. */
export const SERVICE_ACCOUNT_REF = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$";
/** An OCI image reference: `registry/repo[:tag][@sha256:digest]`. */
export const IMAGE_REF = "^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$";
export const DIGEST_PINNED = /@sha256:[a-f0-9]{64}$/;
/** A review area's name, such as `security`. */
export const AREA_NAME = "^[a-z][a-z0-9-]{0,30}$";
export const SEMVER = "^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$";
const ENV_NAME = "^[-._a-zA-Z][-._a-zA-Z0-9]*$";
const QUANTITY = "^[0-9]+(\\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$";

const re = (pattern: string) => new RegExp(pattern);

/**
 * What a review vouches for, stated once (README "What a review covers" says the same): the whole
 * spec but spec.review and the operational knobs spec.workload.replicas and
 * spec.workload.resources. A change to any reviewed field makes every approval stale.
 */
export const REVIEWED = "Reviewed: changing it needs every required review again.";
export const NOT_REVIEWED = "Not reviewed: an operational setting that applies at once.";
const reviewed = (what: string) => `${what} ${REVIEWED}`;

const groupList = (what: string) =>
  z
    .array(z.string().min(1).max(128).regex(re(GROUP_NAME)))
    .max(64)
    .describe(what)
    .meta({ "x-kubernetes-list-type": "set" });

export const ToolSpec = withRules(
  z
    .object({
      name: z
        .string()
        .min(1)
        .max(64)
        .regex(re(TOOL_NAME))
        .describe(reviewed("The tool's name exactly as the server lists it in tools/list.")),
      description: z
        .string()
        .max(500)
        .optional()
        .describe(reviewed("What the tool does, for the registry and reviewers; verification compares it with the running server's description.")),
      readOnly: z
        .boolean()
        .default(false)
        .describe(reviewed("The tool only reads. Service accounts may call read-only tools only, unless allowServiceAccounts says otherwise. Turning it off applies at once (it narrows access); turning it on is reviewed.")),
      sensitive: z
        .boolean()
        .default(false)
        .describe(reviewed("A person must confirm every call (MCP elicitation) before the tool runs; services can never call it. Turning it on applies at once (it narrows access).")),
      minutesSaved: z
        .number()
        .min(0)
        .max(1440)
        .default(0)
        .describe(reviewed("The owner's estimate of the minutes of work one successful call saves; it feeds the time-saved metric.")),
      allowedGroups: groupList(
        reviewed("Narrows who may call this tool to these groups, which must all be among spec.access.allowedGroups. Unset: everyone the server admits. Narrowing applies at once."),
      ).optional(),
      allowServiceAccounts: z
        .boolean()
        .default(false)
        .describe(reviewed("Lets the server's service accounts call this tool even though it is not read-only. Turning it off applies at once.")),
    })
    .strict()
    .describe("A tool the server offers; the operator checks the server really lists exactly these, with this description and these hints. Every field is reviewed."),
  [
    {
      cel: "!(self.sensitive && self.allowServiceAccounts)",
      message: "allowServiceAccounts cannot be set on a sensitive tool: no person is there to confirm a service's call",
      fieldPath: ".allowServiceAccounts",
      holds: (t) => !(t.sensitive && t.allowServiceAccounts),
    },
  ],
);
export type ToolSpec = z.output<typeof ToolSpec>;

const SecretOrConfigMapKey = z
  .object({
    name: z.string().min(1).max(253).describe("The object's name, in the server's namespace. The reference is reviewed; the value it holds is not."),
    key: z.string().min(1).max(253).describe("The key within it."),
    optional: z.boolean().optional().describe("Start even if the key is missing."),
  })
  .strict();

export const EnvVar = withRules(
  z
    .object({
      name: z.string().min(1).max(128).regex(re(ENV_NAME)).describe("The environment variable's name."),
      value: z.string().max(4096).optional().describe("A literal value; never put secrets here, use valueFrom."),
      valueFrom: z
        .object({
          secretKeyRef: SecretOrConfigMapKey.optional().describe("A key of a Secret."),
          configMapKeyRef: SecretOrConfigMapKey.optional().describe("A key of a ConfigMap."),
        })
        .strict()
        .optional()
        .describe("Where the value comes from: a Secret or a ConfigMap key, by reference."),
    })
    .strict()
    .describe(reviewed("An environment variable of the server's container; names, literal values and references (not the referenced values) are reviewed.")),
  [
    {
      cel: "has(self.value) != has(self.valueFrom)",
      message: "env: set exactly one of value or valueFrom",
      holds: (e) => (e.value !== undefined) !== (e.valueFrom !== undefined),
    },
    {
      cel: "!has(self.valueFrom) || (has(self.valueFrom.secretKeyRef) != has(self.valueFrom.configMapKeyRef))",
      message: "env.valueFrom: set exactly one of secretKeyRef or configMapKeyRef",
      fieldPath: ".valueFrom",
      holds: (e) =>
        e.valueFrom === undefined || (e.valueFrom.secretKeyRef !== undefined) !== (e.valueFrom.configMapKeyRef !== undefined),
    },
  ],
);

const ResourceList = z
  .object({
    cpu: z.string().max(32).regex(re(QUANTITY)).optional().describe("CPU, as a Kubernetes quantity (e.g. 250m)."),
    memory: z.string().max(32).regex(re(QUANTITY)).optional().describe("Memory, as a Kubernetes quantity (e.g. 256Mi)."),
  })
  .strict();

export const WorkloadSpec = z
  .object({
    image: z
      .string()
      .min(1)
      .max(512)
      .regex(re(IMAGE_REF))
      .describe(reviewed("The container image. Pin it by digest (@sha256:…): a tag-only image is never counted as approved unless the cluster allows tags.")),
    port: z.number().int().min(1).max(65535).default(8080).describe(reviewed("The port the server listens on.")),
    path: z
      .string()
      .max(128)
      .regex(/^\/[A-Za-z0-9._~/-]*$/)
      .default("/mcp")
      .describe(reviewed("The HTTP path of the MCP endpoint (Streamable HTTP).")),
    replicas: z.number().int().min(0).max(50).default(1).describe(`Replicas once the server is approved; it runs 0 until then. ${NOT_REVIEWED}`),
    env: z.array(EnvVar).max(64).optional().describe(reviewed("Environment variables; secrets by reference only. Names, values and references are reviewed; what a referenced Secret or ConfigMap holds is not.")),
    resources: z
      .object({
        requests: ResourceList.optional().describe("What the container is guaranteed."),
        limits: ResourceList.optional().describe("What the container may use at most."),
      })
      .strict()
      .optional()
      .describe(`CPU and memory for the server's container. ${NOT_REVIEWED}`),
  })
  .strict()
  .describe("Run the server in the cluster from this image. Exactly one of workload and remote.");
export type WorkloadSpec = z.output<typeof WorkloadSpec>;

export const RemoteSpec = withRules(
  z
    .object({
      url: z
        .string()
        .min(1)
        .max(2048)
        .regex(/^https?:\/\/[^\s/?#]+[^\s]*$/)
        .describe(reviewed("The server's Streamable HTTP endpoint (http or https).")),
    })
    .strict()
    .describe("Register a server that runs elsewhere; nothing is deployed. Exactly one of workload and remote."),
  [
    {
      cel: "isURL(self.url) && url(self.url).getScheme() in ['http', 'https'] && url(self.url).getHostname() != ''",
      message: "remote.url must be an absolute http or https URL",
      fieldPath: ".url",
      holds: (r) => {
        try {
          const u = new URL(r.url);
          return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
        } catch {
          return false;
        }
      },
    },
  ],
);
export type RemoteSpec = z.output<typeof RemoteSpec>;

export const AccessSpec = z
  .object({
    allowedGroups: groupList(reviewed("People in any of these groups (the token's groups claim) may use the server. Removing a group applies at once.")).default([]),
    allowedServiceAccounts: z
      .array(z.string().min(3).max(317).regex(re(SERVICE_ACCOUNT_REF)))
      .max(64)
      .default([])
      .describe(reviewed("Service accounts (namespace/name) that may call the server's read-only tools, for service-only flows. Removing one applies at once."))
      .meta({ "x-kubernetes-list-type": "set" }),
  })
  .strict()
  .describe("Who may use the server: reviewed with the image and tools.");
export type AccessSpec = z.output<typeof AccessSpec>;

export const ReviewDecision = z.enum(["Pending", "Approved", "Rejected"]);
export type ReviewDecision = z.output<typeof ReviewDecision>;

export const ReviewEntry = withRules(
  z
    .object({
      decision: ReviewDecision.describe("Pending, Approved or Rejected."),
      reviewer: z.string().min(1).max(256).optional().describe("Who decided; must be the user who wrote it."),
      at: z.iso.datetime().optional().describe("When the decision was made (RFC 3339)."),
      specHash: z
        .string()
        .regex(/^[a-f0-9]{64}$/)
        .optional()
        .describe("The status.specHash the decision vouches for; a decision for another hash is stale."),
      comment: z.string().max(1000).optional().describe("Why, for the owner and other reviewers."),
    })
    .strict()
    .describe("One reviewer area's decision."),
  [
    {
      cel: "self.decision == 'Pending' || (has(self.reviewer) && has(self.specHash))",
      message: "an Approved or Rejected review must name its reviewer and the specHash it vouches for",
      holds: (r) => r.decision === "Pending" || (r.reviewer !== undefined && r.specHash !== undefined),
    },
  ],
);
export type ReviewEntry = z.output<typeof ReviewEntry>;

export const ReviewSpec = withRules(
  z
    .record(z.string(), ReviewEntry)
    .describe("Decisions by review area (security, legal, genai, …). Only the area's reviewer group may write its entry. Not itself reviewed."),
  [
    {
      cel: "self.all(area, area.matches('" + AREA_NAME + "'))",
      message: "review area names are lower-case words such as security, legal or genai",
      holds: (r) => Object.keys(r).every((a) => re(AREA_NAME).test(a)),
    },
  ],
).meta({ maxProperties: 16 });
export type ReviewSpec = z.output<typeof ReviewSpec>;

const McpServerSpecFields = z
    .object({
      title: z.string().min(1).max(100).describe(reviewed("A human-readable name, shown in the registry.")),
      description: z
        .string()
        .min(1)
        .max(100)
        .describe(reviewed("What the server is for, in at most 100 characters (as server.json).")),
      version: z.string().max(255).regex(re(SEMVER)).describe(reviewed("The server's version, semantic versioning (e.g. 1.4.0).")),
      owner: z
        .object({
          team: z.string().min(1).max(63).regex(re(DNS_LABEL)).describe("The owning team."),
          contact: z.string().min(1).max(200).describe("Where users get help: a channel, an address or a URL."),
        })
        .strict()
        .describe(reviewed("Who owns and supports the server.")),
      workload: WorkloadSpec.optional(),
      remote: RemoteSpec.optional(),
      access: AccessSpec,
      tools: z
        .array(ToolSpec)
        .min(1)
        .max(128)
        .describe(reviewed("Every tool the server offers. Removing a tool applies at once."))
        .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] }),
      review: ReviewSpec.optional(),
    })
    .strict()
    .describe(
      "The desired state of an MCP server: what it is, who owns it, where it runs, who may use it, and its reviews. " +
        "Every field but review, workload.replicas and workload.resources is reviewed: reviews vouch for status.specHash, " +
        "and until every required area approves a change, the last approved revision keeps running and published.",
    );

export const McpServerSpec = withRules(
  McpServerSpecFields,
  [
    {
      cel: "has(self.workload) != has(self.remote)",
      message: "set exactly one of spec.workload (deploy an image) or spec.remote (register a URL)",
      holds: (s) => (s.workload !== undefined) !== (s.remote !== undefined),
    },
    {
      // The API server enforces this through the list-map key on spec.tools.
      message: "spec.tools[].name must be unique",
      fieldPath: ".tools",
      holds: (s) => new Set(s.tools.map((t) => t.name)).size === s.tools.length,
    },
    {
      cel: "self.tools.all(t, !has(t.allowedGroups) || t.allowedGroups.all(g, g in self.access.allowedGroups))",
      message: "spec.tools[].allowedGroups must be a subset of spec.access.allowedGroups",
      fieldPath: ".tools",
      holds: (s) => s.tools.every((t) => (t.allowedGroups ?? []).every((g) => s.access.allowedGroups.includes(g))),
    },
  ],
);
export type McpServerSpec = z.output<typeof McpServerSpec>;
export type McpServerSpecInput = z.input<typeof McpServerSpec>;

/**
 * A spec as the operator runs and publishes it (status.served, and each approved revision):
 * everything a review covers, without the reviews themselves.
 */
export const ServedSpec = McpServerSpecFields.omit({ review: true }).describe(
  "The spec of the latest approved revision, narrowed by any pending change that only narrows access; replicas and resources are the current spec's.",
);
export type ServedSpec = z.output<typeof ServedSpec>;

const SHA256 = /^[a-f0-9]{64}$/;
const fieldPaths = (what: string) => z.array(z.string().max(256)).max(64).describe(what);

export const ConditionType = z.enum(["Reviewed", "Available", "ToolsVerified", "Published", "Ready", "ChangePendingReview", "ChildConflict"]);
export type ConditionType = z.output<typeof ConditionType>;

export const Condition = z
  .object({
    type: z.string().min(1).max(316).describe("The aspect of the server this condition is about."),
    status: z.enum(["True", "False", "Unknown"]).describe("True, False or Unknown."),
    observedGeneration: z.number().int().min(0).optional().describe("The metadata.generation this condition was computed for."),
    lastTransitionTime: z.iso.datetime().describe("When the status last changed."),
    reason: z.string().min(1).max(1024).regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/).describe("A stable CamelCase reason."),
    message: z.string().max(32768).describe("What happened, for people."),
  })
  .strict();
export type Condition = z.output<typeof Condition>;

const nameList = (what: string) => z.array(z.string().max(64)).max(16).optional().describe(what);

export const McpServerStatus = z
  .object({
    observedGeneration: z.number().int().min(0).optional().describe("The generation the operator last acted on."),
    phase: z
      .enum(["PendingReview", "Rejected", "Deploying", "Verifying", "Published", "Degraded", "Unpublished"])
      .optional()
      .describe("A one-word summary, for kubectl get."),
    url: z.string().max(2048).optional().describe("Where clients reach the server: the Service's cluster URL or the remote URL."),
    specHash: z
      .string()
      .regex(/^[a-f0-9]{64}$/)
      .optional()
      .describe("SHA-256 of what a review vouches for: the whole spec but review, workload.replicas and workload.resources; reviews must carry the same hash."),
    readyReplicas: z.number().int().min(0).optional().describe("Replicas ready to serve."),
    approvedRevision: z
      .object({
        name: z.string().max(253).describe("The ControllerRevision (owned by this McpServer) holding the approved spec."),
        revision: z.number().int().min(1).describe("Its revision number; each approval of a new spec adds one."),
        specHash: z.string().regex(SHA256).describe("The specHash every required area approved."),
      })
      .strict()
      .optional()
      .describe("The latest fully approved revision. Unset: never approved, so nothing runs and nothing is published."),
    served: z
      .object({
        revision: z.string().max(253).describe("The approved revision it comes from."),
        specHash: z.string().regex(SHA256).describe("The hash of the served spec (differs from the revision's when narrowed)."),
        narrowed: z.boolean().describe("A pending change narrowed access (groups, service accounts, tools) and applied without review."),
        spec: ServedSpec,
      })
      .strict()
      .optional()
      .describe("What runs and what the registry serves: only approved content. The registry reads this, never spec."),
    pendingChange: z
      .object({
        specHash: z.string().regex(SHA256).describe("The current spec's hash, which the reviews must approve."),
        paths: fieldPaths("The reviewed fields that differ from the approved revision (e.g. spec.workload.image)."),
        changes: z
          .array(
            z
              .object({
                path: z.string().max(256),
                old: z.string().max(2048).optional().describe("The approved value, as JSON (absent: not set)."),
                new: z.string().max(2048).optional().describe("The pending value, as JSON (absent: removed)."),
              })
              .strict(),
          )
          .max(64)
          .describe("The same, field by field, old and new value, for reviewers."),
      })
      .strict()
      .optional()
      .describe("A change awaiting review; the approved revision keeps running and published meanwhile."),
    toolDefinitions: z
      .object({
        specHash: z.string().regex(SHA256).describe("The approved specHash the definitions were pinned for."),
        digest: z.string().regex(SHA256).describe("SHA-256 of every tool definition the server listed (input schemas included)."),
        pinnedAt: z.iso.datetime().describe("When they were first verified for this revision."),
        changed: fieldPaths("Tools whose definition changed since they were pinned (and how).").optional(),
      })
      .strict()
      .optional()
      .describe("The running server's tool definitions, pinned the first time its revision verified; a later change unpublishes it."),
    review: z
      .object({
        approved: z.boolean().describe("Every required area approved this specHash."),
        pending: nameList("Required areas with no decision for this specHash."),
        stale: nameList("Areas whose decision was made for another specHash."),
        rejected: nameList("Areas that rejected this specHash."),
      })
      .strict()
      .optional()
      .describe("The review gate's verdict for the current spec."),
    tools: z
      .array(
        z
          .object({
            name: z.string().max(128),
            declared: z.boolean().describe("Listed in spec.tools."),
            discovered: z.boolean().describe("Listed by the running server's tools/list."),
          })
          .strict(),
      )
      .max(256)
      .optional()
      .describe("Declared tools against what the server lists."),
    serverInfo: z
      .object({
        name: z.string().max(256).describe("serverInfo.name from the MCP handshake."),
        version: z.string().max(256).describe("serverInfo.version from the MCP handshake."),
        protocolVersion: z.string().max(64).describe("The negotiated MCP protocol version."),
      })
      .strict()
      .optional()
      .describe("What the server said about itself at the last handshake."),
    registry: z
      .object({
        published: z.boolean().describe("The registry serves this server."),
        name: z.string().max(512).optional().describe("Its registry name: <prefix>.<namespace>/<name>."),
        publishedAt: z.iso.datetime().optional().describe("When it was last published."),
      })
      .strict()
      .optional()
      .describe("What the registry API serves for this server."),
    conditions: z
      .array(Condition)
      .max(16)
      .optional()
      .describe("Reviewed, Available, ToolsVerified, Published, Ready, ChangePendingReview and ChildConflict.")
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }),
  })
  .strict()
  .describe("What the operator observed and decided.");
export type McpServerStatus = z.output<typeof McpServerStatus>;

export const ObjectMeta = z
  .object({
    name: z.string(),
    namespace: z.string(),
    uid: z.string().optional(),
    generation: z.number().int().optional(),
    resourceVersion: z.string().optional(),
    creationTimestamp: z.union([z.string(), z.date()]).optional(),
    deletionTimestamp: z.union([z.string(), z.date()]).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    finalizers: z.array(z.string()).optional(),
  })
  .loose();

/** A whole McpServer as read from the API server. */
export const McpServer = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: ObjectMeta,
  spec: McpServerSpec,
  status: McpServerStatus.optional(),
});
export type McpServer = z.output<typeof McpServer>;

/** Rules on the object as a whole; the API server checks metadata.name at the root. */
export const rootValidations = [
  {
    rule: "self.metadata.name.matches('" + DNS_LABEL + "') && size(self.metadata.name) <= 63",
    message: "metadata.name must be a DNS label (lower-case letters, digits and '-', starting with a letter, at most 63 characters): it names the server's Service",
  },
];
