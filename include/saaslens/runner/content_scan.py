"""Content inspection (DLP) of one instance's files: download, extract, detect, evaluate, record.

Which files: those of the latest `files` snapshot whose content version has no scan yet under the
current detector settings (periodic), or the files an activity log named as created, edited or
shared (event-triggered; those are rescanned whatever their version, since a new share changes which
policies a file breaks). What is kept: a `file_scans` row per file and `dlp_matches` rows per
detector, counts, positions, masked previews and keyed fingerprints, never a matched value; the
downloaded bytes live in a private temporary file only while the file is inspected.

Crash safety without a cursor: the scanned versions are the `file_scans` rows themselves. Rows are
written in batches, each batch's matches before its scan rows, so a batch killed half-way leaves
matches no scan row points at (invisible in the catalog's latest views) and those files unscanned,
to be read again by the next run. Nothing is ahead of what is stored.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from saaslens import connections
from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors import registry
from saaslens.connectors.base import Connector, HttpContext
from saaslens.connectors.kit import FileContents
from saaslens.dlp.extract import ExtractionLimits, Unreadable, open_extraction
from saaslens.dlp.inspect import Inspection, inspect_pieces
from saaslens.dlp.policies import DlpPolicies, evaluate, load_policies
from saaslens.http import (
    ApiError,
    AuthenticationError,
    ContentTooLargeError,
    NotFoundError,
    PermissionDeniedError,
    RunMetrics,
)
from saaslens.http.redaction import redact
from saaslens.lake.writer import Lake, atomic_write, private_dirs, to_arrow
from saaslens.runner.scope import CredentialsRejected, StageSkipped

log = logging.getLogger(__name__)

SCANS, MATCHES = "file_scans", "dlp_matches"
SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}
# Rows are committed at least this often, so an event-triggered finding does not wait for a long scan.
BATCH_FILES = 25
BATCH_SECONDS = 20.0
MAX_PREVIEWS = 3
MAX_POSITIONS = 20
MAX_FINGERPRINTS = 100
# An event-triggered run names at most this many files; more means "scan what changed" instead.
MAX_EVENT_FILES = 1_000


@dataclass
class ContentScanResult:
    """What a content scan did, small and JSON-able (safe for XCom: counts, never content)."""

    instance: str
    trigger: str
    considered: int = 0
    scanned: int = 0
    unreadable: int = 0
    skipped: int = 0
    not_found: int = 0
    denied: int = 0
    failed: int = 0
    matches: int = 0
    files_with_findings: int = 0
    bytes: int = 0
    seconds: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fingerprint_key(lake: Lake) -> bytes:
    """The lake's own key for value fingerprints: random, made once, kept with the lake's state
    (mode 0600) and never in a table, so a fingerprint cannot be checked against guessed values by
    someone who has the tables but not the state directory."""
    path = lake.root / "_state" / "dlp" / "fingerprint.key"
    if not path.exists():
        private_dirs(path.parent)
        try:
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
                fh.write(secrets.token_bytes(32))
        except FileExistsError:
            pass  # another worker made it first: use theirs
    key = path.read_bytes()
    if len(key) != 32:
        raise ValueError(
            f"{path}: the fingerprint key is {len(key)} bytes, not 32; restore it or delete it to start over"
        )
    return key


def policy_version(policies: DlpPolicies) -> str:
    """What a stored scan's results depend on: the detector settings. Policies and exposures are
    evaluated from the stored counts, so changing a policy rescans nothing; changing a detector does."""
    return hashlib.sha256(policies.detectors.model_dump_json().encode()).hexdigest()[:16]


def latest_scans(lake: Lake, app: str, instance: str) -> dict[str, dict[str, Any]]:
    """The newest file_scans row of every file of the instance."""
    directory = lake.instance_dir(SCANS, app, instance)
    paths = sorted(directory.rglob("*.parquet")) if directory.exists() else []
    newest: dict[str, dict[str, Any]] = {}
    columns = ["file_id", "content_version", "scanned_at", "status", "policy_version"]
    for path in paths:
        for row in pq.read_table(path, columns=columns).to_pylist():
            seen = newest.get(row["file_id"])
            if seen is None or row["scanned_at"] >= seen["scanned_at"]:
                newest[row["file_id"]] = row
    return newest


# A scan row whose status says the content was read (or cannot be read whatever we retry); other
# statuses (failed, denied, not-found) are tried again by the next periodic scan.
SETTLED = frozenset({"scanned", "unreadable", "skipped"})


def files_to_scan(
    files: list[dict[str, Any]],
    previous: Mapping[str, Mapping[str, Any]],
    contents: FileContents[Any],
    *,
    version: str,
    only: set[str] | None = None,
) -> list[dict[str, Any]]:
    """The files rows to inspect: `only` those (event-triggered: by file id, or by the name the app's
    audit log gives a file, `FileContents.event_key`), else each whose content version has no
    settled scan under the current detector settings."""
    chosen = []
    for row in files:
        if only is not None:
            if contents.names(row) & only:
                chosen.append(row)
            continue
        seen = previous.get(row["file_id"])
        if (
            seen is None
            or seen["status"] not in SETTLED
            or seen["policy_version"] != version
            or seen["content_version"] != contents.default_version(row)
        ):
            chosen.append(row)
    return chosen


def scan_id_for(run_id: str, file_id: str, attempt: int) -> str:
    return hashlib.sha256(f"{run_id}\x1f{file_id}\x1f{attempt}".encode()).hexdigest()[:32]


class ContentScan:
    """One content scan of one instance (periodic or event-triggered)."""

    def __init__(
        self,
        instance: InstanceConfig,
        lake: Lake,
        *,
        run_id: str,
        attempt: int = 1,
        trigger: str = "periodic",
        file_ids: Iterable[str] | None = None,
        policies: DlpPolicies | None = None,
        connection: ConnectionInfo | None = None,
        transport: httpx.BaseTransport | None = None,
        inside_airflow: bool = False,
        workers: int = 4,
    ) -> None:
        self.instance = instance
        self.lake = lake
        self.run_id = run_id
        self.attempt = attempt
        self.trigger = trigger
        self.only = set(file_ids) if file_ids is not None else None
        self.policies = policies or load_policies()
        self.spec = registry.app_spec(instance.app)
        if self.spec.contents is None:
            raise StageSkipped(f"{instance.app}/{instance.name}: {self.spec.title} has no file contents to inspect")
        self.contents: FileContents[Any] = self.spec.contents
        self.metrics = RunMetrics()
        self._connection = connection
        self._transport = transport
        self._inside_airflow = inside_airflow
        self.workers = max(1, workers)
        self.max_bytes = int(self.policies.scanning.max_file_mb * 2**20)
        self.detectors = self.policies.build_detectors()
        self.key = fingerprint_key(lake)
        self.version = policy_version(self.policies)
        self.label = f"{instance.app}/{instance.name}"

    def _connector(self) -> Connector:
        connection = self._connection or connections.resolve(
            self.instance.conn_id, instance_label=self.label, inside_airflow=self._inside_airflow
        )
        return self.spec.connector(self.instance.options, connection, HttpContext(self.metrics, self._transport))

    def run(self) -> ContentScanResult:
        started = time.monotonic()
        result = ContentScanResult(instance=self.label, trigger=self.trigger)
        table = self.lake.read_snapshot("files", self.instance.app, self.instance.name)
        if table is None:
            raise StageSkipped(f"{self.label}: no files snapshot yet; the files stage runs first")
        files = table.to_pylist()  # with raw: a connector may need the provider's fields (a drive id, a facet)
        previous = latest_scans(self.lake, self.instance.app, self.instance.name)
        chosen = files_to_scan(files, previous, self.contents, version=self.version, only=self.only)
        result.considered = len(chosen)
        if not chosen:
            result.seconds = round(time.monotonic() - started, 3)
            return result
        connector = self._connector()
        with tempfile.TemporaryDirectory(prefix="saaslens-dlp-") as scratch:
            os.chmod(scratch, 0o700)
            batch: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
            flushed = time.monotonic()
            with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="dlp") as pool:
                for scan_row, match_rows in pool.map(lambda row: self._scan_one(connector, row, Path(scratch)), chosen):
                    self._count(result, scan_row, match_rows)
                    batch.append((scan_row, match_rows))
                    if len(batch) >= BATCH_FILES or time.monotonic() - flushed > BATCH_SECONDS:
                        self._commit(batch)
                        batch, flushed = [], time.monotonic()
            if batch:
                self._commit(batch)
        result.seconds = round(time.monotonic() - started, 3)
        result.metrics = self.metrics.as_dict()
        return result

    @staticmethod
    def _count(result: ContentScanResult, scan_row: Mapping[str, Any], match_rows: list[dict[str, Any]]) -> None:
        status = str(scan_row["status"]).replace("-", "_")
        setattr(result, status, getattr(result, status) + 1)
        result.bytes += int(scan_row.get("bytes") or 0)
        result.matches += sum(int(m["count"]) for m in match_rows)
        result.files_with_findings += 1 if scan_row.get("policies") else 0

    # -- one file ----------------------------------------------------------------------------

    def _scan_one(
        self, connector: Connector, row: dict[str, Any], scratch: Path
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        scan_id = scan_id_for(self.run_id, row["file_id"], self.attempt)
        base: dict[str, Any] = {
            "app": self.instance.app,
            "instance": self.instance.name,
            "file_id": row["file_id"],
            "content_version": self.contents.default_version(row),
            "scan_id": scan_id,
            "run_id": self.run_id,
            "trigger": self.trigger,
            "visibility": row.get("visibility"),
            "policy_version": self.version,
            "matches": 0,
            "policies": [],
        }

        def done(status: str, reason: str | None = None, **extra: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            return {**base, **extra, "status": status, "reason": reason, "scanned_at": datetime.now(UTC)}, []

        skip = self.contents.skip(row) if self.contents.skip is not None else None
        if skip:
            return done("skipped", f"no-content: {skip}")
        if row.get("trashed") and not self.policies.scanning.include_trashed:
            return done("skipped", "trashed: scanning.include_trashed is false")
        size = row.get("size_bytes")
        if isinstance(size, int) and size > self.max_bytes:
            return done(
                "skipped", f"too-large: listed at {size} bytes, over scanning.max_file_mb ({self.max_bytes} bytes)"
            )
        handle, name = tempfile.mkstemp(dir=scratch, suffix=".content")
        path = Path(name)
        try:
            with os.fdopen(handle, "w+b") as sink:
                fetched = self.contents.fetch(connector, row, sink, self.max_bytes)
            extraction = open_extraction(
                path,
                name=fetched.name or str(row.get("name") or ""),
                mime_type=fetched.mime_type or row.get("mime_type"),
                # Text never has more characters than its file has bytes, so a file under the size cap is
                # read to its end; the text is inspected in pieces, so memory does not grow with it.
                limits=ExtractionLimits(max_file_bytes=self.max_bytes, max_chars=max(self.max_bytes, 50_000_000)),
            )
            inspection = inspect_pieces(
                extraction.chunks(), self.detectors, self.key, min_confidence=self.policies.detectors.min_confidence
            )
        except ContentTooLargeError as exc:
            return done("skipped", f"too-large: {redact(exc.detail)}")
        except Unreadable as exc:
            return done("unreadable", f"{exc.reason}: {redact(exc.detail)}", bytes=path.stat().st_size)
        except NotFoundError as exc:
            return done("not-found", redact(exc.detail))
        except PermissionDeniedError as exc:
            return done("denied", f"{exc.provider_code or 'denied'}: {redact(exc.detail)}")
        except AuthenticationError as exc:
            raise CredentialsRejected(
                f"{self.label}: the provider rejected the credentials ({redact(str(exc))})"
            ) from None
        except ApiError as exc:
            return done("failed", f"{type(exc).__name__}: {redact(exc.detail)}")
        finally:
            path.unlink(missing_ok=True)
        return self._record(base, row, fetched.bytes, extraction.extractor, extraction.truncated, inspection)

    def _record(
        self,
        base: dict[str, Any],
        row: Mapping[str, Any],
        size: int,
        extractor: str,
        truncated: bool,
        inspection: Inspection,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        broken = evaluate(self.policies.policies, inspection, row.get("visibility"))
        scanned_at = datetime.now(UTC)
        severities = [m.severity.value if hasattr(m.severity, "value") else str(m.severity) for m in broken]
        scan_row = {
            **base,
            "status": "scanned",
            "reason": None,
            "scanned_at": scanned_at,
            "bytes": size,
            "chars": inspection.chars,
            "extractor": extractor,
            "truncated": truncated,
            "matches": inspection.count(),
            "policies": [m.policy for m in broken],
            "severity": max(severities, key=lambda s: SEVERITY_RANK.get(s, 0)) if severities else None,
        }
        matches = []
        for summary in inspection.summaries():
            if not summary.count:
                continue
            matches.append(
                {
                    "app": base["app"],
                    "instance": base["instance"],
                    "file_id": base["file_id"],
                    "scan_id": base["scan_id"],
                    "scanned_at": scanned_at,
                    "detector": summary.detector,
                    "severity": getattr(summary.severity, "value", str(summary.severity)),
                    "count": summary.count,
                    "distinct_values": summary.distinct,
                    "confidence": round(summary.max_confidence, 3),
                    "masked_preview": ", ".join(summary.previews[:MAX_PREVIEWS]),
                    "positions": [f"{start}-{end}" for start, end in summary.positions[:MAX_POSITIONS]],
                    "fingerprints": sorted(summary.fingerprints)[:MAX_FINGERPRINTS],
                    "policies": [m.policy for m in broken if summary.detector in m.detectors],
                }
            )
        return scan_row, matches

    # -- storage -----------------------------------------------------------------------------

    def _commit(self, batch: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
        """One batch, matches first: a crash between the two writes leaves matches no scan row
        points at, which the latest views ignore and the next run replaces."""
        scans = [scan for scan, _ in batch]
        matches = [m for _, rows in batch for m in rows]
        name = hashlib.sha256("\x1f".join(s["scan_id"] for s in scans).encode()).hexdigest()[:24]
        day = f"scan_date={scans[0]['scanned_at']:%Y-%m-%d}"
        app, instance = self.instance.app, self.instance.name
        if matches:
            self.lake.ensure_schema_file(MATCHES)
            atomic_write(
                self.lake.instance_dir(MATCHES, app, instance) / day / f"{name}.parquet", to_arrow(MATCHES, matches)
            )
        self.lake.ensure_schema_file(SCANS)
        atomic_write(self.lake.instance_dir(SCANS, app, instance) / day / f"{name}.parquet", to_arrow(SCANS, scans))


def scan_contents(instance: InstanceConfig, lake: Lake, **kwargs: Any) -> ContentScanResult:
    """Inspect the instance's new and changed files (or `file_ids=`), recording file_scans and
    dlp_matches rows (docs/dlp.md)."""
    return ContentScan(instance, lake, **kwargs).run()


def changed_files(lake: Lake, instance: InstanceConfig, since: datetime) -> list[str] | None:
    """The files activities stored since `since` name as created, edited or shared (the app's
    `FileContents.change_events`), for an event-triggered scan: file ids, or the names the app's audit
    log gives files (`FileContents.event_key`: a drive item's URL); None when there are more than an
    event-triggered run should carry (the periodic scan then picks them up by version)."""
    spec = registry.app_spec(instance.app)
    if spec.contents is None or not spec.contents.change_events:
        return []
    table = _activities_written_since(lake, instance, since)
    if table.num_rows == 0:
        return []
    found: list[str] = []
    seen: set[str] = set()
    for row in _recent(table, since):
        if row["action"] not in spec.contents.change_events:
            continue
        file_id = spec.contents.event_file(row)
        if file_id and file_id not in seen:
            seen.add(file_id)
            found.append(file_id)
            if len(found) > MAX_EVENT_FILES:
                return None
    return found


def _activities_written_since(lake: Lake, instance: InstanceConfig, since: datetime) -> pa.Table:
    """Only the activity files written since `since` can hold events ingested since then (a file is
    written once, atomically; the deduplicating writer adds files, it does not edit them), so the
    rest of the instance's history is not read."""
    from saaslens.lake.schema import arrow_schema

    base = lake.instance_dir("activities", instance.app, instance.name)
    horizon = since.timestamp() - 2.0  # file times are coarser than event times on some filesystems
    paths = (
        sorted(p for p in base.glob("event_date=*/*.parquet") if p.stat().st_mtime >= horizon) if base.exists() else []
    )
    if not paths:
        return arrow_schema("activities").empty_table()
    return pa.concat_tables(pq.read_table(p, schema=arrow_schema("activities")) for p in paths)


def _recent(table: pa.Table, since: datetime) -> Iterator[dict[str, Any]]:
    import pyarrow.compute as pc

    ingested = table.column("ingested_at")
    moment = pa.scalar(since.astimezone(UTC).replace(tzinfo=None), type=ingested.type)
    if getattr(ingested.type, "tz", None):
        moment = pa.scalar(since, type=ingested.type)
    recent = table.filter(pc.greater_equal(ingested, moment))
    yield from recent.select(
        [c for c in ("action", "target_id", "target_type", "target_name", "raw") if c in recent.column_names]
    ).to_pylist()
