"""Incremental cost: requests of a second sync against the first, full one, per stage.

One sandbox Okta tenant (in its own process, rate limits off: this counts requests, not time) is
synced three times into the same lake, every stage through `saaslens.runner.run_stage` exactly as
the Airflow tasks run them:

1. full: the first sync (no cursors yet);
2. unchanged: again, with nothing changed at the provider;
3. changed: after the sandbox's live-tenant API (`POST /_sandbox/okta/{tenant}/advance`) changed
   1% of the accounts and added a day's worth of System Log events (the tenant's own daily
   volume: a seventh of its 7 days), published after the unchanged sync.

Requests per stage come from the lake's scan_runs table (what the runner recorded). Goal: the
unchanged sync's activities cost under 2% of the full sync's requests (reported against the full
sync's activities requests, the stricter reading, and against all of its requests).

    .venv/bin/python bench/incremental_cost.py                         # 10,000 users, 200,000 events
    .venv/bin/python bench/incremental_cost.py --users 200 --events 3000   # smoke size
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sandbox_process import SandboxProcess

TENANT = "incremental"
HISTORY_DAYS = 7
GOAL_SHARE = 0.02
SYNCS = ("full", "unchanged", "changed")


def tenant_spec(users: int, events: int, anchor: datetime) -> Any:
    from saaslens_sandbox.core import RateLimitConfig, TenantSpec

    return TenantSpec(
        app="okta",
        name=TENANT,
        seed=64,
        users=users,
        options={"log_events": events, "history_days": HISTORY_DAYS, "anchor": anchor.isoformat()},
        rate_limits=RateLimitConfig(enabled=False),
    )


def sync(instance: Any, connection: Any, lake: Any, label: str) -> dict[str, str]:
    """Every stage once, in the DAG's order; returns stage -> status."""
    from saaslens.connectors import registry
    from saaslens.lake.writer import snapshot_id_for
    from saaslens.runner import RunContext, run_stage

    ctx = RunContext(run_id=f"bench-{label}", snapshot_id=snapshot_id_for(datetime.now(UTC)))
    statuses = {}
    for stage in registry.app_spec("okta").stage_names:
        result = run_stage(instance, stage, ctx, lake, connection=connection)
        statuses[stage] = result.status if result.status != "failed" else f"failed: {result.detail}"
    return statuses


def requests_by_stage(lake_root: Path, run_id: str) -> dict[str, dict[str, Any]]:
    """What the runner recorded in scan_runs for one run: requests, records, seconds per stage."""
    import pyarrow.dataset as ds

    table = ds.dataset(lake_root / "scan_runs", format="parquet", partitioning="hive").to_table()
    out: dict[str, dict[str, Any]] = {}
    for row in table.to_pylist():
        if row["run_id"] != run_id or row["instance"] != TENANT:
            continue
        out[row["stage"]] = {
            "requests": int(row["requests"]),
            "records": int(row["records"]),
            "status": row["status"],
            "seconds": round((row["ended_at"] - row["started_at"]).total_seconds(), 2),
        }
    return out


def change_tenant(sandbox: SandboxProcess, changed_users: int, events: int, lag_seconds: int) -> dict[str, Any]:
    """Between the syncs: an empty advance marks where the interval starts (the sandbox spreads an
    advance's events over the time since the previous one), then the changes. The changed sync
    starts once they are all older than the activities lag, as they would be a day later."""
    path = f"/okta/{TENANT}/advance"
    sandbox.admin("POST", path, json={})
    time.sleep(2)
    summary = sandbox.admin("POST", path, json={"changed_users": changed_users, "events": events})
    time.sleep(lag_seconds + 1)
    # Keep the counts, not thousands of ids.
    return {k: len(v) if isinstance(v, list) else v for k, v in summary.items()}


