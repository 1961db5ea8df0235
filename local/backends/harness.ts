// Starts the real backends the domain servers talk to (Trino, Airflow, the Spark history server
// and a live Spark driver), and the OIDC provider people sign in with (Keycloak), on loopback, installing them first with the scripts beside this file.
// A started backend outlives the jest run that started it: its pid, port and credentials are
// kept in a state file, and the next caller (another jest worker, the next run, `make run`)
// reuses it once it answers as ready. Stop them with `node local/backends/harness.ts down`.
//
// Self-contained on purpose (no relative imports, only erasable TypeScript) so that Node runs it
// directly as a command line as well as under jest.
import { alive, sleep, withLock as withLockFile } from "../cluster/lock.js";
import { freePort } from "../ports.js";
export { freePort };
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// The scripts, DAGs and jobs beside this file, also when it runs compiled from dist/.
const here = ((): string => {
  const dir = dirname(fileURLToPath(import.meta.url));
  for (const d of [dir, dir.replace(/[\\/]dist([\\/]local[\\/]backends)$/, "$1")]) if (existsSync(join(d, "versions.env"))) return d;
  throw new Error(`local/backends/versions.env not found from ${dir}`);
})();

export interface RunningBackend {
  url: string;
  pid: number;
  /** Where the backend writes its own log. */
  log: string;
  /** Whether this call started it (false: an already running one was reused). */
  started: boolean;
  stop(): Promise<void>;
}
export interface TrinoBackend extends RunningBackend {
  version: string;
}
export interface AirflowBackend extends RunningBackend {
  version: string;
  username: string;
  password: string;
}
export interface SparkHistoryBackend extends RunningBackend {
  version: string;
  eventLogDir: string;
}
export interface SparkLiveBackend extends RunningBackend {
  version: string;
}
export interface KeycloakBackend extends RunningBackend {
  version: string;
  /** The `toolfleet` realm's issuer, e.g. http://127.0.0.1:<port>/realms/toolfleet. */
  issuer: string;
  /** The master realm's bootstrap administrator (dev mode, loopback only). */
  admin: { username: string; password: string };
}

type BackendName = "trino" | "airflow" | "spark-history" | "spark-live" | "keycloak";
interface StateRecord {
  pid: number;
  port: number;
  url: string;
  log: string;
  extra: Record<string, string>;
}

export function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(here, "versions.env"), "utf8").split("\n")) {
    const m = /^([A-Z_]+)=(\S+)/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

export function cacheDir(): string {
  const base = process.env.TOOLFLEET_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "toolfleet");
  return join(base, "backends");
}
function runDir(name: BackendName): string {
  return join(cacheDir(), "run", name);
}

function progress(name: string, message: string): void {
  process.stderr.write(`[backends] ${name}: ${message}\n`);
}

/** Runs an install script, its progress lines passed through; resolves to the install directory. */
export async function install(script: "install-trino.sh" | "install-airflow.sh" | "install-spark.sh" | "install-keycloak.sh"): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(here, script)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      const dir = out.trim().split("\n").at(-1) ?? "";
      if (code === 0 && dir) resolve(dir);
      else reject(new Error(`${script} failed (exit ${code}); its output is above`));
    });
  });
}


// Starting a backend is serialised across processes (jest workers, parallel runs).
const withLock = <T>(name: BackendName, fn: () => Promise<T>): Promise<T> =>
  withLockFile(join(runDir(name), "start.lock"), fn, { waiting: (holder) => progress(name, `another process (pid ${holder}) is starting it; waiting`) });

/**
 * Holds a backend for one test suite at a time, across jest workers, until the returned
 * release is called. For Airflow on SQLite: two suites writing at once make it answer
 * "Database error" (database is locked), which a production Airflow on Postgres never does.
 */
