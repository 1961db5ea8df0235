"""The project's Spark job for the domain server's tests: a skewed, spilling stage, a balanced
one and a failing stage, in one application named toolfleet-skew-demo.

  skew_demo.py --event-log-dir DIR      run to the end with the event log written to DIR
  skew_demo.py --ui-port N --stay-up    run, then keep the driver (and its UI on N) up

The failing job's error is caught, so the application itself ends normally and its event log is
complete.
"""
from __future__ import annotations

import argparse
import sys
import time

from pyspark.sql import SparkSession


def fail_on_bad_record(x: int) -> int:
    if x == 42:
        raise ValueError("toolfleet: bad record 42 in the failing stage")
    return x


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--event-log-dir")
    ap.add_argument("--ui-port", type=int, default=0)
    ap.add_argument("--stay-up", action="store_true")
    args = ap.parse_args()

    b = (
        SparkSession.builder.appName("toolfleet-skew-demo")
        .master("local[2]")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.adaptive.enabled", "false")
        # Forces the sorter to spill every N records: a real spill, cheaply.
        .config("spark.shuffle.spill.numElementsForceSpillThreshold", "20000")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if args.event_log_dir:
        b = b.config("spark.eventLog.enabled", "true").config("spark.eventLog.dir", f"file://{args.event_log_dir}")
    if args.ui_port:
        b = b.config("spark.ui.port", str(args.ui_port)).config("spark.port.maxRetries", "0")
    else:
        b = b.config("spark.ui.enabled", "false")
    spark = b.getOrCreate()
    sc = spark.sparkContext
    sc.setLogLevel("WARN")

    # 1. Skew and spill: a shuffle where one partition receives 80 % of the rows, then a sort
    # within each partition, whose sorter is forced to spill (see the threshold above).
    sc.setJobDescription("toolfleet skewed sort")
    (
        spark.range(0, 2_000_000, numPartitions=4)
        .selectExpr("CASE WHEN id % 10 < 8 THEN 0 ELSE id END AS key", "id")
        .repartition(8, "key")
        .sortWithinPartitions("id")
        .write.format("noop")
        .mode("overwrite")
        .save()
    )
    print("toolfleet: skewed sort done", flush=True)

    # 2. A well-balanced stage, for contrast.
    sc.setJobDescription("toolfleet balanced aggregation")
    spark.range(0, 500_000, numPartitions=4).selectExpr("id % 97 AS k").groupBy("k").count().collect()

    # 3. Failure: a task raises; the job fails after its one attempt (local mode does not retry).
    sc.setJobDescription("toolfleet failing stage")
    try:
        sc.parallelize(range(100), 4).map(fail_on_bad_record).count()
    except Exception as e:  # noqa: BLE001 - the failure is the point
        print(f"toolfleet: failing stage failed as intended: {type(e).__name__}", flush=True)

    print("toolfleet: all stages submitted", flush=True)
    if args.stay_up:
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
