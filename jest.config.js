// Native-ESM jest: ts-jest compiles TypeScript to ES modules, which run under
// --experimental-vm-modules so ESM-only dependencies (@kubernetes/client-node, jose) load as they are.
//
// Two phases. Suites named *.disruptive.test.ts restart a component of the shared local control
// plane (the API server), which refuses every other client meanwhile, so they run alone:
// `make test` runs the main phase, then TOOLFLEET_TEST_PHASE=disruptive for them.
const disruptivePhase = process.env.TOOLFLEET_TEST_PHASE === "disruptive";
const disruptive = "\\.disruptive\\.test\\.ts$";

/** @type {import('jest').Config} */
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json" }],
  },
  // .toolfleet/ holds the local control plane's state (etcd's data among it): never tests.
  testPathIgnorePatterns: ["/node_modules/", "/dist/", "<rootDir>/.toolfleet/", "<rootDir>/test-artifacts/", ...(disruptivePhase ? [] : [disruptive])],
  ...(disruptivePhase ? { testRegex: disruptive } : { testMatch: ["<rootDir>/**/*.test.ts"] }),
  modulePathIgnorePatterns: ["<rootDir>/dist/", "<rootDir>/.toolfleet/"],
  watchPathIgnorePatterns: ["<rootDir>/.toolfleet/"],
  globalSetup: "<rootDir>/test/global-setup.js",
  testTimeout: 60000,
  maxWorkers: 2,
};
