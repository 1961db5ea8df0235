/**
 * `node dist/local/node/relay-main.js <listen a.b.c.d:port> <target a.b.c.d:port>`: the relay
 * the real node runs (local/node/relay.ts) as a process of its own, until it is stopped.
 */
import { parseEndpoint, startRelay } from "./relay.js";

const [listen, target] = process.argv.slice(2);
if (!listen || !target) {
  console.error("usage: relay-main.js <listen a.b.c.d:port> <target a.b.c.d:port>");
  process.exit(2);
}
try {
  await startRelay(parseEndpoint(listen), parseEndpoint(target));
  console.log(`relaying ${listen} to ${target}`);
} catch (err) {
  console.error(`cannot relay ${listen} to ${target}: ${(err as Error).message}`);
  process.exit(1);
}
