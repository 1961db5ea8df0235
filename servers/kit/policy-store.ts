/**
 * The server's policy, from the file the operator mounts. It is re-read when the file changes
 * and on a slow poll as well: a ConfigMap volume updates by swapping a `..data` symlink in the
 * directory, which watching the file itself misses, and some file systems emit no events at
 * all. A file that fails validation never replaces a good policy; the reason is logged.
 */
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ServerPolicyError, parseServerPolicy, type ServerPolicy } from "../../policy/index.js";
import type { Logger } from "../../common/log.js";

export interface PolicyStoreOptions {
  path: string;
  /** Re-read at least this often. Default 2 s. */
  pollMs?: number;
  logger: Logger;
  onLoad?: (policy: ServerPolicy) => void;
  onInvalid?: (error: Error) => void;
}

export class PolicyStore {
  private policy?: ServerPolicy;
  private lastText?: string;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private reading?: Promise<void>;
  private again = false;
  /** Why the current file is not in force, if it is not. */
  lastError?: string;

  constructor(private readonly options: PolicyStoreOptions) {}

  get current(): ServerPolicy | undefined {
    return this.policy;
  }

  async start(): Promise<void> {
    await this.reload();
    try {
      this.watcher = watch(dirname(this.options.path), { persistent: false }, () => void this.reload());
      this.watcher.on("error", (err) => this.options.logger.warn("policy watch failed; polling only", { error: err }));
    } catch (err) {
      this.options.logger.warn("cannot watch the policy directory; polling only", { error: err as Error });
    }
    this.timer = setInterval(() => void this.reload(), this.options.pollMs ?? 2000);
    this.timer.unref();
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
  }

  /** Reads the file now; concurrent triggers collapse into one more read. */
  reload(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = this.readOnce().finally(() => {
      this.reading = undefined;
      if (this.again) {
        this.again = false;
        void this.reload();
      }
    });
    return this.reading;
  }

  private async readOnce(): Promise<void> {
    const { path, logger } = this.options;
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      const reason = `cannot read policy file ${path}: ${(err as Error).message}`;
      if (reason !== this.lastError) logger.error(reason, { keeping: this.policy ? "last good policy" : "no policy yet" });
      this.lastError = reason;
      return;
    }
    if (text === this.lastText) return;
    this.lastText = text;
    try {
      const policy = parseServerPolicy(text);
      this.policy = policy;
      this.lastError = undefined;
      logger.info("policy loaded", { path, tools: policy.tools.length, groups: policy.access.allowedGroups });
      this.options.onLoad?.(policy);
    } catch (err) {
      const issues = err instanceof ServerPolicyError ? err.issues : undefined;
      this.lastError = (err as Error).message;
      logger.error("policy file rejected; keeping the last good policy", { path, error: this.lastError, issues, kept: this.policy !== undefined });
      this.options.onInvalid?.(err as Error);
    }
  }
}
