"""Orchestration: running the stages under Airflow.

Asset names, the writer pool, the local Airflow environment and helpers the DAG files share.
DAG files in ``dags/`` import from here and from the stages; nothing imports them."""
