/**
 * The images of `make images`, built by the same function, run as real containers with runc:
 * reproducible (two builds, the same bytes), non-root with no shell or package manager, each
 * program starting from its image's entrypoint — the registry answers /healthz, each domain
 * server its protected-resource metadata and refuses an unauthenticated call, and the operator,
 * with a mounted kubeconfig, reconciles an McpServer on the local control plane.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { buildImages, archiveName, type ImageEntry } from "./build.js";
import { DOMAIN_SERVER_NAMES } from "./definitions.js";
import { runContainer, runcUnavailable, unpackImage, type RunningContainer } from "../local/containers/runc.js";
import { adminKubeconfigPath, repoRoot } from "../local/cluster/paths.js";
import { deleteNamespace, kubectl, testNamespace } from "../local/cluster/harness.js";
import { parse } from "yaml";
import { McpServer } from "../crds/index.js";
import { policyFromMcpServer, remoteManifest, writePolicyFile } from "../local/domain-servers.js";
import { freePort, getServer, releaseMcpServers, waitFor } from "../test/operator/harness.js";
import { OPERATOR_NODE_FLAGS } from "../operator/node-flags.js";

const root = repoRoot();
const work = join(root, ".toolfleet", "images-test");
const cannotRun = runcUnavailable();
if (cannotRun) console.warn(`images/images.test.ts: the container tests are SKIPPED: ${cannotRun}`);

const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
/** A sample McpServer (crds/samples/<name>.yaml), validated and defaulted. */
const readSample = (name: string): McpServer => McpServer.parse(parse(readFileSync(join(root, "crds", "samples", `${name}.yaml`), "utf8")));
const fileDigest = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** Waits for `check` while the container runs; its exit fails at once, with its log. */
async function whileRunning<T>(c: RunningContainer, what: string, check: () => Promise<T | undefined>): Promise<T> {
  const exited = c.exited.then((code) => {
    throw new Error(`the container exited (${code}) before ${what}`);
  });
  exited.catch(() => undefined); // also rejects when the test stops the container afterwards
  return Promise.race([waitFor(what, check, 60_000, 250), exited]).catch((err: Error) => {
    throw new Error(`${err.message}\ncontainer log: ${c.logs().slice(-2000)}`);
  });
}

/**
 * The admin kubeconfig as a pod would mount a Secret for the image's user: a copy only uid
 * 65532 may read (the original is root's, mode 0600).
 */
function kubeconfigForContainer(): string {
  const file = join(work, "kubeconfig");
  copyFileSync(adminKubeconfigPath(), file);
  chownSync(file, 65532, 65532);
  chmodSync(file, 0o400);
  return file;
}

let first: ImageEntry[] = [];
const firstDir = join(work, "first");
const secondDir = join(work, "second");
const running: RunningContainer[] = [];

beforeAll(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  first = buildImages({ repoRoot: root, outDir: firstDir });
}, 600_000);

afterAll(async () => {
  await Promise.all(running.map((c) => c.stop()));
});

describe("make images", () => {
  it("writes every image the chart names, with images.json as the interface says", () => {
    expect(first.map((e) => e.name)).toEqual(["toolfleet-operator", "toolfleet-registry", "toolfleet-presto", "toolfleet-spark", "toolfleet-airflow"]);
    for (const e of first) {
      expect(e.ref).toBe(`localhost/toolfleet/${e.name}:${version}`);
      expect(e.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(existsSync(join(firstDir, archiveName(e.name)))).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(firstDir, "images.json"), "utf8"))).toEqual(first);
    console.log(first.map((e) => `${e.name}: ${(e.sizeBytes / 1e6).toFixed(1)} MB`).join("\n"));
  });

  it("labels each image with its source, version and revision", () => {
    const blob = (archive: string, digest: string) => JSON.parse(execFileSync("tar", ["-xOf", archive, `./blobs/sha256/${digest.slice(7)}`], { encoding: "utf8" })) as Record<string, unknown>;
    const revision = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    for (const e of first) {
      const archive = join(firstDir, archiveName(e.name));
      const manifest = blob(archive, e.digest) as { config: { digest: string } };
      const config = blob(archive, manifest.config.digest) as { config: { Labels: Record<string, string>; User: string } };
      expect(config.config.User).toBe("65532:65532");
      expect(config.config.Labels).toMatchObject({
        "org.opencontainers.image.source": expect.stringMatching(/.+/),
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.title": e.name,
      });
    }
  });

  it("gives the same digests and the same archive bytes when built again", () => {
    const second = buildImages({ repoRoot: root, outDir: secondDir });
    expect(second).toEqual(first);
    for (const e of first) expect(fileDigest(join(secondDir, archiveName(e.name)))).toBe(fileDigest(join(firstDir, archiveName(e.name))));
  }, 600_000);
});

const describeContainers = cannotRun ? describe.skip : describe;