def run(users: int, events: int, changed_share: float, lag_seconds: int | None = None) -> dict[str, Any]:
    from saaslens.config import InstanceConfig
    from saaslens.connections import ConnectionInfo
    from saaslens.connectors.okta.connector import OktaConnector
    from saaslens.lake.writer import Lake

    lag = OktaConnector.default_lag_seconds if lag_seconds is None else lag_seconds

    anchor = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    day_of_events = round(events / HISTORY_DAYS)
    changed_users = max(1, round(users * changed_share))
    with SandboxProcess([tenant_spec(users, events, anchor)]) as sandbox, tempfile.TemporaryDirectory() as tmp:
        tenant = sandbox.tenant(f"okta/{TENANT}")
        token = tenant["credentials"]["api_tokens"][0]["token"]
        connection = ConnectionInfo("bench", "http", host=tenant["url"], password=token, extra={"auth": "ssws"})
        options = {"max_workers": 8, "activities_lag_seconds": lag}
        instance = InstanceConfig(app="okta", name=TENANT, conn_id="bench", options=options)
        lake_root = Path(tmp)
        lake = Lake(lake_root)
        statuses, seconds = {}, {}
        advanced: dict[str, Any] = {}
        for label in SYNCS:
            if label == "changed":
                advanced = change_tenant(sandbox, changed_users, day_of_events, lag)
            started = time.monotonic()
            statuses[label] = sync(instance, connection, lake, label)
            seconds[label] = round(time.monotonic() - started, 1)
            print(f"{label:>9} sync: {seconds[label]:6.1f}s", flush=True)
        per_sync = {label: requests_by_stage(lake_root, f"bench-{label}") for label in SYNCS}
    return {
        "build_seconds": round(sandbox.build_seconds, 1),
        "change": {"changed_users": changed_users, "events": day_of_events, "sandbox_summary": advanced},
        "statuses": statuses,
        "seconds": seconds,
        "per_sync": per_sync,
    }


def summarise(per_sync: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    full = per_sync["full"]
    full_total = sum(s["requests"] for s in full.values())
    full_activities = full.get("activities", {}).get("requests", 0)
    from saaslens.connectors import registry

    order = registry.app_spec("okta").stage_names
    stages = sorted(full, key=lambda stage: order.index(stage) if stage in order else len(order))
    table = []
    for stage in stages:
        row: dict[str, Any] = {"stage": stage}
        for label in SYNCS:
            entry = per_sync[label].get(stage, {})
            row[label] = entry.get("requests")
            row[f"{label}_records"] = entry.get("records")
        base = row["full"] or 0
        for label in SYNCS[1:]:
            row[f"{label}_share"] = None if not base or row[label] is None else round(row[label] / base, 4)
        table.append(row)
    totals = {label: sum(s["requests"] for s in per_sync[label].values()) for label in SYNCS}
    unchanged_activities = per_sync["unchanged"].get("activities", {}).get("requests", 0)
    share_of_activities = unchanged_activities / full_activities if full_activities else None
    share_of_total = unchanged_activities / full_total if full_total else None
    return {
        "stages": table,
        "totals": totals,
        "total_shares": {label: round(totals[label] / full_total, 4) for label in SYNCS[1:]} if full_total else {},
        "unchanged_activities_requests": unchanged_activities,
        "unchanged_activities_share_of_full_activities": None
        if share_of_activities is None
        else round(share_of_activities, 5),
        "unchanged_activities_share_of_full_sync": None if share_of_total is None else round(share_of_total, 5),
        "meets_goal": share_of_activities is not None and share_of_activities < GOAL_SHARE,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=200_000, help="System Log events over the tenant's 7 days")
    parser.add_argument("--changed-share", type=float, default=0.01, help="share of accounts changed (default 1%%)")
    parser.add_argument(
        "--lag-seconds", type=int, help="the activities lag (default Okta's); the smoke size uses 2 to skip the wait"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.users < 1 or args.events < HISTORY_DAYS or not 0 < args.changed_share <= 1:
        parser.error("--users must be positive, --events at least 7 and --changed-share in (0, 1]")

    measured = run(args.users, args.events, args.changed_share, args.lag_seconds)
    summary = summarise(measured["per_sync"])
    print(f"{'stage':<16} {'full':>8} {'unchanged':>10} {'changed':>9}")
    for row in summary["stages"]:
        print(f"{row['stage']:<16} {row['full'] or 0:>8,} {row['unchanged'] or 0:>10,} {row['changed'] or 0:>9,}")
    totals = summary["totals"]
    print(f"{'total':<16} {totals['full']:>8,} {totals['unchanged']:>10,} {totals['changed']:>9,}")
    print(
        f"unchanged activities: {summary['unchanged_activities_requests']} requests = "
        f"{summary['unchanged_activities_share_of_full_activities']:.2%} of the full activities, "
        f"{summary['unchanged_activities_share_of_full_sync']:.3%} of the full sync",
        flush=True,
    )
    failed = {
        label: {s: v for s, v in statuses.items() if v.startswith("failed")}
        for label, statuses in measured["statuses"].items()
    }
    failed = {label: stages for label, stages in failed.items() if stages}
    report = {
        "benchmark": "incremental_cost",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "parameters": {"users": args.users, "events": args.events, "changed_share": args.changed_share},
        "goal": {"unchanged_activities_share": GOAL_SHARE},
        "summary": summary,
        "failed": failed,
        **measured,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, default=str))
    if failed:
        print(f"failed stages: {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
