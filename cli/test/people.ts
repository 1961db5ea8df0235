/**
 * People running `toolfleet` in tests: each with a config folder and home of their own, signing
 * in on the provider's pages when the CLI shows them one, and with a kubeconfig of their own
 * (a client certificate of the cluster CA) for the review commands.
 */
import { join } from "node:path";
import { pki } from "../../local/cluster/controlplane.js";
import { cluster } from "../../local/cluster/harness.js";
import { writeKubeconfig } from "../../local/cluster/kubeconfig.js";
import { clientCredentials } from "../../local/cluster/pki.js";
import { run } from "../main.js";
import { signInOnProvider } from "./provider-browser.js";

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Sees each stderr line as it comes. */
  onNote?: (line: string) => void;
  cwd?: string;
  home?: string;
}

export function people(work: string, registryUrl: () => string) {
  async function toolfleet(person: string, argv: string[], opts: RunOptions = {}): Promise<Ran> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const env = { TOOLFLEET_CONFIG_DIR: join(work, "config", person), HOME: opts.home ?? join(work, "home", person) };
    const code = await run(argv, {
      env,
      cwd: opts.cwd ?? work,
      out: {
        line: (t = "") => void stdout.push(t),
        note: (t) => {
          stderr.push(t);
          opts.onNote?.(t);
        },
      },
    });
    return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
  }

  /** `toolfleet login` (loopback PKCE, or the device flow with --device), the person signing in on the page shown. */
  async function login(person: string, extra: string[] = []): Promise<Ran> {
    let signedIn: Promise<unknown> | undefined;
    const ran = await toolfleet(person, ["login", "--registry", registryUrl(), ...extra], {
      onNote: (line) => {
        const url = /\(or open (\S+)\)/.exec(line)?.[1] ?? /^\s+(http\S+)$/m.exec(line)?.[1];
        if (url) signedIn = signInOnProvider(url, person, person);
      },
    });
    await signedIn;
    return ran;
  }

  function kubeconfigOf(user: string, groups: string[]): string {
    const path = join(work, `${user}.kubeconfig`);
    writeKubeconfig(path, cluster().server, pki().caCert, clientCredentials(pki(), user, groups));
    return path;
  }

  return { toolfleet, login, kubeconfigOf };
}