export async function exclusiveUse(name: BackendName): Promise<() => void> {
  const dir = runDir(name);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "in-use.lock");
  let announced = false;
  for (;;) {
    try {
      closeSync(openSync(path, "wx"));
      writeFileSync(path, String(process.pid));
      return () => rmSync(path, { force: true });
    } catch {
      const holder = Number(readFileSync(path, "utf8") || "0");
      if (holder && !alive(holder)) {
        rmSync(path, { force: true });
        continue;
      }
      if (!announced) progress(name, `another test suite (pid ${holder}) is using it; waiting`);
      announced = true;
      await sleep(500);
    }
  }
}

function readState(name: BackendName): StateRecord | undefined {
  const path = join(runDir(name), "state.json");
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as StateRecord;
  } catch {
    return undefined;
  }
}
function writeState(name: BackendName, state: StateRecord): void {
  writeFileSync(join(runDir(name), "state.json"), JSON.stringify(state, null, 2));
}

/** Stops a backend started by this harness: its whole process group, then forgets it. */
export async function stopBackend(name: BackendName): Promise<void> {
  const state = readState(name);
  if (state && alive(state.pid)) {
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-state.pid, sig);
      } catch {
        /* already gone */
      }
    };
    signal("SIGTERM");
    for (let i = 0; i < 60 && alive(state.pid); i++) await sleep(250);
    signal("SIGKILL");
    for (let i = 0; i < 20 && alive(state.pid); i++) await sleep(250);
  }
  rmSync(join(runDir(name), "state.json"), { force: true });
}

async function probe(url: string, check: (res: Response) => Promise<boolean>, init?: RequestInit): Promise<boolean> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    return await check(res);
  } catch {
    return false;
  }
}

interface StartSpec {
  name: BackendName;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  port: number;
  url: string;
  extra: Record<string, string>;
  ready: () => Promise<boolean>;
  timeoutMs: number;
}

// Spawns the backend in a process group of its own, detached so it outlives this process,
// and waits until `ready` says it really serves, printing a progress line every 10 s.
async function launch(spec: StartSpec): Promise<StateRecord> {
  const log = join(runDir(spec.name), "backend.log");
  // A fresh log per start: readiness checks read it, and an old run's lines must not count.
  const fd = openSync(log, "w");
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  if (!pid) throw new Error(`${spec.name}: could not start ${spec.command}`);
  const state: StateRecord = { pid, port: spec.port, url: spec.url, log, extra: spec.extra };
  writeState(spec.name, state);
  progress(spec.name, `starting on ${spec.url} (pid ${pid}, log ${log})`);
  const began = Date.now();
  let lastNote = began;
  for (;;) {
    if (!alive(pid)) {
      const tail = readFileSync(log, "utf8").split("\n").slice(-30).join("\n");
      rmSync(join(runDir(spec.name), "state.json"), { force: true });
      throw new Error(`${spec.name} exited while starting; the end of ${log}:\n${tail}`);
    }
    if (await spec.ready()) break;
    const now = Date.now();
    if (now - began > spec.timeoutMs) {
      await stopBackend(spec.name);
      throw new Error(`${spec.name} was not ready after ${spec.timeoutMs / 1000} s; see ${log}`);
    }
    if (now - lastNote >= 10_000) {
      progress(spec.name, `waiting until ready (${Math.round((now - began) / 1000)} s)`);
      lastNote = now;
    }
    await sleep(1000);
  }
  progress(spec.name, `ready in ${Math.round((Date.now() - began) / 1000)} s`);
  return state;
}

// Reuses a running backend that answers as ready, or starts one; one starter at a time.
async function ensure(name: BackendName, ready: (s: StateRecord) => Promise<boolean>, start: () => Promise<StateRecord>): Promise<{ state: StateRecord; started: boolean }> {
  return withLock(name, async () => {
    const existing = readState(name);
    if (existing && alive(existing.pid) && (await ready(existing))) {
      progress(name, `reusing the one running on ${existing.url} (pid ${existing.pid})`);
      return { state: existing, started: false };
    }
    if (existing) await stopBackend(name);
    return { state: await start(), started: true };
  });
}

function handle(name: BackendName, state: StateRecord, started: boolean): RunningBackend {
  return { url: state.url, pid: state.pid, log: state.log, started, stop: () => stopBackend(name) };
}

