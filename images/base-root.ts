/**
 * The root every image shares, as one layer: the Debian libraries and data, Node (from the npm
 * `node` package the project already pins, stripped of its debug symbols), and the few files a
 * distroless root carries — the non-root user 65532 in /etc/passwd, name resolution through
 * /etc/hosts then DNS, a world-writable /tmp. No shell and no package manager: nothing here can
 * start one.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cachedDirectory, imagesCacheDir } from "./cache.js";
import { debianRoot, fetchPackages, type DebianPackage } from "./debian-packages.js";

export const NONROOT_UID = 65532;

export interface BaseRoot {
  dir: string;
  nodeVersion: string;
  packages: DebianPackage[];
}

const ETC_FILES: Record<string, string> = {
  "etc/passwd": `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${NONROOT_UID}:${NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin\n`,
  "etc/group": `root:x:0:\nnonroot:x:${NONROOT_UID}:\n`,
  "etc/nsswitch.conf": "hosts: files dns\n",
  "etc/hosts": "127.0.0.1 localhost\n::1 localhost\n",
};

/** The npm `node` package's binary and version, from the project's node_modules. */
function npmNode(repoRoot: string): { binary: string; version: string } {
  const pkg = join(repoRoot, "node_modules", "node");
  const binary = join(pkg, "bin", "node");
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run npm ci (the node package brings Node ${"22"})`);
  const version = (JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { version: string }).version;
  return { binary, version };
}

/** Node without its debug symbols (about 18 MB less), cached by version. */
function strippedNode(binary: string, version: string): string {
  const dir = cachedDirectory(join(imagesCacheDir(), `node-${version}-stripped`), (tmp) => {
    copyFileSync(binary, join(tmp, "node"));
    execFileSync("strip", ["--strip-all", join(tmp, "node")]);
  });
  return join(dir, "node");
}

export function baseRoot(repoRoot: string, into: string): BaseRoot {
  const packages = fetchPackages();
  const debian = debianRoot(packages);
  const node = npmNode(repoRoot);
  cpSync(debian, into, { recursive: true, verbatimSymlinks: true });
  for (const [path, text] of Object.entries(ETC_FILES)) {
    mkdirSync(join(into, path, ".."), { recursive: true });
    writeFileSync(join(into, path), text, { mode: 0o644 });
    chmodSync(join(into, path), 0o644); // the same bytes whatever this machine's umask
  }
  mkdirSync(join(into, "usr/local/bin"), { recursive: true });
  copyFileSync(strippedNode(node.binary, node.version), join(into, "usr/local/bin/node"));
  chmodSync(join(into, "usr/local/bin/node"), 0o755);
  mkdirSync(join(into, "tmp"), { recursive: true });
  chmodSync(join(into, "tmp"), 0o1777);
  mkdirSync(join(into, "home/nonroot"), { recursive: true });
  return { dir: into, nodeVersion: node.version, packages };
}
