"""One Airflow content-inspection (DLP) DAG per connected app instance whose files saaslens can
read: scheduled (include/dlp_policies.yaml) and triggered by file changes the instance's activities
report. (Airflow's DAG discovery safe mode only parses files that name both "airflow" and "dag".)

All logic lives in include/saaslens/; see saaslens.orchestration.content_dag.
"""

import sys
from pathlib import Path

try:
    import saaslens  # noqa: F401  (installed into the environment by `make` / `pip install -e .`)
except ImportError:  # an Astro image copies the project without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))

from saaslens.orchestration.content_dag import content_dags_for_current_parse

globals().update(content_dags_for_current_parse())
