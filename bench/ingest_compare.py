"""Ingest speed and memory: saaslens against dlt's `rest_api` source and a bare loop (issue 6, item 1).

One sandbox Okta tenant (users + System Log, rate limits off) is served by the sandbox in its own
process; each tool then pulls the same endpoints with the same pagination into Parquet, each in
its own child process, tools alternating within each repetition:

- saaslens: the `users` and `activities` stages through `saaslens.runner.run_stage`, exactly as an
  Airflow task runs them (quality gate included, unless `saaslens-nogate`);
- dlt: `rest_api_source` with the same endpoints (/api/v1/users, the DEPROVISIONED search, /api/v1/logs
  with the same since/until), the `header_link` paginator (Link rel="next") and an `SSWS` header,
  into the filesystem destination as Parquet (dlt's defaults otherwise: what a data engineer gets);
- bare: httpx + orjson + pyarrow over the same pages, no framework: the practical limit.

Records/s is records stored over the child's wall time (interpreter start to exit); peak memory is
the child's own ru_maxrss, read by the parent with wait4. dlt runs from a separate virtualenv
(`make bench-ingest` builds .venv-bench from bench/requirements.txt) so it never becomes a
dependency of saaslens.

    .venv/bin/python bench/ingest_compare.py              # 10k/200k x3 and 100k/2M x2 (make bench-ingest)
    .venv/bin/python bench/ingest_compare.py --sizes 500:5000 --reps 1         # smoke size

`--baseline-src DIR` adds `saaslens-baseline`: the same saaslens child, importing the package from
another checkout (e.g. a `git worktree` of the previous commit), so a change is measured against
the code before it in the same run, on the same tenant, alternating with it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("saaslens", "saaslens-nogate", "saaslens-baseline", "dlt", "bare")
DEFAULT_TOOLS = ("saaslens", "dlt", "bare")
TOKEN_ENV = "SAASLENS_BENCH_TOKEN"  # the sandbox token travels in the environment, never in argv
DEPROVISIONED = 'status eq "DEPROVISIONED"'
WINDOW_DAYS = 30  # the window every tool asks the System Log for: saaslens' default first scan
LAG_SECONDS = 30  # Okta's default lag in saaslens; the others stop at the same moment
USERS_PAGE, LOGS_PAGE = 200, 1000  # Okta's maximum page sizes, which saaslens uses by default
BARE_FLUSH_ROWS = 20_000  # a row group per as many rows as saaslens commits per chunk


# -- the sandbox, in its own process ----------------------------------------------------------


def _serve(users: int, events: int, queue: mp.Queue, stop: mp.Event) -> None:
    from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec

    anchor = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    spec = TenantSpec(
        app="okta",
        name="bench",
        seed=1,
        users=users,
        options={"log_events": events, "anchor": anchor.isoformat()},
        rate_limits=RateLimitConfig(enabled=False),
    )
    with SandboxServer([spec]) as server:
        personality = server.personality(spec.app, spec.name)
        tenant = personality.tenant
        queue.put(
            {
                "url": server.tenant_url(spec.app, spec.name),
                "token": tenant.api_tokens[0].token,
                "users": len(tenant.users),
                "events": tenant.event_count,
            }
        )
        stop.wait()


class Sandbox:
    """A sandbox Okta tenant served from a spawned process for as long as the context lasts.

    The parent never imports saaslens itself: a child started by fork or vfork inherits the
    parent's resident set into its ru_maxrss, so the parent stays small to keep that floor low."""

    def __init__(self, users: int, events: int) -> None:
        self.users, self.events = users, events
        self.info: dict[str, Any] = {}
        self.build_seconds = 0.0

    def __enter__(self) -> Sandbox:
        ctx = mp.get_context("spawn")
        self._queue, self._stop = ctx.Queue(), ctx.Event()
        self._process = ctx.Process(target=_serve, args=(self.users, self.events, self._queue, self._stop))
        self._process.daemon = True
        started = time.monotonic()
        self._process.start()
        self.info = self._queue.get(timeout=900)
        self.build_seconds = time.monotonic() - started
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.terminate()


