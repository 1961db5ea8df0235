/** The test server (fixture.ts) as a process of its own: `node dist/servers/kit/main.js <this file>`. */
export { presto as default } from "./fixture.js";
