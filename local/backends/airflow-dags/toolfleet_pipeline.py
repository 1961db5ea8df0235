"""A DAG of a few tasks (fan-out and fan-in) that succeeds."""
from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

with DAG(
    dag_id="toolfleet_pipeline",
    description="A small pipeline: extract, two transforms, load",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["toolfleet", "test"],
):

    @task
    def extract() -> list[int]:
        return [1, 2, 3, 4]

    @task
    def double(xs: list[int]) -> list[int]:
        return [x * 2 for x in xs]

    @task
    def square(xs: list[int]) -> list[int]:
        return [x * x for x in xs]

    @task
    def load(a: list[int], b: list[int]) -> None:
        print(f"toolfleet: loaded {sum(a) + sum(b)}")

    xs = extract()
    load(double(xs), square(xs))
