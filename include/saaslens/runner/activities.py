"""The activities stage: each declared stream read window by window into the events table.

A stream's window runs from its high-water mark minus the connector's lookback (late arrivals are
read again; the event writer drops the ids already stored) to now minus its lag. The cursor moves
only after the events before it are stored; a window a killed attempt left half read is finished
first. Each finished window leaves activity_completeness rows (docs/architecture.md, "Long scans").
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from saaslens.connectors.base import Connector
from saaslens.connectors.kit import ActivityStage, ActivityWindow
from saaslens.http import ApiError, AuthenticationError, PermissionDeniedError
from saaslens.http.errors import FeatureUnavailableError
from saaslens.http.redaction import redact
from saaslens.lake.writer import EventWriter, snapshot_id_for
from saaslens.memory import release_freed_memory
from saaslens.runner.gate import QualityGate
from saaslens.runner.scope import StageScope, StageSkipped
from saaslens.runner.state import JSON, LastWindow, PendingWindow, ScanState, Span, StreamCursor, WindowCounts

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _micros_array(times: pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Arrow timestamps (microseconds, UTC) as int64 microseconds since the epoch."""
    return times.cast(pa.int64()).to_numpy() if len(times) else np.empty(0, dtype=np.int64)


class Tally:
    """Completeness accounting for one activity window.

    The window's own span is [own_start, until): own_start is the stream's high-water mark before
    the scan; the lookback before it was covered by earlier windows. An event stored with
    occurred_at in the own span counts for this window's first pass, and so does one found already
    stored there (only a killed attempt of this same window can have stored it). An event stored
    before own_start is a late arrival, counted against the earlier window it falls in."""

    UNTRACKED = "untracked"

    def __init__(
        self, own_start: datetime, window: ActivityWindow, recent: list[Span], counts: WindowCounts | None
    ) -> None:
        self.own_start = own_start
        self.window = window
        self.recent = [(span.start, span.end) for span in recent]
        self.first = counts.first if counts is not None else 0
        self.late: dict[str, int] = dict(counts.late) if counts is not None else {}

    def counts(self) -> WindowCounts:
        return WindowCounts(self.first, dict(self.late))

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
        """The window's activity_completeness rows: its first pass, and each earlier window its
        lookback re-read with the late arrivals found there."""
        common = {
            "run_id": run_id,
            "scanned_at": datetime.now(UTC),
            "read_since": self.window.since,
            "read_until": self.window.until,
        }

        def row(start: datetime, end: datetime, kind: str, added: int) -> dict[str, Any]:
            return {**common, "window_start": start, "window_end": end, "pass": kind, "events_added": added}

        rows = [row(self.own_start, self.window.until, "first", self.first)]
        for start, end in self.recent:
            if end > self.window.since:  # re-read by this scan's lookback, late arrivals or not
                rows.append(row(start, end, "rescan", self.late.get(start.isoformat(), 0)))
        if self.late.get(self.UNTRACKED):  # older than any window this stream remembers
            rows.append(row(self.window.since, self.own_start, "rescan", self.late[self.UNTRACKED]))
        return rows

    def recent_after(self, horizon: datetime) -> list[Span]:
        windows = [*self.recent, (self.own_start, self.window.until)]
        return [Span(start, end) for start, end in windows if end > horizon]


@dataclass(frozen=True)
class ActivityJob:
    """The activities stage of one instance, with what it reads and writes through."""

    scope: StageScope
    spec: ActivityStage[Any]
    connector: Connector
    gate: QualityGate
    state: ScanState
    writer: EventWriter


@dataclass
class WindowRead:
    """One window of one stream being read: where it continues from, the cursor its checkpoints
    extend, and its completeness tally."""

    stream: str
    window: ActivityWindow
    resume: JSON | None
    cursor: StreamCursor
    tally: Tally


def run_activities(job: ActivityJob) -> tuple[int, str]:
    writer = job.writer
    notes, skipped = [], []
    for stream in job.spec.streams:
        before = writer.written
        try:
            until = read_stream(job, stream)
        except (PermissionDeniedError, FeatureUnavailableError) as exc:
            skipped.append(f"{stream}: {redact(str(exc))}")  # a denied or unlicensed stream skips only itself
            continue
        notes.append(f"{stream}: {writer.written - before} new" + (f" up to {until.isoformat()}" if until else ""))
    if skipped and not notes:
        raise StageSkipped(f"{job.scope.label}: activities skipped: {'; '.join(skipped)}")
    detail = "; ".join(notes + [f"skipped {s}" for s in skipped])
    return writer.written, f"{detail}; {writer.duplicates_dropped} already stored"


