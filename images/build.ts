/**
 * `make images`: every image of the project as an OCI archive, `dist/images/<name>.oci.tar`,
 * and `dist/images/images.json` = [{ name, ref, digest, sizeBytes }] for the chart and the
 * tests. No container daemon: layers are reproducible tars of directories assembled here
 * (see base-root.ts, production-deps.ts, package-closure.ts, app-files.ts), so the same inputs give the same
 * digests. Layers, in order: the shared root (Debian libraries and Node), the production
 * packages the program imports (shared by images that import the same), and the image's own
 * compiled program.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { importClosure } from "./app-files.js";
import { baseRoot, NONROOT_UID } from "./base-root.js";
import { IMAGES } from "./definitions.js";
import { layerFromDirectory, type Layer } from "./layer.js";
import { writeImageArchive } from "./oci.js";
import { bareImports, packageClosure } from "./package-closure.js";
import { productionNodeModules } from "./production-deps.js";

export interface ImageEntry {
  name: string;
  /** localhost/toolfleet/<name>:<package.json version> */
  ref: string;
  /** The manifest digest, sha256:… */
  digest: string;
  /** Uncompressed size of the image's layers. */
  sizeBytes: number;
}

export const IMAGES_INDEX = "images.json";
export const archiveName = (name: string) => `${name}.oci.tar`;

function git(repoRoot: string, args: string[]): string | undefined {
  try {
    return execFileSync("git", args, { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function appLayer(repoRoot: string, files: string[], work: string, name: string): Layer {
  const root = join(work, `app-${name}`);
  mkdirSync(join(root, "app"), { recursive: true });
  // package.json says "type": "module": without it Node would read dist/ as CommonJS.
  copyFileSync(join(repoRoot, "package.json"), join(root, "app", "package.json"));
  for (const file of files) {
    mkdirSync(dirname(join(root, "app", file)), { recursive: true });
    copyFileSync(join(repoRoot, file), join(root, "app", file));
  }
  return layerFromDirectory(root);
}

/** Files no program loads at run time: type declarations and source maps. */
const UNUSED_AT_RUN_TIME = /\.(map|d\.ts|d\.mts|d\.cts)$/;

/** The packages in `packages` (directories under `nodeModules`), each without its own nested node_modules unless listed. */
function depsLayer(nodeModules: string, packages: string[], root: string): Layer {
  for (const pkg of packages) {
    const from = join(nodeModules, pkg);
    cpSync(from, join(root, "app", "node_modules", pkg), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) => src !== join(from, "node_modules") && !UNUSED_AT_RUN_TIME.test(src),
    });
  }
  return layerFromDirectory(root);
}

export interface BuildOptions {
  repoRoot: string;
  outDir: string;
  /** Progress lines (make prints them). */
  log?: (line: string) => void;
}

export function buildImages({ repoRoot, outDir, log = () => {} }: BuildOptions): ImageEntry[] {
  const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
  mkdirSync(outDir, { recursive: true });
  const work = join(outDir, `.work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  try {
    log("[images] base root: Debian runtime packages and Node");
    const base = baseRoot(repoRoot, join(work, "base"));
    const baseLayer = layerFromDirectory(base.dir);
    log(`[images] base root: node ${base.nodeVersion}, ${base.packages.map((p) => `${p.name} ${p.version}`).join(", ")}`);

    log("[images] production node_modules");
    const nodeModules = productionNodeModules(repoRoot);
    const depsLayers = new Map<string, Layer>(); // images that need the same packages share the layer

    const labels = {
      "org.opencontainers.image.source": process.env.TOOLFLEET_IMAGE_SOURCE ?? git(repoRoot, ["remote", "get-url", "origin"]) ?? "toolfleet",
      "org.opencontainers.image.version": version,
      "org.opencontainers.image.revision": git(repoRoot, ["rev-parse", "HEAD"]) ?? "unknown",
    };
    const entries: ImageEntry[] = [];
    for (const def of IMAGES) {
      const ref = `localhost/toolfleet/${def.name}:${version}`;
      const files = importClosure(repoRoot, def.entry);
      const packages = packageClosure(nodeModules, bareImports(files.map((f) => join(repoRoot, f))));
      const key = packages.join(",");
      if (!depsLayers.has(key)) depsLayers.set(key, depsLayer(nodeModules, packages, join(work, `deps-${depsLayers.size}`)));
      const built = writeImageArchive(
        join(outDir, archiveName(def.name)),
        [baseLayer, depsLayers.get(key)!, appLayer(repoRoot, files, work, def.name)],
        {
          user: `${NONROOT_UID}:${NONROOT_UID}`,
          env: ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
          entrypoint: ["node", ...(def.nodeFlags ?? []), def.entry],
          workingDir: "/app",
          labels: { ...labels, "org.opencontainers.image.title": def.name, "org.opencontainers.image.description": def.description },
          ports: def.ports,
        },
        version,
        ref,
      );
      entries.push({ name: def.name, ref, digest: built.digest, sizeBytes: built.sizeBytes });
      log(`[images] ${def.name}: ${built.digest}, ${(built.sizeBytes / 1e6).toFixed(1)} MB (${(built.compressedBytes / 1e6).toFixed(1)} MB compressed)`);
    }
    writeFileSync(join(outDir, IMAGES_INDEX), JSON.stringify(entries, null, 2) + "\n");
    return entries;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
  try {
    buildImages({ repoRoot, outDir: join(repoRoot, "dist", "images"), log: (l) => console.log(l) });
  } catch (err) {
    console.error(`[images] failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
