// jest starts (or reuses) the local control plane once per run and installs the API into it, for
// the projects that need it (cluster, disruptive: jest.config.js).
// Plain JavaScript on the compiled harness: jest loads global setup outside its module system.
// `make test` compiles first; the control plane outlives the run (`make cluster-down` stops it).
import { existsSync } from "node:fs";

export default async function globalSetup() {
  const cli = new URL("../dist/local/cluster/cli.js", import.meta.url);
  if (!existsSync(cli)) throw new Error("dist/ is missing: run the tests with `make test` (it compiles first)");
  const { clusterUp } = await import(cli.href);
  await clusterUp();
}
