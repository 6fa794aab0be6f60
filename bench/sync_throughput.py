"""Full-sync throughput of each connector against its sandbox personality.

For every app: a tenant of --users accounts and --events audit events is served by the sandbox
in a separate process (so the server does not share the connector's interpreter), rate limits
off, and every stage runs through `saaslens.runner.run_stage` into a fresh lake, exactly as an
Airflow task would. Reported per app: wall time, records stored, requests, records per second,
requests per record, and the connector process's peak RSS. Each app runs in its own process so
peak memory is its own.

    .venv/bin/python bench/sync_throughput.py                       # 10,000 users, 200,000 events
    .venv/bin/python bench/sync_throughput.py --users 500 --events 5000 --apps okta   # smoke size
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

APPS = ("okta", "github", "google_workspace", "microsoft365", "slack")
EVENT_OPTION = {"okta": "log_events"}  # the others take "events"


def _serve(spec_json: str, queue: mp.Queue, stop: mp.Event) -> None:
    from saaslens_sandbox.core import SandboxServer, TenantSpec

    spec = TenantSpec.model_validate_json(spec_json)
    with SandboxServer([spec]) as server:
        truth = server.personality(spec.app, spec.name).ground_truth()
        queue.put(
            {
                "url": server.tenant_url(spec.app, spec.name),
                "credentials": truth.get("credentials"),
                "org": (truth.get("org") or {}).get("login"),
            }
        )
        stop.wait()


def connection_for(app: str, url: str, credentials: dict[str, Any], org: str | None):
    """How an admin would fill the Airflow Connection for the sandbox tenant (see docs/connectors)."""
    from saaslens.connections import ConnectionInfo

    if app == "okta":
        token = credentials["api_tokens"][0]["token"]
        return ConnectionInfo("bench", "http", host=url, password=token, extra={"auth": "ssws"})
    if app == "github":
        token = next(
            t["token"]
            for t in credentials["tokens"]
            if t["kind"] == "classic" and t["owner"] and "read:audit_log" in t["scopes"]
        )
        return ConnectionInfo("bench", "http", host=url, password=token, extra={"org": org})
    if app == "google_workspace":
        key_file = credentials["service_accounts"]["scanner"]["key_file"]
        return ConnectionInfo(
            "bench",
            "google_workspace",
            host=url,
            password=json.dumps(key_file),
            extra={"subject": credentials["subject"]},
        )
    if app == "microsoft365":
        client = credentials["clients"][0]
        return ConnectionInfo(
            "bench",
            "http",
            host=url,
            extra={
                "tenant_id": credentials["tenant_id"],
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "token_url": credentials["token_url"],
            },
        )
    if app == "slack":
        owner = next(c for c in credentials if "auditlogs:read" in c.get("scopes", []))
        return ConnectionInfo(
            "bench", "http", host=url, password=owner["token"], extra={"audit_base_url": f"{url}/audit/v1"}
        )
    if app == "box":
        scanner = credentials["clients"][0]  # the sandbox's scan app: read scopes and the event log
        return ConnectionInfo(
            "bench",
            "http",
            host=url,
            login=scanner["client_id"],
            password=scanner["client_secret"],
            extra={"enterprise_id": credentials["enterprise_id"]},
        )
    if app == "dropbox":
        # the team app's key and secret, and the refresh token of the admin's read-only link
        return ConnectionInfo(
            "bench",
            "http",
            host=url,
            login=credentials["client_id"],
            password=credentials["client_secret"],
            extra={"refresh_token": credentials["refresh_tokens"]["scanner"]["token"]},
        )
    raise ValueError(f"no connection recipe for {app}")


def run_one(app: str, users: int, events: int, workers: int) -> dict[str, Any]:
    from saaslens.config import InstanceConfig
    from saaslens.connectors import registry
    from saaslens.lake.writer import Lake, snapshot_id_for
    from saaslens.runner import RunContext, run_stage
    from saaslens_sandbox.core import RateLimitConfig, TenantSpec

    anchor = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    spec = TenantSpec(
        app=app,
        name="bench",
        seed=1,
        users=users,
        options={EVENT_OPTION.get(app, "events"): events, "anchor": anchor.isoformat()},
        rate_limits=RateLimitConfig(enabled=False),
    )
    ctx_mp = mp.get_context("spawn")
    queue, stop = ctx_mp.Queue(), ctx_mp.Event()
    server = ctx_mp.Process(target=_serve, args=(spec.model_dump_json(), queue, stop), daemon=True)
    server.start()
    try:
        started = time.monotonic()
        info = queue.get(timeout=600)
        build_seconds = time.monotonic() - started
        connection = connection_for(app, info["url"], info["credentials"], info["org"])
        instance = InstanceConfig(app=app, name="bench", conn_id="bench", options={"max_workers": workers})
        with tempfile.TemporaryDirectory() as lake_dir:
            lake = Lake(Path(lake_dir))
            moment = datetime.now(UTC)
            ctx = RunContext(run_id="bench", snapshot_id=snapshot_id_for(moment))
            stages: dict[str, Any] = {}
            t0 = time.monotonic()
            for stage in registry.app_spec(app).stage_names:
                s0 = time.monotonic()
                result = run_stage(instance, stage, ctx, lake, connection=connection)
                stages[stage] = {
                    "status": result.status,
                    "records": result.records,
                    "requests": int(result.metrics.get("requests", 0)),
                    "seconds": round(time.monotonic() - s0, 2),
                }
            total = time.monotonic() - t0
    finally:
        stop.set()
        server.join(timeout=30)
    records = sum(s["records"] for s in stages.values())
    requests = sum(s["requests"] for s in stages.values())
    return {
        "app": app,
        "users": users,
        "events": events,
        "sandbox_build_seconds": round(build_seconds, 1),
        "seconds": round(total, 2),
        "records": records,
        "requests": requests,
        "records_per_second": round(records / total),
        "requests_per_record": round(requests / max(records, 1), 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "failed": [s for s, r in stages.items() if r["status"] == "failed"],
        "stages": stages,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", default=",".join(APPS))
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.users, args.events, args.workers)))
        return 0
    results = []
    for app in args.apps.split(","):
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                app,
                "--users",
                str(args.users),
                "--events",
                str(args.events),
                "--workers",
                str(args.workers),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"{app}: failed\n{done.stderr[-3000:]}", file=sys.stderr)
            return 1
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(
            f"{app:17} {r['seconds']:8.1f}s {r['records']:>9,} records {r['requests']:>7,} requests "
            f"{r['records_per_second']:>7,} rec/s {r['requests_per_record']:.4f} req/rec "
            f"{r['peak_rss_mb']:>5} MB",
            flush=True,
        )
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": mp.cpu_count(),
        "results": results,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    return 0 if not any(r["failed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
