"""End to end under Airflow: the real scheduler runs one DAG run of each of N sandbox instances.

A generated connected_apps.yaml names N sandbox Okta tenants (served by one sandbox in its own
process, Okta's own rate limits on), each with its pool; airflow_settings.yaml holds their
connections. `AirflowStack` (as tests/airflow and `make demo` use it) migrates a fresh SQLite
metadata database, applies the pools and connections, and starts the api-server, scheduler and
dag-processor with the LocalExecutor; every DAG is triggered at once.

Reported: wall time from the first trigger until every run ended, and the scheduler's overhead
per task from Airflow's own task-instance times against the stage's own duration (scan_runs):

* in-task overhead: the task instance's start-to-end minus the stage's run time (task process
  start, imports, talking to the API server);
* start latency: from the moment a task could run (its last upstream ended, or its run started)
  until Airflow started it; it includes waiting for a free executor slot (parallelism) or pool
  slot, and the scheduler's loop;
* slot use: the stages' total run time against parallelism x wall time.

    .venv/bin/python bench/airflow_e2e.py                                 # 20 instances
    .venv/bin/python bench/airflow_e2e.py --instances 2 --users 30        # smoke size
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sandbox_process import SandboxProcess


def names(instances: int) -> list[str]:
    return [f"e2e-{i:03d}" for i in range(instances)]


def tenant_specs(instances: int, users: int, events: int) -> list[Any]:
    from saaslens_sandbox.core import TenantSpec

    anchor = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    return [
        TenantSpec(
            app="okta",
            name=name,
            seed=100 + i,
            users=users,
            options={"log_events": events, "anchor": anchor.isoformat()},
        )
        for i, name in enumerate(names(instances))
    ]


def write_project(directory: Path, sandbox: SandboxProcess, instances: int, pool_slots: int) -> tuple[Path, Path]:
    config, settings_file = directory / "connected_apps.yaml", directory / "airflow_settings.yaml"
    entries, connections = [], []
    for name in names(instances):
        tenant = sandbox.tenant(f"okta/{name}")
        conn_id = f"okta_{name.replace('-', '_')}"
        entries.append(
            {
                "app": "okta",
                "name": name,
                "conn_id": conn_id,
                "pool_slots": pool_slots,
                "schedule": None,
                "options": {"max_workers": 4},
            }
        )
        connections.append(
            {
                "conn_id": conn_id,
                "conn_type": "http",
                "conn_host": tenant["url"],
                "conn_password": tenant["credentials"]["api_tokens"][0]["token"],
                "conn_extra": {"auth": "ssws"},
            }
        )
    config.write_text(yaml.safe_dump({"instances": entries}, sort_keys=False))
    settings_file.write_text(yaml.safe_dump({"airflow": {"connections": connections}}, sort_keys=False))
    return config, settings_file


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def stage_seconds(lake_root: Path) -> dict[tuple[str, str, str], float]:
    """(instance, run_id, stage) -> the stage's own run time, from scan_runs (last attempt)."""
    import pyarrow.dataset as ds

    runs = lake_root / "scan_runs"
    if not runs.exists():
        return {}
    out: dict[tuple[str, str, str], float] = {}
    rows = ds.dataset(runs, format="parquet", partitioning="hive").to_table().to_pylist()
    for row in sorted(rows, key=lambda r: r["attempt"]):
        out[(row["instance"], row["run_id"], row["stage"])] = (row["ended_at"] - row["started_at"]).total_seconds()
    return out


def failed_attempts(lake_root: Path) -> list[dict[str, Any]]:
    """Stage attempts the runner recorded as failed (an Airflow retry follows each)."""
    import pyarrow.dataset as ds

    runs = lake_root / "scan_runs"
    if not runs.exists():
        return []
    rows = ds.dataset(runs, format="parquet", partitioning="hive").to_table().to_pylist()
    return [
        {"instance": r["instance"], "stage": r["stage"], "attempt": r["attempt"], "error": (r["error"] or "")[:300]}
        for r in rows
        if r["status"] == "failed"
    ]


