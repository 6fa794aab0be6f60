"""Run one stage of one instance: the code behind every Airflow task and `saaslens sync`.

A stage reads through its connector, stages rows into the lake, publishes atomically, records a
scan_runs row, and returns a small JSON-able summary (safe for XCom: counts, never credentials).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pyarrow as pa

from saaslens import connections
from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors import registry
from saaslens.connectors.base import Connector, HttpContext, StageAccess
from saaslens.connectors.kit import ActivityWindow, Batch, Incremental, SnapshotStage
from saaslens.http import ApiError, AuthenticationError, PermissionDeniedError, RunMetrics
from saaslens.http.errors import FeatureUnavailableError
from saaslens.http.pagination import PageRequest
from saaslens.http.redaction import redact
from saaslens.lake.schema import TABLES
from saaslens.lake.writer import (
    NOT_RESUMABLE,
    EventWriter,
    Lake,
    SnapshotWriter,
    StateStore,
    is_resumable,
    snapshot_id_for,
)
from saaslens.memory import long_lived_objects_frozen, release_freed_memory
from saaslens.transform_utils import parse_time
from saaslens.vocabulary import STAGE_ORDER, STAGE_TABLES

log = logging.getLogger(__name__)

# Snapshot columns the writer adds; rows carried over from the previous snapshot drop them first.
_SNAPSHOT_COLUMNS = ("app", "instance", "snapshot_id", "snapshot_at")
# Rows buffered without a checkpoint before they are staged anyway (memory stays bounded).
_BUFFER_LIMIT_CHUNKS = 5


class StageSkipped(Exception):
    """The stage cannot run with these credentials or this plan; not a failure."""


class CredentialsRejected(Exception):
    """The provider rejected the credentials: retrying cannot help, so the task fails at once."""


def _failure_text(exc: BaseException) -> str:
    """What failed, for the run record. A lookup error raised inside a connector's code (a
    `transform.py` or `connector.py` reading provider data) means the provider sent a field of a
    shape its API does not document: the HTTP layer checks pages and items, fields inside an item
    are the connector's to read. Named as a malformed answer, with where it was met."""
    text = redact(str(exc))
    if isinstance(exc, AttributeError | TypeError | KeyError):
        frames = traceback.extract_tb(exc.__traceback__)
        inner = frames[-1] if frames else None
        if inner is not None and "/saaslens/connectors/" in inner.filename.replace("\\", "/"):
            where = inner.filename.replace("\\", "/").split("/saaslens/connectors/")[-1]
            return (
                f"MalformedResponseError: provider data of an unexpected shape reached {where}:{inner.name} "
                f"line {inner.lineno} ({text}); the provider's answer does not match its documented format"
            )
    return f"{type(exc).__name__}: {text}"


class StageFailed(Exception):
    """Anything else; retried by Airflow. The message names the instance and stage."""


@dataclass
class RunContext:
    run_id: str
    snapshot_id: str
    attempt: int = 1
    inside_airflow: bool = False
    progress: Callable[[str, int, RunMetrics], None] | None = None

    @classmethod
    def for_cli(cls) -> RunContext:
        now = datetime.now(UTC)
        return cls(run_id=f"cli-{now:%Y%m%dT%H%M%S}", snapshot_id=snapshot_id_for(now))


@dataclass
class StageResult:
    instance: str
    stage: str
    status: str
    records: int = 0
    snapshot_id: str | None = None
    detail: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _micros_array(times: pa.ChunkedArray) -> np.ndarray:
    """Arrow timestamps (microseconds, UTC) as int64 microseconds since the epoch."""
    return times.cast(pa.int64()).to_numpy() if len(times) else np.empty(0, dtype=np.int64)


def _concat(pages: list[pa.Table], writer: EventWriter) -> pa.Table:
    return pa.concat_tables(pages) if pages else writer.to_arrow([])


