"""Surfaces invalid entries of include/connected_apps.yaml as a DAG import error.

The valid instances' DAGs come from connected_apps.py and keep loading; this file fails to
import, with a message naming the file, each bad instance and its field, exactly while the
configuration has bad entries, so the error shows in Airflow's import-errors list.
"""

import sys
from pathlib import Path

try:
    import saaslens  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))

from saaslens.config import ConfigError
from saaslens.orchestration.dag_factory import config_errors

_errors = config_errors().errors
if _errors:
    raise ConfigError(
        "invalid connected app instances (their DAGs are not generated):\n"
        + "\n".join(f"- {error}" for error in _errors)
    )
