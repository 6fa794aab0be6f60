"""Benchmarks are not timed tests; CI runs them at a tiny size so they keep working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from saaslens.connectors import registry

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_sync_throughput_smoke(tmp_path):
    out = tmp_path / "sync.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "sync_throughput.py"),
            "--users",
            "120",
            "--events",
            "800",
            "--apps",
            ",".join(registry.known_apps()),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())["results"]
    assert {r["app"] for r in results} == set(registry.known_apps())
    for r in results:
        assert r["records"] > 120 and r["requests"] > 0 and not r["failed"], r