class _Tally:
    """Completeness accounting for one activity window.

    The window's own span is [own_start, until): own_start is the stream's high-water mark before
    the scan; the lookback before it was covered by earlier windows. An event stored with
    occurred_at in the own span counts for this window's first pass, and so does one found already
    stored there (only a killed attempt of this same window can have stored it). An event stored
    before own_start is a late arrival, counted against the earlier window it falls in."""

    UNTRACKED = "untracked"

    def __init__(
        self, own_start: datetime, window: ActivityWindow, recent: list[dict[str, str]], pending: dict | None
    ) -> None:
        self.own_start = own_start
        self.window = window
        self.recent = [(parse_time(w["start"]), parse_time(w["end"])) for w in recent]
        counts = (pending or {}).get("counts") or {}
        self.first = int(counts.get("first", 0))
        self.late: dict[str, int] = dict(counts.get("late") or {})

    def counts(self) -> dict[str, Any]:
        return {"first": self.first, "late": self.late}

    def restart_first_pass(self) -> None:
        self.first = 0  # the whole window is read again: its own events are all seen again

    def add(self, writer: EventWriter) -> None:
        own_start = _epoch_micros(self.own_start)
        known, stored = _micros_array(writer.last_known_times), _micros_array(writer.last_stored_times)
        self.first += int((known >= own_start).sum()) + int((stored >= own_start).sum())
        for micros in stored[stored < own_start].tolist():  # late arrivals: few, one by one
            moment = _EPOCH + timedelta(microseconds=micros)
            owner = next((start for start, end in self.recent if start <= moment < end), None)
            label = owner.isoformat() if owner is not None else self.UNTRACKED
            self.late[label] = self.late.get(label, 0) + 1

    def window_name(self) -> str:
        return f"{snapshot_id_for(self.own_start)}-{snapshot_id_for(self.window.until)}"

    def rows(self, run_id: str) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        common = {"run_id": run_id, "scanned_at": now, "read_since": self.window.since, "read_until": self.window.until}
        rows = [
            {
                **common,
                "window_start": self.own_start,
                "window_end": self.window.until,
                "pass": "first",
                "events_added": self.first,
            }
        ]
        for start, end in self.recent:
            if end > self.window.since:  # re-read by this scan's lookback, late arrivals or not
                rows.append(
                    {
                        **common,
                        "window_start": start,
                        "window_end": end,
                        "pass": "rescan",
                        "events_added": self.late.get(start.isoformat(), 0),
                    }
                )
        if self.late.get(self.UNTRACKED):  # older than any window this stream remembers
            rows.append(
                {
                    **common,
                    "window_start": self.window.since,
                    "window_end": self.own_start,
                    "pass": "rescan",
                    "events_added": self.late[self.UNTRACKED],
                }
            )
        return rows

    def recent_after(self, horizon: datetime) -> list[dict[str, str]]:
        windows = [*self.recent, (self.own_start, self.window.until)]
        return [{"start": s.isoformat(), "end": e.isoformat()} for s, e in windows if e > horizon]


