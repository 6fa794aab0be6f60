"""DAG parsing: time and memory to parse dags/connected_apps.py as the configuration grows.

For each size a connected_apps.yaml with that many instances (the five apps in turn, each with its
own schedule, pool and options) is generated and passed through SAASLENS_CONFIG; a fresh
interpreter per size and repetition first imports what Airflow's DAG processor has loaded before
it reads a DAG file (airflow, the SDK, DagBag), then parses the file with DagBag exactly as the
processor does. Reported beyond that baseline: parse seconds (wall, and the parsing process's
CPU seconds, which other load on a shared machine inflates far less), peak resident memory added,
and the seconds to serialize the DAGs (what the processor does next, before writing them to the
metadata database). A least-squares line over the sizes gives the cost per instance and how
linear the growth is (R²). Goal: 1,000 instances parsed in under 2 s, and linear growth.

    .venv/bin/python bench/dag_parse.py                        # 10, 100, 1,000, 5,000 instances
    .venv/bin/python bench/dag_parse.py --sizes 5,20 --repeat 1   # smoke size
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DAG_FILE = ROOT / "dags" / "connected_apps.py"
APPS = ("okta", "github", "google_workspace", "microsoft365", "slack")
SCHEDULES = ("@daily", "@hourly", "0 */6 * * *", None)
GOAL_SECONDS_AT_1000 = 2.0

# Runs in a clean interpreter: the baseline is what the DAG processor has imported already.
PARSE_CODE = r"""
import json, os, resource, sys, time

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

t_import = time.perf_counter()
import airflow
import airflow.sdk
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization
baseline_import_seconds = time.perf_counter() - t_import
baseline_rss = rss_mb()
baseline_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

t0, c0 = time.perf_counter(), time.process_time()
bag = DagBag(dag_folder=sys.argv[1])
parse_seconds, parse_cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
after_parse_rss = rss_mb()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

t1 = time.perf_counter()
for dag in bag.dags.values():
    DagSerialization.to_dict(dag)  # what the DAG processor does next (_serialize_dags)
serialize_seconds = time.perf_counter() - t1

