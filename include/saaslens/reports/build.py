"""Build `<lake>/reports/<YYYY-MM-DD>/`: report.html plus a CSV and a Parquet per finding.

The directory is assembled under a temporary name beside its destination and renamed into place
only when complete, so a report that fails half way leaves nothing behind and a reader never
sees half a report. Rebuilding the same day replaces the previous directory.

A destination is replaced only when saaslens wrote it: every report directory carries a marker
file (REPORT_MARKER) listing the files it holds, and an existing directory is replaced only when it
is empty or is such a report holding nothing else. Anything else, and the lake itself, is refused:
`--out ~/Documents` or `--out <lake>` once deleted the directory it named.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from saaslens import settings
from saaslens.catalog.build import view_statements
from saaslens.findings import Finding, load_findings, resolve_params
from saaslens.lake.schema import SNAPSHOT_TABLES
from saaslens.lake.writer import DIR_MODE, Lake, atomic_write, private_dirs, rename_durably
from saaslens.reports import collect
from saaslens.reports.html import render

if TYPE_CHECKING:
    from saaslens.config import ConnectedApps

log = logging.getLogger(__name__)
DEFAULT_MAX_ROWS = 50
# Without an earlier report to compare with, the posture section lists a week of changes.
POSTURE_CHANGES_DEFAULT = timedelta(days=7)
# The file that makes a directory a saaslens report: JSON with the marker's format version, when
# it was written and the files saaslens wrote beside it (the only files a rebuild may remove).
REPORT_MARKER = ".saaslens-report"
MARKER_VERSION = 1


class ReportError(Exception):
    """The report cannot be built; the message says which input is at fault."""


@dataclass(frozen=True)
class ReportResult:
    directory: Path
    html: Path
    counts: dict[str, int]
    failed_findings: dict[str, str]
    not_current: list[str]
    seconds: float
    files: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A small JSON-able summary (what an Airflow task returns through XCom)."""
        return {
            "directory": str(self.directory),
            "html": str(self.html),
            "counts": self.counts,
            "failed_findings": self.failed_findings,
            "not_current": self.not_current,
            "seconds": round(self.seconds, 3),
            "timings": self.timings,
        }


def parse_report_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"report date {text!r} is not a date in the form YYYY-MM-DD") from None


# Current-state views the report pins once: every finding then reads the same snapshot (a scan
# publishing mid-report cannot make two findings disagree). A derived view of these that several
# findings read (identities: linking all accounts into people) is pinned too, so it is computed
# once; one only a single finding reads is not: pinning computes every column of it, while the
# finding's query computes only the columns it selects (for orphaned_accounts at 500,000 accounts,
# pinning identities took 5.3 s, the finding reading the view 3.5 s).
PINNED_DERIVED = ("identities",)


def derived_read_by_several(findings: list[Finding]) -> tuple[str, ...]:
    """The PINNED_DERIVED views that more than one finding's SQL reads."""
    return tuple(
        name
        for name in PINNED_DERIVED
        if sum(bool(re.search(rf"\b{name}\b", _sql_without_comments(f.sql))) for f in findings) > 1
    )


def _sql_without_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|'(?:[^']|'')*'", " ", sql).lower()


