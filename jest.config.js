// Native-ESM jest: ts-jest compiles TypeScript to ES modules, which run under
// --experimental-vm-modules so ESM-only dependencies (@kubernetes/client-node, jose) load as they are.
/** @type {import('jest').Config} */
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json" }],
  },
  testMatch: ["<rootDir>/**/*.test.ts"],
  // .toolfleet/ holds the local control plane's state (etcd's data among it): never tests.
  testPathIgnorePatterns: ["/node_modules/", "/dist/", "<rootDir>/.toolfleet/", "<rootDir>/test-artifacts/"],
  modulePathIgnorePatterns: ["<rootDir>/dist/", "<rootDir>/.toolfleet/"],
  watchPathIgnorePatterns: ["<rootDir>/.toolfleet/"],
  globalSetup: "<rootDir>/test/cluster/global-setup.js",
  testTimeout: 60000,
  maxWorkers: 2,
};
