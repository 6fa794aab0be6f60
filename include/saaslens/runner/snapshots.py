"""Snapshot stages: a full listing (resumable after a kill), or the previous snapshot with the
provider's changes applied (incremental), published atomically with the change cursor.

docs/architecture.md, "Long scans": a full listing is staged in parts with a checkpoint after each
chunk, committed only once the parts it covers are durable; a retry of the same run (same snapshot
id) continues from it. An incremental scan runs while the last full listing is younger than
`snapshot_reconcile_hours`; rows leave it only on the provider's own deletion signal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from saaslens.connectors.base import Connector
from saaslens.connectors.kit import Batch, Incremental, SnapshotStage
from saaslens.http import ApiError, AuthenticationError, PermissionDeniedError
from saaslens.lake.quality import ShrinkLimits
from saaslens.lake.schema import TABLES
from saaslens.lake.writer import SnapshotWriter
from saaslens.memory import release_freed_memory
from saaslens.runner.gate import QualityGate
from saaslens.runner.scope import StageFailed, StageScope
from saaslens.runner.state import JSON, CursorMeta, ScanState, SnapshotCheckpoint

log = logging.getLogger(__name__)

# Snapshot columns the writer adds; rows carried over from the previous snapshot drop them first.
_SNAPSHOT_COLUMNS = frozenset({"app", "instance", "snapshot_id", "snapshot_at"})
# Rows buffered without a checkpoint before they are staged anyway (memory stays bounded).
_BUFFER_LIMIT_CHUNKS = 5

Row = dict[str, Any]
Writers = dict[str, SnapshotWriter]


@dataclass(frozen=True)
class SnapshotJob:
    """One snapshot stage of one instance, with what it reads and writes through."""

    scope: StageScope
    spec: SnapshotStage[Any]
    connector: Connector
    gate: QualityGate
    state: ScanState

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(self.spec.tables)  # parents before children: groups before their members

    @property
    def incremental(self) -> Incremental[Any] | None:
        return self.spec.incremental

    def open_writers(self, stack: ExitStack, *, resumable: bool) -> Writers:
        return {t: stack.enter_context(self.scope.snapshot_writer(t, resumable=resumable)) for t in self.tables}

    def publish(self, writers: Writers, cursor: CursorMeta | None) -> None:
        # Audit every table before publishing any, so groups never go live without members.
        verdicts = {t: self.gate.snapshot_audit(t, writers[t])(writers[t].staged()) for t in self.tables}
        main = self.tables[0]
        for table in self.tables:
            extra = {"cursor.json": cursor.to_json()} if cursor is not None and table == main else None
            writers[table].publish(audit=_reached(verdicts[table]), extra=extra)

    def previous_rows(self, table: str) -> list[Row]:
        scope = self.scope
        data = scope.lake.read_snapshot(table, scope.app, scope.instance)
        rows = data.to_pylist() if data is not None else []
        return [{k: v for k, v in row.items() if k not in _SNAPSHOT_COLUMNS} for row in rows]


def _reached(verdict: dict[str, Any]) -> Callable[[pa.Table], dict[str, Any]]:
    """A verdict reached before publishing, handed to publish as its audit (quality.json)."""
    return lambda _data: verdict


def run_snapshot_stage(job: SnapshotJob) -> tuple[int, str]:
    scope, options = job.scope, job.connector.options
    job.gate.limits = ShrinkLimits(options.max_snapshot_shrink, options.allow_empty_snapshots)
    checkpoint = job.state.snapshot_checkpoint(scope.stage)
    if checkpoint is not None and checkpoint.snapshot_id is not None and not checkpoint.resumable:
        # Its next request had a credential masked: sending the mask would fail (or worse), so
        # the listing starts again from its first page.
        log.warning("%s %s: the checkpoint cannot be resumed; listing from the first page", scope.label, scope.stage)
        checkpoint = None
    if checkpoint is None or checkpoint.snapshot_id != scope.snapshot_id:
        # Checkpoints belong to one run (retries share its snapshot id); older ones are abandoned.
        checkpoint = None
        for table in job.tables:
            scope.lake.discard_staged(table, scope.app, scope.instance, keep=scope.snapshot_id)
    meta = _cursor_meta(job) if checkpoint is None else None
    if meta is not None and _incremental_due(job, meta):
        try:
            return incremental_listing(job, meta)
        except ApiError as exc:
            if exc.retryable or isinstance(exc, AuthenticationError | PermissionDeniedError):
                raise
            # The provider forgot the cursor (an expired delta token): a full listing resyncs.
            log.warning("%s %s: change cursor refused (%s); listing in full", scope.label, scope.stage, exc)
    return full_listing(job, checkpoint)


def _cursor_meta(job: SnapshotJob) -> CursorMeta | None:
    """The change cursor published with the latest snapshot, read only by a stage that lists
    changes: the others never wrote one."""
    if job.incremental is None or job.connector.options.snapshot_reconcile_hours <= 0:
        return None
    return job.state.cursor_meta(job.tables[0])


def _incremental_due(job: SnapshotJob, meta: CursorMeta) -> bool:
    hours = job.connector.options.snapshot_reconcile_hours
    if job.incremental is None or hours <= 0 or not meta.cursor:
        return False
    if not meta.resumable:  # the stored cursor had a credential masked: reconcile in full
        return False
    return meta.full_at is not None and datetime.now(UTC) - meta.full_at < timedelta(hours=hours)


def _scan(job: SnapshotJob, resume: JSON | None) -> Iterator[Batch]:
    return job.spec.scan(job.connector, resume if job.spec.resumable else None)


def full_listing(job: SnapshotJob, checkpoint: SnapshotCheckpoint | None) -> tuple[int, str]:
    """A complete listing, staged in parts with a checkpoint after each chunk; a retry of the
    same run continues from the last checkpoint. Nothing is visible until every table of the
    stage passed the quality gate."""
    scope, tables = job.scope, job.tables
    chunk = job.connector.options.checkpoint_rows
    with ExitStack() as stack:
        writers = job.open_writers(stack, resumable=True)
        if checkpoint is not None:
            for table, writer in writers.items():
                writer.truncate(checkpoint.parts.get(table, 0))
            if any(writers[t].parts < checkpoint.parts.get(t, 0) for t in tables):
                log.warning("%s %s: staged parts of the checkpoint are gone; starting over", scope.label, scope.stage)
                checkpoint = None
        if checkpoint is None:
            for writer in writers.values():
                writer.truncate(0)
            # When the listing began (a resumed one keeps its first attempt's): the reconciliation clock.
            full_at: datetime | None = datetime.now(UTC)
            cursor = job.incremental.start_cursor(job.connector) if job.incremental is not None else None
            resume = None
        else:
            full_at, cursor, resume = checkpoint.full_at, checkpoint.cursor, checkpoint.resume
        resumed = checkpoint is not None
        scope.scan_mode = "resumed" if resumed else "full"
        since_checkpoint = 0

        def stage_buffers() -> None:
            for table in tables:  # parents before children: groups before their members
                scope.progress(writers[table].flush())

        for batch in _scan(job, resume):
            writers[batch.table].add(batch.rows)  # as Arrow at once; staged at the next flush
            since_checkpoint += len(batch.rows)
            if batch.checkpoint is not None and since_checkpoint >= chunk:
                stage_buffers()
                release_freed_memory()
                # The checkpoint is committed only after the parts it covers are durable.
                parts = {t: w.parts for t, w in writers.items()}
                job.state.save_snapshot_checkpoint(
                    scope.stage, SnapshotCheckpoint(scope.snapshot_id, parts, batch.checkpoint, cursor, full_at)
                )
                since_checkpoint = 0
            elif sum(w.pending_rows for w in writers.values()) >= _BUFFER_LIMIT_CHUNKS * chunk:
                stage_buffers()
        stage_buffers()
        job.publish(writers, CursorMeta(cursor, full_at, "full") if cursor is not None else None)
        job.state.save_snapshot_checkpoint(scope.stage, SnapshotCheckpoint.finished())
        total = sum(w.rows_written for w in writers.values())
    return total, f"full listing{' resumed from its checkpoint' if resumed else ''}: {total} rows"


@dataclass
class ChangeSet:
    """What a change listing said, gathered before anything is written: rows changed or new by
    key, keys the provider removed, and for child tables each re-read parent's complete rows."""

    key_column: str
    changed: dict[str, Row] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    replaced: dict[str, dict[str, list[Row]]] = field(default_factory=dict)
    context: JSON = field(default_factory=dict)
    cursor: JSON | None = None

    def add(self, batch: Batch, main: str) -> None:
        self.context.update(batch.context)
        if batch.table == main:
            for row in batch.rows:
                self.changed[row[self.key_column]] = row
                self.removed.discard(row[self.key_column])
            for gone in batch.removed:
                self.removed.add(gone)
                self.changed.pop(gone, None)
        for parent, rows in batch.children.items():
            self.replaced.setdefault(batch.table, {})[parent] = rows
        self.cursor = batch.cursor or self.cursor


