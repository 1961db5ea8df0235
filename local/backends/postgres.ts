// A real PostgreSQL server for the usage store's suites and benchmarks: installed from
// Debian's packages (install-postgres.sh), initialised once with initdb, started on a free
// loopback port and reused by every later caller while it answers, like the other backends
// (state in <cache>/backends/run/postgres/state.json). `node local/backends/postgres.ts down`
// stops it. PostgreSQL refuses to run as root: then the server runs as the `postgres` user
// the package creates, with its data directory under that user's home (root's cache is not
// readable by it); otherwise the data lives in the cache.
//
// Self-contained like harness.ts (no relative imports, only erasable TypeScript).
import { alive, sleep, withLock as withLockFile } from "../cluster/lock.js";
import { freePort } from "../ports.js";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = ((): string => {
  const dir = dirname(fileURLToPath(import.meta.url));
  for (const d of [dir, dir.replace(/[\\/]dist([\\/]local[\\/]backends)$/, "$1")]) if (existsSync(join(d, "install-postgres.sh"))) return d;
  throw new Error(`local/backends/install-postgres.sh not found from ${dir}`);
})();

export const POSTGRES_MAJOR = process.env.POSTGRES_MAJOR ?? "15";
const USER = "toolfleet";

export interface PostgresBackend {
  /** postgres://toolfleet:…@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  pid: number;
  log: string;
  started: boolean;
  /** A URL for another database on the same server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

interface State {
  pid: number;
  port: number;
  password: string;
  dataDir: string;
  log: string;
}

function cacheDir(): string {
  const base = process.env.TOOLFLEET_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "toolfleet");
  return join(base, "backends");
}
const runDir = () => join(cacheDir(), "run", "postgres");
const statePath = () => join(runDir(), "state.json");
const asRoot = () => process.getuid?.() === 0;

function postgresUser(): { uid: number; gid: number; home: string } {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("running as root, and there is no postgres user to run PostgreSQL as (the Debian package creates it)");
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
}

function dataDir(): string {
  return asRoot() ? join(postgresUser().home, `toolfleet-${POSTGRES_MAJOR}`) : join(runDir(), `data-${POSTGRES_MAJOR}`);
}

/** argv run as the postgres user when we are root (setpriv execs, so the pid is the server's). */
function asServerUser(argv: string[]): string[] {
  if (!asRoot()) return argv;
  return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", ...argv];
}

function install(): string {
  const r = spawnSync("bash", [join(here, "install-postgres.sh")], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, POSTGRES_MAJOR } });
  const bin = r.stdout.toString().trim().split("\n").at(-1) ?? "";
  if (r.status !== 0 || !bin) throw new Error(`install-postgres.sh failed (exit ${r.status}); its output is above`);
  return bin;
}


/** The server answers on its port with its protocol (pg_isready, which speaks it). */
function ready(bin: string, port: number): boolean {
  return spawnSync(join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-q"]).status === 0;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

function readState(): State | undefined {
  try {
    return JSON.parse(readFileSync(statePath(), "utf8")) as State;
  } catch {
    return undefined;
  }
}

// Starting PostgreSQL is serialised across processes (jest workers, parallel runs).
const withLock = <T>(fn: () => Promise<T>): Promise<T> => withLockFile(join(runDir(), "start.lock"), fn);

function initdb(bin: string, dir: string, password: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pwfile = join(dir, "..", `.pw-${process.pid}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (asRoot()) {
    const u = postgresUser();
    chownSync(dir, u.uid, u.gid);
    chownSync(pwfile, u.uid, u.gid);
  }
  const argv = asServerUser([join(bin, "initdb"), "-D", dir, "-U", USER, `--pwfile=${pwfile}`, "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"]);
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  rmSync(pwfile, { force: true });
  if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr.toString()}`);
}

async function start(bin: string): Promise<State> {
  const dir = dataDir();
  const fresh = !existsSync(join(dir, "PG_VERSION"));
  const previous = readState();
  const password = !fresh && previous?.password ? previous.password : randomBytes(18).toString("base64url");
  if (fresh || !previous?.password) initdb(bin, dir, password);
  const port = await freePort();
  const log = join(runDir(), "postgres.log");
  const out = openSync(log, "a");
  const argv = asServerUser([join(bin, "postgres"), "-D", dir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${dir}`, "-c", "fsync=on", "-c", "max_connections=200"]);
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ["ignore", out, out] });
  child.unref();
  closeSync(out);
  const state: State = { pid: child.pid!, port, password, dataDir: dir, log };
  for (let i = 0; i < 240; i++) {
    if (!alive(state.pid)) throw new Error(`PostgreSQL exited at start; see ${log}`);
    if ((await portOpen(port)) && ready(bin, port)) {
      writeFileSync(statePath(), JSON.stringify(state, null, 2));
      return state;
    }
    await sleep(250);
  }
  process.kill(state.pid, "SIGINT");
  throw new Error(`PostgreSQL did not become ready in 60 s; see ${log}`);
}

function handle(state: State, started: boolean): PostgresBackend {
  const urlFor = (db: string) => `postgres://${USER}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${db}`;
  return { url: urlFor("postgres"), port: state.port, pid: state.pid, log: state.log, started, urlFor, stop: stopPostgres };
}

/** The running server, started (and installed) first if needed. */
export async function startPostgres(): Promise<PostgresBackend> {
  const bin = install();
  return withLock(async () => {
    const existing = readState();
    if (existing && alive(existing.pid) && ready(bin, existing.port)) return handle(existing, false);
    return handle(await start(bin), true);
  });
}

export async function stopPostgres(): Promise<void> {
  const state = readState();
  if (state && alive(state.pid)) {
    process.kill(state.pid, "SIGINT"); // fast shutdown: clients disconnected, data flushed
    for (let i = 0; i < 120 && alive(state.pid); i++) await sleep(250);
  }
  rmSync(statePath(), { force: true });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const cmd = process.argv[2];
  if (cmd === "up") {
    const pg = await startPostgres();
    process.stdout.write(`${pg.started ? "started" : "reused"} PostgreSQL ${POSTGRES_MAJOR} on port ${pg.port} (log ${pg.log})\n`);
  } else if (cmd === "down") {
    await stopPostgres();
    process.stdout.write("PostgreSQL stopped\n");
  } else {
    process.stderr.write("usage: postgres.ts up|down\n");
    process.exit(2);
  }
}