def _next_window(job: ActivityJob, stream: str, cursor: StreamCursor) -> ActivityWindow:
    options, now = job.connector.options, datetime.now(UTC)
    if cursor.high_water is not None:
        since = cursor.high_water - timedelta(seconds=job.connector.lookback_seconds(stream))
    else:
        since = now - timedelta(days=options.activities_initial_days)
    return ActivityWindow(since, now - timedelta(seconds=job.connector.lag_seconds(stream)))


def read_stream(job: ActivityJob, stream: str) -> datetime | None:
    """Read one stream up to now - lag. Returns the new high-water mark."""
    scope, writer = job.scope, job.writer
    last_until = None
    for _ in range(2):  # an interrupted window is finished first, then a fresh one
        stored = job.state.stream_cursor(stream)
        cursor = stored or StreamCursor(high_water=None, window=None, last_window=None, recent_windows=[])
        pending = cursor.window
        resume, counts = None, None
        if pending is not None:
            window = ActivityWindow(pending.since, pending.until)
            if cursor.resumable:
                resume, counts = pending.resume or None, pending.counts
            else:
                # A credential was masked in its stored request: re-read the window from its start.
                log.warning("%s %s: the checkpoint cannot be resumed; re-reading the window", scope.label, stream)
        else:
            window = _next_window(job, stream, cursor)
        if window.until <= window.since:
            break
        before = writer.written
        tally = Tally(cursor.high_water or window.since, window, cursor.recent_windows, counts)
        read = WindowRead(stream, window, resume, dataclasses.replace(cursor, resumable=True), tally)
        try:
            read_window(job, read)
        except ApiError as exc:
            if resume is None or exc.retryable or isinstance(exc, AuthenticationError | PermissionDeniedError):
                raise
            # A stale opaque cursor (the provider forgot it): re-read the whole window; the
            # writer drops the events already stored.
            log.warning("%s %s: resume cursor refused (%s); re-reading the window", scope.label, stream, exc)
            tally.restart_first_pass()
            read_window(job, dataclasses.replace(read, resume=None))
        # Completeness rows first (named after the window, so a retry rewrites them), then the
        # cursor: the table never describes a window the cursor has not passed.
        scope.lake.write_completeness(
            scope.app, scope.instance, stream, tally.window_name(), tally.rows(scope.ctx.run_id)
        )
        horizon = window.until - timedelta(seconds=job.connector.lookback_seconds(stream))
        finished = StreamCursor(
            high_water=window.until,
            window=None,
            last_window=LastWindow(window.since, window.until, writer.written - before),
            # Windows a later scan's lookback still re-reads, for late arrivals to be counted against.
            recent_windows=tally.recent_after(horizon),
        )
        job.state.save_stream_cursor(stream, finished)
        last_until = window.until
        if pending is None:
            break
    return last_until


def read_window(job: ActivityJob, read: WindowRead) -> None:
    """Read one window in batches of about `checkpoint_rows`, each audited, stored, then
    checkpointed: the cursor never passes an event that is not stored."""
    writer, window = job.writer, read.window
    pages: list[pa.Table] = []  # each page as Arrow at once: see EventWriter.to_arrow
    buffered = 0
    audit = job.gate.event_audit(writer)
    for batch in job.spec.scan(job.connector, read.stream, window, read.resume):
        if batch.rows:
            pages.append(writer.to_arrow(batch.rows))
            buffered += pages[-1].num_rows
        if batch.checkpoint is not None and buffered < job.connector.options.checkpoint_rows:
            continue  # gather pages, so each audited and written batch is a sensible size
        new = writer.write(_concat(pages, writer), audit=audit)
        read.tally.add(writer)
        pages, buffered = [], 0
        release_freed_memory()
        job.scope.progress(new)
        if batch.checkpoint is not None:
            # The cursor moves only after the events before it are stored.
            pending = PendingWindow(window.since, window.until, batch.checkpoint, read.tally.counts())
            job.state.save_stream_cursor(read.stream, dataclasses.replace(read.cursor, window=pending))
    if pages:  # a feed whose last page still carried a continuation
        job.scope.progress(writer.write(_concat(pages, writer), audit=audit))
        read.tally.add(writer)


def _concat(pages: list[pa.Table], writer: EventWriter) -> pa.Table:
    return pa.concat_tables(pages) if pages else writer.to_arrow([])
