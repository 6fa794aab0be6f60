"""What the posture stage adds to a scan: per app, the settings stage (its reads and the rules'
evaluation) against the whole scan of the same tenant, in the same run.

    .venv/bin/python bench/posture_cost.py                 # every app with a settings stage, 200 users
    .venv/bin/python bench/posture_cost.py --users 50 --repeat 1

For each app one sandbox tenant is scanned with every stage, as `saaslens sync` and the DAG tasks
do (saaslens.runner.run_stage), into a fresh lake, `--repeat` times; the medians are reported.
Rate limits are off, so the figures are the work done, not waits for a quota the sandbox imposes.
The evaluation alone (the rule queries and the posture_results write, without the reads) is timed
again on the final lake. Results:
bench/results/posture_cost.json; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the sandbox connection recipes of tests/e2e/lake_sync.py

RESULTS = ROOT / "bench" / "results"


def measure_app(app: str, users: int, seed: int) -> dict[str, Any]:
    from saaslens.config import InstanceConfig
    from saaslens.connectors import registry
    from saaslens.lake.writer import Lake, snapshot_id_for
    from saaslens.posture.evaluate import evaluate_instance
    from saaslens.runner import RunContext, run_stage
    from saaslens_sandbox.core import SandboxServer, TenantSpec
    from saaslens_sandbox.kit.ratelimit import RateLimitConfig
    from tests.e2e.lake_sync import connection

    anchor = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
    options: dict[str, Any] = {"anchor": anchor.isoformat()}
    if app == "github":
        # No default sandbox token may read the Actions policies and webhooks (admin:org, admin:org_hook),
        # as an owner's classic token made for auditing would not: give the scan one that may.
        scopes = ["admin:org", "admin:org_hook", "read:audit_log"]
        options["tokens"] = [{"token": "ghp_benchsettings00000000000000000000", "scopes": scopes, "owner": True}]
    spec = TenantSpec(
        app=app,
        name="bench",
        seed=seed,
        users=users,
        options=options,
        rate_limits=RateLimitConfig(enabled=False),
    )
    stages = [str(s) for s in registry.app_spec(app).stage_names]
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, SandboxServer([spec], port=0) as server:
        lake = Lake(Path(tmp) / "lake")
        truth = server.personality(app, "bench").ground_truth()
        instance = InstanceConfig(app=app, name="bench", conn_id=f"{app}_bench", options={"max_workers": 4})
        moment = datetime.now(UTC)
        ctx = RunContext(run_id=f"bench-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
        conn = connection(server, app, "bench", truth)
        statuses = {}
        requests: dict[str, int] = {}
        for stage in stages:
            started = time.perf_counter()
            result = run_stage(instance, stage, ctx, lake, connection=conn)
            seconds[stage] = time.perf_counter() - started
            statuses[stage] = result.status
            requests[stage] = int(result.metrics.get("requests", 0))
        started = time.perf_counter()
        rows = evaluate_instance(lake, app, "bench", ctx.snapshot_id + "-again")
        evaluation = time.perf_counter() - started
    failed = {s: st for s, st in statuses.items() if st != "success"}
    if failed:
        raise RuntimeError(f"{app}: stages did not succeed: {failed}")
    return {
        "stages": {s: round(v, 3) for s, v in seconds.items()},
        "scan_seconds": round(sum(seconds.values()), 3),
        "settings_seconds": round(seconds["settings"], 3),
        "settings_requests": requests["settings"],
        "scan_requests": sum(requests.values()),
        "evaluation_seconds": round(evaluation, 3),
        "rules": len(rows),
        "statuses": {k: sum(1 for r in rows if r["status"] == k) for k in ("pass", "fail", "not_evaluated")},
    }


def run(users: int, repeat: int, apps: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"users": users, "repeat": repeat, "apps": {}}
    for app in apps:
        runs = [measure_app(app, users, seed=11 + k) for k in range(repeat)]
        scan = statistics.median(r["scan_seconds"] for r in runs)
        settings = statistics.median(r["settings_seconds"] for r in runs)
        evaluation = statistics.median(r["evaluation_seconds"] for r in runs)
        out["apps"][app] = {
            "scan_seconds_median": round(scan, 3),
            "settings_stage_seconds_median": round(settings, 3),
            "evaluation_seconds_median": round(evaluation, 3),
            "settings_share_of_scan": round(settings / scan, 4) if scan else None,
            "rules": runs[0]["rules"],
            "runs": runs,
        }
        print(
            f"{app:>17}: scan {scan:6.2f}s, settings stage {settings:5.2f}s ({settings / scan:5.1%}), "
            f"of which rule evaluation {evaluation:5.3f}s for {runs[0]['rules']} rules",
            flush=True,
        )
    return out


def main() -> int:
    from saaslens.connectors import registry
    from saaslens.vocabulary import Stage

    with_settings = [app for app in registry.known_apps() if Stage.SETTINGS in registry.app_spec(app).stage_names]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--apps", default=",".join(with_settings))
    args = parser.parse_args()
    result = run(args.users, args.repeat, [a for a in args.apps.split(",") if a])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "posture_cost.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