// ---------------------------------------------------------------- Trino

const javaHome25 = (): string => {
  if (process.env.TRINO_JAVA_HOME) return process.env.TRINO_JAVA_HOME;
  const jvm = "/usr/lib/jvm";
  const found = existsSync(jvm) ? readdirSync(jvm).filter((d) => /(temurin|jdk|java)-?(2[4-9]|3\d)/.test(d)).sort() : [];
  if (!found.length) throw new Error("Trino needs Java 24 or later: set TRINO_JAVA_HOME or install a JDK 25 under /usr/lib/jvm");
  return join(jvm, found.at(-1)!);
};

// Ready when a query that needs an active worker (the coordinator itself) runs to the end:
// /v1/info stops saying "starting" a few seconds before the node is schedulable.
async function trinoReady(url: string): Promise<boolean> {
  const headers = { "X-Trino-User": "toolfleet-harness" };
  try {
    let res = await fetch(`${url}/v1/statement`, { method: "POST", headers, body: "SELECT count(*) FROM tpch.tiny.region", signal: AbortSignal.timeout(5000) });
    for (let i = 0; i < 100; i++) {
      if (!res.ok) return false;
      const page = (await res.json()) as { nextUri?: string; data?: unknown[][]; error?: unknown };
      if (page.error) return false;
      if (page.data) return page.data[0]?.[0] === 5;
      if (!page.nextUri) return false;
      res = await fetch(page.nextUri, { headers, signal: AbortSignal.timeout(5000) });
    }
    return false;
  } catch {
    return false;
  }
}

