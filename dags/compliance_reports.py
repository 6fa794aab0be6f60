"""The saaslens compliance report: on every instance DAG's new data (Airflow Assets) and weekly.

All logic lives in include/saaslens/; see saaslens.orchestration.reports_dag.
"""

import sys
from pathlib import Path

try:
    import saaslens  # noqa: F401  (installed into the environment by `make` / `pip install -e .`)
except ImportError:  # an Astro image copies the project without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))

from airflow.sdk import get_parsing_context

from saaslens.orchestration.reports_dag import DAG_ID, compliance_reports_dag

# When Airflow parses for one task of another DAG, skip building this one.
if get_parsing_context().dag_id in (None, DAG_ID):
    dag = compliance_reports_dag()