# -- the three loaders, each run as `--child TOOL` --------------------------------------------


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(days=WINDOW_DAYS), now - timedelta(seconds=LAG_SECONDS)


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parquet_rows(directory: Path) -> int:
    """Rows in a Parquet file, or in every Parquet file below a directory."""
    import pyarrow.parquet as pq

    files = [directory] if directory.is_file() else directory.rglob("*.parquet")
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files if f.stat().st_size)


def _without_quality_gate() -> None:
    """Measure what the Great Expectations gate costs by running the same stages without it.

    There is deliberately no user option for this (issue 4 requires every batch validated), so
    the benchmark child swaps the runner's auditors for none; great_expectations is then never
    imported. Used only by the `saaslens-nogate` variant."""
    from saaslens.runner.gate import QualityGate

    QualityGate.snapshot_audit = lambda self, table, writer: lambda data: None  # type: ignore[method-assign]
    QualityGate.event_audit = lambda self, writer: None  # type: ignore[method-assign]


def child_saaslens(url: str, token: str, out: Path, gate: bool) -> dict[str, Any]:
    from saaslens.config import InstanceConfig
    from saaslens.connections import ConnectionInfo
    from saaslens.lake.writer import Lake, snapshot_id_for
    from saaslens.runner import RunContext, run_stage

    connection = ConnectionInfo("bench", "http", host=url, password=token, extra={"auth": "ssws"})
    options: dict[str, Any] = {"activities_initial_days": WINDOW_DAYS, "activities_lag_seconds": LAG_SECONDS}
    if not gate:
        _without_quality_gate()
    instance = InstanceConfig(app="okta", name="bench", conn_id="bench", options=options)
    lake = Lake(out)
    ctx = RunContext(run_id="bench", snapshot_id=snapshot_id_for(datetime.now(UTC)))
    counts: dict[str, int] = {}
    for stage in ("users", "activities"):
        result = run_stage(instance, stage, ctx, lake, connection=connection)
        if result.status != "success":
            raise RuntimeError(f"saaslens {stage} stage {result.status}: {result.detail}")
        counts[stage] = result.records
    accounts = lake.read_snapshot("accounts", "okta", "bench")
    stored_users = accounts.num_rows if accounts is not None else 0
    stored_events = _parquet_rows(lake.instance_dir("activities", "okta", "bench"))
    return {"users": stored_users, "events": stored_events, "reported": counts}


def _dlt_source(url: str, token: str, since: datetime, until: datetime) -> Any:
    from dlt.sources.rest_api import rest_api_source

    return rest_api_source(
        {
            "client": {
                "base_url": url + "/",
                "auth": {"type": "api_key", "name": "Authorization", "api_key": f"SSWS {token}", "location": "header"},
                "paginator": {"type": "header_link", "links_next_key": "next"},
                "headers": {"Accept": "application/json"},
            },
            "resource_defaults": {"write_disposition": "append"},
            "resources": [
                {"name": "users", "endpoint": {"path": "api/v1/users", "params": {"limit": USERS_PAGE}}},
                {
                    # Okta lists DEPROVISIONED users only when searched for; saaslens reads both.
                    "name": "deprovisioned_users",
                    "table_name": "users",
                    "endpoint": {"path": "api/v1/users", "params": {"limit": USERS_PAGE, "search": DEPROVISIONED}},
                },
                {
                    "name": "logs",
                    "endpoint": {
                        "path": "api/v1/logs",
                        "params": {
                            "since": _iso_z(since),
                            "until": _iso_z(until),
                            "sortOrder": "ASCENDING",
                            "limit": LOGS_PAGE,
                        },
                    },
                },
            ],
        }
    )


def child_dlt(url: str, token: str, out: Path) -> dict[str, Any]:
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt

    since, until = _window()
    pipeline = dlt.pipeline(
        pipeline_name="okta_bench",
        pipelines_dir=str(out / "_pipelines"),
        destination=dlt.destinations.filesystem(bucket_url=(out / "lake").as_uri()),
        dataset_name="okta",
    )
    pipeline.run(_dlt_source(url, token, since, until), loader_file_format="parquet")
    counts = pipeline.last_trace.last_normalize_info.row_counts
    lake = out / "lake" / "okta"
    return {
        "users": _parquet_rows(lake / "users"),
        "events": _parquet_rows(lake / "logs"),
        "tables": len(counts),
        "child_table_rows": sum(n for t, n in counts.items() if t not in ("users", "logs")),
    }