/** A single-node Trino coordinator with the tpch catalog, on a free loopback port. */
export async function startTrino(): Promise<TrinoBackend> {
  const version = versions().TRINO_VERSION!;
  const { state, started } = await ensure("trino", (s) => trinoReady(s.url), async () => {
    const home = await install("install-trino.sh");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const run = runDir("trino");
    const etc = join(run, "etc");
    mkdirSync(join(etc, "catalog"), { recursive: true });
    writeFileSync(join(etc, "node.properties"), ["node.environment=toolfleet_test", "node.id=toolfleet-test-coordinator", `node.data-dir=${join(run, "data")}`, "node.bind-ip=127.0.0.1", "node.internal-address=127.0.0.1", ""].join("\n"));
    writeFileSync(join(etc, "jvm.config"), ["-server", "-Xmx1536M", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-Djdk.attach.allowAttachSelf=true", "-XX:ReservedCodeCacheSize=256M", ""].join("\n"));
    writeFileSync(
      join(etc, "config.properties"),
      ["coordinator=true", "node-scheduler.include-coordinator=true", `http-server.http.port=${port}`, `discovery.uri=${url}`, "query.max-memory=512MB", "query.max-memory-per-node=512MB", "protocol.v1.alternate-header-name=Presto", ""].join("\n"),
    );
    writeFileSync(join(etc, "log.properties"), "io.trino=INFO\n");
    writeFileSync(join(etc, "catalog", "tpch.properties"), "connector.name=tpch\n");
    return launch({
      name: "trino",
      command: join(home, "server", "bin", "launcher"),
      args: ["run", `--etc-dir=${etc}`, `--data-dir=${join(run, "data")}`],
      env: { JAVA_HOME: javaHome25(), PATH: `${join(javaHome25(), "bin")}:${process.env.PATH ?? ""}` },
      cwd: run,
      port,
      url,
      extra: {},
      ready: () => trinoReady(url),
      timeoutMs: 240_000,
    });
  });
  return { ...handle("trino", state, started), version };
}

// ---------------------------------------------------------------- Airflow

const airflowUser = "toolfleet-admin";
const airflowPassword = "toolfleet-admin-password";
export const airflowDagIds = ["toolfleet_succeeds", "toolfleet_fails", "toolfleet_pipeline"] as const;
/** The DAG the domain server's tests trigger, clear and pause; tagged apart from the others. */
export const airflowOpsDagId = "toolfleet_ops";

async function airflowReady(url: string): Promise<boolean> {
  try {
    const tok = await fetch(`${url}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: airflowUser, password: airflowPassword }),
      signal: AbortSignal.timeout(5000),
    });
    if (tok.status !== 201 && tok.status !== 200) return false;
    const { access_token } = (await tok.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${access_token}` };
    const health = await fetch(`${url}/api/v2/monitor/health`, { headers, signal: AbortSignal.timeout(5000) });
    if (!health.ok) return false;
    const h = (await health.json()) as { scheduler?: { status?: string }; dag_processor?: { status?: string } };
    if (h.scheduler?.status !== "healthy") return false;
    const dags = await fetch(`${url}/api/v2/dags?limit=100`, { headers, signal: AbortSignal.timeout(5000) });
    if (!dags.ok) return false;
    const ids = new Set(((await dags.json()) as { dags: { dag_id: string }[] }).dags.map((d) => d.dag_id));
    return [...airflowDagIds, airflowOpsDagId].every((id) => ids.has(id));
  } catch {
    return false;
  }
}

/**
 * Airflow 3 (`airflow standalone`: API server, scheduler, DAG processor, triggerer) on SQLite
 * with the project's DAGs from airflow-dags/, and one deterministic user of the simple auth
 * manager. Ready once a token is issued, the scheduler is healthy and all the DAGs are parsed.
 */
export async function startAirflow(): Promise<AirflowBackend> {
  const version = versions().AIRFLOW_VERSION!;
  const { state, started } = await ensure("airflow", (s) => airflowReady(s.url), async () => {
    const home = await install("install-airflow.sh");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const airflowHome = join(runDir("airflow"), "home");
    // A fresh home each start: a clean database, and DAG runs only from this run's tests.
    rmSync(airflowHome, { recursive: true, force: true });
    mkdirSync(airflowHome, { recursive: true });
    const passwords = join(airflowHome, "passwords.json");
    writeFileSync(passwords, JSON.stringify({ [airflowUser]: airflowPassword }));
    return launch({
      name: "airflow",
      command: join(home, "venv", "bin", "airflow"),
      args: ["standalone"],
      env: {
        AIRFLOW_HOME: airflowHome,
        PATH: `${join(home, "venv", "bin")}:${process.env.PATH ?? ""}`,
        AIRFLOW__CORE__DAGS_FOLDER: join(here, "airflow-dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES: "False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: "False",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS: `${airflowUser}:admin`,
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE: passwords,
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL: `${url}/execution/`,
        AIRFLOW__API__HOST: "127.0.0.1",
        AIRFLOW__API__PORT: String(port),
        AIRFLOW__API__BASE_URL: url,
        AIRFLOW__API__WORKERS: "1",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL: "5",
        AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL: "5",
        AIRFLOW__CORE__PARALLELISM: "4",
      },
      cwd: runDir("airflow"),
      port,
      url,
      extra: { username: airflowUser, password: airflowPassword, home: airflowHome },
      ready: () => airflowReady(url),
      timeoutMs: 300_000,
    });
  });
  return { ...handle("airflow", state, started), version, username: airflowUser, password: airflowPassword };
}

// ---------------------------------------------------------------- Spark

export const sparkAppName = "toolfleet-skew-demo";

function sparkEnv(home: string): Record<string, string> {
  const venv = join(home, "venv");
  const pyspark = readdirSync(join(venv, "lib")).map((d) => join(venv, "lib", d, "site-packages", "pyspark")).find((p) => existsSync(p));
  if (!pyspark) throw new Error(`pyspark is missing from ${venv}`);
  const java17 = process.env.SPARK_JAVA_HOME ?? "/usr/lib/jvm/java-17-openjdk-amd64";
  return {
    SPARK_HOME: pyspark,
    PYSPARK_PYTHON: join(venv, "bin", "python"),
    SPARK_LOCAL_IP: "127.0.0.1",
    SPARK_LOCAL_HOSTNAME: "localhost",
    ...(existsSync(java17) ? { JAVA_HOME: java17 } : {}),
    PATH: `${join(venv, "bin")}:${process.env.PATH ?? ""}`,
  };
}

const sparkReady = (url: string, appName: string) =>
  probe(`${url}/api/v1/applications`, async (r) => r.ok && ((await r.json()) as { name: string }[]).some((a) => a.name === appName));

/** Runs the project's Spark job to completion once, so the event log has a finished application. */
async function ensureSparkEventLog(home: string, eventLogDir: string): Promise<void> {
  mkdirSync(eventLogDir, { recursive: true });
  const done = join(eventLogDir, ".job-complete");
  if (existsSync(done)) return;
  progress("spark-history", `running ${join(here, "spark-jobs", "skew_demo.py")} to write an event log`);
  const env = sparkEnv(home);
  const began = Date.now();
  const res = spawnSync(join(home, "venv", "bin", "python"), [join(here, "spark-jobs", "skew_demo.py"), "--event-log-dir", eventLogDir], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "pipe"],
    encoding: "utf8",
    timeout: 600_000,
  });
  if (res.status !== 0) throw new Error(`the Spark job failed (exit ${res.status}):\n${(res.stderr ?? "").split("\n").slice(-40).join("\n")}`);
  writeFileSync(done, new Date().toISOString());
  progress("spark-history", `job done in ${Math.round((Date.now() - began) / 1000)} s`);
}

/** The Spark history server serving the event log of one run of spark-jobs/skew_demo.py. */
export async function startSparkHistory(): Promise<SparkHistoryBackend> {
  const version = versions().PYSPARK_VERSION!;
  const eventLogDir = join(runDir("spark-history"), "events");
  const { state, started } = await ensure("spark-history", (s) => sparkReady(s.url, sparkAppName), async () => {
    const home = await install("install-spark.sh");
    await ensureSparkEventLog(home, eventLogDir);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = sparkEnv(home);
    return launch({
      name: "spark-history",
      command: join(env.SPARK_HOME!, "bin", "spark-class"),
      args: ["org.apache.spark.deploy.history.HistoryServer"],
      env: {
        ...env,
        SPARK_DAEMON_MEMORY: "512m",
        SPARK_HISTORY_OPTS: [`-Dspark.history.fs.logDirectory=file://${eventLogDir}`, `-Dspark.history.ui.port=${port}`, "-Dspark.history.fs.update.interval=2s"].join(" "),
      },
      cwd: runDir("spark-history"),
      port,
      url,
      extra: { eventLogDir },
      ready: () => sparkReady(url, sparkAppName),
      timeoutMs: 180_000,
    });
  });
  return { ...handle("spark-history", state, started), version, eventLogDir };
}

/**
 * A live Spark driver: the same job, which then keeps its SparkContext (and so its UI and
 * /api/v1) up until stopped.
 */
export async function startSparkLive(): Promise<SparkLiveBackend> {
  const version = versions().PYSPARK_VERSION!;
  const { state, started } = await ensure("spark-live", (s) => sparkReady(s.url, sparkAppName), async () => {
    const home = await install("install-spark.sh");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    return launch({
      name: "spark-live",
      command: join(home, "venv", "bin", "python"),
      args: [join(here, "spark-jobs", "skew_demo.py"), "--ui-port", String(port), "--stay-up"],
      env: sparkEnv(home),
      cwd: runDir("spark-live"),
      port,
      url,
      extra: {},
      // Ready once the driver's UI lists the application and its failing job has run.
      ready: async () =>
        (await sparkReady(url, sparkAppName)) &&
        existsSync(join(runDir("spark-live"), "backend.log")) &&
        readFileSync(join(runDir("spark-live"), "backend.log"), "utf8").includes("toolfleet: all stages submitted"),
      timeoutMs: 300_000,
    });
  });
  return { ...handle("spark-live", state, started), version };
}

// ---------------------------------------------------------------- Keycloak

/** The realm people sign in to; its users, groups and clients are in keycloak-realm.json. */
export const KEYCLOAK_REALM = "toolfleet";
export const keycloakRealmFile = (): string => join(here, "keycloak-realm.json");
/** Bumped when what is set up beside the realm file changes, so a reused Keycloak is set up again. */
const REALM_SETUP_REVISION = 2;

async function keycloakAdminToken(url: string, admin: { username: string; password: string }): Promise<string> {
  const res = await fetch(`${url}/realms/master/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: admin.username, password: admin.password }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`keycloak: the admin sign-in was refused (HTTP ${res.status})`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/**
 * Makes the running Keycloak's realm the one in keycloak-realm.json: a realm whose recorded
 * digest differs (the file changed since it was imported) is deleted and imported afresh, so a
 * reused Keycloak never serves an old realm.
 */
async function syncKeycloakRealm(url: string, admin: { username: string; password: string }): Promise<void> {
  const text = readFileSync(keycloakRealmFile(), "utf8");
  const digest = createHash("sha256").update(`${text}\n${REALM_SETUP_REVISION}`).digest("hex");
  const realm = { ...(JSON.parse(text) as Record<string, unknown>) };
  realm.attributes = { ...((realm.attributes as Record<string, string> | undefined) ?? {}), "toolfleet.realm-digest": digest };
  const headers = { authorization: `Bearer ${await keycloakAdminToken(url, admin)}`, "content-type": "application/json" };
  const current = await fetch(`${url}/admin/realms/${KEYCLOAK_REALM}`, { headers, signal: AbortSignal.timeout(10_000) });
  if (current.ok) {
    const attrs = ((await current.json()) as { attributes?: Record<string, string> }).attributes ?? {};
    if (attrs["toolfleet.realm-digest"] === digest) return;
    progress("keycloak", `the realm file changed: importing ${KEYCLOAK_REALM} afresh`);
    const del = await fetch(`${url}/admin/realms/${KEYCLOAK_REALM}`, { method: "DELETE", headers, signal: AbortSignal.timeout(30_000) });
    if (!del.ok) throw new Error(`keycloak: could not delete the old realm (HTTP ${del.status})`);
  }
  const created = await fetch(`${url}/admin/realms`, { method: "POST", headers, body: JSON.stringify(realm), signal: AbortSignal.timeout(60_000) });
  if (!created.ok) throw new Error(`keycloak: importing ${keycloakRealmFile()} failed (HTTP ${created.status}): ${(await created.text()).slice(0, 500)}`);
  await allowLoopbackRegistration(url, headers);
  progress("keycloak", `realm ${KEYCLOAK_REALM} imported from ${keycloakRealmFile()}`);
}

/**
 * MCP clients (VS Code, Claude Code…) register themselves with dynamic client registration
 * (RFC 7591). Keycloak allows anonymous registration only from trusted hosts, none by default:
 * here the loopback addresses, where those clients run in a local setup. A registered client
 * gets the realm's default client scopes, so one is added that puts the groups and the domain
 * servers' audience in its tokens, as the CLI's client has. Done through the admin API because
 * a realm file that lists client scopes replaces Keycloak's built-in ones.
 */
async function allowLoopbackRegistration(url: string, headers: Record<string, string>): Promise<void> {
  const admin = `${url}/admin/realms/${KEYCLOAK_REALM}`;
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const res = await fetch(`${admin}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`keycloak: ${method} ${path} failed (HTTP ${res.status}): ${(await res.text()).slice(0, 300)}`);
    return res;
  };
  const file = JSON.parse(readFileSync(keycloakRealmFile(), "utf8")) as { clients: Array<{ clientId: string; protocolMappers?: unknown[] }> };
  const mappers = file.clients.find((c) => c.clientId === "toolfleet-cli")?.protocolMappers?.filter((m) => !JSON.stringify(m).includes("toolfleet-registry"));
  const scope = await call("POST", "/client-scopes", {
    name: "toolfleet-mcp-clients",
    description: "For dynamically registered MCP clients: the groups claim and the domain servers' audience",
    protocol: "openid-connect",
    attributes: { "include.in.token.scope": "false", "display.on.consent.screen": "false" },
    protocolMappers: mappers ?? [],
  });
  const scopeId = scope.headers.get("location")?.split("/").at(-1);
  if (!scopeId) throw new Error("keycloak: the new client scope has no id");
  await call("PUT", `/default-default-client-scopes/${scopeId}`);
  const policies = (await (await call("GET", "/components?type=org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy")).json()) as Array<{ id: string; name: string; subType: string; config: Record<string, string[]> }>;
  const trusted = policies.find((p) => p.name === "Trusted Hosts" && p.subType === "anonymous");
  if (!trusted) throw new Error("keycloak: the realm has no anonymous Trusted Hosts registration policy");
  await call("PUT", `/components/${trusted.id}`, { ...trusted, config: { ...trusted.config, "trusted-hosts": ["127.0.0.1", "localhost"] } });
}

