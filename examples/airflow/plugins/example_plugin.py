"""A placeholder Airflow plugin for the gscgen example: registers itself and nothing else."""

from airflow.plugins_manager import AirflowPlugin


class ExamplePlugin(AirflowPlugin):
    name = "example_plugin"
