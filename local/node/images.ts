/**
 * The images the real node runs, all made on this machine and imported into its containerd
 * (namespace k8s.io, the one the kubelet's CRI uses): the sandbox image, a Node image for the
 * real-node tests, and, when `make images` has written them, the project's own images from
 * dist/images/. Pods use them with `imagePullPolicy: Never`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../cluster/paths.js";
import { buildImage, sharedLibraries, type BuiltImage } from "./oci-image.js";

export function pauseImage(binDir: string): BuiltImage {
  return buildImage({ ref: "localhost/toolfleet/pause:1", files: { "/pause": { from: join(binDir, "pause") } }, entrypoint: ["/pause"] });
}

/** The Node binary the project runs on (from npm), with the shared libraries it links. */
export function nodeImage(): BuiltImage {
  const node = realpathSync(join(repoRoot(), "node_modules", "node", "bin", "node"));
  const version = execFileSync(node, ["--version"]).toString().trim().replace(/^v/, "");
  const files: Record<string, { from: string }> = { "/usr/local/bin/node": { from: node } };
  for (const lib of sharedLibraries(node)) files[lib] = { from: lib };
  return buildImage({ ref: `localhost/toolfleet/node:${version}`, files, dirs: ["/tmp"], entrypoint: ["/usr/local/bin/node"] });
}

/** `repository:tag` and a digest → `repository@digest`. */
export const pinnedRef = (ref: string, digest: string) => `${ref.replace(/:[^:/]+$/, "")}@${digest}`;

/** An archive with the manifest digest it should have, when its builder says (images.json). */
export type ImportableImage = BuiltImage & { digest?: string };

export class Ctr {
  constructor(
    private readonly binDir: string,
    private readonly socket: string,
  ) {}

  private run(args: string[]): string {
    return execFileSync(join(this.binDir, "ctr"), ["--address", this.socket, "--namespace", "k8s.io", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 16 << 20,
    }).toString();
  }

  images(): Set<string> {
    return new Set(this.run(["images", "list", "--quiet"]).split("\n").filter(Boolean));
  }

  /** Reference → manifest digest of every image the node has. */
  digests(): Map<string, string> {
    const rows = this.run(["images", "list"]).split("\n").slice(1);
    return new Map(rows.map((r) => r.trim().split(/\s+/)).filter((c): c is [string, string, string] => c.length >= 3).map(([ref, , digest]) => [ref, digest]));
  }

  /**
   * Imports an archive unless an image of that reference (and digest, when known) is there
   * already; with a digest, the image is also named `<repository>@<digest>`, the pinned form an
   * approved McpServer uses (the kubelet looks an image up by exactly the name it is given).
   */
  importImage(image: ImportableImage): void {
    const digests = this.digests();
    const present = digests.get(image.ref);
    if (!present || (image.digest && image.digest !== present)) {
      try {
        this.run(["images", "import", "--platform", "linux/amd64", image.archive]);
      } catch (err) {
        const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
        throw new Error(`ctr could not import ${image.archive} as ${image.ref}: ${stderr || String(err)}`);
      }
      if (!this.images().has(image.ref)) throw new Error(`ctr imported ${image.archive} but no image ${image.ref} is listed`);
    }
    if (image.digest) {
      const pinned = pinnedRef(image.ref, image.digest);
      if (!digests.has(pinned)) this.run(["images", "tag", "--force", image.ref, pinned]);
    }
  }
}

/** The project's images from `make images` (dist/images/images.json), if they have been built. */
export function projectImages(): ImportableImage[] {
  const dir = join(repoRoot(), "dist", "images");
  const index = join(dir, "images.json");
  if (!existsSync(index)) return [];
  const entries = JSON.parse(readFileSync(index, "utf8")) as { name: string; ref: string; digest?: string }[];
  return entries.map((e) => ({ ref: e.ref, digest: e.digest, archive: join(dir, `${e.name}.oci.tar`) })).filter((i) => existsSync(i.archive));
}
