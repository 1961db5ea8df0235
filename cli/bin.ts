#!/usr/bin/env node
/** The `toolfleet` and `kubectl-toolfleet` executables: run the CLI, exit with its code. */
import { processIo, run } from "./main.js";

run(process.argv.slice(2), processIo()).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`toolfleet: ${String(err)}\n`);
    process.exit(1);
  },
);
