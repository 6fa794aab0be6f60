"""Quota use: how much of Okta's rate limit the pacer turns into requests, and how many 429s it causes.

The sandbox's Okta tenant enforces Okta's documented per-minute limits (workforce tier) scaled by
--scale, over fixed windows of --window seconds (the ceiling per window is the per-minute limit x
scale, so a short window only makes resets come sooner and the benchmark take minutes). Each task
is the `app_permissions` stage (a grants request per user, Okta's `/api/v1` bucket) run through
`saaslens.runner.run_stage` exactly as an Airflow task would, each in its own process: concurrent
tasks of one instance share the bucket and see each other only through the X-Rate-Limit-* headers,
as tasks of one Airflow pool on different workers do.

Measured from the sandbox's own record of every request: requests per *complete* window of the
busiest bucket divided by the window's limit (a partial first or last window says nothing about
the pacer), and 429s as a share of all requests (the sandbox's stats admin route). Goal: >= 0.95
of the limit with 429s under 0.5% of requests.

    .venv/bin/python bench/quota_use.py                                   # 1 and 3 tasks
    .venv/bin/python bench/quota_use.py --users 60 --tasks 1,2 --scale 0.02 --window 3   # smoke size
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sandbox_process import SandboxProcess

TENANT = "quota"
STAGE = "app_permissions"
GOAL_UTILISATION = 0.95
GOAL_429_SHARE = 0.005


def _task(url: str, token: str, workers: int, index: int, ready: Any, go: Any, results: Any) -> None:
    """One Airflow-task-like stage run in its own process, started together with the others."""
    import logging

    # Retries after a 429 log a warning each; the benchmark counts them instead.
    logging.basicConfig(level=logging.ERROR)
    from saaslens.config import InstanceConfig
    from saaslens.connections import ConnectionInfo
    from saaslens.lake.writer import Lake, snapshot_id_for
    from saaslens.runner import RunContext, run_stage

    connection = ConnectionInfo("bench", "http", host=url, password=token, extra={"auth": "ssws"})
    instance = InstanceConfig(
        app="okta", name=TENANT, conn_id="bench", options={"max_workers": workers, "deprovisioned_users": False}
    )
    with tempfile.TemporaryDirectory() as lake_dir:
        ctx = RunContext(run_id=f"quota-{index}", snapshot_id=snapshot_id_for(datetime.now(UTC)))
        ready.put(index)
        go.wait()
        started = time.time()
        result = run_stage(instance, STAGE, ctx, Lake(Path(lake_dir)), connection=connection)
        results.put(
            {
                "task": index,
                "status": result.status,
                "detail": result.detail if result.status != "success" else None,
                "records": result.records,
                "started": started,
                "ended": time.time(),
                "requests": int(result.metrics.get("requests", 0)),
                "throttled": int(result.metrics.get("throttled", 0)),
                "retries": int(result.metrics.get("retries", 0)),
                "pacing_wait_seconds": round(float(result.metrics.get("pacing_wait_seconds", 0.0)), 1),
            }
        )


def run_tasks(url: str, token: str, tasks: int, workers: int, timeout: float) -> list[dict[str, Any]]:
    context = mp.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    processes = [
        context.Process(target=_task, args=(url, token, workers, i, ready, go, results), daemon=True)
        for i in range(tasks)
    ]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            ready.get(timeout=300)  # imports done: start everyone at once
        go.set()
        outcomes = [results.get(timeout=timeout) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return sorted(outcomes, key=lambda o: o["task"])


def window_counts(
    events: list[tuple[float, str, str, int]], bucket: str, window: int
) -> tuple[list[int], dict[int, int]]:
    """Requests of `bucket` the sandbox served (not 429s) per complete fixed window (the sandbox's
    windows: epoch // window)."""
    times = [t for t, _, b, status in events if b == bucket and status != 429]
    if not times:
        return [], {}
    per_window = Counter(int(t // window) for t in times)
    first, last = min(per_window), max(per_window)
    # The first and last windows are partial: the run started and ended inside them.
    complete = [per_window.get(w, 0) for w in range(first + 1, last)]
    return complete, dict(per_window)


def busiest_bucket(events: list[tuple[float, str, str, int]]) -> str:
    return Counter(b for _, _, b, _ in events).most_common(1)[0][0]


def scenario(sandbox: SandboxProcess, tasks: int, args: argparse.Namespace) -> dict[str, Any]:
    tenant = sandbox.tenant(f"okta/{TENANT}")
    token = tenant["credentials"]["api_tokens"][0]["token"]
    sandbox.reset_stats("okta", TENANT)
    sandbox.timeline(clear=True)
    t0 = time.monotonic()
    outcomes = run_tasks(tenant["url"], token, tasks, args.workers, timeout=args.timeout)
    wall = time.monotonic() - t0
    stats = sandbox.stats("okta", TENANT)
    events = sandbox.timeline(clear=True)
    bucket = busiest_bucket(events)
    limit = limit_for(bucket, args.scale)
    complete, _ = window_counts(events, bucket, args.window)
    utilisation = [count / limit for count in complete]
    share_429 = stats["rate_limited_429"] / max(1, stats["requests"])
    mean_utilisation = statistics.fmean(utilisation) if utilisation else None
    return {
        "tasks": tasks,
        "workers_per_task": args.workers,
        "wall_seconds": round(wall, 1),
        "bucket": bucket,
        "limit_per_window": limit,
        "window_seconds": args.window,
        "complete_windows": len(complete),
        "requests_per_complete_window": complete,
        "utilisation_mean": None if mean_utilisation is None else round(mean_utilisation, 4),
        "utilisation_min": round(min(utilisation), 4) if utilisation else None,
        "requests_per_minute": None if mean_utilisation is None else round(mean_utilisation * limit * 60 / args.window),
        "limit_per_minute": round(limit * 60 / args.window),
        "requests": stats["requests"],
        "rate_limited_429": stats["rate_limited_429"],
        "share_429": round(share_429, 5),
        "meets_goal": bool(
            mean_utilisation is not None and mean_utilisation >= GOAL_UTILISATION and share_429 < GOAL_429_SHARE
        ),
        "task_results": outcomes,
        "failed": [o for o in outcomes if o["status"] != "success"],
    }


def limit_for(bucket: str, scale: float) -> int:
    """The sandbox's ceiling per window for an Okta bucket: the documented limit x scale."""
    from saaslens_sandbox.okta.api import RATE_LIMITS, TIERS

    per_minute = RATE_LIMITS.get(bucket, RATE_LIMITS["/api/v1"])[TIERS.index("workforce")]
    return max(1, int(per_minute * scale))


def tenant_spec(args: argparse.Namespace) -> Any:
    from saaslens_sandbox.core import RateLimitConfig, TenantSpec

    anchor = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    return TenantSpec(
        app="okta",
        name=TENANT,
        seed=6,
        users=args.users,
        options={"log_events": 100, "anchor": anchor.isoformat(), "rate_limit_tier": "workforce"},
        rate_limits=RateLimitConfig(enabled=True, scale=args.scale, window_seconds=args.window),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=600, help="accounts in the tenant (one grants request each)")
    parser.add_argument("--tasks", default="1,3", help="comma-separated numbers of concurrent tasks")
    parser.add_argument("--scale", type=float, default=0.1, help="multiplies Okta's per-minute limits")
    parser.add_argument("--window", type=int, default=10, help="rate-limit window in seconds")
    parser.add_argument("--workers", type=int, default=8, help="max_workers of each task's fan-out")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    try:
        task_counts = [int(n) for n in args.tasks.split(",") if n.strip()]
    except ValueError:
        parser.error(f"--tasks must be comma-separated integers, got {args.tasks!r}")
    if not task_counts or min(task_counts) < 1:
        parser.error("--tasks needs at least one positive number")

    results = []
    with SandboxProcess([tenant_spec(args)]) as sandbox:
        for tasks in task_counts:
            r = scenario(sandbox, tasks, args)
            results.append(r)
            util = "n/a" if r["utilisation_mean"] is None else f"{r['utilisation_mean']:.3f}"
            print(
                f"{tasks} task(s): {r['wall_seconds']:7.1f}s  {r['bucket']} {util} of the limit over "
                f"{r['complete_windows']} complete windows (min {r['utilisation_min']}), "
                f"{r['rate_limited_429']} 429s in {r['requests']} requests ({r['share_429']:.2%})",
                flush=True,
            )
    report = {
        "benchmark": "quota_use",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": mp.cpu_count(),
        "parameters": {
            "users": args.users,
            "scale": args.scale,
            "window_seconds": args.window,
            "workers": args.workers,
            "stage": STAGE,
            "tier": "workforce",
        },
        "goal": {"utilisation": GOAL_UTILISATION, "share_429": GOAL_429_SHARE},
        "results": results,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    return 1 if any(r["failed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
