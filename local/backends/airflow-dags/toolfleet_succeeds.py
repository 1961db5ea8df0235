"""A DAG that always succeeds: one task that prints a line the tests look for in its log."""
from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

with DAG(
    dag_id="toolfleet_succeeds",
    description="Succeeds: one task that logs a greeting",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["toolfleet", "test"],
):

    @task
    def greet() -> str:
        print("toolfleet: hello from toolfleet_succeeds")
        return "ok"

    greet()