def _bare_pages(client: Any, url: str, params: dict[str, Any]) -> Any:
    import orjson

    response = client.get(url, params=params)
    while True:
        response.raise_for_status()
        yield orjson.loads(response.content)
        link = response.links.get("next")
        if not link:
            return
        response = client.get(link["url"])


def _bare_write(client: Any, url: str, queries: list[dict[str, Any]], fields: dict[str, str], path: Path) -> int:
    """Keep a few typed columns plus the raw JSON, and write a row group every BARE_FLUSH_ROWS."""
    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, pa.string()) for name in fields] + [("raw", pa.string())])
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for params in queries:
            for items in _bare_pages(client, url, params):
                for item in items:
                    for name, key in fields.items():
                        columns[name].append(item.get(key))
                    columns["raw"].append(orjson.dumps(item).decode())
                rows += len(items)
                if len(columns["raw"]) >= BARE_FLUSH_ROWS:
                    writer.write_table(pa.table(columns, schema=schema))
                    columns = {name: [] for name in schema.names}
        if columns["raw"]:
            writer.write_table(pa.table(columns, schema=schema))
    return rows


def child_bare(url: str, token: str, out: Path) -> dict[str, Any]:
    import httpx

    since, until = _window()
    out.mkdir(parents=True, exist_ok=True)
    headers = {"Authorization": f"SSWS {token}", "Accept": "application/json"}
    with httpx.Client(headers=headers, timeout=60.0) as client:
        users = _bare_write(
            client,
            f"{url}/api/v1/users",
            [{"limit": USERS_PAGE}, {"limit": USERS_PAGE, "search": DEPROVISIONED}],
            {"id": "id", "status": "status", "last_updated": "lastUpdated"},
            out / "users.parquet",
        )
        log_query = {"since": _iso_z(since), "until": _iso_z(until), "sortOrder": "ASCENDING", "limit": LOGS_PAGE}
        events = _bare_write(
            client,
            f"{url}/api/v1/logs",
            [log_query],
            {"uuid": "uuid", "published": "published", "event_type": "eventType"},
            out / "logs.parquet",
        )
    stored_users, stored_events = _parquet_rows(out / "users.parquet"), _parquet_rows(out / "logs.parquet")
    if (stored_users, stored_events) != (users, events):
        raise RuntimeError(f"bare loop read {users}/{events} but stored {stored_users}/{stored_events}")
    return {"users": stored_users, "events": stored_events}


def run_child(tool: str, url: str, out: Path) -> dict[str, Any]:
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise SystemExit(f"{TOKEN_ENV} is not set: the child needs the sandbox tenant's API token")
    started = time.monotonic()
    if tool in ("saaslens", "saaslens-baseline"):  # the baseline differs only by its PYTHONPATH
        result = child_saaslens(url, token, out, gate=True)
    elif tool == "saaslens-nogate":
        result = child_saaslens(url, token, out, gate=False)
    elif tool == "dlt":
        result = child_dlt(url, token, out)
    elif tool == "bare":
        result = child_bare(url, token, out)
    else:
        raise SystemExit(f"unknown tool {tool!r} (tools: {', '.join(TOOLS)})")
    return {**result, "inner_seconds": round(time.monotonic() - started, 2), "own_hwm_mb": _own_high_water_mb()}


