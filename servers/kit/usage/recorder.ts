/**
 * The kit's usage recorder: each finished call becomes a record in the disk buffer, and the
 * delivery loop ships the buffer to the registry. Its metrics say how many records were
 * recorded, delivered, dropped because the buffer was full, and rejected by the registry.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { FinishedCall, UsageHook } from "./call.js";
import { Delivery, type DeliveryOptions } from "./delivery.js";
import { DiskBuffer } from "./disk-buffer.js";
import { usageRecordOf } from "./record.js";
import type { Logger } from "../../../common/log.js";

export interface UsageRecorderOptions extends DeliveryOptions {
  /** The buffer's directory; it must survive a restart of the process (a volume in a pod). */
  dir: string;
  maxRecords: number;
  segmentRecords: number;
}

export const USAGE_DEFAULTS = {
  maxRecords: 1_000_000,
  segmentRecords: 500,
  flushIntervalMs: 1000,
  backoffMinMs: 500,
  backoffMaxMs: 30_000,
  requestTimeoutMs: 15_000,
};

/** Drop warnings at most this often; the metric and each warning's total stay exact. */
const DROP_LOG_INTERVAL_MS = 10_000;

export class UsageRecorder implements UsageHook {
  private buffer: DiskBuffer | undefined;
  private delivery: Delivery | undefined;
  private logger: Logger | undefined;
  private readonly writes = new Set<Promise<void>>();
  private droppedTotal = 0;
  private droppedLogged = 0;
  private lastDropLog = 0;
  private metrics:
    | { recorded: Counter; delivered: Counter; duplicates: Counter; dropped: Counter; rejected: Counter; failures: Counter }
    | undefined;

  constructor(private readonly options: UsageRecorderOptions) {}

  async start({ registry, logger }: { registry: Registry; logger: Logger }): Promise<void> {
    const log = logger.child({ component: "usage" });
    this.logger = log;
    const { buffer, report } = DiskBuffer.open({ dir: this.options.dir, maxRecords: this.options.maxRecords, segmentRecords: this.options.segmentRecords });
    this.buffer = buffer;
    if (report.recovered || report.torn) log.info("usage buffer recovered from disk", { records: report.recovered, tornLines: report.torn, dir: this.options.dir });
    const registers = [registry];
    const m = {
      recorded: new Counter({ name: "toolfleet_usage_records_total", help: "Usage records written to the buffer.", registers }),
      delivered: new Counter({ name: "toolfleet_usage_records_delivered_total", help: "Usage records acknowledged by the registry.", registers }),
      duplicates: new Counter({ name: "toolfleet_usage_records_duplicate_total", help: "Delivered records the registry already had (a retry after a lost answer).", registers }),
      dropped: new Counter({ name: "toolfleet_usage_records_dropped_total", help: "Usage records not recorded because the buffer was full (the registry unreachable for long).", registers }),
      rejected: new Counter({ name: "toolfleet_usage_records_rejected_total", help: "Usage records the registry refused for good (400); logged with the reason.", registers }),
      failures: new Counter({ name: "toolfleet_usage_delivery_failures_total", help: "Delivery attempts that failed and will be retried.", registers }),
    };
    new Gauge({
      name: "toolfleet_usage_records_buffered",
      help: "Usage records on disk, waiting for the registry.",
      registers,
      collect() {
        this.set(buffer.size);
      },
    });
    this.metrics = m;
    this.delivery = new Delivery(
      buffer,
      this.options,
      {
        delivered: (n, dup) => {
          m.delivered.inc(n);
          if (dup) m.duplicates.inc(dup);
        },
        rejected: (n) => m.rejected.inc(n),
        failed: () => m.failures.inc(),
      },
      log,
    );
    this.delivery.start();
  }

  record(call: FinishedCall): void {
    const buffer = this.buffer;
    if (!buffer) return;
    const record = usageRecordOf(call);
    const write = buffer.append([record]).then(
      ({ dropped }) => {
        if (dropped > 0) this.dropped(dropped);
        else this.metrics?.recorded.inc();
        if (buffer.hasSealed) this.delivery?.nudge();
      },
      (err: unknown) => {
        // A disk that refuses writes loses this record: count it as dropped, and say why.
        this.logger?.error("usage record could not be written to the buffer", { error: err as Error });
        this.dropped(1);
      },
    );
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }

  /** Resolves when every record handed to `record` so far is on disk. */
  async written(): Promise<void> {
    await Promise.all([...this.writes]);
  }

  private dropped(n: number): void {
    this.droppedTotal += n;
    this.metrics?.dropped.inc(n);
    const now = Date.now();
    if (now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) this.logDrops(now);
  }

  private logDrops(now: number): void {
    this.logger?.warn("usage buffer full: records dropped", {
      dropped: this.droppedTotal - this.droppedLogged,
      droppedTotal: this.droppedTotal,
      maxRecords: this.options.maxRecords,
    });
    this.droppedLogged = this.droppedTotal;
    this.lastDropLog = now;
  }

  async close(): Promise<void> {
    await this.written();
    await this.delivery?.stop();
    this.buffer?.close();
    if (this.droppedTotal > this.droppedLogged) this.logDrops(Date.now());
  }
}
