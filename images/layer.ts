/**
 * One image layer from a directory, the same bytes for the same files: GNU tar with entries
 * sorted by name, every mtime at the epoch, owner root, no access or change times, then
 * `gzip -n` (no name, no timestamp). The digests the OCI config and manifest need come with it.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";

export interface Layer {
  /** sha256 of the gzip blob, `sha256:…`: what the manifest names. */
  digest: string;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids. */
  diffId: string;
  /** Bytes of the uncompressed tar (what the image takes on disk, roughly). */
  size: number;
  blob: Buffer;
}

const TAR_FLAGS = [
  "--sort=name",
  "--mtime=@0",
  "--owner=0",
  "--group=0",
  "--numeric-owner",
  "--format=posix",
  "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
];

export const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** A reproducible tar of `dir`'s contents (paths relative to it, as the image's root). */
export function tarDirectory(dir: string): Buffer {
  return execFileSync("tar", [...TAR_FLAGS, "-C", dir, "-cf", "-", "."], { maxBuffer: 1 << 30 });
}

export function layerFromDirectory(dir: string): Layer {
  const tar = tarDirectory(dir);
  const blob = execFileSync("gzip", ["-n", "-6"], { input: tar, maxBuffer: 1 << 30 });
  return { digest: sha256(blob), diffId: sha256(tar), size: tar.length, blob };
}

/** Writes `tar` of `dir` to `file` (the OCI layout as one archive). */
export function writeTar(dir: string, file: string): void {
  writeFileSync(file, tarDirectory(dir));
}

