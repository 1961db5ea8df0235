/**
 * `toolfleet connect --write`: merges one server into an MCP client's configuration file.
 * Only that server's entry (and VS Code's token prompt) is added or replaced; every other key
 * is kept as it was. A file that is not a JSON object, or whose servers key is not an object,
 * is refused and left untouched; the new file is written whole and renamed into place.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { ClientConfigFile } from "../registry-api/ui/client-configs.js";
import { CliError, EXIT } from "./errors.js";

export interface MergeResult {
  path: string;
  /** Whether an entry of that name was there before (and is now replaced). */
  replaced: boolean;
  created: boolean;
  content: Record<string, unknown>;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** The merged content, without writing; throws when the existing file cannot be merged into. */
export function mergedConfig(existing: string | undefined, path: string, config: ClientConfigFile, name: string): { content: Record<string, unknown>; replaced: boolean } {
  let doc: unknown = {};
  if (existing !== undefined && existing.trim() !== "") {
    try {
      doc = JSON.parse(existing);
    } catch (err) {
      throw new CliError(`${path} is not valid JSON (${(err as Error).message}): refused, the file is left untouched; fix it or pass --file`, EXIT.failure);
    }
  }
  if (!isObject(doc)) throw new CliError(`${path} is not a JSON object: refused, the file is left untouched`, EXIT.failure);
  const servers = doc[config.serversKey] ?? {};
  if (!isObject(servers)) throw new CliError(`${path}: "${config.serversKey}" is not an object: refused, the file is left untouched`, EXIT.failure);
  const replaced = name in servers;
  const content: Record<string, unknown> = { ...doc, [config.serversKey]: { ...servers, [name]: config.entry } };
  if (config.inputs) {
    const inputs = doc.inputs ?? [];
    if (!Array.isArray(inputs)) throw new CliError(`${path}: "inputs" is not a list: refused, the file is left untouched`, EXIT.failure);
    const ids = new Set(config.inputs.map((i) => i.id));
    content.inputs = [...inputs.filter((i) => !(isObject(i) && typeof i.id === "string" && ids.has(i.id))), ...config.inputs];
  }
  return { content, replaced };
}

export function writeClientConfig(path: string, config: ClientConfigFile, name: string): MergeResult {
  const created = !existsSync(path);
  const existing = created ? undefined : readFileSync(path, "utf8");
  const { content, replaced } = mergedConfig(existing, path, config, name);
  mkdirSync(dirname(path), { recursive: true });
  const mode = created ? 0o600 : statSync(path).mode & 0o777;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(content, null, 2) + "\n", { mode });
  renameSync(tmp, path);
  return { path, replaced, created, content };
}
