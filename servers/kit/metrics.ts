/**
 * The kit's Prometheus metrics, in a registry of its own per server instance (two servers in
 * one process, as in tests and benchmarks, never collide).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Caller } from "../../policy/index.js";
import { callerName } from "../../policy/index.js";
import type { CallOutcome, ElicitationOutcome } from "./audit.js";

export class KitMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<"server" | "tool" | "outcome">;
  private readonly duration: Histogram<"server" | "tool">;
  private readonly minutesSaved: Counter<"server" | "tool">;
  private readonly elicitations: Counter<"server" | "tool" | "outcome">;
  private readonly policyReloads: Counter<"server" | "result">;
  /** Last time each caller was seen, for the active-users gauge. */
  private readonly lastSeen = new Map<string, { kind: Caller["kind"]; at: number }>();

  constructor(
    private readonly server: string,
    private readonly activeWindowMs: number,
    options: { processMetrics?: boolean } = {},
  ) {
    const registers = [this.registry];
    this.calls = new Counter({ name: "toolfleet_tool_calls_total", help: "Tool calls by server, tool and outcome (ok, error, denied, declined).", labelNames: ["server", "tool", "outcome"], registers });
    this.duration = new Histogram({
      name: "toolfleet_tool_call_duration_seconds",
      help: "Tool call duration, including confirmation by a person.",
      labelNames: ["server", "tool"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.minutesSaved = new Counter({ name: "toolfleet_minutes_saved_total", help: "Minutes of work saved: each successful call adds its tool's minutesSaved.", labelNames: ["server", "tool"], registers });
    this.elicitations = new Counter({ name: "toolfleet_elicitations_total", help: "Confirmations asked of people, by outcome (accept, decline, cancel, timeout, unsupported, error).", labelNames: ["server", "tool", "outcome"], registers });
    this.policyReloads = new Counter({ name: "toolfleet_policy_reloads_total", help: "Policy file loads by result (loaded, invalid).", labelNames: ["server", "result"], registers });
    const seen = this.lastSeen;
    const window = this.activeWindowMs;
    new Gauge({
      name: "toolfleet_active_callers",
      help: "Distinct callers (people and service accounts) with a call in the active window.",
      labelNames: ["server", "kind"],
      registers,
      collect() {
        const since = Date.now() - window;
        const counts = { user: 0, serviceAccount: 0 };
        for (const [key, entry] of seen) {
          if (entry.at < since) seen.delete(key);
          else counts[entry.kind]++;
        }
        this.set({ server, kind: "user" }, counts.user);
        this.set({ server, kind: "serviceAccount" }, counts.serviceAccount);
      },
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  callerSeen(caller: Caller): void {
    this.lastSeen.set(`${caller.kind}:${callerName(caller)}`, { kind: caller.kind, at: Date.now() });
  }

  callFinished(tool: string, outcome: CallOutcome, seconds: number, minutesSaved: number): void {
    this.calls.inc({ server: this.server, tool, outcome });
    this.duration.observe({ server: this.server, tool }, seconds);
    if (outcome === "ok" && minutesSaved > 0) this.minutesSaved.inc({ server: this.server, tool }, minutesSaved);
  }

  elicited(tool: string, outcome: ElicitationOutcome): void {
    this.elicitations.inc({ server: this.server, tool, outcome });
  }

  policyLoad(result: "loaded" | "invalid"): void {
    this.policyReloads.inc({ server: this.server, result });
  }
}
