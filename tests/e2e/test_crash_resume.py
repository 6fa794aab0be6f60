"""Crash proof for event streams: SIGKILL `saaslens sync` at random points, run it again, and
the lake holds every event exactly once, with the retry re-reading only what came after the
last checkpoint (the cursor is written after the chunk it covers, never before)."""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest
import yaml

from saaslens.lake.writer import Lake
from saaslens.runner import EVENT_CHUNK
from saaslens.sandbox.core import FaultConfig, SandboxServer, TenantSpec
from tests.e2e.okta_helpers import ANCHOR

pytestmark = pytest.mark.integration
EVENTS = 3 * EVENT_CHUNK + 7_000  # four chunks, so kills land before, between and after checkpoints
PAGE = 1_000
TRIALS = 10


def _runs(lake_root):
    files = sorted((lake_root / "scan_runs").glob("app=okta/instance=crash/*/*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def test_sigkill_at_random_points_then_retry_ends_exact(tmp_path):
    spec = TenantSpec(
        app="okta", name="crash", seed=61, users=50, options={"anchor": ANCHOR.isoformat(), "log_events": EVENTS}
    )
    config = tmp_path / "apps.yaml"
    config.write_text(
        yaml.safe_dump(
            {"instances": [{"app": "okta", "name": "crash", "conn_id": "okta_crash", "options": {"page_size": PAGE}}]}
        )
    )
    rng = random.Random(7)
    figures = []
    with SandboxServer([spec]) as server:
        okta = server.personality("okta", "crash")
        truth_ids = {e["uuid"] for e in okta.ground_truth()["log_events"]}
        total_pages = math.ceil(len(truth_ids) / PAGE)
        env = {
            **os.environ,
            "SAASLENS_CONFIG": str(config),
            "AIRFLOW_CONN_OKTA_CRASH": json.dumps(
                {
                    "conn_type": "http",
                    "host": server.tenant_url("okta", "crash"),
                    "password": "sandbox-okta-crash-admin",
                    "extra": {"auth": "ssws"},
                }
            ),
        }
        command = [sys.executable, "-m", "saaslens.cli", "sync", "okta/crash", "--stage", "activities"]
        okta.set_faults(FaultConfig(slow_ms=40))  # stretch the run so kills land mid-stream
        try:
            for trial in range(TRIALS):
                lake_root = tmp_path / f"lake{trial}"
                env["SAASLENS_LAKE"] = str(lake_root)
                victim = subprocess.Popen(
                    command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
                )
                time.sleep(rng.uniform(3.0, 14.0))  # a full run takes about 14 s here
                os.killpg(victim.pid, signal.SIGKILL)
                victim.wait(timeout=30)
                lake = Lake(lake_root)
                stored_before = lake.read_events("activities", "okta", "crash").num_rows
                done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
                assert done.returncode == 0, done.stdout + done.stderr
                ids = lake.read_events("activities", "okta", "crash").column("event_id").to_pylist()
                assert len(ids) == len(set(ids)), f"trial {trial}: duplicated events"
                assert set(ids) == truth_ids, f"trial {trial}: {len(truth_ids - set(ids))} events lost"
                retry = [r for r in _runs(lake_root) if r["status"] == "success"][-1]
                # At most one unwritten chunk sits between the stored events and the checkpoint.
                bound = math.ceil(max(0, len(truth_ids) - stored_before + EVENT_CHUNK) / PAGE) + 1
                assert retry["requests"] <= min(bound, total_pages + 1), (trial, stored_before, retry["requests"])
                figures.append((stored_before, retry["requests"]))
        finally:
            okta.set_faults(FaultConfig())
    # The kills landed at different points, some after a checkpoint (so the retry saved requests).
    assert len({stored for stored, _ in figures}) >= 2
    assert min(requests for _, requests in figures) < total_pages
    print("trials (events stored at kill, requests re-made by the retry):", figures, "of", total_pages, "pages")
