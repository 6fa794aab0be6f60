"""One Airflow DAG per saaslens connected app instance in include/connected_apps.yaml.

All logic lives in include/saaslens/; see saaslens.orchestration.dag_factory.
"""

import sys
from pathlib import Path

try:
    import saaslens  # noqa: F401  (installed into the environment by `make` / `pip install -e .`)
except ImportError:  # an Astro image copies the project without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))

from saaslens.orchestration.dag_factory import dags_for_current_parse

globals().update(dags_for_current_parse())