def _own_high_water_mb() -> int:
    """This process's own peak RSS (VmHWM of its address space since exec), a cross-check of wait4's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return 0


# -- the parent: spawn, time and measure each child --------------------------------------------


def dlt_python(explicit: str | None) -> str | None:
    """The interpreter that has dlt: --dlt-python, else .venv-bench, else this one if it has dlt."""
    candidates = [explicit] if explicit else [str(ROOT / ".venv-bench" / "bin" / "python"), sys.executable]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            probe = subprocess.run([candidate, "-c", "import dlt"], capture_output=True, check=False)
            if probe.returncode == 0:
                return candidate
    if explicit:
        raise SystemExit(f"--dlt-python {explicit}: no such interpreter, or it cannot import dlt")
    return None


def measure(tool: str, python: str, url: str, token: str, source: Path = ROOT) -> dict[str, Any]:
    """Run one child; its wall time from spawn to exit and its own peak RSS (wait4's ru_maxrss).
    `source` is the checkout whose saaslens package the child imports."""
    with tempfile.TemporaryDirectory(prefix=f"ingest-{tool}-") as work:
        env = {**os.environ, TOKEN_ENV: token, "PYTHONPATH": str(source / "include")}
        stdout_path = Path(work) / "stdout.txt"
        with open(stdout_path, "wb") as stdout, open(Path(work) / "stderr.txt", "wb") as stderr:
            started = time.monotonic()
            child = subprocess.Popen(
                [python, __file__, "--child", tool, "--url", url, "--out", str(Path(work) / "out")],
                stdout=stdout,
                stderr=stderr,
                env=env,
            )
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            seconds = time.monotonic() - started
        if child.returncode != 0:
            tail = (Path(work) / "stderr.txt").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{tool} child failed with exit code {child.returncode}:\n{tail}")
        result = json.loads(stdout_path.read_text().strip().splitlines()[-1])
    records = result["users"] + result["events"]
    return {
        "tool": tool,
        **result,
        "records": records,
        "seconds": round(seconds, 2),
        "records_per_second": round(records / seconds),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Median time and records/s per tool, highest peak RSS (the figure a capacity plan needs)."""
    by_tool: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_tool.setdefault(run["tool"], []).append(run)
    summary = {}
    for tool, rows in by_tool.items():
        summary[tool] = {
            "reps": len(rows),
            "records": rows[0]["records"],
            "seconds": round(statistics.median(r["seconds"] for r in rows), 2),
            "records_per_second": round(statistics.median(r["records_per_second"] for r in rows)),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rows),
            "peak_rss_mb_median": round(statistics.median(r["peak_rss_mb"] for r in rows)),
        }
    return summary


