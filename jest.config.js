// Native-ESM jest: ts-jest compiles TypeScript to ES modules, which run under
// --experimental-vm-modules so ESM-only dependencies (@kubernetes/client-node, jose) load as they are.
//
// Four projects, by what a suite needs (run one with `[paths] --selectProjects <name>`):
// - unit: nothing but Node (in-process servers, child processes from dist/, fakes of pure logic,
//   SQLite); no control plane is started for it.
// - backends: a real program installed on the machine, Trino, Airflow, Spark, Keycloak,
//   PostgreSQL (started on demand, shared by every run on the machine) or Chromium; no control plane.
// - cluster: the local control plane, which the global setup starts (or reuses) once per run;
//   backends on demand. Every suite not listed below lands here, where everything is available.
// - disruptive: suites named *.disruptive.test.ts, which restart a component of the shared
//   control plane (the API server refuses every other client meanwhile): `make test` runs them
//   alone, after the others.
// A global setup runs only for a project with a suite in the run, so unit and backends alone
// never start the control plane.

/** Suites that need nothing: a folder (ending in /) or a file. */
const UNIT = [
  "bench/test/",
  "common/test/",
  "local/test/",
  "local/node/relay.test.ts",
  "operator/test/",
  "policy/test/",
  "runtime/test/",
  "servers/kit/usage/test/",
  "test/unit/",
  "auth/test/authenticator.test.ts",
  "auth/test/key-url.test.ts",
  "auth/test/token-review.test.ts",
  "cli/test/impact.test.ts",
  "cli/test/pure.test.ts",
  "registry-api/test/catalog-served.test.ts",
  "registry-api/test/hot-paths.test.ts",
  "registry-api/test/server-list.test.ts",
  "registry-api/usage/test/people-set.test.ts",
  "registry-api/usage/test/usage.test.ts",
  "servers/kit/test/access.test.ts",
  "servers/kit/test/calls.test.ts",
  "servers/kit/test/replicas.test.ts",
  "servers/kit/test/revisions.test.ts",
  "servers/airflow/wait-for-run.test.ts",
  "servers/presto/sql-guard.test.ts",
  "servers/spark/diagnose.test.ts",
  "test/api/crds-drift.test.ts",
  "test/conformance/",
];

/** Suites that need a backend (or Chromium) and no control plane. */
const BACKENDS = [
  "local/backends/keycloak.test.ts",
  "registry-api/usage/test/domain-usage.test.ts",
  "registry-api/usage/test/impact-browser.test.ts",
  "registry-api/usage/test/store.test.ts",
  "servers/airflow/client.test.ts",
  "servers/airflow/ids.test.ts",
  "servers/airflow/revisions.test.ts",
  "servers/airflow/server.test.ts",
  "servers/presto/client.test.ts",
  "servers/presto/guard-trino.test.ts",
  "servers/presto/revisions.test.ts",
  "servers/presto/server.test.ts",
  "servers/spark/client.test.ts",
  "servers/spark/ids.test.ts",
  "servers/spark/revisions.test.ts",
  "servers/spark/server.test.ts",
];

const DISRUPTIVE = "\\.disruptive\\.test\\.ts$";
const asGlob = (entry) => `<rootDir>/${entry}${entry.endsWith("/") ? "**/*.test.ts" : ""}`;
const asPattern = (entry) => `<rootDir>/${entry.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${entry.endsWith("/") ? "" : "$"}`;
// .toolfleet/ holds the local control plane's state (etcd's data among it): never tests.
const IGNORED = ["/node_modules/", "/dist/", "<rootDir>/.toolfleet/", "<rootDir>/test-artifacts/"];
const CONTROL_PLANE = "<rootDir>/test/global-setup.js";

const base = {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json" }],
  },
  modulePathIgnorePatterns: ["<rootDir>/dist/", "<rootDir>/.toolfleet/"],
  watchPathIgnorePatterns: ["<rootDir>/.toolfleet/"],
};

/** @type {import('jest').Config} */
export default {
  testTimeout: 60000,
  maxWorkers: 2,
  projects: [
    { ...base, displayName: "unit", testMatch: UNIT.map(asGlob), testPathIgnorePatterns: [...IGNORED, DISRUPTIVE] },
    { ...base, displayName: "backends", testMatch: BACKENDS.map(asGlob), testPathIgnorePatterns: [...IGNORED, DISRUPTIVE] },
    {
      ...base,
      displayName: "cluster",
      globalSetup: CONTROL_PLANE,
      testMatch: ["<rootDir>/**/*.test.ts"],
      testPathIgnorePatterns: [...IGNORED, DISRUPTIVE, ...UNIT.map(asPattern), ...BACKENDS.map(asPattern)],
    },
    { ...base, displayName: "disruptive", globalSetup: CONTROL_PLANE, testMatch: ["<rootDir>/**/*.disruptive.test.ts"], testPathIgnorePatterns: IGNORED },
  ],
};
