/**
 * `make run`: the whole system on the local control plane, in the foreground until Ctrl-C.
 *
 * 1. The control plane (built the first time, reused when it runs) with the API installed.
 * 2. The identity provider: Keycloak on loopback with the demo people of the toolfleet realm
 *    (local/backends/keycloak-realm.json), started once and reused like the backends.
 * 3. The operator, as its own process, with the admin kubeconfig.
 * 4. The Presto, Spark and Airflow servers against real local backends (or those named by
 *    PRESTO_URL, SPARK_URL, AIRFLOW_URL), approved by the demo reviewers in `data-platform`, so
 *    the operator verifies their tools for real and publishes them. By default they run in this
 *    process and are registered as remote McpServers; with TOOLFLEET_REAL_NODE=1 they are the
 *    samples as workload McpServers, deployed by the operator from the built images onto the
 *    real node (local/run-on-node.ts). The workload samples also go to `toolfleet-samples`,
 *    where they wait for review.
 * 5. The registry API and UI on 127.0.0.1:$REGISTRY_PORT (8080), signing people in with Keycloak.
 * Ctrl-C stops what this run started, in reverse order.
 */
import { join, relative } from "node:path";
import { stringify } from "yaml";
import { createWriteStream, mkdirSync } from "node:fs";
import { writeKubeconfig } from "./cluster/kubeconfig.js";
import { clientCredentials } from "./cluster/pki.js";
import { DEFAULT_REVIEWER_GROUPS } from "../crds/index.js";
import { EDITOR_ROLE, REVIEWER_ROLE } from "../crds/rbac.js";
import { CLI_CLIENT_ID, DEMO_PEOPLE, MCP_AUDIENCE, REGISTRY_AUDIENCE, UI_CLIENT_ID } from "../registry-api/index.js";
import { clusterUp } from "./cluster/cli.js";
import { httpOk, pki, readState, runningCluster, stopCluster } from "./cluster/controlplane.js";
import { clusterTls } from "./cluster/harness.js";
import { kubectl } from "./cluster/kubectl.js";
import { adminKubeconfigPath, repoRoot, stateDir } from "./cluster/paths.js";
import { kubernetesJwksFetch } from "../auth/index.js";
import { DOMAIN_SERVERS, readSample, startDomainServers, type RunningDomainServer } from "./domain-servers.js";
import { freePort, startKeycloak, type KeycloakBackend } from "./backends/harness.js";
import { watchMcpServers } from "../mcpserver/index.js";
import { loadKubeconfigFile } from "../runtime/kubeconfig.js";
import { approveAsReviewers, keepPoliciesInSync, waitInCache, type ServerCache } from "./reviews.js";
import { startChild, waitUntilReady } from "./processes.js";
import { usageRecorders } from "./usage-reporting.js";
import { createLogger } from "../common/log.js";
import { OPERATOR_NODE_FLAGS } from "../operator/node-flags.js";
import { runningNode, startRealNode, stopRealNode } from "./node/node.js";
import { clearOtherMode, clusterIpUrls, prepareNodeRun, runNamespace, type NodeRun } from "./run-on-node.js";

/** A domain server of this run: where this machine reaches it, and its backend. */
interface RunServer {
  name: string;
  url: string;
  backend: { url: string; local: boolean };
}

const SERVERS_NAMESPACE = "data-platform";
/** The domain servers as workloads on the real node (make run TOOLFLEET_REAL_NODE=1) instead of local processes. */
const onNode = process.env.TOOLFLEET_REAL_NODE === "1";
const SAMPLES_NAMESPACE = "toolfleet-samples";
const OPERATOR_SA = { namespace: "toolfleet-system", name: "toolfleet-operator" };

const say = (line: string) => process.stdout.write(`[run] ${line}\n`);
const rel = (p: string) => relative(process.cwd(), p) || p;

async function apply(objects: unknown[]): Promise<void> {
  await kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager=toolfleet-run", "-f", "-"], {
    input: objects.map((o) => stringify(o)).join("---\n"),
  });
}