def earlier_tries(stack: Any, runs: dict[str, str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What ended each try before the last, from Airflow's own record of task tries."""
    out = []
    for row in rows:
        if (row["try_number"] or 1) <= 1:
            continue
        tries = stack.api(
            "GET", f"/dags/{row['dag_id']}/dagRuns/{runs[row['dag_id']]}/taskInstances/{row['task_id']}/tries"
        )
        for attempt in tries.get("task_instances", []):
            if attempt.get("try_number") != row["try_number"]:
                out.append(
                    {
                        "dag_id": row["dag_id"],
                        "task_id": row["task_id"],
                        "try_number": attempt.get("try_number"),
                        "state": attempt.get("state"),
                        "queued_when": attempt.get("queued_when"),
                        "start_date": attempt.get("start_date"),
                        "end_date": attempt.get("end_date"),
                    }
                )
    return out


def distribution(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p90": None, "max": None, "mean": None}
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 2),
        "p90": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 2),
        "max": round(ordered[-1], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


def task_timings(
    stack: Any, runs: dict[str, str], lake_root: Path
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """One row per task instance: when it could start, when it did, its stage's own duration."""
    own = stage_seconds(lake_root)
    rows, run_info = [], {}
    for dag_id, run_id in runs.items():
        run = stack.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        run_info[dag_id] = run
        upstream: dict[str, list[str]] = {}
        for task in stack.api("GET", f"/dags/{dag_id}/tasks")["tasks"]:
            for downstream in task.get("downstream_task_ids") or []:
                upstream.setdefault(downstream, []).append(task["task_id"])
        tis = {ti["task_id"]: ti for ti in stack.task_instances(dag_id, run_id)}
        instance = dag_id.removeprefix("saaslens_okta_").replace("_", "-")
        run_start = parse_time(run.get("start_date"))
        for task_id, ti in tis.items():
            start, end = parse_time(ti.get("start_date")), parse_time(ti.get("end_date"))
            parents = [parse_time(tis[p].get("end_date")) for p in upstream.get(task_id, []) if p in tis]
            ready = max([p for p in parents if p] or [run_start]) if (parents or run_start) else None
            stage = own.get((instance, run_id, task_id))
            task_seconds = (end - start).total_seconds() if start and end else None
            rows.append(
                {
                    "dag_id": dag_id,
                    "task_id": task_id,
                    "state": ti.get("state"),
                    "try_number": ti.get("try_number"),
                    "start_latency": (start - ready).total_seconds() if start and ready else None,
                    "task_seconds": task_seconds,
                    "stage_seconds": stage,
                    "in_task_overhead": None if task_seconds is None or stage is None else task_seconds - stage,
                    "queued_to_start": (start - parse_time(ti["queued_when"])).total_seconds()
                    if start and ti.get("queued_when")
                    else None,
                }
            )
    return rows, run_info


def tolerate_locked_database(stack: Any, attempts: int = 10) -> None:
    """Retry the stack's REST calls on Airflow's 500 "Database error" or a read timeout: with
    SQLite as the metadata database, the api-server's work waits for the scheduler's and
    dag-processor's lock while twenty DAGs are serialized and runs created. Any other error is
    raised at once."""
    import httpx

    from saaslens.orchestration.local_airflow import AirflowStackError

    plain = stack.api

    def api(method: str, path: str, **kwargs: Any) -> Any:
        for attempt in range(attempts):
            try:
                return plain(method, path, **kwargs)
            except (AirflowStackError, httpx.TimeoutException) as exc:
                locked = isinstance(exc, httpx.TimeoutException) or (
                    "HTTP 500" in str(exc) and "Database error" in str(exc)
                )
                if not locked or attempt == attempts - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    stack.api = api


def run(args: argparse.Namespace) -> dict[str, Any]:
    from saaslens.orchestration.local_airflow import AirflowStack

    with (
        SandboxProcess(tenant_specs(args.instances, args.users, args.events)) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
    ):
        directory = Path(tmp)
        config, settings_file = write_project(directory, sandbox, args.instances, args.pool_slots)
        lake = directory / "lake"
        home = directory / "airflow"
        stack = AirflowStack(
            home=home,
            parallelism=args.parallelism,
            extra_env={
                "SAASLENS_CONFIG": str(config),
                "SAASLENS_LAKE": str(lake),
                "SAASLENS_AIRFLOW_SETTINGS": str(settings_file),
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(args.queued_timeout),
                # SQLite's default 5 s lock wait is too short for three services and eight task
                # processes on a busy machine (the dag-processor died of "database is locked"); a
                # wait past 30 s would time out the REST client instead.
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}?timeout=25",
            },
        )
        tolerate_locked_database(stack)
        dag_ids = [f"saaslens_okta_{name.replace('-', '_')}" for name in names(args.instances)]
        setup_started = time.monotonic()
        try:
            stack.migrate()
            stack.bootstrap(settings_file=settings_file, config=config)
            stack.start()
            stack.wait_for_dags(dag_ids, timeout=args.timeout)
            setup_seconds = time.monotonic() - setup_started
            started = time.monotonic()
            runs = {dag_id: stack.trigger(dag_id) for dag_id in dag_ids}
            states = stack.wait_for_runs(runs, timeout=args.timeout)
            polled_wall = time.monotonic() - started
            rows, run_info = task_timings(stack, runs, lake)
            retried = earlier_tries(stack, runs, rows)
            failures = failed_attempts(lake)
        finally:
            stack.stop()
            if args.keep_logs:  # the services' and tasks' logs outlive the temporary home
                shutil.copytree(home / "service-logs", args.keep_logs / "service-logs", dirs_exist_ok=True)
                if (home / "logs").exists():
                    shutil.copytree(home / "logs", args.keep_logs / "task-logs", dirs_exist_ok=True)
    queued = [parse_time(r.get("queued_at")) for r in run_info.values()]
    ended = [parse_time(r.get("end_date")) for r in run_info.values()]
    wall = (max(e for e in ended if e) - min(q for q in queued if q)).total_seconds()
    stage_total = sum(r["stage_seconds"] or 0 for r in rows)
    return {
        "setup_seconds": round(setup_seconds, 1),
        "sandbox_build_seconds": round(sandbox.build_seconds, 1),
        "wall_seconds": round(wall, 1),
        "wall_seconds_polled": round(polled_wall, 1),
        "runs": len(runs),
        "run_states": states,
        "tasks": len(rows),
        "task_states": {s: sum(1 for r in rows if r["state"] == s) for s in {r["state"] for r in rows}},
        "retried_tasks": sum(1 for r in rows if (r["try_number"] or 1) > 1),
        "earlier_tries": retried,
        "failed_stage_attempts": failures,
        "stage_seconds_total": round(stage_total, 1),
        "slot_use": round(stage_total / (args.parallelism * wall), 3) if wall else None,
        "in_task_overhead": distribution([r["in_task_overhead"] for r in rows if r["in_task_overhead"] is not None]),
        "start_latency": distribution([r["start_latency"] for r in rows if r["start_latency"] is not None]),
        "queued_to_start": distribution([r["queued_to_start"] for r in rows if r["queued_to_start"] is not None]),
        "stage_seconds": distribution([r["stage_seconds"] for r in rows if r["stage_seconds"] is not None]),
        "task_rows": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--users", type=int, default=100, help="accounts per sandbox tenant")
    parser.add_argument("--events", type=int, default=2_000, help="System Log events per tenant")
    parser.add_argument("--pool-slots", type=int, default=4, help="each instance's pool")
    parser.add_argument("--parallelism", type=int, default=8, help="Airflow core.parallelism (LocalExecutor)")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument(
        "--queued-timeout",
        type=int,
        default=3600,
        help="scheduler.task_queued_timeout: the stack's 300 s fails tasks that wait that long for a free slot",
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--keep-logs", type=Path, help="copy the Airflow services' and tasks' logs here")
    args = parser.parse_args()
    if min(args.instances, args.users, args.pool_slots, args.parallelism) < 1 or args.events < 0:
        parser.error("--instances, --users, --pool-slots and --parallelism must be positive")

    result = run(args)
    print(
        f"{result['runs']} runs, {result['tasks']} tasks in {result['wall_seconds']:.1f}s wall "
        f"(setup {result['setup_seconds']:.0f}s); stages ran {result['stage_seconds_total']:.0f}s in all, "
        f"slot use {result['slot_use']}; per task: in-task overhead median "
        f"{result['in_task_overhead']['median']}s, start latency median {result['start_latency']['median']}s "
        f"(p90 {result['start_latency']['p90']}s)",
        flush=True,
    )
    report = {
        "benchmark": "airflow_e2e",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "parameters": {
            "instances": args.instances,
            "users": args.users,
            "events": args.events,
            "pool_slots": args.pool_slots,
            "parallelism": args.parallelism,
            "executor": "LocalExecutor",
            "database": "sqlite",
            "task_queued_timeout": args.queued_timeout,
        },
        **result,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, default=str))
    failed = {dag: state for dag, state in result["run_states"].items() if state != "success"}
    if failed:
        print(f"runs not successful: {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