describeContainers("the images as containers (runc)", () => {
  const archive = (name: string) => join(firstDir, archiveName(name));

  it("run as uid 65532 from the entrypoint the interface names, with no shell and no package manager", () => {
    for (const e of first) {
      const bundle = join(unpackImage(archive(e.name), version, work), "bundle");
      const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as { process: { user: { uid: number; gid: number }; args: string[] } };
      expect(spec.process.user).toMatchObject({ uid: 65532, gid: 65532 });
      const program = e.name === "toolfleet-operator" ? "operator" : e.name === "toolfleet-registry" ? "registry-api" : `servers/${e.name.replace("toolfleet-", "")}`;
      const flags = e.name === "toolfleet-operator" ? OPERATOR_NODE_FLAGS : [];
      expect(spec.process.args).toEqual(["node", ...flags, `dist/${program}/main.js`]);
      for (const path of ["bin/sh", "bin/bash", "usr/bin/sh", "bin/busybox", "usr/bin/apt", "usr/bin/apt-get", "usr/bin/dpkg", "usr/bin/npm", "usr/local/bin/npm"]) {
        expect({ path, exists: existsSync(join(bundle, "rootfs", path)) }).toEqual({ path, exists: false });
      }
      rmSync(join(bundle, ".."), { recursive: true, force: true });
    }
  });

  it("the registry answers /healthz", async () => {
    const port = await freePort();
    const c = runContainer({
      archive: archive("toolfleet-registry"),
      tag: version,
      workDir: work,
      // The root file system is read-only: usage records go to the writable /tmp.
      args: [`--port=${port}`, "--host=127.0.0.1", "--allow-anonymous=true", "--database-file=/tmp/registry-usage.sqlite"],
      env: { KUBECONFIG: "/etc/toolfleet/kubeconfig" },
      mounts: { "/etc/toolfleet/kubeconfig": kubeconfigForContainer() },
    });
    running.push(c);
    const res = await whileRunning(c, "the registry container's /healthz", async () => {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    });
    expect(res.status).toBe(200);
    await c.stop();
  }, 90_000);

  for (const server of DOMAIN_SERVER_NAMES) {
    it(`the ${server} server answers its protected-resource metadata and refuses a call without a token`, async () => {
      const port = await freePort();
      const sample = readSample(server);
      const publicUrl = `http://127.0.0.1:${port}`;
      const policyFile = join(work, `${server}-policy.json`);
      writePolicyFile(policyFile, policyFromMcpServer(remoteManifest(sample, `${publicUrl}/mcp`)));
      // What each server's backend configuration requires (servers/<name>/config.ts); nothing listens there.
      const backend: Record<string, string> = ({
        presto: { PRESTO_URL: "http://127.0.0.1:9" },
        spark: { SPARK_URL: "http://127.0.0.1:9" },
        airflow: { AIRFLOW_URL: "http://127.0.0.1:9", AIRFLOW_USERNAME: "toolfleet", AIRFLOW_PASSWORD: "unused" },
      } as Record<string, Record<string, string>>)[server]!;
      const c = runContainer({
        archive: archive(`toolfleet-${server}`),
        tag: version,
        workDir: work,
        env: {
          PORT: String(port),
          HOST: "127.0.0.1",
          TOOLFLEET_PUBLIC_URL: publicUrl,
          TOOLFLEET_SA_ISSUER: "https://kubernetes.default.svc.cluster.local",
          TOOLFLEET_SA_JWKS_URL: "http://127.0.0.1:9/openid/v1/jwks",
          ...backend,
        },
        mounts: { "/etc/toolfleet/policy.json": policyFile },
      });
      running.push(c);
      const metadata = await whileRunning(c, `${server}'s protected-resource metadata`, async () => {
        const r = await fetch(`${publicUrl}/.well-known/oauth-protected-resource/mcp`).catch(() => undefined);
        return r?.status === 200 ? ((await r.json()) as { resource?: string }) : undefined;
      });
      expect(metadata.resource).toBe(`${publicUrl}/mcp`);
      const call = await fetch(`${publicUrl}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      expect(call.status).toBe(401);
      expect(call.headers.get("www-authenticate") ?? "").toContain("resource_metadata=");
      await c.stop();
    }, 90_000);
  }

  it("the operator, with a mounted kubeconfig, reconciles an McpServer on the local control plane", async () => {
    const ns = await testNamespace("images-op");
    const port = await freePort();
    const c = runContainer({
      archive: archive("toolfleet-operator"),
      tag: version,
      workDir: work,
      args: [`--namespaces=${ns}`, `--leader-election-namespace=${ns}`, `--metrics-addr=127.0.0.1:${port}`, "--identity=image-test"],
      env: { KUBECONFIG: "/etc/toolfleet/kubeconfig" },
      mounts: { "/etc/toolfleet/kubeconfig": kubeconfigForContainer() },
    });
    running.push(c);
    try {
      const sample = readSample("presto");
      await kubectl(["apply", "-f", "-"], { input: stringify({ ...sample, metadata: { name: "presto", namespace: ns } }) });
      const seen = await whileRunning(c, "the operator container to reconcile", async () => {
        const s = await getServer(ns, "presto");
        return s?.status?.phase && s.status.observedGeneration === s.metadata.generation ? s : undefined;
      });
      expect(seen.status?.phase).toBe("PendingReview");
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain("toolfleet_mcpservers");
    } finally {
      await c.stop();
      await releaseMcpServers(ns);
      await deleteNamespace(ns);
    }
  }, 120_000);
});