/** What a chart would bind: reviewers review everywhere, the data-platform team edits its namespace. */
function demoBindings(): object[] {
  const subjects = (group: string) => [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group }];
  const roleRef = (name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name });
  return [
    ...Object.entries(DEFAULT_REVIEWER_GROUPS).map(([area, group]) => ({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `toolfleet-${area}-reviewers` },
      roleRef: roleRef(REVIEWER_ROLE),
      subjects: subjects(group),
    })),
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "data-platform-editors", namespace: SERVERS_NAMESPACE },
      roleRef: roleRef(EDITOR_ROLE),
      subjects: subjects("data-platform"),
    },
  ];
}

async function main(): Promise<void> {
  const cleanup: Array<{ what: string; stop: () => Promise<void> | void }> = [];
  let stopping = false;
  const stopAll = async (why: string) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: stopping`);
    for (const c of cleanup.reverse()) {
      try {
        await c.stop();
        say(`stopped ${c.what}`);
      } catch (err) {
        say(`could not stop ${c.what}: ${(err as Error).message}`);
      }
    }
  };
  const interrupted = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("Ctrl-C"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });

  try {
    const reused = Boolean(await runningCluster());
    await clusterUp();
    if (!reused) cleanup.push({ what: "the local control plane", stop: () => stopCluster() });
    if (onNode) {
      const nodeWasUp = Boolean(await runningNode());
      say("starting the real node (the first time builds it) and importing the images");
      await startRealNode();
      if (!nodeWasUp) cleanup.push({ what: "the real node", stop: () => stopRealNode() });
    }
    const logs = join(stateDir(), "logs");

    say("starting the identity provider (Keycloak; the first time installs it)");
    const provider = await startKeycloak();
    const jwksUrl = `${provider.issuer}/protocol/openid-connect/certs`;
    say(`identity provider ${provider.issuer} (log ${rel(provider.log)})`);
    say(`demo people (password = name): ${DEMO_PEOPLE.map((p) => `${p.name} (${p.role})`).join("; ")}`);

    await apply([runNamespace(SERVERS_NAMESPACE, onNode), runNamespace(SAMPLES_NAMESPACE, false)]);
    await apply([{ apiVersion: "v1", kind: "ServiceAccount", metadata: OPERATOR_SA }, ...demoBindings()]);
    // Each demo person's own kubeconfig (a client certificate of the cluster CA in their groups),
    // so reviewers act as themselves: toolfleet review … --kubeconfig .toolfleet/kubeconfigs/sam.kubeconfig
    const kubeconfigs = join(stateDir(), "kubeconfigs");
    mkdirSync(kubeconfigs, { recursive: true, mode: 0o700 });
    for (const p of DEMO_PEOPLE) writeKubeconfig(join(kubeconfigs, `${p.name}.kubeconfig`), readState()!.server, pki().caCert, clientCredentials(pki(), p.name, p.groups));

    const server = readState()?.server ?? "";
    const registryPort = Number(process.env.REGISTRY_PORT ?? 8080);
    let nodeRun: NodeRun | undefined;
    if (onNode) {
      say("starting the backends and relaying them to the node (the first time installs the backends)");
      nodeRun = await prepareNodeRun({
        namespace: SERVERS_NAMESPACE,
        names: DOMAIN_SERVERS,
        provider,
        mcpAudience: MCP_AUDIENCE,
        registry: { port: registryPort, audience: REGISTRY_AUDIENCE },
        saIssuer: server,
      });
      cleanup.push({ what: "the relays to the node (the local backends keep running for the next run: make backends-down stops them)", stop: nodeRun.stop });
    }

    // The operator, over every namespace as an installed one: an owner's McpServer in a namespace
    // of their own is reconciled too. Local domain servers run on this machine, over plain http.
    const operatorPort = await freePort();
    const operator = startChild(
      "operator",
      process.execPath,
      [...OPERATOR_NODE_FLAGS, join(repoRoot(), "dist", "operator", "main.js"), `--metrics-addr=127.0.0.1:${operatorPort}`, "--verify-interval=30s", "--verify-allow-http=true", ...(nodeRun?.operatorArgs ?? [])],
      { ...process.env, KUBECONFIG: adminKubeconfigPath() },
      join(logs, "operator.log"),
    );
    cleanup.push({ what: "the operator", stop: () => operator.stop() });
    await waitUntilReady(operator, () => httpOk(`http://127.0.0.1:${operatorPort}/readyz`), 60_000);
    say(`operator running (metrics http://127.0.0.1:${operatorPort}/metrics, log ${rel(operator.log)})`);
    const replaced = await clearOtherMode(SERVERS_NAMESPACE, DOMAIN_SERVERS, onNode);
    if (replaced.length) say(`removed ${replaced.join(", ")} as ${onNode ? "remote servers" : "workloads"} of an earlier run`);

    const servers: RunServer[] = [];
    let localServers: RunningDomainServer[] | undefined;
    if (nodeRun) {
      await apply(nodeRun.prerequisites);
      await apply(nodeRun.servers.map((s) => s.manifest));
      cleanup.push({
        what: "the workloads on the real node (their McpServers are deleted)",
        stop: async () => void (await kubectl(["delete", "mcpservers", ...DOMAIN_SERVERS, "-n", SERVERS_NAMESPACE, "--ignore-not-found", "--wait=false"])),
      });
      for (const s of nodeRun.servers) {
        servers.push({ name: s.name, url: "", backend: s.backend });
        say(`${s.name}: ${s.manifest.spec.workload?.image} (backend ${s.backend.url}${s.backend.local ? ", local" : ""})`);
      }
      say(`server logs: kubectl logs -n ${SERVERS_NAMESPACE} deployment/<name> (the audit trail is in them)`);
    } else {
      // The domain servers, trusting the provider for people (tokens for the servers' audience)
      // and the cluster for services; their protected-resource metadata names the provider.
      const tls = clusterTls();
      say("starting the Presto, Spark and Airflow servers and their backends (the first time installs the backends)");
      const usage = await usageRecorders({ namespace: SERVERS_NAMESPACE, names: DOMAIN_SERVERS, registryUrl: `http://127.0.0.1:${registryPort}`, audience: REGISTRY_AUDIENCE });
      const serverLog = createWriteStream(join(logs, "servers.log"), { flags: "a" });
      const auditLog = createWriteStream(join(logs, "audit.log"), { flags: "a" });
      const local = await startDomainServers({
        policyDir: join(stateDir(), "policies"),
        logger: createLogger({}, { sink: (line) => void serverLog.write(line + "\n") }),
        audit: { write: (record) => void auditLog.write(JSON.stringify(record) + "\n") },
        namespace: SERVERS_NAMESPACE,
        usage,
        auth: {
          users: { issuer: provider.issuer, audience: MCP_AUDIENCE, keys: { jwksUrl } },
          serviceAccounts: { issuer: server, keys: { jwksUrl: `${server}/openid/v1/jwks`, fetch: kubernetesJwksFetch({ ca: tls.ca, clientCert: tls.admin }) } },
        },
      });
      cleanup.push({
        what: local.some((s) => s.backend.local) ? "the domain servers (their local backends keep running for the next run: make backends-down stops them)" : "the domain servers",
        stop: async () => void (await Promise.all(local.map((s) => s.stop()))),
      });
      for (const s of local) say(`${s.name}: ${s.url} (backend ${s.backend.url}${s.backend.local ? ", local" : ""})`);
      say(`server logs ${rel(join(logs, "servers.log"))}, audit trail ${rel(join(logs, "audit.log"))}`);
      await apply(local.map((s) => s.manifest));
      servers.push(...local);
      localServers = local;
    }
    await apply(DOMAIN_SERVERS.map((name) => ({ ...readSample(name), metadata: { name, namespace: SAMPLES_NAMESPACE } })));
    const cache = await watchMcpServers(loadKubeconfigFile(adminKubeconfigPath()), { namespaces: [SERVERS_NAMESPACE], userAgent: "toolfleet-run" });
    cleanup.push({ what: "the McpServer watch", stop: () => cache.stop() });
    if (localServers) cleanup.push({ what: "the policy sync", stop: keepPoliciesInSync(cache, localServers) });
    const approvals = await approveAsReviewers(cache, servers.map((s) => ({ namespace: SERVERS_NAMESPACE, name: s.name })));
    say(`approved ${servers.map((s) => s.name).join(", ")} as ${approvals.join(", ")}; the samples in ${SAMPLES_NAMESPACE} wait for review`);

    // The registry.
    const registry = startChild(
      "registry",
      process.execPath,
      [join(repoRoot(), "dist", "registry-api", "main.js")],
      {
        ...process.env,
        KUBECONFIG: adminKubeconfigPath(),
        REGISTRY_PORT: String(registryPort),
        REGISTRY_HOST: "127.0.0.1",
        REGISTRY_OIDC_ISSUER: provider.issuer,
        REGISTRY_OIDC_AUDIENCE: REGISTRY_AUDIENCE,
        REGISTRY_OIDC_JWKS_URL: jwksUrl,
        REGISTRY_UI_CLIENT_ID: UI_CLIENT_ID,
        REGISTRY_SERVICE_ACCOUNT_AUDIENCE: REGISTRY_AUDIENCE,
      },
      join(logs, "registry.log"),
    );
    cleanup.push({ what: "the registry", stop: () => registry.stop() });
    const registryUrl = `http://127.0.0.1:${registryPort}`;
    await waitUntilReady(registry, () => httpOk(`${registryUrl}/readyz`), 60_000);

    // On the node the pods start first: their images are imported, the processes are not.
    const published = await waitForPublished(cache, servers, onNode ? 300_000 : 120_000);
    if (onNode) {
      const urls = await clusterIpUrls(SERVERS_NAMESPACE, DOMAIN_SERVERS);
      for (const s of servers) s.url = urls.get(s.name) ?? "(no Service yet: kubectl describe mcps)";
    }
    summary(registryUrl, servers, published, provider, onNode);
    const why = await interrupted;
    await stopAll(why);
  } catch (err) {
    await stopAll("failed");
    throw err;
  }
}