def ratios(summary: dict[str, dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    ours = summary.get("saaslens")
    if ours and "dlt" in summary:
        out["saaslens_vs_dlt_records_per_second"] = round(
            ours["records_per_second"] / summary["dlt"]["records_per_second"], 2
        )
        out["saaslens_vs_dlt_peak_rss"] = round(ours["peak_rss_mb"] / summary["dlt"]["peak_rss_mb"], 2)
    if ours and "bare" in summary:
        out["saaslens_time_vs_bare_time"] = round(ours["seconds"] / summary["bare"]["seconds"], 2)
    baseline = summary.get("saaslens-baseline")
    if ours and baseline:
        out["saaslens_time_vs_baseline_time"] = round(ours["seconds"] / baseline["seconds"], 3)
        out["saaslens_vs_baseline_peak_rss"] = round(ours["peak_rss_mb"] / baseline["peak_rss_mb"], 3)
    nogate = summary.get("saaslens-nogate")
    if nogate and "dlt" in summary:
        out["nogate_vs_dlt_records_per_second"] = round(
            nogate["records_per_second"] / summary["dlt"]["records_per_second"], 2
        )
    if nogate and "bare" in summary:
        out["nogate_time_vs_bare_time"] = round(nogate["seconds"] / summary["bare"]["seconds"], 2)
    return out


def bench_size(
    users: int, events: int, tools: list[str], reps: int, pythons: dict[str, str], baseline: Path | None = None
) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    with Sandbox(users, events) as sandbox:
        info = sandbox.info
        print(
            f"tenant {info['users']:,} users, {info['events']:,} events, built in {sandbox.build_seconds:.1f} s",
            flush=True,
        )
        for rep in range(reps):
            shift = rep % len(tools)  # alternate: each tool takes each position in turn
            for tool in tools[shift:] + tools[:shift]:
                source = baseline if tool == "saaslens-baseline" and baseline else ROOT
                run = measure(tool, pythons[tool], info["url"], info["token"], source)
                run["rep"] = rep + 1
                runs.append(run)
                print(
                    f"  rep {rep + 1} {tool:16} {run['seconds']:8.1f} s {run['records']:>10,} records "
                    f"{run['records_per_second']:>8,} rec/s {run['peak_rss_mb']:>6} MB",
                    flush=True,
                )
        expected = {"users": info["users"], "events": info["events"]}
    for run in runs:  # every tool must have stored the whole tenant, or its speed means nothing
        if run["events"] != expected["events"] or run["users"] < expected["users"]:
            raise RuntimeError(f"{run['tool']} stored {run['users']} users / {run['events']} events, not {expected}")
    summary = summarize(runs)
    return {
        "users": users,
        "events": events,
        "reps": reps,
        "tenant": expected,
        "sandbox_build_seconds": round(sandbox.build_seconds, 1),
        "runs": runs,
        "summary": summary,
        "ratios": ratios(summary),
    }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        mem_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def parse_sizes(text: str, default_reps: int) -> list[tuple[int, int, int]]:
    """USERS:EVENTS[:REPS],... e.g. 10000:200000:3,100000:2000000:2 (REPS defaults to --reps)."""
    sizes = []
    for part in text.split(","):
        fields = [f.strip() for f in part.split(":")]
        if len(fields) not in (2, 3) or not all(f.isdigit() for f in fields):
            raise SystemExit(f"--sizes: {part!r} is not USERS:EVENTS or USERS:EVENTS:REPS (e.g. 10000:200000:3)")
        reps = int(fields[2]) if len(fields) == 3 else default_reps
        if reps < 1:
            raise SystemExit(f"--sizes: {part!r} asks for {reps} repetitions; at least 1")
        sizes.append((int(fields[0]), int(fields[1]), reps))
    return sizes


def print_table(report: dict[str, Any]) -> None:
    print("\n| tenant | tool | wall time | records | records/s | peak RSS |\n|---|---|---:|---:|---:|---:|")
    for size in report["sizes"]:
        label = f"{size['users']:,} users / {size['events']:,} events"
        for tool, s in size["summary"].items():
            print(
                f"| {label} | {tool} | {s['seconds']:.1f} s | {s['records']:,} | {s['records_per_second']:,} "
                f"| {s['peak_rss_mb']} MB |"
            )
    for size in report["sizes"]:
        print(f"ratios at {size['users']:,}/{size['events']:,}: {json.dumps(size['ratios'])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", default="10000:200000:3,100000:2000000:2", help="USERS:EVENTS[:REPS],... tenants to pull"
    )
    parser.add_argument("--tools", default=",".join(DEFAULT_TOOLS), help=f"any of {', '.join(TOOLS)}")
    parser.add_argument("--reps", type=int, default=3, help="repetitions for sizes that do not say")
    parser.add_argument("--dlt-python", help="interpreter with dlt installed (default: .venv-bench/bin/python)")
    parser.add_argument("--skip-missing-dlt", action="store_true", help="leave dlt out when it is not installed")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--baseline-src", type=Path, help="another checkout to run as saaslens-baseline (e.g. the previous commit)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.url, args.out)))
        return 0
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in tools if t not in TOOLS]
    if unknown or not tools:
        raise SystemExit(f"--tools: unknown {', '.join(unknown) or '(none given)'} (tools: {', '.join(TOOLS)})")
    if args.reps < 1:
        raise SystemExit("--reps must be at least 1")
    if args.baseline_src is not None:
        if not (args.baseline_src / "include" / "saaslens" / "__init__.py").exists():
            raise SystemExit(f"--baseline-src {args.baseline_src}: no include/saaslens package there")
        if "saaslens-baseline" not in tools:
            tools.append("saaslens-baseline")
    elif "saaslens-baseline" in tools:
        raise SystemExit("--tools saaslens-baseline needs --baseline-src DIR")
    pythons = {tool: sys.executable for tool in tools}
    if "dlt" in tools:
        found = dlt_python(args.dlt_python)
        if found is None and args.skip_missing_dlt:
            print("dlt is not installed (make bench-ingest installs it into .venv-bench); leaving it out", flush=True)
            tools.remove("dlt")
        elif found is None:
            raise SystemExit("dlt is not installed (`make bench-ingest` installs it); see --dlt-python")
        else:
            pythons["dlt"] = found
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "tools": tools,
        "sizes": [],
    }
    for users, events, reps in parse_sizes(args.sizes, args.reps):
        report["sizes"].append(bench_size(users, events, tools, reps, pythons, args.baseline_src))
        if args.out:  # keep what is measured so far, should a later size fail
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=2))
    print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
