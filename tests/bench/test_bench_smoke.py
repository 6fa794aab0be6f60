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


@pytest.mark.integration
def test_report_bench_smoke(tmp_path):
    """The report benchmark at a tiny size: it runs, and DuckDB and pandas agree on every finding."""
    out = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "report_bench.py"),
            "--instances",
            "5",
            "--accounts",
            "1000",
            "--events",
            "20000",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["mismatched"] == {}
    assert set(result["compared_findings"]) == set(result["phases"]["report"]["counts"])  # every finding compared
    assert result["generated"]["activities"] == 20000 and result["generated"]["accounts"] == 1000
    assert all(p["wall_s"] > 0 and p["peak_rss_mb"] > 0 for p in result["phases"].values())
