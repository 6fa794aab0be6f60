"""Run issue 6's benchmarks, each in its own process, and print one table of the results.

    .venv/bin/python -m bench                      # quota use, DAG parsing, incremental cost, Airflow end to end
    .venv/bin/python -m bench --only dag_parse     # one of them
    .venv/bin/python -m bench --smoke              # every one at its smoke size (minutes, not an hour)
    .venv/bin/python -m bench --table              # only the table, from bench/results/*.json

Each benchmark writes bench/results/<name>.json. Ingest speed (bench/ingest_compare.py) needs dlt
in its own virtualenv, so `make bench-ingest` runs it and `make bench` runs both; its results,
when present, are in the table too.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

# name -> (script, smoke-size arguments). Full sizes are each script's defaults.
BENCHMARKS: dict[str, tuple[str, list[str]]] = {
    "quota_use": ("bench/quota_use.py", ["--users", "60", "--tasks", "1,2", "--scale", "0.02", "--window", "3"]),
    "dag_parse": ("bench/dag_parse.py", ["--sizes", "5,20", "--repeat", "1"]),
    "incremental_cost": ("bench/incremental_cost.py", ["--users", "120", "--events", "1400", "--lag-seconds", "2"]),
    "airflow_e2e": ("bench/airflow_e2e.py", ["--instances", "2", "--users", "30", "--events", "200"]),
}
INGEST_RESULT = "ingest_compare.json"

Row = tuple[str, str, str, str]  # measure, value, goal, verdict


def verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "MISSED")


def ingest_rows(report: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for size in report.get("sizes", []):
        label = f"{size['users']:,} users / {size['events']:,} events"
        ratios = size.get("ratios", {})
        checks = (
            ("saaslens / dlt records per second", "saaslens_vs_dlt_records_per_second", ">= 4", lambda v: v >= 4),
            ("saaslens time / bare loop time", "saaslens_time_vs_bare_time", "<= 1.5", lambda v: v <= 1.5),
            ("saaslens / dlt peak memory", "saaslens_vs_dlt_peak_rss", "<= 1", lambda v: v <= 1),
        )
        for measure, key, goal, ok in checks:
            if key in ratios:
                rows.append((f"{measure}, {label}", f"{ratios[key]}x", goal, verdict(ok(ratios[key]))))
        for tool, s in size.get("summary", {}).items():
            rows.append((f"{tool}, {label}", f"{s['records_per_second']:,} rec/s, {s['peak_rss_mb']} MB peak", "", ""))
    return rows


def quota_rows(report: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    goal = report["goal"]
    for r in report["results"]:
        util = r["utilisation_mean"]
        rows.append(
            (
                f"share of Okta's {r['bucket']} limit used, {r['tasks']} task(s)",
                "n/a" if util is None else f"{util:.3f} ({r['complete_windows']} windows)",
                f">= {goal['utilisation']}",
                verdict(None if util is None else util >= goal["utilisation"]),
            )
        )
        rows.append(
            (
                f"429s, {r['tasks']} task(s)",
                f"{r['rate_limited_429']} of {r['requests']} ({r['share_429']:.2%})",
                f"< {goal['share_429']:.1%}",
                verdict(r["share_429"] < goal["share_429"]),
            )
        )
    return rows


def dag_parse_rows(report: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for r in report["results"]:
        rows.append(
            (
                f"parse {r['instances']:,} instances",
                f"{r['parse_seconds']:.2f} s ({r['parse_cpu_seconds']:.2f} s CPU), +{r['peak_memory_added_mb']:.0f} MB",
                "< 2 s at 1,000" if r["instances"] == 1000 else "",
                verdict(r["parse_seconds"] < 2) if r["instances"] == 1000 else "",
            )
        )
    s = report["summary"]
    rows.append(
        (
            "parse growth (least squares)",
            f"{s['ms_per_instance']} ms/instance + {s['fixed_seconds']} s, R² {s['r2']}",
            "linear (R² >= 0.99)",
            verdict(s["r2"] >= 0.99),
        )
    )
    return rows


def incremental_rows(report: dict[str, Any]) -> list[Row]:
    s = report["summary"]
    share = s["unchanged_activities_share_of_full_activities"]
    rows: list[Row] = [
        (
            "unchanged activities / full activities requests",
            "n/a" if share is None else f"{s['unchanged_activities_requests']} ({share:.2%})",
            "< 2%",
            verdict(None if share is None else share < report["goal"]["unchanged_activities_share"]),
        )
    ]
    for label in ("unchanged", "changed"):
        rows.append(
            (
                f"{label} sync / full sync requests",
                f"{s['totals'][label]:,} / {s['totals']['full']:,} ({s['total_shares'].get(label, 0):.1%})",
                "",
                "",
            )
        )
    return rows


def airflow_rows(report: dict[str, Any]) -> list[Row]:
    p = report["parameters"]
    ok = all(state == "success" for state in report["run_states"].values())
    return [
        (
            f"wall time, {report['runs']} instances ({report['tasks']} tasks, parallelism {p['parallelism']})",
            f"{report['wall_seconds']:.0f} s",
            "all runs succeed",
            verdict(ok),
        ),
        (
            "in-task overhead per task (median / p90)",
            f"{report['in_task_overhead']['median']} / {report['in_task_overhead']['p90']} s",
            "",
            "",
        ),
        (
            "start latency per task (median / p90)",
            f"{report['start_latency']['median']} / {report['start_latency']['p90']} s",
            "",
            "",
        ),
        ("executor slots spent in stage code", f"{report['slot_use']:.0%}", "", ""),
    ]


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "ingest_compare": ingest_rows,
    "quota_use": quota_rows,
    "dag_parse": dag_parse_rows,
    "incremental_cost": incremental_rows,
    "airflow_e2e": airflow_rows,
}


def table(results: Path) -> str:
    lines = ["| benchmark | measure | value | goal | verdict |", "|---|---|---|---|---|"]
    for name, make_rows in ROWS.items():
        path = results / f"{name}.json"
        if not path.exists():
            lines.append(f"| {name} | not run ({path.name} missing) | | | |")
            continue
        try:
            report = json.loads(path.read_text())
            rows = make_rows(report)
        except (KeyError, TypeError, ValueError) as exc:
            lines.append(f"| {name} | unreadable {path.name}: {type(exc).__name__}: {exc} | | | |")
            continue
        date = report.get("date", "?")
        for measure, value, goal, outcome in rows:
            lines.append(f"| {name} ({date[:10]}) | {measure} | {value} | {goal} | {outcome} |")
    return "\n".join(lines)


def run(names: list[str], smoke: bool, results: Path) -> dict[str, int]:
    codes = {}
    for name in names:
        script, smoke_args = BENCHMARKS[name]
        command = [sys.executable, str(ROOT / script), "--out", str(results / f"{name}.json")]
        command += smoke_args if smoke else []
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        codes[name] = subprocess.run(command, cwd=ROOT, check=False).returncode
        print(f"== {name}: exit {codes[name]} after {time.monotonic() - started:.0f} s", flush=True)
    return codes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    parser.add_argument("--smoke", action="store_true", help="the smoke sizes CI uses")
    parser.add_argument("--table", action="store_true", help="print the table from existing results only")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    args = parser.parse_args()
    names = [n.strip() for n in (args.only or ",".join(BENCHMARKS)).split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown or not names:
        parser.error(f"--only: unknown {', '.join(unknown) or '(none)'}; benchmarks: {', '.join(BENCHMARKS)}")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    codes = {} if args.table else run(names, args.smoke, args.results_dir)
    print()
    print(table(args.results_dir))
    failed = {name: code for name, code in codes.items() if code != 0}
    if failed:
        print(f"\nbenchmarks that failed: {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
