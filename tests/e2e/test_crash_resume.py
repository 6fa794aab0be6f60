"""Crash proof: SIGKILL a sync at random points, retry it, and the lake ends exactly equal to the
ground truth, with the retry re-reading only what came after the last checkpoint.

Events: the stream's cursor is written after the chunk it covers, never before. The victim is a
real `saaslens sync` process; the retry runs in this process (the same runner code) so the ten
trials do not pay for importing Great Expectations ten more times.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import yaml

from saaslens.config import InstanceConfig
from saaslens.lake.writer import Lake
from saaslens.runner import RunContext, run_stage
from saaslens.sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec
from tests.e2e.okta_helpers import ANCHOR, ssws

pytestmark = pytest.mark.integration
CHUNK = 2_000  # the instance's checkpoint_rows
EVENTS = 3 * CHUNK + 700  # four chunks, so kills land before, between and after checkpoints
PAGE = 200
TRIALS = 10


def _victim_env(server, config_path, lake_root) -> dict[str, str]:
    return {
        **os.environ,
        "SAASLENS_CONFIG": str(config_path),
        "SAASLENS_LAKE": str(lake_root),
        "AIRFLOW_CONN_OKTA_CRASH": json.dumps(
            {
                "conn_type": "http",
                "host": server.tenant_url("okta", "crash"),
                "password": "sandbox-okta-crash-admin",
                "extra": {"auth": "ssws"},
            }
        ),
    }


def _kill_after_requests(command: list[str], env: dict[str, str], personality, requests: int, delay: float) -> None:
    """SIGKILL the victim `delay` seconds after the sandbox answered its `requests`-th request:
    counting requests rather than seconds spreads the kills over the stream however loaded the
    machine is (a chunk is stored between two requests, so kills land inside writes too)."""
    personality.reset_stats()
    victim = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while personality.stats()["requests"] < requests and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(delay)
    if victim.poll() is None:
        os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)


def test_sigkill_at_random_points_then_retry_ends_exact(tmp_path):
    options = {"page_size": PAGE, "checkpoint_rows": CHUNK}
    spec = TenantSpec(
        app="okta",
        name="crash",
        seed=61,
        users=50,
        options={"anchor": ANCHOR.isoformat(), "log_events": EVENTS},
        rate_limits=RateLimitConfig(enabled=False),  # ten runs in a minute would otherwise be paced
    )
    config = tmp_path / "apps.yaml"
    config.write_text(
        yaml.safe_dump({"instances": [{"app": "okta", "name": "crash", "conn_id": "okta_crash", "options": options}]})
    )
    inst = InstanceConfig(app="okta", name="crash", conn_id="okta_crash", options=options)
    rng = random.Random(7)
    figures = []
    started = time.monotonic()
    with SandboxServer([spec]) as server:
        okta = server.personality("okta", "crash")
        truth_ids = {e["uuid"] for e in okta.ground_truth()["log_events"]}
        total_pages = math.ceil(len(truth_ids) / PAGE)
        command = [sys.executable, "-m", "saaslens.cli", "sync", "okta/crash", "--stage", "activities"]
        okta.set_faults(FaultConfig(slow_ms=20))  # a little latency, as over a network
        try:
            for trial in range(TRIALS):
                lake_root = tmp_path / f"lake{trial}"
                env = _victim_env(server, config, lake_root)
                _kill_after_requests(command, env, okta, rng.randint(1, total_pages), rng.uniform(0.0, 0.3))
                lake = Lake(lake_root)
                stored_before = lake.read_events("activities", "okta", "crash").num_rows
                ctx = RunContext(run_id=f"retry-{trial}", snapshot_id="20260101T000000000000Z", attempt=2)
                retry = run_stage(inst, "activities", ctx, lake, connection=ssws(server, "crash"))
                assert retry.status == "success", retry.detail
                ids = lake.read_events("activities", "okta", "crash").column("event_id").to_pylist()
                assert len(ids) == len(set(ids)), f"trial {trial}: duplicated events"
                assert set(ids) == truth_ids, f"trial {trial}: {len(truth_ids - set(ids))} events lost"
                requests = int(retry.metrics["requests"])
                # At most one unwritten chunk sits between the stored events and the checkpoint.
                bound = math.ceil(max(0, len(truth_ids) - stored_before + CHUNK) / PAGE) + 1
                assert requests <= min(bound, total_pages + 1), (trial, stored_before, requests)
                figures.append((stored_before, requests))
        finally:
            okta.set_faults(FaultConfig())
    # The kills landed at different points, some after a checkpoint (so the retry saved requests).
    assert len({stored for stored, _ in figures}) >= 2
    assert min(requests for _, requests in figures) < total_pages
    print(
        f"event trials (events stored at kill, requests re-made by the retry): {figures} of {total_pages} pages, "
        f"{time.monotonic() - started:.0f} s"
    )
