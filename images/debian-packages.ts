/**
 * The Debian part of every image's root: only the shared libraries `ldd` shows Node loading
 * (libc, libstdc++, libgcc), the CA certificates and the time zones, fetched with
 * `apt-get download` and unpacked with `dpkg-deb -x` — never installed, so no maintainer
 * script, shell or package manager reaches the image. The versions are the ones apt offers
 * this machine; each package is cached under its versioned file name.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { cachedDirectory, imagesCacheDir } from "./cache.js";

export const RUNTIME_PACKAGES = ["libc6", "libgcc-s1", "libstdc++6", "ca-certificates", "tzdata"] as const;

/** What a package brings that a process in the image never uses (documentation, tools, locales). */
const PRUNED = [
  "usr/share/doc",
  "usr/share/man",
  "usr/share/info",
  "usr/share/lintian",
  "usr/share/locale",
  "usr/share/gdb",
  "usr/share/bug",
  "usr/share/debconf",
  "usr/lib/x86_64-linux-gnu/gconv", // iconv modules: Node converts text itself
  "usr/lib/x86_64-linux-gnu/audit",
  "usr/bin",
  "usr/sbin",
  "bin",
  "sbin",
  "etc/ld.so.conf.d",
];

export interface DebianPackage {
  name: string;
  version: string;
  file: string;
}

function candidateVersion(name: string): string {
  const out = execFileSync("apt-cache", ["show", "--no-all-versions", name], { encoding: "utf8" });
  const m = /^Version: (.+)$/m.exec(out);
  if (!m) throw new Error(`apt-cache has no version of ${name}: run apt-get update`);
  return m[1]!.trim();
}

/** Downloads (once) each runtime package at apt's candidate version. */
export function fetchPackages(): DebianPackage[] {
  const dir = join(imagesCacheDir(), "debs");
  mkdirSync(dir, { recursive: true });
  return RUNTIME_PACKAGES.map((name) => {
    const version = candidateVersion(name);
    const prefix = `${name}_${version.replace(/^\d+:/, "").replace(/:/g, "%3a")}_`;
    let file = readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith(".deb"));
    if (!file) {
      execFileSync("apt-get", ["download", "-q", `${name}=${version}`], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
      file = readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith(".deb"));
      if (!file) throw new Error(`apt-get download ${name}=${version} left no ${prefix}*.deb in ${dir}`);
    }
    return { name, version, file: join(dir, file) };
  });
}

/** All regular files under `dir`, sorted, relative to it. */
function filesUnder(dir: string, root = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p, root));
    else if (entry.isFile()) out.push(relative(root, p));
  }
  return out.sort();
}

/**
 * The unpacked, pruned packages as a directory (cached by the packages' versions), with the CA
 * bundle `update-ca-certificates` would have written.
 */
export function debianRoot(packages: DebianPackage[]): string {
  const key = packages.map((p) => `${p.name}_${p.version}`).join("+").replace(/[^A-Za-z0-9._+-]/g, "_");
  return cachedDirectory(join(imagesCacheDir(), `debian-root-${key}`), (root) => {
    for (const p of packages) execFileSync("dpkg-deb", ["-x", p.file, root]);
    for (const path of PRUNED) rmSync(join(root, path), { recursive: true, force: true });
    const certs = join(root, "usr/share/ca-certificates");
    const bundle = filesUnder(certs)
      .filter((f) => f.endsWith(".crt"))
      .map((f) => readFileSync(join(certs, f), "utf8").trimEnd() + "\n")
      .join("");
    if (!bundle.includes("BEGIN CERTIFICATE")) throw new Error("ca-certificates brought no certificate");
    mkdirSync(join(root, "etc/ssl/certs"), { recursive: true });
    writeFileSync(join(root, "etc/ssl/certs/ca-certificates.crt"), bundle);
    if (!existsSync(join(root, "lib64/ld-linux-x86-64.so.2"))) throw new Error("libc6 brought no /lib64/ld-linux-x86-64.so.2");
  });
}
