"""Where things are: the connected-apps file, the lake, the sandbox config.

Environment overrides are read at call time (not import time) so tests and the CLI can point a
single process at different lakes.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = PROJECT_ROOT / "include"


def config_path() -> Path:
    return Path(os.environ.get("SAASLENS_CONFIG", INCLUDE_DIR / "connected_apps.yaml"))


def lake_root() -> Path:
    return Path(os.environ.get("SAASLENS_LAKE", "lake")).resolve()


def sandbox_config_path() -> Path:
    return Path(os.environ.get("SAASLENS_SANDBOX_CONFIG", INCLUDE_DIR / "sandbox.yaml"))


def airflow_settings_path() -> Path:
    return Path(os.environ.get("SAASLENS_AIRFLOW_SETTINGS", PROJECT_ROOT / "airflow_settings.yaml"))


def catalog_path(lake: Path | None = None) -> Path:
    return (lake or lake_root()) / "saaslens.duckdb"
