"""A placeholder DAG for the gscgen Airflow example: two tasks, run by the Celery worker."""

from __future__ import annotations

import pendulum
from airflow.decorators import dag, task


@dag(schedule="@daily", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), catchup=False, tags=["example"])
def example_pipeline():
    @task
    def extract() -> list[int]:
        return [1, 2, 3]

    @task
    def load(values: list[int]) -> None:
        print(f"loaded {sum(values)}")

    load(extract())


example_pipeline()