const keycloakReady = (url: string) => probe(`${url}/realms/master/.well-known/openid-configuration`, async (r) => r.ok);

/**
 * Keycloak in dev mode (in-memory database) on a free loopback port, on the JDK 24+ that Trino
 * uses too, with the toolfleet realm imported through the admin API and kept equal to the file.
 */
export async function startKeycloak(): Promise<KeycloakBackend> {
  const version = versions().KEYCLOAK_VERSION!;
  const { state, started } = await ensure("keycloak", (s) => keycloakReady(s.url), async () => {
    const home = await install("install-keycloak.sh");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const admin = { username: "toolfleet-admin", password: randomBytes(18).toString("base64url") };
    mkdirSync(runDir("keycloak"), { recursive: true });
    return launch({
      name: "keycloak",
      command: join(home, "server", "bin", "kc.sh"),
      // The hostname is fixed so the issuer is the same whoever asks (127.0.0.1 or localhost).
      args: ["start-dev", "--db=dev-mem", "--http-host=127.0.0.1", `--http-port=${port}`, `--hostname=${url}`, "--cache=local", "--log-level=WARN,org.keycloak.events:INFO"],
      env: {
        JAVA_HOME: javaHome25(),
        PATH: `${join(javaHome25(), "bin")}:${process.env.PATH ?? ""}`,
        KC_BOOTSTRAP_ADMIN_USERNAME: admin.username,
        KC_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
        JAVA_OPTS_KC_HEAP: "-Xms64m -Xmx512m",
      },
      cwd: runDir("keycloak"),
      port,
      url,
      extra: { adminUsername: admin.username, adminPassword: admin.password },
      ready: () => keycloakReady(url),
      timeoutMs: 240_000,
    });
  });
  const admin = { username: state.extra.adminUsername!, password: state.extra.adminPassword! };
  await withLock("keycloak", () => syncKeycloakRealm(state.url, admin));
  return { ...handle("keycloak", state, started), version, issuer: `${state.url}/realms/${KEYCLOAK_REALM}`, admin };
}

