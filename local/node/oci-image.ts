/**
 * Packs files of this machine into an OCI image archive (one uncompressed layer), the form
 * `ctr images import` reads. The real node has no registry to pull from: its sandbox image and
 * the test images are made here, from a static program or from the Node binary and the shared
 * libraries it links, and cached under ~/.cache/toolfleet/images keyed by what went in.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface ImageSpec {
  /** Full reference, e.g. localhost/toolfleet/pause:1. */
  ref: string;
  /** Files of the image: path in the image → path on this machine (or inline text). */
  files: Record<string, { from: string } | { text: string; mode?: number }>;
  /** Empty directories the image needs (e.g. /tmp). */
  dirs?: string[];
  entrypoint: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
}

export interface BuiltImage {
  ref: string;
  archive: string;
}

const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar",
};

export function imageCacheDir(): string {
  const base = process.env.TOOLFLEET_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "toolfleet");
  return join(base, "node-images");
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** A key of everything that goes into the image: file paths, sizes, modification times, texts. */
function specKey(spec: ImageSpec): string {
  const files = Object.entries(spec.files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([to, src]) => {
      if ("text" in src) return [to, sha256(src.text), src.mode ?? 0o644];
      const st = statSync(src.from);
      return [to, src.from, st.size, st.mtimeMs];
    });
  return sha256(JSON.stringify({ v: 1, ...spec, files })).slice(0, 16);
}

/** Builds the archive unless the cache has it; returns its path. */
export function buildImage(spec: ImageSpec): BuiltImage {
  const dir = imageCacheDir();
  mkdirSync(dir, { recursive: true });
  const safeName = spec.ref.replace(/[^a-zA-Z0-9_.-]+/g, "_");
  const archive = join(dir, `${safeName}-${specKey(spec)}.oci.tar`);
  if (existsSync(archive)) return { ref: spec.ref, archive };

  const work = mkdtempSync(join(dir, ".build-"));
  try {
    const root = join(work, "rootfs");
    mkdirSync(root);
    for (const d of spec.dirs ?? []) mkdirSync(join(root, d), { recursive: true, mode: 0o1777 });
    for (const [to, src] of Object.entries(spec.files)) {
      const target = join(root, to);
      mkdirSync(dirname(target), { recursive: true });
      if ("text" in src) writeFileSync(target, src.text, { mode: src.mode ?? 0o644 });
      else copyFileSync(realpathSync(src.from), target);
      if ("from" in src) execFileSync("chmod", ["--reference", realpathSync(src.from), target]);
    }
    // A reproducible layer: sorted, owned by root, timestamps at the epoch.
    const layerPath = join(work, "layer.tar");
    execFileSync("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", root, "-cf", layerPath, "."]);
    const layer = readFileSync(layerPath);
    const layerDigest = sha256(layer);

    const config = Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: { Entrypoint: spec.entrypoint, Cmd: spec.cmd ?? [], Env: spec.env ?? ["PATH=/usr/local/bin:/usr/bin:/bin"], WorkingDir: spec.workingDir ?? "/" },
        rootfs: { type: "layers", diff_ids: [`sha256:${layerDigest}`] },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.manifest,
        config: { mediaType: MEDIA.config, digest: `sha256:${sha256(config)}`, size: config.length },
        layers: [{ mediaType: MEDIA.layer, digest: `sha256:${layerDigest}`, size: layer.length }],
      }),
    );
    const layout = join(work, "layout");
    const blobs = join(layout, "blobs", "sha256");
    mkdirSync(blobs, { recursive: true });
    renameSync(layerPath, join(blobs, layerDigest));
    writeFileSync(join(blobs, sha256(config)), config);
    writeFileSync(join(blobs, sha256(manifest)), manifest);
    writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    const tag = spec.ref.slice(spec.ref.lastIndexOf(":") + 1);
    writeFileSync(
      join(layout, "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.index,
        manifests: [
          {
            mediaType: MEDIA.manifest,
            digest: `sha256:${sha256(manifest)}`,
            size: manifest.length,
            platform: { architecture: "amd64", os: "linux" },
            annotations: { "io.containerd.image.name": spec.ref, "org.opencontainers.image.ref.name": tag },
          },
        ],
      }),
    );
    execFileSync("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "-C", layout, "-cf", `${archive}.tmp`, "oci-layout", "index.json", "blobs"]);
    renameSync(`${archive}.tmp`, archive);
    return { ref: spec.ref, archive };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The shared libraries a dynamically linked program loads, as ldd lists them (absolute paths). */
export function sharedLibraries(program: string): string[] {
  const out = execFileSync("ldd", [program]).toString();
  const libs = new Set<string>();
  for (const line of out.split("\n")) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s+(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.add(m[1]);
  }
  return [...libs];
}
