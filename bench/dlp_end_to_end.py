"""Content inspection end to end on a sandbox tenant: files per second through download, extraction,
detection and the lake, against a plain `detect-secrets scan` of the same extracted text in the same
run; peak memory while one large file is scanned; and the oracle equality of what the lake holds.

The sandbox runs in its own process (bench/sandbox_process.py). The tenant is listed once (users and
files stages), then each measurement runs in a fresh child process, so one does not warm another:

1. **corpus scan**: every listed file but the large one, through `saaslens.runner.content_scan`
   (download via the connector, extraction, all default detectors and policies, file_scans and
   dlp_matches written): files/s, text MB/s, CPU seconds, peak RSS;
2. **large file**: only the large file (`--large-mb`, default 200 MB of CSV), with the scan's memory
   measured as the child's peak RSS over its RSS just before the scan;
3. **detect-secrets**: the text the scan's extractors produce, written to one .txt per file, then
   `detect-secrets scan --all-files` over that folder (credentials only), CPU seconds of the child.

Then the lake's `dlp_matches_latest` is compared with the sandbox's oracle (ground truth `dlp`): every
planted value counted, no decoy reported.

    .venv/bin/python bench/dlp_end_to_end.py                              # 200 users, 200 MB file
    .venv/bin/python bench/dlp_end_to_end.py --users 20 --large-mb 5      # smoke size
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sandbox_process import SandboxProcess  # noqa: E402

APP, TENANT = "microsoft365", "dlpbench"

SCAN_CODE = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[5])
args = json.loads(sys.argv[1])
from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.lake.writer import Lake
from saaslens.runner.content_scan import scan_contents

def status_mb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0

def rss_mb():
    return status_mb("VmRSS")

conn = ConnectionInfo(**args["connection"])
instance = InstanceConfig(app=args["app"], name=args["tenant"], conn_id=conn.conn_id, options={"max_workers": 2})
lake = Lake(args["lake"])
# Warm up what every scan loads once (the extraction libraries, detect-secrets' plugins, libphonenumber's
# metadata), so the growth measured is the scan's own, not the first import's.
import docx, openpyxl, pptx, pypdf  # noqa: F401
from dataclasses import dataclass
from saaslens.dlp.inspect import inspect_pieces
from saaslens.dlp.policies import load_policies
@dataclass
class Piece:
    text: str
    offset: int
warm = "card 4111 1111 1111 1111 call +1 415 555 2671 key AKIAZ3MHNV6QKHYKBQ7A mail a@example.org\n"
inspect_pieces([Piece(warm, 0)], load_policies().build_detectors(), b"k" * 32)
import gc
gc.collect()
# Reset the kernel's peak-RSS mark (VmHWM) so the peak read after the scan is the scan's own, not the
# imports' (proc(5), /proc/pid/clear_refs, value 5; Linux 4.0+).
Path("/proc/self/clear_refs").write_text("5")
before = rss_mb()
t0, c0 = time.perf_counter(), time.process_time()
result = scan_contents(instance, lake, run_id=args["run_id"], connection=conn, trigger="event",
                       file_ids=args["file_ids"], workers=args["workers"])
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"wall_seconds": wall, "cpu_seconds": cpu, "result": result.as_dict(), "rss_before_mb": before,
                  "peak_rss_mb": status_mb("VmHWM")}))
"""


def connection(sandbox: SandboxProcess) -> dict[str, Any]:
    tenant = sandbox.tenant(f"{APP}/{TENANT}")
    credentials = tenant["credentials"]
    client = credentials["clients"][0]
    extra = {
        "tenant_id": credentials["tenant_id"],
        "client_id": client["client_id"],
        "client_secret": client.get("client_secret"),
        "token_url": credentials["token_url"],
    }
    return {
        "conn_id": f"{APP}_{TENANT}",
        "conn_type": "http",
        "host": tenant["url"],
        "extra": {k: v for k, v in extra.items() if v is not None},
    }