/** Waits until the operator has published every server (or the time is up); returns their registry names. */
async function waitForPublished(cache: ServerCache, servers: RunServer[], timeoutMs: number): Promise<Map<string, string>> {
  const published = () =>
    new Map(servers.flatMap((s) => {
      const registry = cache.get(SERVERS_NAMESPACE, s.name)?.status?.registry;
      return registry?.published ? [[s.name, registry.name ?? ""] as const] : [];
    }));
  // Not all published in time is no failure: the summary says which are not, and why is in kubectl.
  return waitInCache(cache, "every server published", () => (published().size === servers.length ? published() : undefined), timeoutMs).catch(() => published());
}

function summary(registryUrl: string, servers: RunServer[], published: Map<string, string>, provider: KeycloakBackend, onNode: boolean): void {
  const kubeconfig = rel(adminKubeconfigPath());
  const cli = `node ${rel(join(repoRoot(), "dist", "cli", "bin.js"))}`;
  say("");
  say(`registry UI    ${registryUrl}/  (sign in as any demo person, e.g. ana / ana)`);
  say(`sign in        ${cli} login --registry ${registryUrl}   (or --device; client ${CLI_CLIENT_ID})`);
  say(`find, check    ${cli} servers; ${cli} access presto run_query; ${cli} connect presto --client claude-code`);
  say(`registry API   curl -H "Authorization: Bearer $(${cli} token)" ${registryUrl}/v0.1/servers`);
  say(`provider       ${provider.issuer}  (admin console ${provider.url}/admin as ${provider.admin.username} / ${provider.admin.password}; keeps running: make backends-down stops it)`);
  say(`McpServers     KUBECONFIG=${kubeconfig} kubectl get mcps -A`);
  say(`review         ${cli} review queue --kubeconfig ${rel(join(stateDir(), "kubeconfigs"))}/sam.kubeconfig  (each demo person has one)`);
  say(`kubectl        ${join(readState()?.binDir ?? "", "kubectl")} (the cluster's version)`);
  for (const s of servers) say(`MCP endpoint   ${s.name.padEnd(8)} ${s.url}  ${published.has(s.name) ? `published as ${published.get(s.name)}` : "not published yet (kubectl describe mcps)"}`);
  if (onNode) say(`               (workloads on the real node, reached at their Service's cluster IP; pods: kubectl get pods -n ${SERVERS_NAMESPACE} -o wide)`);
  say("running; Ctrl-C stops it");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[run] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
