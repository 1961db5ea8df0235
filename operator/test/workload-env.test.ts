/**
 * Every sample starts: the pod spec the operator writes for it, with the operator configured as
 * the chart configures it, passes the kit's own start-up configuration check (optionsFromEnv) on
 * exactly the environment the container gets, with no variable set by hand. The samples carry
 * no auth settings of their own.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "@jest/globals";
import { parse } from "yaml";
import { McpServerSpec } from "../../crds/index.js";
import { optionsFromEnv } from "../../servers/kit/env.js";
import { desiredChildren } from "../children.js";
import { childrenConfig, loadConfig } from "../config.js";
import { servedSpec } from "../spec-hash.js";
import type { McpServerObject } from "../../mcpserver/type.js";

const dir = fileURLToPath(new URL("../../crds/samples/", import.meta.url));
const samples = readdirSync(dir).filter((f) => f.endsWith(".yaml"));

function containerEnv(file: string, flags: string[], podIP = "10.88.0.7"): Record<string, string> {
  const raw = parse(readFileSync(dir + file, "utf8")) as McpServerObject;
  raw.metadata.uid = "uid-1";
  const config = loadConfig(flags, {});
  const children = desiredChildren(raw, servedSpec(McpServerSpec.parse(raw.spec)), 1, childrenConfig(config));
  type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };
  const deployment = children.find((c) => c.type.kind === "Deployment")!.object as unknown as { spec: { template: { spec: { containers: Array<{ env: EnvVar[] }> } } } };
  const env = deployment.spec.template.spec.containers[0]!.env;
  // What the kubelet would give the process: the pod's own fields resolved, $(NAME) expanded from
  // the entries before it, the last entry of a name wins.
  const pod: Record<string, string> = { "status.podIP": podIP };
  const out: Record<string, string> = {};
  for (const e of env) {
    const value = e.value !== undefined ? e.value.replace(/\$\(([A-Z0-9_]+)\)/g, (m, name: string) => out[name] ?? m) : e.valueFrom?.fieldRef ? pod[e.valueFrom.fieldRef.fieldPath] : undefined;
    if (value !== undefined) out[e.name] = value;
  }
  return out;
}

const CHART_FLAGS = [
  "--oidc-issuer=https://idp.example.com",
  "--oidc-jwks-url=https://idp.example.com/jwks",
  "--groups-claim=roles",
  "--sa-issuer=https://kubernetes.default.svc",
  "--sa-jwks-url=https://kubernetes.default.svc/openid/v1/jwks",
  "--usage-url=http://toolfleet-registry.toolfleet-system.svc.cluster.local:80",
  "--usage-audience=toolfleet-usage",
];

describe.each(samples)("the sample %s", (file) => {
  it("carries no auth settings of its own", () => {
    const spec = McpServerSpec.parse((parse(readFileSync(dir + file, "utf8")) as McpServerObject).spec);
    expect((spec.workload?.env ?? []).filter((e) => e.name.startsWith("TOOLFLEET_"))).toEqual([]);
  });

  it("starts with what the operator gives it: people's and services' issuers, key sets, audience", () => {
    const env = containerEnv(file, CHART_FLAGS);
    const options = optionsFromEnv(env);
    // The other replicas reach this one at its pod address (sessions and confirmations forwarded).
    expect(env.TOOLFLEET_REPLICA_IP).toBe("10.88.0.7");
    expect(options.replicaUrl).toBe(`http://10.88.0.7:${env.PORT}`);
    expect(options.auth.users).toMatchObject({ issuer: "https://idp.example.com", groupsClaim: "roles", audience: [expect.stringMatching(/^http:\/\/[a-z]+\.[a-z-]+\.svc\.cluster\.local:8080\/mcp$/)] });
    expect(options.auth.serviceAccounts).toMatchObject({ issuer: "https://kubernetes.default.svc" });
    expect(options.publicUrl).toMatch(/^http:\/\/[a-z]+\.[a-z-]+\.svc\.cluster\.local:8080$/);
    // Usage on: the registry's URL, the projected token's file and the buffer, no key.
    expect(options.usage).toBeDefined();
    expect(env).toMatchObject({
      TOOLFLEET_USAGE_URL: "http://toolfleet-registry.toolfleet-system.svc.cluster.local:80",
      TOOLFLEET_USAGE_TOKEN_FILE: "/var/run/secrets/toolfleet/usage/token",
      TOOLFLEET_USAGE_DIR: "/var/lib/toolfleet/usage",
    });
    expect(Object.keys(env).filter((k) => /KEY_FILE|HASH/.test(k))).toEqual([]);
  });

  it("reports no usage when the operator is given no registry URL", () => {
    const env = containerEnv(file, CHART_FLAGS.filter((f) => !f.startsWith("--usage-")));
    expect(env.TOOLFLEET_USAGE_URL).toBeUndefined();
    expect(optionsFromEnv(env).usage).toBeUndefined();
  });

  it("gives the other replicas a valid URL on an IPv6 pod network too", () => {
    const env = containerEnv(file, CHART_FLAGS, "fd00:10:88::7");
    expect(optionsFromEnv(env).replicaUrl).toBe(`http://[fd00:10:88::7]:${env.PORT}`);
  });

  it("would not start without them (the check is real)", () => {
    expect(() => optionsFromEnv(containerEnv(file, []))).toThrow(/TOOLFLEET_OIDC_ISSUER/);
  });
});

describe("the operator's usage settings", () => {
  it("refuses what no workload could report with, naming the flag", () => {
    expect(() => loadConfig(["--usage-url=registry:80"], {})).toThrow(/--usage-url: "registry:80" is not an http\(s\) URL/);
    expect(() => loadConfig(["--usage-audience=toolfleet-usage"], {})).toThrow(/--usage-audience: given without --usage-url/);
    expect(loadConfig(["--usage-url=http://registry.example/"], {}).workloadUsage).toEqual({ url: "http://registry.example", audience: "toolfleet-usage" });
  });
});
