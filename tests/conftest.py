"""Shared fixtures. Tests never touch the developer's ./lake or Airflow home."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Airflow reads its configuration at import time: point every test process (and the
# subprocesses they start) at a throwaway home, never the developer's ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="saaslens-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
API_SPECS = Path(os.environ.get("SAASLENS_API_SPECS", ROOT.parent / "shared" / "api-specs"))


@pytest.fixture(autouse=True)
def _isolated_lake(tmp_path, monkeypatch):
    monkeypatch.setenv("SAASLENS_LAKE", str(tmp_path / "lake"))


@pytest.fixture
def lake_root(tmp_path) -> Path:
    return tmp_path / "lake"
