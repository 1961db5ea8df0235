"""A DAG whose second task fails with a clear error after one retry, for diagnose_failed_run."""
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task

with DAG(
    dag_id="toolfleet_fails",
    description="Fails: load_orders raises after a retry",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["toolfleet", "test"],
    default_args={"retries": 1, "retry_delay": timedelta(seconds=1)},
):

    @task
    def extract_orders() -> int:
        print("toolfleet: extracted 42 orders")
        return 42

    @task
    def load_orders(count: int) -> None:
        print(f"toolfleet: loading {count} orders into the warehouse")
        raise ValueError("toolfleet: warehouse table orders_daily is missing column order_total")

    @task
    def report() -> None:
        print("toolfleet: never reached")

    load_orders(extract_orders()) >> report()