// ---------------------------------------------------------------- command line

const starters = {
  trino: startTrino,
  airflow: startAirflow,
  "spark-history": startSparkHistory,
  "spark-live": startSparkLive,
  keycloak: startKeycloak,
} satisfies Record<BackendName, () => Promise<RunningBackend>>;

async function main(argv: string[]): Promise<void> {
  const [verb = "status", ...names] = argv;
  const chosen = (names.length ? names : Object.keys(starters)) as BackendName[];
  for (const n of chosen) if (!(n in starters)) throw new Error(`unknown backend ${n}; one of ${Object.keys(starters).join(", ")}`);
  if (verb === "up") {
    for (const n of chosen) {
      const b = await starters[n]();
      const { stop: _stop, ...shown } = b;
      process.stdout.write(`${n} ${JSON.stringify(shown)}\n`);
    }
  } else if (verb === "down") {
    for (const n of chosen) {
      await stopBackend(n);
      progress(n, "stopped");
    }
  } else if (verb === "status") {
    for (const n of chosen) {
      const s = readState(n);
      process.stdout.write(`${n}: ${s && alive(s.pid) ? `running on ${s.url} (pid ${s.pid})` : "not running"}\n`);
    }
  } else {
    throw new Error(`usage: harness.ts up|down|status [${Object.keys(starters).join("|")}]...`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
