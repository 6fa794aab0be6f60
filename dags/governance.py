"""One governance DAG per connected app instance with an `actions_conn_id` in
include/connected_apps.yaml: plan, approve (Airflow's human-in-the-loop), apply, verify, record.

All logic lives in include/saaslens/; see saaslens.orchestration.governance_dag.
"""

import sys
from pathlib import Path

try:
    import saaslens  # noqa: F401  (installed into the environment by `make` / `pip install -e .`)
except ImportError:  # an Astro image copies the project without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))

from saaslens.orchestration.governance_dag import governance_dags_for_current_parse

globals().update(governance_dags_for_current_parse())
