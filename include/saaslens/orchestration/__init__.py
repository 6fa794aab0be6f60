"""Airflow integration: the DAG factory, the stage operator, and bootstrap of a plain Airflow."""