def open_catalog(
    lake_root: Path,
    *,
    pin: bool = False,
    pin_derived: tuple[str, ...] = PINNED_DERIVED,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the catalog's views: no lock on <lake>/saaslens.duckdb, so a
    report never waits for (or blocks) a scan or an analyst holding the catalog file. With `pin`,
    the current snapshot tables and the derived views in `pin_derived` become temporary tables
    of the same names, which DuckDB resolves before the views (views built on them read the
    pinned data too)."""
    if not lake_root.is_dir():
        raise ReportError(f"lake {lake_root} does not exist (set SAASLENS_LAKE or pass --lake)")
    Lake(lake_root).ensure_all_schema_files()
    con = duckdb.connect(":memory:")
    # Every finding and chart reads the same Parquet files again: keep their footers (and, for
    # local files, their bytes) in memory instead of parsing and reading them once per query.
    con.execute("set parquet_metadata_cache = true")
    con.execute("set cache_local_files = true")
    for statement in view_statements(lake_root):
        con.execute(statement)
    if pin:
        views = {row[0] for row in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
        for name in [*SNAPSHOT_TABLES, *pin_derived]:
            if name in views:
                con.execute(f"create temp table {name} as select * from main.{name}")
    return con


def build_report(
    lake_root: Path | None = None,
    *,
    report_date: date | None = None,
    out_dir: Path | None = None,
    now: datetime | None = None,
    stale_after: timedelta | None = None,
    config: Path | str | None = None,
    findings_dir: Path | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ReportResult:
    started = datetime.now(UTC)
    now = (now or started).astimezone(UTC)
    report_date = report_date or now.date()
    root = (lake_root or settings.lake_root()).resolve()
    target = (out_dir or root / "reports" / report_date.isoformat()).resolve()
    check_destination(target, root)  # before any work: a refused destination costs nothing
    if max_rows < 1:
        raise ReportError(f"max_rows must be at least 1, got {max_rows}")
    findings = load_findings(findings_dir)
    unknown = sorted(set(params or {}) - {f.id for f in findings})
    if unknown:
        known = ", ".join(f.id for f in findings)
        raise ReportError(f"params given for unknown finding {unknown[0]!r} (findings: {known})")
    for finding in findings:  # a wrong value given by the caller is an input error, not a broken finding
        if finding.id in (params or {}):
            resolve_params(finding, (params or {})[finding.id])
    apps, config_note = _connected_apps(config)

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    with open_catalog(root, pin=True, pin_derived=derived_read_by_several(findings)) as con:
        lap("catalog")
        instances = collect.instance_freshness(con, apps, now, stale_after)
        accounts, admins, mfa = collect.account_summary(con)
        lap("summary")
        charts = collect.chart_series(con, now)
        lap("charts")
        results = collect.run_findings(con, findings, instances, now, params)
        lap("findings")
        content = collect.content_coverage(con)
        lap("content")
        posture = collect.posture_summary(
            con, _previous_report_time(target, report_date) or now - POSTURE_CHANGES_DEFAULT
        )
        lap("posture")
    _add_notes(results, mfa)
    data = collect.ReportData(
        report_date, now, str(root), instances, accounts, admins, mfa, charts, results, config_note, content, posture
    )
    html_text = render(data, max_rows)
    lap("html")
    files = _write_atomically(target, html_text, results, data)
    lap("write")
    log.info("report %s built: %s", target, timings)
    seconds = (datetime.now(UTC) - started).total_seconds()
    return ReportResult(
        directory=target,
        html=target / "report.html",
        counts={r.finding.id: r.count for r in results if r.error is None},
        failed_findings={r.finding.id: r.error for r in results if r.error},
        not_current=[i.label for i in instances if i.enabled and not i.current],
        seconds=seconds,
        timings=timings,
        files=files,
    )


def _previous_report_time(target: Path, report_date: date) -> datetime | None:
    """When the newest earlier report beside `target` was generated (its summary.json): the
    posture section lists the changes since then. None when there is none."""
    earlier = []
    for candidate in target.parent.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"):
        try:
            day = date.fromisoformat(candidate.name)
        except ValueError:
            continue
        if day < report_date and (candidate / "summary.json").is_file():
            earlier.append((day, candidate))
    for _day, candidate in sorted(earlier, reverse=True):
        try:
            generated = json.loads((candidate / "summary.json").read_text(encoding="utf-8"))["generated_at"]
            return datetime.fromisoformat(generated).astimezone(UTC)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged summary: try the one before
    return None


def _connected_apps(config: Path | str | None) -> tuple[ConnectedApps | None, str | None]:
    from saaslens.config import ConfigError
    from saaslens.connectors.instances import load_connected_apps

    try:
        apps = load_connected_apps(config)
    except ConfigError as exc:
        # The lake still tells which instances exist; schedules fall back to the 48 h default.
        return None, f"connected-apps file not read ({exc}); instances come from the lake alone"
    note = None
    if apps.errors:
        note = "invalid connected-app entries left out: " + "; ".join(str(e) for e in apps.errors)
    return apps, note


def _add_notes(results: list[collect.FindingResult], mfa: dict[tuple[str, str], tuple[int, int]]) -> None:
    unknown = {f"{a}/{i}": n for (a, i), (n, _) in sorted(mfa.items()) if n}
    for result in results:
        # Only findings that judge MFA (filter on it), not those that merely show the column.
        if re.search(r"mfa_enabled\s*(=|<>|!=|is\b)", result.finding.sql) and unknown:
            listed = ", ".join(f"{name} ({n:,} admins)" for name, n in unknown.items())
            result.notes.append(f"MFA unknown (the app does not report it), so not judged here: {listed}.")


# OWASP's CSV injection rule (https://owasp.org/www-community/attacks/CSV_Injection): a spreadsheet
# runs a cell beginning with =, +, -, @, tab (0x09) or carriage return (0x0D) as a formula, so such a
# cell gets a leading single quote. The other half of the rule, quoting every cell and doubling the
# double quotes inside it, is what pyarrow's CSV writer does for every string ("needed" quoting).
# Provider text ("-5" in a name included) is neutralised; numeric columns are not text and stay.
FORMULA_STARTS = pa.array(["=", "+", "-", "@", "\t", "\r"])


def _csv_ready(table: pa.Table) -> pa.Table:
    """CSV has no lists or nested values: lists become '; '-joined text, other nested types JSON-ish
    text; then every text column is neutralised for spreadsheets (FORMULA_STARTS). Vectorised: the
    report writes findings of hundreds of thousands of rows."""
    for index, column_field in enumerate(table.schema):
        kind = column_field.type
        column = table.column(index)
        if pa.types.is_list(kind) or pa.types.is_large_list(kind):
            column = pc.binary_join(pc.cast(column, pa.list_(pa.string())), "; ")
        elif pa.types.is_nested(kind) or pa.types.is_dictionary(kind):
            column = pc.cast(column, pa.string())
        elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            continue
        table = table.set_column(index, column_field.name, _neutralise_formulas(column))
    return table


def _neutralise_formulas(text: pa.ChunkedArray) -> pa.ChunkedArray:
    starts_like_formula = pc.is_in(pc.utf8_slice_codeunits(text, 0, 1), value_set=FORMULA_STARTS)
    if not pc.any(starts_like_formula).as_py():  # most columns: nothing to copy
        return text
    return pc.if_else(starts_like_formula, pc.binary_join_element_wise("'", text, ""), text)


def check_destination(target: Path, lake_root: Path) -> None:
    """Refuse a destination the report must not replace: the lake (or a directory holding it, or
    one inside it outside <lake>/reports), a file, or a directory saaslens did not write."""
    reports = lake_root / "reports"
    if target == lake_root or lake_root.is_relative_to(target):
        raise ReportError(
            f"report destination {target} is the lake {lake_root} or contains it; "
            "refusing to replace it (pass --out a directory outside the lake, or leave it out)"
        )
    if target.is_relative_to(lake_root) and (target == reports or not target.is_relative_to(reports)):
        raise ReportError(
            f"report destination {target} is inside the lake {lake_root} but not a directory under "
            f"{reports}; refusing to write there"
        )
    _files_of_existing_report(target)


def _files_of_existing_report(target: Path) -> list[str] | None:
    """None when `target` does not exist; else the names saaslens may remove there (none for an
    empty directory). Raises ReportError for anything saaslens did not write."""
    try:
        info = target.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        raise ReportError(f"report destination {target} exists and is not a directory; refusing to replace it")
    entries = {entry.name: entry for entry in os.scandir(target)}
    if not entries:
        return []
    marker = entries.get(REPORT_MARKER)
    listed = _marker_files(target / REPORT_MARKER) if marker and marker.is_file(follow_symlinks=False) else None
    if listed is None:
        raise ReportError(
            f"report destination {target} is not a saaslens report directory; refusing to replace it "
            f"(it is not empty and has no readable {REPORT_MARKER} marker; pick an empty or new directory)"
        )
    # Only regular files the marker lists: a file a person added (or a link, or a subdirectory)
    # makes the directory theirs too, and it is left alone.
    foreign = sorted(
        name
        for name, entry in entries.items()
        if name != REPORT_MARKER and (name not in listed or not entry.is_file(follow_symlinks=False))
    )
    if foreign:
        raise ReportError(
            f"report destination {target} is a saaslens report directory but also holds files saaslens did "
            f"not write ({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}); refusing to replace it"
        )
    return [*listed, REPORT_MARKER]


def _marker_files(path: Path) -> set[str] | None:
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("version") != MARKER_VERSION:
        return None
    files = marker.get("files")
    if not isinstance(files, list):
        return None
    # Plain names only: a marker cannot point removal outside its own directory.
    return {name for name in files if isinstance(name, str) and name not in ("", ".", "..") and "/" not in name}


def _write_atomically(
    target: Path, html_text: str, results: list[collect.FindingResult], data: collect.ReportData
) -> list[str]:
    # Reports hold personal data: private to the owner like the lake, whatever the umask. The
    # staging directory is 0700 from its creation, and every file goes in through the lake's
    # atomic_write (created 0600, fsynced), so no file in it is ever readable by others or torn.
    private_dirs(target.parent)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    os.mkdir(staging, DIR_MODE)
    os.chmod(staging, DIR_MODE)
    try:
        files = ["report.html"]
        # The directory is synced once, by the marker's write (the last file), not once a file.
        atomic_write(staging / "report.html", html_text.encode(), sync_dir=False)
        for result in results:
            if result.table is None:
                continue
            atomic_write(staging / f"{result.finding.id}.parquet", result.table, sync_dir=False)
            atomic_write(staging / f"{result.finding.id}.csv", _csv_bytes(result.table), sync_dir=False)
            files += [f"{result.finding.id}.csv", f"{result.finding.id}.parquet"]
        if data.posture is not None:
            for name, table in (("posture", data.posture.current), ("posture_changes", data.posture.changes)):
                atomic_write(staging / f"{name}.parquet", table, sync_dir=False)
                atomic_write(staging / f"{name}.csv", _csv_bytes(table), sync_dir=False)
                files += [f"{name}.csv", f"{name}.parquet"]
        summary = {
            "report_date": data.report_date.isoformat(),
            "generated_at": data.generated_at.isoformat(),
            "findings": {
                r.finding.id: {"severity": r.finding.severity, "rows": r.count, "error": r.error} for r in results
            },
            "instances": {
                i.label: {"state": i.state, "stages": {s: st.state for s, st in i.stages.items()}}
                for i in data.instances
            },
            "posture": None
            if data.posture is None
            else {f"{app}/{instance}": counts for (app, instance), counts in sorted(data.posture.instances.items())},
        }
        atomic_write(staging / "summary.json", json.dumps(summary, indent=2).encode(), sync_dir=False)
        files.append("summary.json")
        marker = {"version": MARKER_VERSION, "created_at": datetime.now(UTC).isoformat(), "files": files}
        atomic_write(staging / REPORT_MARKER, json.dumps(marker, indent=2).encode())
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return files


def _csv_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(_csv_ready(table), sink)
    return bytes(sink.getvalue().to_pybytes())


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename the finished directory into place; an older report of the same day (or an empty
    directory) is moved aside first and deleted after, so the path holds either the old or the new
    report, whole. The old one is checked again here, just before, and only the files its marker
    lists are removed, one by one: nothing is removed recursively and no link is followed."""
    old = None
    removable = _files_of_existing_report(target)
    if removable is not None:
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        target.rename(old)
    try:
        rename_durably(staging, target)
    except BaseException:
        if old is not None and not target.exists():  # the new one is in place if only the fsync failed
            old.rename(target)
        raise
    if old is not None:
        for name in removable or []:
            (old / name).unlink(missing_ok=True)
        try:
            old.rmdir()
        except OSError as exc:  # something appeared in it meanwhile: keep it, say where
            log.warning("previous report kept at %s: %s", old, exc)
