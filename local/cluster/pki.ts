/**
 * The local control plane's certificates and keys, made with openssl: a cluster CA, the API
 * server's serving certificate, the service-account signing key, and client certificates for
 * the components and for any user in any groups (CN = user, O = group).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

export interface ClientCredentials {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(err)}`);
  }
}

/** Writes a file only once it is whole, so a crash never leaves half a key behind. */
function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function ensurePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => join(dir, f);
  const pki: Pki = {
    dir,
    caCert: p("ca.crt"),
    caKey: p("ca.key"),
    servingCert: p("apiserver.crt"),
    servingKey: p("apiserver.key"),
    serviceAccountKey: p("sa.key"),
    serviceAccountPub: p("sa.pub"),
  };
  if (!existsSync(pki.caCert)) {
    openssl(["genrsa", "-out", "ca.key", "2048"], dir);
    openssl(["req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "3650", "-subj", "/CN=toolfleet-local-ca", "-out", "ca.crt"], dir);
  }
  if (!existsSync(pki.servingCert)) {
    writeAtomically(
      p("apiserver.ext"),
      "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n" +
        "extendedKeyUsage=serverAuth\n",
    );
    openssl(["genrsa", "-out", "apiserver.key", "2048"], dir);
    openssl(["req", "-new", "-key", "apiserver.key", "-subj", "/CN=kube-apiserver", "-out", "apiserver.csr"], dir);
    openssl(
      ["x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "3650", "-sha256", "-extfile", "apiserver.ext", "-out", "apiserver.crt"],
      dir,
    );
  }
  if (!existsSync(pki.serviceAccountPub)) {
    openssl(["genrsa", "-out", "sa.key", "2048"], dir);
    openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
  }
  return pki;
}

/** A client certificate for `user` in `groups`, signed by the cluster CA; made once and kept. */
export function clientCredentials(pki: Pki, user: string, groups: readonly string[]): ClientCredentials {
  const id = createHash("sha256").update(JSON.stringify([user, [...groups].sort()])).digest("hex").slice(0, 16);
  const subject = "/CN=" + escapeRdn(user) + groups.map((g) => "/O=" + escapeRdn(g)).join("");
  return signedByCa(pki, join(pki.dir, "clients"), id, subject, "extendedKeyUsage=clientAuth\n");
}

/** A serving certificate for `ips`, signed by the cluster CA (which pods trust); made once and kept. */
export function servingCredentials(pki: Pki, name: string, ips: readonly string[]): ClientCredentials {
  const id = createHash("sha256").update(JSON.stringify([name, [...ips].sort()])).digest("hex").slice(0, 16);
  const ext = `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(",")}\nextendedKeyUsage=serverAuth\n`;
  return signedByCa(pki, join(pki.dir, "serving"), id, `/CN=${escapeRdn(name)}`, ext);
}

/** A P-256 key and a certificate for it with `subject` and `extensions`, in `dir` as `<id>.crt` and `<id>.key`. */
function signedByCa(pki: Pki, dir: string, id: string, subject: string, extensions: string): ClientCredentials {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, `${id}.crt`);
  const key = join(dir, `${id}.key`);
  if (!existsSync(cert)) {
    const tmp = `${id}.${process.pid}`;
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${tmp}.key`], dir);
    openssl(["req", "-new", "-key", `${tmp}.key`, "-subj", subject, "-out", `${tmp}.csr`], dir);
    writeAtomically(join(dir, `${tmp}.ext`), extensions);
    openssl(
      ["x509", "-req", "-in", `${tmp}.csr`, "-CA", pki.caCert, "-CAkey", pki.caKey, "-CAcreateserial", "-days", "3650", "-sha256", "-extfile", `${tmp}.ext`, "-out", `${tmp}.crt`],
      dir,
    );
    renameSync(join(dir, `${tmp}.key`), key);
    renameSync(join(dir, `${tmp}.crt`), cert);
  }
  return { cert, key };
}

function escapeRdn(value: string): string {
  if (/[\n/]/.test(value)) throw new Error(`user and group names may not contain '/' or newlines: ${JSON.stringify(value)}`);
  return value.replace(/([,+"\\<>;=])/g, "\\$1");
}

export function readPem(path: string): string {
  return readFileSync(path, "utf8");
}
