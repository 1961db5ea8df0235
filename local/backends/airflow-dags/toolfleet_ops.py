"""A DAG the domain server's tests operate on (trigger, clear, pause, unpause): one task that
fails at once, without retries. Tagged apart from the others so those tests never see it."""
from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

with DAG(
    dag_id="toolfleet_ops",
    description="Operated on by the server tests: check_inventory fails at once",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["toolfleet-ops", "test"],
    default_args={"retries": 0},
):

    @task
    def check_inventory() -> None:
        print("toolfleet: checking inventory")
        raise RuntimeError("toolfleet: inventory service answered 503")

    check_inventory()