def incremental_listing(job: SnapshotJob, meta: CursorMeta) -> tuple[int, str]:
    """The previous snapshot with the provider's changes applied, published as a new complete
    snapshot together with the new cursor. Rows leave only on the provider's own deletion
    signal; a change listing that fails publishes nothing and leaves the cursor where it was.
    Child tables (group_members) are replaced parent by parent: a changed group comes with
    its complete member list, a removed group takes its members with it."""
    scope, tables, incremental = job.scope, job.tables, job.incremental
    assert incremental is not None  # _incremental_due checked it
    scope.scan_mode = "incremental"
    main = tables[0]
    changes = ChangeSet(TABLES[main].key[0])
    previous = {row[changes.key_column]: row for row in job.previous_rows(main)}
    for batch in incremental.changes(job.connector, meta.cursor):
        changes.add(batch, main)
    if changes.cursor is None:
        raise StageFailed(f"{scope.label}: the {scope.stage} change listing ended without a new cursor")
    changed, removed, context = changes.changed, changes.removed, changes.context
    merged = {
        main: [incremental.merge(main, old, changed.get(k), context) for k, old in previous.items() if k not in removed]
        + [incremental.merge(main, None, row, context) for k, row in changed.items() if k not in previous]
    }
    for child in tables[1:]:
        parent_column, replaced = TABLES[child].key[0], changes.replaced.get(child, {})
        kept = [
            r for r in job.previous_rows(child) if r[parent_column] not in removed and r[parent_column] not in replaced
        ]
        merged[child] = kept + [row for rows in replaced.values() for row in rows]
    chunk = job.connector.options.checkpoint_rows
    with ExitStack() as stack:
        writers = job.open_writers(stack, resumable=False)
        for table in tables:
            for start in range(0, len(merged[table]), chunk):
                scope.progress(writers[table].write(merged[table][start : start + chunk]))
        job.publish(writers, CursorMeta(changes.cursor, meta.full_at, "incremental"))
        total = sum(w.rows_written for w in writers.values())
    added = len(changed.keys() - previous.keys())
    detail = (
        f"incremental: {len(changed) - added} changed, {added} new, {len(removed & previous.keys())} removed by "
        f"the provider's deletion signal, {len(merged[main]) - len(changed)} carried over"
    )
    if len(tables) > 1:
        detail += f"; children of {sum(len(r) for r in changes.replaced.values())} re-read"
    return total, detail