print(json.dumps({
    "dags": len(bag.dags),
    "tasks": sum(len(d.tasks) for d in bag.dags.values()),
    "import_errors": {k: str(v)[-500:] for k, v in bag.import_errors.items()},
    "parse_seconds": parse_seconds,
    "parse_cpu_seconds": parse_cpu_seconds,
    "serialize_seconds": serialize_seconds,
    "baseline_import_seconds": baseline_import_seconds,
    "baseline_rss_mb": baseline_rss,
    "parse_rss_added_mb": after_parse_rss - baseline_rss,
    "parse_peak_added_mb": max(peak, baseline_peak) - baseline_rss,
}))
"""


def write_config(path: Path, instances: int) -> None:
    """A realistic file: every app, varied schedules, pools and options, through `defaults`."""
    entries = []
    for i in range(instances):
        app = APPS[i % len(APPS)]
        entry: dict[str, Any] = {
            "app": app,
            "name": f"tenant-{i:05d}",
            "conn_id": f"saaslens_{app}_tenant_{i:05d}",
            "pool_slots": 1 + i % 6,
            "options": {"max_workers": 1 + i % 8, "activities_initial_days": 1 + i % 30},
        }
        schedule = SCHEDULES[i % len(SCHEDULES)]
        if schedule != "@daily":
            entry["schedule"] = schedule
        entries.append(entry)
    document = {"defaults": {"schedule": "@daily", "pool_slots": 4}, "instances": entries}
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def parse_once(config: Path, timeout: float) -> dict[str, Any]:
    env = {**os.environ, "SAASLENS_CONFIG": str(config), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    env.pop("_AIRFLOW_PARSING_CONTEXT_DAG_ID", None)  # the processor parses for every DAG
    done = subprocess.run(
        [sys.executable, "-c", PARSE_CODE, str(DAG_FILE)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"parsing {DAG_FILE} with {config} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def linear_fit(xs: list[float], ys: list[float]) -> dict[str, float]:
    """Least squares y = intercept + slope * x, and R² (1.0 = perfectly linear)."""
    n = len(xs)
    if n < 2:
        return {"slope": float("nan"), "intercept": float("nan"), "r2": float("nan")}
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    ss_tot = sum((y - mean_y) ** 2 for y in ys)
    ss_res = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return {"slope": slope, "intercept": intercept, "r2": 1 - ss_res / ss_tot if ss_tot else 1.0}


def measure(sizes: list[int], repeat: int, timeout: float) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            config = Path(tmp) / f"connected_apps_{size}.yaml"
            write_config(config, size)
            runs = [parse_once(config, timeout) for _ in range(repeat)]
            for run in runs:
                if run["import_errors"] or run["dags"] != size:
                    raise RuntimeError(f"{size} instances gave {run['dags']} DAGs: {run['import_errors']}")
            best = min(runs, key=lambda r: r["parse_seconds"])  # the least disturbed by other load
            results.append(
                {
                    "instances": size,
                    "dags": best["dags"],
                    "tasks": best["tasks"],
                    "parse_seconds": round(best["parse_seconds"], 3),
                    "parse_seconds_all": [round(r["parse_seconds"], 3) for r in runs],
                    "parse_cpu_seconds": round(best["parse_cpu_seconds"], 3),
                    "serialize_seconds": round(best["serialize_seconds"], 3),
                    "peak_memory_added_mb": round(best["parse_peak_added_mb"], 1),
                    "memory_kept_mb": round(best["parse_rss_added_mb"], 1),
                    "airflow_import_seconds": round(best["baseline_import_seconds"], 2),
                    "airflow_baseline_rss_mb": round(best["baseline_rss_mb"], 1),
                }
            )
            r = results[-1]
            print(
                f"{size:>6,} instances: parse {r['parse_seconds']:6.2f}s ({r['parse_cpu_seconds']:.2f}s CPU; runs "
                f"{r['parse_seconds_all']}), "
                f"serialize {r['serialize_seconds']:6.2f}s, +{r['peak_memory_added_mb']:.0f} MB peak "
                f"over Airflow's {r['airflow_baseline_rss_mb']:.0f} MB",
                flush=True,
            )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000,5000", help="comma-separated instance counts")
    parser.add_argument("--repeat", type=int, default=3, help="fresh interpreters per size (the fastest counts)")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    if not sizes or sizes[0] < 1 or args.repeat < 1:
        parser.error("--sizes needs positive instance counts and --repeat at least 1")

    results = measure(sizes, args.repeat, args.timeout)
    xs = [float(r["instances"]) for r in results]
    time_fit = linear_fit(xs, [r["parse_seconds"] for r in results])
    cpu_fit = linear_fit(xs, [r["parse_cpu_seconds"] for r in results])
    memory_fit = linear_fit(xs, [r["peak_memory_added_mb"] for r in results])
    at_1000 = next((r["parse_seconds"] for r in results if r["instances"] == 1000), None)
    cpu_at_1000 = next((r["parse_cpu_seconds"] for r in results if r["instances"] == 1000), None)
    summary = {
        "ms_per_instance": round(time_fit["slope"] * 1000, 3),
        "fixed_seconds": round(time_fit["intercept"], 3),
        "r2": round(time_fit["r2"], 4),
        "cpu_ms_per_instance": round(cpu_fit["slope"] * 1000, 3),
        "cpu_r2": round(cpu_fit["r2"], 4),
        "kb_per_instance": round(memory_fit["slope"] * 1024, 1),
        "memory_r2": round(memory_fit["r2"], 4),
        "parse_seconds_at_1000": at_1000,
        "parse_cpu_seconds_at_1000": cpu_at_1000,
        "meets_goal": None if at_1000 is None else at_1000 < GOAL_SECONDS_AT_1000,
    }
    print(
        f"fit: {summary['ms_per_instance']} ms per instance + {summary['fixed_seconds']} s (R² {summary['r2']}); "
        f"{summary['kb_per_instance']} KB per instance (R² {summary['memory_r2']})",
        flush=True,
    )
    report = {
        "benchmark": "dag_parse",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "parameters": {"sizes": sizes, "repeat": args.repeat, "dag_file": str(DAG_FILE.relative_to(ROOT))},
        "goal": {"parse_seconds_at_1000": GOAL_SECONDS_AT_1000},
        "summary": summary,
        "results": results,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
