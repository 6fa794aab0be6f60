"""Crash proof: SIGKILL a sync at random points, retry it, and the lake ends exactly equal to the
ground truth, with the retry re-reading only what came after the last checkpoint.

Snapshots: a users scan stages its parts and commits a checkpoint (the next page's request) after
each chunk; a retry of the same run (same snapshot id) continues from there, and nothing is
published before the whole listing passed the quality gate.

Events: the stream's cursor is written after the chunk it covers, never before. The victim is a
real `saaslens sync` process; the retry runs in this process (the same runner code) so the ten
trials do not pay for importing Great Expectations ten more times.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from saaslens.config import InstanceConfig
from saaslens.lake.writer import Lake, StateStore
from saaslens.runner import RunContext, run_stage
from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec
from tests.e2e.lake_sync import connection as sandbox_connection
from tests.e2e.okta_helpers import ANCHOR, ssws

pytestmark = pytest.mark.integration
CHUNK = 2_000  # the instance's checkpoint_rows
EVENTS = 3 * CHUNK + 700  # four chunks, so kills land before, between and after checkpoints
PAGE = 200
TRIALS = 10


def _runs(lake_root: Path, app: str, name: str) -> list[dict]:
    files = sorted((lake_root / "scan_runs").glob(f"app={app}/instance={name}/*/*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


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
                # Completeness stays exact across the kill: every event counted once, in a first pass.
                completeness = [
                    row
                    for f in (lake_root / "activity_completeness").glob("app=okta/instance=crash/*/*.parquet")
                    for row in pq.read_table(f).to_pylist()
                ]
                assert sum(r["events_added"] for r in completeness if r["pass"] == "first") == len(truth_ids)
                assert sum(r["events_added"] for r in completeness if r["pass"] == "rescan") == 0
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


# -- snapshot stages: a killed users scan resumes from its last checkpoint -------------------------

M365_USERS = 1_200
M365_PAGE = 50  # $top; 24 pages
M365_CHUNK = 100  # checkpoint_rows: a checkpoint every second page
SNAPSHOT_TRIALS = 5
REPO = Path(__file__).resolve().parents[2]


def _checkpointed_rows(lake: Lake, snapshot_id: str) -> int:
    """Accounts covered by the last committed checkpoint. Parts staged after it (the kill landed
    between writing a part and committing the checkpoint) are discarded by the retry, so they
    do not count."""
    state = StateStore(lake).get("microsoft365", "crashusers", "snapshot.users") or {}
    if state.get("snapshot_id") != snapshot_id:
        return 0
    staged = lake.resumable_staging_dir("accounts", "microsoft365", "crashusers", snapshot_id)
    files = sorted(staged.glob("part-*.parquet"))[: int(state["parts"].get("accounts", 0))]
    return sum(pq.read_metadata(f).num_rows for f in files)


def test_sigkill_during_a_users_scan_then_retry_resumes_from_the_checkpoint(tmp_path):
    options = {"page_size": M365_PAGE, "checkpoint_rows": M365_CHUNK, "max_workers": 2}
    spec = TenantSpec(
        app="microsoft365",
        name="crashusers",
        seed=62,
        users=M365_USERS,
        options={"anchor": ANCHOR.isoformat(), "events": 10},
        rate_limits=RateLimitConfig(enabled=False),
    )
    inst = InstanceConfig(app="microsoft365", name="crashusers", conn_id="m365_crashusers", options=options)
    rng = random.Random(11)
    figures = []
    started = time.monotonic()
    with SandboxServer([spec]) as server:
        graph = server.personality("microsoft365", "crashusers")
        truth = {u["id"]: u["accountEnabled"] for u in graph.ground_truth()["users"]}
        pages = math.ceil(len(truth) / M365_PAGE)
        conn = sandbox_connection(server, "microsoft365", "crashusers", graph.ground_truth())
        # A clean run: how many requests a scan from scratch makes (pages, plus role holders etc.).
        baseline = run_stage(
            inst, "users", RunContext("baseline", "20260101T000000000000Z"), Lake(tmp_path / "base"), connection=conn
        )
        from_scratch = int(baseline.metrics["requests"])
        overhead = from_scratch - pages
        graph.set_faults(FaultConfig(slow_ms=20))
        try:
            for trial in range(SNAPSHOT_TRIALS):
                lake_root = tmp_path / f"users{trial}"
                snapshot_id = f"2026010{trial + 1}T000000000000Z"
                victim_spec = {
                    "instance": inst.model_dump(),
                    "connection": dataclasses.asdict(conn),
                    "stage": "users",
                    "snapshot_id": snapshot_id,
                    "lake": str(lake_root),
                }
                command = [sys.executable, "-m", "tests.e2e.crash_victim", json.dumps(victim_spec)]
                target = rng.randint(overhead + 1, from_scratch - 1)
                _kill_after_requests(command, {**os.environ, "PYTHONPATH": str(REPO)}, graph, target, 0.0)
                lake = Lake(lake_root)
                covered = _checkpointed_rows(lake, snapshot_id)
                assert lake.snapshot_ids("accounts", "microsoft365", "crashusers") == [], "published half a scan"
                ctx = RunContext(run_id=f"retry-{trial}", snapshot_id=snapshot_id, attempt=2)
                retry = run_stage(inst, "users", ctx, lake, connection=conn)
                assert retry.status == "success", retry.detail
                accounts = lake.read_snapshot("accounts", "microsoft365", "crashusers").to_pylist()
                ids = [a["account_id"] for a in accounts]
                assert len(ids) == len(set(ids)), f"trial {trial}: duplicated accounts"
                assert set(ids) == set(truth), f"trial {trial}: {len(set(truth) - set(ids))} accounts lost"
                requests = int(retry.metrics["requests"])
                remaining = math.ceil((len(truth) - covered) / M365_PAGE)
                # Resumed: only the pages after the checkpoint; from scratch: the whole scan.
                assert requests <= (remaining if covered else from_scratch), (trial, covered, requests)
                runs = [r for r in _runs(lake_root, "microsoft365", "crashusers") if r["status"] == "success"]
                assert runs[-1]["scan_mode"] == ("resumed" if covered else "full")
                assert not lake.resumable_staging_dir("accounts", "microsoft365", "crashusers", snapshot_id).exists()
                figures.append((covered, requests))
        finally:
            graph.set_faults(FaultConfig())
    assert any(covered for covered, _ in figures), "no kill landed after a checkpoint"
    print(
        f"users trials (accounts staged at kill, requests re-made by the retry): {figures}; a scan from scratch "
        f"makes {from_scratch} requests ({pages} pages), {time.monotonic() - started:.0f} s"
    )


def test_sigkill_during_a_files_scan_then_retry_resumes_after_the_last_drive(tmp_path):
    options = {"checkpoint_rows": 20, "max_workers": 2}
    spec = TenantSpec(
        app="microsoft365",
        name="crashfiles",
        seed=63,
        users=20,
        options={"anchor": ANCHOR.isoformat(), "events": 10},
        rate_limits=RateLimitConfig(enabled=False),
    )
    inst = InstanceConfig(app="microsoft365", name="crashfiles", conn_id="m365_crashfiles", options=options)
    figures = []
    with SandboxServer([spec]) as server:
        graph = server.personality("microsoft365", "crashfiles")
        truth = graph.ground_truth()
        files = {f["item"]["id"] for f in truth["files"]}
        shares = sum(len(f["permissions"]) for f in truth["files"])
        conn = sandbox_connection(server, "microsoft365", "crashfiles", truth)
        baseline = run_stage(
            inst, "files", RunContext("baseline", "20260101T000000000000Z"), Lake(tmp_path / "base"), connection=conn
        )
        from_scratch = int(baseline.metrics["requests"])
        graph.set_faults(FaultConfig(slow_ms=10))
        try:
            for trial, fraction in enumerate((0.65, 0.85)):
                lake_root, snapshot_id = tmp_path / f"files{trial}", f"2026020{trial + 1}T000000000000Z"
                victim_spec = {
                    "instance": inst.model_dump(),
                    "connection": dataclasses.asdict(conn),
                    "stage": "files",
                    "snapshot_id": snapshot_id,
                    "lake": str(lake_root),
                }
                command = [sys.executable, "-m", "tests.e2e.crash_victim", json.dumps(victim_spec)]
                env = {**os.environ, "PYTHONPATH": str(REPO)}
                _kill_after_requests(command, env, graph, int(from_scratch * fraction), 0.0)
                lake = Lake(lake_root)
                checkpoint = StateStore(lake).get("microsoft365", "crashfiles", "snapshot.files") or {}
                assert lake.snapshot_ids("files", "microsoft365", "crashfiles") == []
                ctx = RunContext(run_id=f"retry-{trial}", snapshot_id=snapshot_id, attempt=2)
                retry = run_stage(inst, "files", ctx, lake, connection=conn)
                assert retry.status == "success", retry.detail
                stored = lake.read_snapshot("files", "microsoft365", "crashfiles").column("file_id").to_pylist()
                assert len(stored) == len(set(stored)) and set(stored) == files, f"trial {trial}"
                assert lake.read_snapshot("file_shares", "microsoft365", "crashfiles").num_rows == shares
                requests = int(retry.metrics["requests"])
                if checkpoint.get("resume"):  # drives before the checkpoint are not read again
                    assert requests < from_scratch - 1, (trial, requests, from_scratch)
                figures.append((checkpoint.get("resume", {}).get("next"), requests))
        finally:
            graph.set_faults(FaultConfig())
    assert any(drive for drive, _ in figures), "no kill landed after a drive checkpoint"
    print(f"files trials (next drive at kill, requests re-made by the retry): {figures} of {from_scratch}")