class StageRunner:
    def __init__(
        self,
        instance: InstanceConfig,
        stage: str,
        ctx: RunContext,
        lake: Lake,
        *,
        connection: ConnectionInfo | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if stage not in STAGE_ORDER:
            raise ValueError(f"unknown stage {stage!r} (stages: {', '.join(STAGE_ORDER)})")
        self.instance = instance
        self.stage = stage
        self.ctx = ctx
        self.lake = lake
        self.label = f"{instance.app}/{instance.name}"
        self.metrics = RunMetrics()
        self.scan_mode: str | None = None  # full, incremental or resumed, for snapshot stages
        self.quality_notes: list[str] = []  # odd values the quality gate set to null, for the detail
        self._shrink_limits: Any = None  # the instance's mass-deletion limits (quality.ShrinkLimits)
        self._connection = connection
        self._transport = transport
        self.spec = registry.app_spec(instance.app)
        self.connector_class = self.spec.connector
        if stage not in self.spec.stage_names:
            raise StageSkipped(f"{self.label}: {self.connector_class.title} has no {stage} stage")

    # -- helpers ------------------------------------------------------------------------------

    def _progress(self, records: int) -> None:
        self.metrics.add(records=records)
        if self.ctx.progress:
            self.ctx.progress(self.stage, int(self.metrics.records), self.metrics)

    def _connector(self) -> Connector:
        connection = self._connection or connections.resolve(
            self.instance.conn_id, instance_label=self.label, inside_airflow=self.ctx.inside_airflow
        )
        return self.connector_class(self.instance.options, connection, HttpContext(self.metrics, self._transport))

    def _permission_check(self) -> None:
        if self.stage == "authenticate":
            return
        permissions = self.lake.read_snapshot("instance_permissions", self.instance.app, self.instance.name)
        if permissions is None:
            return  # never authenticated: try, and let a denial speak for itself
        for row in permissions.to_pylist():
            if row["kind"] == "stage" and row["name"] == self.stage and not row["granted"]:
                raise StageSkipped(f"{self.label}: {self.stage} skipped: {row['detail']}")

    def _writer(self, table: str) -> SnapshotWriter:
        return self.lake.snapshot_writer(table, self.instance.app, self.instance.name, self.ctx.snapshot_id)

    # -- stages -------------------------------------------------------------------------------

    def _authenticate(self, connector: Connector) -> tuple[int, str]:
        report = connector.authenticate()
        for stage in self.spec.stage_names:
            if stage != "authenticate":
                report.stages.setdefault(stage, StageAccess(True, "not probed"))
        with self._writer("instance_permissions") as writer:
            writer.write(report.rows())
            writer.publish()
        denied = [f"{s} ({a.reason})" for s, a in report.stages.items() if not a.allowed]
        detail = f"{report.identity}; " + (f"denied: {', '.join(denied)}" if denied else "all stages allowed")
        return writer.rows_written, detail

    def _auditor(self, table: str, writer: SnapshotWriter) -> Callable[[Any], dict[str, Any]]:
        """The quality gate for one staged snapshot (write, audit, publish)."""

        def audit(data: Any) -> dict[str, Any]:
            from saaslens.lake.quality import QualityGateFailed, ShrinkLimits, mass_deletion, validate

            app, name = self.instance.app, self.instance.name
            data, nulled = self._null_implausible_values(table, data)
            if nulled:
                writer.rewrite_parts(lambda part: self._null_implausible_values(table, part, note=False)[0])
            known = None
            if table == "group_members":
                accounts = self.lake.read_snapshot("accounts", app, name)
                known = set(accounts.column("account_id").to_pylist()) if accounts is not None else None
            report = validate(table, data, known_accounts=known)
            report.findings += nulled
            previous = [s for s in self.lake.snapshot_ids(table, app, name) if s != self.ctx.snapshot_id]
            shrink = mass_deletion(
                table,
                self.lake.snapshot_rows(table, app, name, previous[-1]) if previous else None,
                data.num_rows,
                self._shrink_limits or ShrinkLimits(),
                self.label,
            )
            if shrink is not None:
                report.findings.append(shrink)
            if not report.success:
                where = writer.quarantine(report.as_dict(), report.summary())
                raise QualityGateFailed(
                    f"the {table} snapshot failed the quality gate and was quarantined in {where}; the previous "
                    f"snapshot stays current.\n{report.summary()}"
                )
            if report.warnings:
                log.warning("%s: %s", self.label, report.summary())
            return {
                "summary": report.summary(),
                "warnings": [f.describe() for f in report.warnings],
                "nulled": [{"column": f.column, "rows": f.unexpected, "sample_keys": f.sample_keys} for f in nulled],
            }

        return audit

    def _null_implausible_values(self, table: str, data: Any, *, note: bool = True) -> tuple[Any, list[Any]]:
        """The gate's row-level rules (docs/quality.md): odd values become null, counted and logged."""
        from saaslens.lake.quality import null_implausible_values

        data, nulled = null_implausible_values(table, data)
        if note:
            for finding in nulled:
                log.warning("%s: %s: %s", self.label, table, finding.describe())
                self.quality_notes.append(f"{table}.{finding.column}: {finding.unexpected} value(s) set to null")
        return data, nulled

    # -- snapshot stages: full (resumable) or incremental -------------------------------------

    def _snapshot_stage(self, connector: Connector, tables: tuple[str, ...]) -> tuple[int, str]:
        from saaslens.lake.quality import ShrinkLimits

        app, name, stage = self.instance.app, self.instance.name, self.stage
        self._shrink_limits = ShrinkLimits(
            connector.options.max_snapshot_shrink, connector.options.allow_empty_snapshots
        )
        store = StateStore(self.lake)
        key = f"snapshot.{stage}"
        state = store.get(app, name, key) or {}
        if state and not is_resumable(state):
            # Its next request had a credential masked: sending the mask would fail (or worse), so
            # the listing starts again from its first page.
            log.warning("%s %s: the checkpoint cannot be resumed; listing from the first page", self.label, stage)
            state = {}
        if state.get("snapshot_id") != self.ctx.snapshot_id:
            # Checkpoints belong to one run (retries share its snapshot id); older ones are abandoned.
            state = {}
            for table in tables:
                self.lake.discard_staged(table, app, name, keep=self.ctx.snapshot_id)
        meta = self.lake.snapshot_meta(tables[0], app, name, "cursor.json")
        if not state and self._incremental_due(connector, meta):
            assert meta is not None
            try:
                return self._incremental(connector, tables, meta)
            except ApiError as exc:
                if exc.retryable or isinstance(exc, AuthenticationError | PermissionDeniedError):
                    raise
                # The provider forgot the cursor (an expired delta token): a full listing resyncs.
                log.warning("%s %s: change cursor refused (%s); listing in full", self.label, stage, exc)
        return self._full(connector, tables, store, key, state)

    def _incremental_due(self, connector: Connector, meta: dict[str, Any] | None) -> bool:
        hours = connector.options.snapshot_reconcile_hours
        if self._incremental_spec() is None or hours <= 0 or not meta or not meta.get("cursor"):
            return False
        if not is_resumable(meta):  # the stored cursor had a credential masked: reconcile in full
            return False
        full_at = parse_time(meta.get("full_at"))
        return full_at is not None and datetime.now(UTC) - full_at < timedelta(hours=hours)

    def _snapshot_spec(self) -> SnapshotStage[Any]:
        spec = self.spec.stage(self.stage)
        assert isinstance(spec, SnapshotStage)
        return spec

    def _incremental_spec(self) -> Incremental[Any] | None:
        return self._snapshot_spec().incremental

    def _scan(self, connector: Connector, resume: dict[str, Any] | None) -> Iterator[Batch]:
        spec = self._snapshot_spec()
        return spec.scan(connector, resume if spec.resumable else None)

    def _full(
        self, connector: Connector, tables: tuple[str, ...], store: StateStore, key: str, state: dict[str, Any]
    ) -> tuple[int, str]:
        """A complete listing, staged in parts with a checkpoint after each chunk; a retry of the
        same run continues from the last checkpoint. Nothing is visible until every table of the
        stage passed the quality gate."""
        app, name = self.instance.app, self.instance.name
        chunk = connector.options.checkpoint_rows
        writers = {t: self.lake.snapshot_writer(t, app, name, self.ctx.snapshot_id, resumable=True) for t in tables}
        for writer in writers.values():
            writer.__enter__()
        try:
            if state:
                for table, writer in writers.items():
                    writer.truncate(int(state["parts"].get(table, 0)))
                if any(writers[t].parts < int(state["parts"].get(t, 0)) for t in tables):
                    log.warning("%s %s: staged parts of the checkpoint are gone; starting over", self.label, self.stage)
                    state = {}
            if not state:
                for writer in writers.values():
                    writer.truncate(0)
            resumed = bool(state)
            self.scan_mode = "resumed" if resumed else "full"
            cursor = state.get("cursor") if resumed else None
            # When the listing began (a resumed one keeps its first attempt's): the reconciliation clock.
            full_at = state.get("full_at") if resumed else datetime.now(UTC).isoformat()
            incremental = self._incremental_spec()
            if not resumed and incremental is not None:
                cursor = incremental.start_cursor(connector)
            since_checkpoint = 0

            def stage_buffers() -> None:
                for table in tables:  # parents before children: groups before their members
                    self._progress(writers[table].flush())

            for batch in self._scan(connector, state.get("resume") if resumed else None):
                writers[batch.table].add(batch.rows)  # as Arrow at once; staged at the next flush
                since_checkpoint += len(batch.rows)
                if batch.checkpoint is not None and since_checkpoint >= chunk:
                    stage_buffers()
                    release_freed_memory()
                    # The checkpoint is committed only after the parts it covers are durable.
                    store.put(
                        app,
                        name,
                        key,
                        {
                            "snapshot_id": self.ctx.snapshot_id,
                            "parts": {t: w.parts for t, w in writers.items()},
                            "resume": batch.checkpoint,
                            "cursor": cursor,
                            "full_at": full_at,
                        },
                    )
                    since_checkpoint = 0
                elif sum(w.pending_rows for w in writers.values()) >= _BUFFER_LIMIT_CHUNKS * chunk:
                    stage_buffers()
            stage_buffers()
            extra = {"cursor.json": {"cursor": cursor, "full_at": full_at, "mode": "full"}}
            self._publish(writers, tables, extra if cursor is not None else None)
            store.put(app, name, key, {"snapshot_id": None})
            total = sum(w.rows_written for w in writers.values())
            return total, f"full listing{' resumed from its checkpoint' if resumed else ''}: {total} rows"
        finally:
            for writer in writers.values():
                writer.__exit__(None, None, None)

    def _publish(
        self, writers: dict[str, SnapshotWriter], tables: tuple[str, ...], extra: dict[str, Any] | None
    ) -> None:
        # Audit every table before publishing any, so groups never go live without members.
        verdicts = {table: self._auditor(table, writers[table])(writers[table].staged()) for table in tables}
        for table in tables:
            writers[table].publish(
                audit=lambda _data, verdict=verdicts[table]: verdict, extra=extra if table == tables[0] else None
            )

    def _previous_rows(self, table: str) -> list[dict[str, Any]]:
        data = self.lake.read_snapshot(table, self.instance.app, self.instance.name)
        rows = data.to_pylist() if data is not None else []
        return [{k: v for k, v in row.items() if k not in _SNAPSHOT_COLUMNS} for row in rows]

    def _incremental(self, connector: Connector, tables: tuple[str, ...], meta: dict[str, Any]) -> tuple[int, str]:
        """The previous snapshot with the provider's changes applied, published as a new complete
        snapshot together with the new cursor. Rows leave only on the provider's own deletion
        signal; a change listing that fails publishes nothing and leaves the cursor where it was.
        Child tables (group_members) are replaced parent by parent: a changed group comes with
        its complete member list, a removed group takes its members with it."""
        self.scan_mode = "incremental"
        main = tables[0]
        key_column = TABLES[main].key[0]
        previous = {row[key_column]: row for row in self._previous_rows(main)}
        changed: dict[str, dict[str, Any]] = {}
        removed: set[str] = set()
        replaced: dict[str, dict[str, list[dict[str, Any]]]] = {t: {} for t in tables[1:]}
        cursor = None
        incremental = self._incremental_spec()
        assert incremental is not None
        context: dict[str, Any] = {}
        for batch in incremental.changes(connector, meta["cursor"]):
            context.update(batch.context)
            if batch.table == main:
                for row in batch.rows:
                    changed[row[key_column]] = row
                    removed.discard(row[key_column])
                for gone in batch.removed:
                    removed.add(gone)
                    changed.pop(gone, None)
            for parent, rows in batch.children.items():
                replaced[batch.table][parent] = rows
            cursor = batch.cursor or cursor
        if cursor is None:
            raise StageFailed(f"{self.label}: the {self.stage} change listing ended without a new cursor")
        merged = {
            main: [
                incremental.merge(main, old, changed.get(k), context) for k, old in previous.items() if k not in removed
            ]
            + [incremental.merge(main, None, row, context) for k, row in changed.items() if k not in previous]
        }
        for child in tables[1:]:
            parent_column = TABLES[child].key[0]
            kept = [
                row
                for row in self._previous_rows(child)
                if row[parent_column] not in removed and row[parent_column] not in replaced[child]
            ]
            merged[child] = kept + [row for rows in replaced[child].values() for row in rows if rows]
        writers = {
            t: self.lake.snapshot_writer(t, self.instance.app, self.instance.name, self.ctx.snapshot_id) for t in tables
        }
        for writer in writers.values():
            writer.__enter__()
        try:
            chunk = connector.options.checkpoint_rows
            for table in tables:
                for start in range(0, len(merged[table]), chunk):
                    self._progress(writers[table].write(merged[table][start : start + chunk]))
            extra = {"cursor.json": {"cursor": cursor, "full_at": meta.get("full_at"), "mode": "incremental"}}
            self._publish(writers, tables, extra)
        finally:
            for writer in writers.values():
                writer.__exit__(None, None, None)
        gone = len(removed & previous.keys())
        added = len(changed.keys() - previous.keys())
        detail = (
            f"incremental: {len(changed) - added} changed, {added} new, {gone} removed by the provider's "
            f"deletion signal, {len(merged[main]) - len(changed)} carried over"
        )
        if len(tables) > 1:
            detail += f"; children of {sum(len(r) for r in replaced.values())} re-read"
        return sum(w.rows_written for w in writers.values()), detail

    def _activities(self, connector: Connector) -> tuple[int, str]:
        app, name = self.instance.app, self.instance.name
        writer = self.lake.event_writer("activities", app, name, f"{self.ctx.snapshot_id}-{self.ctx.attempt}")
        notes, skipped = [], []
        activity = self.spec.activity_stage()
        assert activity is not None
        for stream in activity.streams:
            before = writer.written
            try:
                until = self._activity_stream(connector, stream, writer)
            except (PermissionDeniedError, FeatureUnavailableError) as exc:
                skipped.append(f"{stream}: {redact(str(exc))}")
                continue
            notes.append(f"{stream}: {writer.written - before} new" + (f" up to {until.isoformat()}" if until else ""))
        if skipped and not notes:
            raise StageSkipped(f"{self.label}: activities skipped: {'; '.join(skipped)}")
        detail = "; ".join(notes + [f"skipped {s}" for s in skipped])
        return writer.written, f"{detail}; {writer.duplicates_dropped} already stored"

    def _activity_stream(self, connector: Connector, stream: str, writer: EventWriter) -> datetime | None:
        """Read one stream up to now - lag. Returns the new high-water mark."""
        store = StateStore(self.lake)
        app, name, key = self.instance.app, self.instance.name, f"activities.{stream}"
        last_until = None
        for _ in range(2):  # an interrupted window is finished first, then a fresh one
            state = store.get(app, name, key) or {}
            resumable = is_resumable(state) or not state
            state.pop(NOT_RESUMABLE, None)
            now = datetime.now(UTC)
            pending = state.get("window")
            resume: PageRequest | None = None
            high_water = parse_time(state.get("high_water"))
            if pending:
                window = ActivityWindow(parse_time(pending["since"]), parse_time(pending["until"]))
                resume = PageRequest.from_state(pending["resume"]) if pending.get("resume") and resumable else None
                if pending.get("resume") and not resumable:
                    # A credential was masked in its stored request: re-read the window from its start.
                    log.warning("%s %s: the checkpoint cannot be resumed; re-reading the window", self.label, stream)
                    pending = {**pending, "counts": None}
            else:
                since = (
                    high_water - timedelta(seconds=connector.lookback_seconds(stream))
                    if high_water
                    else now - timedelta(days=connector.options.activities_initial_days)
                )
                window = ActivityWindow(since, now - timedelta(seconds=connector.lag_seconds(stream)))
            if window.until <= window.since:
                break
            before = writer.written
            tally = _Tally(high_water or window.since, window, state.get("recent_windows") or [], pending)
            try:
                self._read_window(connector, stream, store, key, writer, window, resume, state, tally)
            except ApiError as exc:
                if resume is None or exc.retryable or isinstance(exc, AuthenticationError | PermissionDeniedError):
                    raise
                # A stale opaque cursor (the provider forgot it): re-read the whole window; the
                # writer drops the events already stored.
                log.warning("%s %s: resume cursor refused (%s); re-reading the window", self.label, stream, exc)
                tally.restart_first_pass()
                self._read_window(connector, stream, store, key, writer, window, None, state, tally)
            # Completeness rows first (named after the window, so a retry rewrites them), then the
            # cursor: the table never describes a window the cursor has not passed.
            self.lake.write_completeness(app, name, stream, tally.window_name(), tally.rows(self.ctx.run_id))
            horizon = window.until - timedelta(seconds=connector.lookback_seconds(stream))
            store.put(
                app,
                name,
                key,
                {
                    "high_water": window.until.isoformat(),
                    "window": None,
                    "last_window": {
                        "since": window.since.isoformat(),
                        "until": window.until.isoformat(),
                        "new_events": writer.written - before,
                    },
                    # Windows a later scan's lookback still re-reads, for late arrivals to be counted against.
                    "recent_windows": tally.recent_after(horizon),
                },
            )
            last_until = window.until
            if not pending:
                break
        return last_until

    def _event_auditor(self, writer: EventWriter) -> Callable[[Any], None]:
        def audit(data: Any) -> Any:
            from saaslens.lake.quality import QualityGateFailed, validate

            data, _ = self._null_implausible_values("activities", data)
            report = validate("activities", data)
            if not report.success:
                where = writer.quarantine(data, report.as_dict(), report.summary())
                raise QualityGateFailed(
                    f"an activities batch failed the quality gate and was quarantined in {where}; the stream's "
                    f"cursor stays before it.\n{report.summary()}"
                )
            return data

        return audit

    def _read_window(self, connector, stream, store, key, writer, window, resume, state, tally) -> None:
        app, name = self.instance.app, self.instance.name
        pages: list[pa.Table] = []  # each page as Arrow at once: see EventWriter.to_arrow
        buffered = 0
        audit = self._event_auditor(writer)
        activity = self.spec.activity_stage()
        assert activity is not None
        for batch in activity.scan(connector, stream, window, resume.to_state() if resume is not None else None):
            if batch.rows:
                pages.append(writer.to_arrow(batch.rows))
                buffered += pages[-1].num_rows
            if batch.checkpoint is not None and buffered < connector.options.checkpoint_rows:
                continue  # gather pages, so each audited and written batch is a sensible size
            new = writer.write(_concat(pages, writer), audit=audit)
            tally.add(writer)
            pages, buffered = [], 0
            release_freed_memory()
            self._progress(new)
            if batch.checkpoint is not None:
                # The cursor moves only after the events before it are stored.
                store.put(
                    app,
                    name,
                    key,
                    {
                        **state,
                        "window": {
                            "since": window.since.isoformat(),
                            "until": window.until.isoformat(),
                            "resume": batch.checkpoint,
                            "counts": tally.counts(),
                        },
                    },
                )
        if pages:  # a feed whose last page still carried a continuation
            self._progress(writer.write(_concat(pages, writer), audit=audit))
            tally.add(writer)

    # -- entry point --------------------------------------------------------------------------

    def run(self) -> StageResult:
        started = datetime.now(UTC)
        clock = time.monotonic()
        status, detail, records = "failed", None, 0
        error: BaseException | None = None
        try:
            self._permission_check()
            connector = self._connector()
            try:
                with long_lived_objects_frozen():
                    records, detail = self._dispatch(connector)
                if self.quality_notes:
                    detail = f"{detail}; quality gate: {'; '.join(self.quality_notes)}"
            finally:
                connector.close()
                release_freed_memory()
            status = "success"
        except StageSkipped as exc:
            status, detail = "skipped", str(exc)
        except (PermissionDeniedError, FeatureUnavailableError) as exc:
            status, detail = "skipped", f"{self.label}: {self.stage} skipped: {redact(str(exc))}"
        except AuthenticationError as exc:
            detail = f"{self.label}: credentials rejected: {redact(str(exc))}"
            error = CredentialsRejected(detail)
        except (connections.ConnectionNotFoundError, connections.ConnectionInvalidError) as exc:
            detail = f"{self.label}: {redact(str(exc))}"
            error = CredentialsRejected(detail)
        except Exception as exc:
            detail = f"{self.label}: {self.stage} failed: {_failure_text(exc)}"
            error = StageFailed(detail)
        finally:
            ended = datetime.now(UTC)
            if status != "success":
                records = int(self.metrics.records)  # what was stored before it stopped
            snapshot = self.ctx.snapshot_id if status == "success" and self.stage != "activities" else None
            self.lake.append_run(
                {
                    "app": self.instance.app,
                    "instance": self.instance.name,
                    "run_id": self.ctx.run_id,
                    "stage": self.stage,
                    "attempt": self.ctx.attempt,
                    "started_at": started,
                    "ended_at": ended,
                    "status": status,
                    "snapshot_id": snapshot,
                    "scan_mode": self.scan_mode,
                    "records": records,
                    "requests": self.metrics.requests,
                    "retries": self.metrics.retries,
                    "throttled": self.metrics.throttled,
                    "bytes": self.metrics.bytes,
                    "pacing_wait_seconds": round(self.metrics.pacing_wait_seconds, 3),
                    "error": detail if status != "success" else None,
                }
            )
        log.info("%s %s: %s in %.1fs (%s)", self.label, self.stage, status, time.monotonic() - clock, detail or "")
        if error is not None:
            raise error from None
        return StageResult(
            self.label,
            self.stage,
            status,
            records,
            self.ctx.snapshot_id if status == "success" else None,
            detail,
            self.metrics.as_dict(),
        )

    def _dispatch(self, connector: Connector) -> tuple[int, str | None]:
        stage = self.stage
        if stage == "authenticate":
            return self._authenticate(connector)
        if stage == "activities":
            return self._activities(connector)
        if stage in STAGE_TABLES:
            return self._snapshot_stage(connector, tuple(STAGE_TABLES[stage]))
        raise ValueError(f"unknown stage {stage!r}")


def run_stage(instance: InstanceConfig, stage: str, ctx: RunContext, lake: Lake, **kwargs: Any) -> StageResult:
    try:
        runner = StageRunner(instance, stage, ctx, lake, **kwargs)
    except StageSkipped as exc:
        return StageResult(f"{instance.app}/{instance.name}", stage, "skipped", detail=str(exc))
    return runner.run()