def list_files(conn: dict[str, Any], lake_root: Path) -> None:
    from saaslens.config import InstanceConfig
    from saaslens.connections import ConnectionInfo
    from saaslens.lake.writer import Lake, snapshot_id_for
    from saaslens.runner import RunContext, run_stage

    info = ConnectionInfo(**conn)
    instance = InstanceConfig(app=APP, name=TENANT, conn_id=info.conn_id, options={"max_workers": 2})
    now = datetime.now(UTC)
    ctx = RunContext(run_id=f"bench-{now:%H%M%S}", snapshot_id=snapshot_id_for(now))
    for stage in ("authenticate", "users", "files"):
        result = run_stage(instance, stage, ctx, Lake(lake_root), connection=info)
        if result.status != "success":
            raise SystemExit(f"{stage}: {result.status} {result.detail}")


def run_scan(
    conn: dict[str, Any], lake_root: Path, file_ids: list[str], run_id: str, workers: int, policies: Path
) -> dict[str, Any]:
    payload = {
        "connection": conn,
        "app": APP,
        "tenant": TENANT,
        "lake": str(lake_root),
        "file_ids": file_ids,
        "run_id": run_id,
        "workers": workers,
    }
    done = subprocess.run(
        [sys.executable, "-c", SCAN_CODE, json.dumps(payload), "", "", "", str(ROOT / "include")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SAASLENS_DLP_POLICIES": str(policies)},
    )
    if done.returncode:
        raise SystemExit(f"scan child failed: {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def extracted_text(conn: dict[str, Any], rows: list[dict[str, Any]], folder: Path) -> int:
    """The text the scan's extractors produce for each file, one .txt per file; returns characters."""
    from saaslens.connections import ConnectionInfo
    from saaslens.connectors import registry
    from saaslens.connectors.base import HttpContext
    from saaslens.dlp.extract import ExtractionLimits, Unreadable, open_extraction
    from saaslens.http import RunMetrics

    spec = registry.app_spec(APP)
    assert spec.contents is not None
    connector = spec.connector({"max_workers": 2}, ConnectionInfo(**conn), HttpContext(RunMetrics(), None))
    chars = 0
    for index, row in enumerate(rows):
        raw = folder / f"{index}.bin"
        with raw.open("w+b") as sink:
            fetched = spec.contents.fetch(connector, row, sink, 512 << 20)
        try:
            extraction = open_extraction(
                raw,
                name=fetched.name or row["name"] or "",
                mime_type=fetched.mime_type or row["mime_type"],
                limits=ExtractionLimits(max_file_bytes=512 << 20),
            )
            with (folder / f"{index}.txt").open("w", encoding="utf-8") as out:
                for chunk in extraction.chunks():
                    out.write(chunk.text)
                    chars += len(chunk.text)
        except Unreadable:
            pass
        raw.unlink()
    return chars


def run_detect_secrets(folder: Path) -> dict[str, Any]:
    command = [str(Path(sys.executable).parent / "detect-secrets"), "scan", "--all-files", "."]
    code = (
        "import json, resource, subprocess, sys, time\n"
        "t0 = time.perf_counter()\n"
        "out = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True).stdout\n"
        "wall = time.perf_counter() - t0\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "found = json.loads(out)['results']\n"
        "print(json.dumps({'wall_seconds': wall, 'cpu_seconds': usage.ru_utime + usage.ru_stime,\n"
        "  'secrets': sum(len(v) for v in found.values()), 'peak_rss_mb': usage.ru_maxrss / 1024}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *command], capture_output=True, text=True, check=True, cwd=folder
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def oracle_difference(sandbox: SandboxProcess, lake_root: Path) -> dict[str, Any]:
    from saaslens.catalog.build import build_catalog

    truth = sandbox.admin("GET", f"/{APP}/{TENANT}/ground-truth")["dlp"]
    expected = {(f, d): c for f, counts in truth["matches"].items() for d, c in counts.items() if c}
    import duckdb

    with duckdb.connect(str(build_catalog(lake_root)), read_only=True) as con:
        got = {
            (f, d): int(c)
            for f, d, c in con.execute(
                "select file_id, detector, sum(count) from dlp_matches_latest group by all"
            ).fetchall()
        }
    missed = sum(1 for k, v in expected.items() if got.get(k) != v)
    extra = sum(1 for k in got if k not in expected)
    return {"expected_pairs": len(expected), "found_pairs": len(got), "missed": missed, "decoys_reported": extra}


def main() -> None:
    from saaslens_sandbox.core import TenantSpec

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--large-mb", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dlp_end_to_end.json")
    args = parser.parse_args()

    spec = TenantSpec(app=APP, name=TENANT, seed=7, users=args.users, options={"large_file_mb": args.large_mb})
    with SandboxProcess([spec]) as sandbox, tempfile.TemporaryDirectory(prefix="saaslens-dlp-e2e-") as scratch:
        lake_root = Path(scratch) / "lake"
        conn = connection(sandbox)
        started = time.perf_counter()
        list_files(conn, lake_root)
        listing_seconds = time.perf_counter() - started

        from saaslens.lake.writer import Lake

        table = Lake(lake_root).read_snapshot("files", APP, TENANT)
        assert table is not None
        rows = table.to_pylist()
        large_bytes = args.large_mb << 20
        large = [r["file_id"] for r in rows if (r.get("size_bytes") or 0) >= large_bytes] if args.large_mb else []
        corpus = [r for r in rows if r["file_id"] not in large]

        # The shipped policies, with the size cap raised above the large file so that it is read.
        import yaml

        policies = Path(scratch) / "dlp_policies.yaml"
        document = yaml.safe_load((ROOT / "include" / "dlp_policies.yaml").read_text())
        document["scanning"]["max_file_mb"] = max(100, args.large_mb + 56)
        policies.write_text(yaml.safe_dump(document))
        ids = [r["file_id"] for r in corpus]
        scan = run_scan(conn, lake_root, ids, "bench-corpus", args.workers, policies)
        big = run_scan(conn, lake_root, large, "bench-large", 1, policies) if large else None
        oracle = oracle_difference(sandbox, lake_root)

        text_dir = Path(scratch) / "text"
        text_dir.mkdir()
        from saaslens.connectors import registry

        contents = registry.app_spec(APP).contents
        assert contents is not None
        readable = [r for r in corpus if contents.skip is None or not contents.skip(r)]
        chars = extracted_text(conn, readable, text_dir)
        text_mb = sum(p.stat().st_size for p in text_dir.glob("*.txt")) / 1_000_000
        theirs = run_detect_secrets(text_dir)

    result = scan["result"]
    files = result["considered"]
    ours_cpu = scan["cpu_seconds"]
    report = {
        "benchmark": "dlp_end_to_end",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "app": APP,
        "users": args.users,
        "listing_seconds": round(listing_seconds, 2),
        "corpus": {
            "files": files,
            "scanned": result["scanned"],
            "unreadable": result["unreadable"],
            "skipped": result["skipped"],
            "downloaded_mb": round(result["bytes"] / 1_000_000, 3),
            "text_mb": round(text_mb, 3),
            "text_chars": chars,
            "wall_seconds": round(scan["wall_seconds"], 3),
            "cpu_seconds": round(ours_cpu, 3),
            "files_per_second": round(files / scan["wall_seconds"], 2),
            "files_per_cpu_second": round(files / ours_cpu, 2),
            "text_mb_per_cpu_second": round(text_mb / ours_cpu, 3),
            "peak_rss_mb": round(scan["peak_rss_mb"], 1),
        },
        "detect_secrets_on_the_same_text": {
            **theirs,
            "text_mb_per_cpu_second": round(text_mb / theirs["cpu_seconds"], 3) if theirs["cpu_seconds"] else None,
        },
        "ratio_saaslens_end_to_end_to_detect_secrets_detection_only": round(theirs["cpu_seconds"] / ours_cpu, 3),
        "large_file": None
        if big is None
        else {
            "megabytes": args.large_mb,
            "status": "scanned" if big["result"]["scanned"] else big["result"],
            "wall_seconds": round(big["wall_seconds"], 2),
            "cpu_seconds": round(big["cpu_seconds"], 2),
            "rss_before_scan_mb": round(big["rss_before_mb"], 1),
            "peak_rss_mb": round(big["peak_rss_mb"], 1),
            "peak_growth_mb": round(big["peak_rss_mb"] - big["rss_before_mb"], 1),
            "matches": big["result"]["matches"],
        },
        "oracle": oracle,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
