"""Typed, versioned scan state: what one scan leaves for the next.

Three kinds, each a dataclass stored as a JSON object with a `version` field:

- `SnapshotCheckpoint`, `<lake>/_state/<app>/<instance>/snapshot.<stage>.json`: how far a resumable
  full listing of one run got (the staged parts it covers, the connector's resume state), committed
  only after those parts are durable;
- `StreamCursor`, `<lake>/_state/<app>/<instance>/activities.<stream>.json`: an activity stream's
  high-water mark, the window being read (with its resume point and completeness counts) and the
  recent windows a later lookback re-reads;
- `CursorMeta`, `cursor.json` published inside the latest snapshot of an incremental stage: the change
  cursor, when the last full listing began, and how the snapshot was made.

Reading is strict. The current version must have exactly its fields, of their types. State written
before versions existed (no `version` field) is read when it has exactly the shape saaslens wrote
then. Anything else (a version from a newer saaslens, an unknown one, a malformed file) is refused
with `StateRefused`, which names the instance, the state and what deleting it does: a misread
checkpoint could resume a listing in the wrong place and publish a partial snapshot as complete.

Writing goes through the lake (`StateStore.put`, `SnapshotWriter.publish(extra=...)`), whose
`state_bytes` masks a credential in a stored request and marks the state `"resumable": false`; the
dataclasses read that mark back as `resumable` (docs/architecture.md, "Long scans").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import BeforeValidator, ConfigDict, PlainSerializer, TypeAdapter, ValidationError, with_config

from saaslens.lake.writer import NOT_RESUMABLE, Lake, LakeError, StateStore

STATE_VERSION = 1
VERSION_FIELD = "version"

JSON = dict[str, Any]
T = TypeVar("T")


class StateRefused(Exception):
    """A state file that cannot be read safely: a newer or unknown version, or a malformed one."""


def _from_iso(value: object) -> datetime:
    """Times are stored as ISO 8601 with an offset (datetime.isoformat of an aware UTC time)."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 time") from None
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
    raise ValueError(f"{value!r} is not an ISO 8601 time with an offset")


Instant = Annotated[datetime, BeforeValidator(_from_iso), PlainSerializer(datetime.isoformat, return_type=str)]
_STRICT = ConfigDict(extra="forbid", strict=True)


@with_config(_STRICT)
@dataclass(frozen=True)
class SnapshotCheckpoint:
    """How far a resumable full listing got. Only a retry of the same run (same snapshot id)
    continues from it; `snapshot_id` None means no listing is in progress."""

    snapshot_id: str | None
    parts: dict[str, int]  # staged parts per table that the checkpoint covers
    resume: JSON | None  # the connector's own resume state, handed back to SnapshotStage.scan
    cursor: JSON | None  # the change cursor taken just before the listing began
    full_at: Instant | None  # when the listing began (a resumed one keeps it): the reconciliation clock
    resumable: bool = True  # False: a credential in `resume` was masked on disk, so it is never sent

    @classmethod
    def finished(cls) -> SnapshotCheckpoint:
        return cls(snapshot_id=None, parts={}, resume=None, cursor=None, full_at=None)

    def to_json(self) -> JSON:
        return _dump(self)


@with_config(_STRICT)
@dataclass(frozen=True)
class WindowCounts:
    """A window's completeness tally so far: its own first-pass events, and late arrivals by the
    start (ISO) of the earlier window they belong to, or "untracked"."""

    first: int
    late: dict[str, int]


@with_config(_STRICT)
@dataclass(frozen=True)
class PendingWindow:
    """An activity window being read: [since, until), where to continue, what it counted."""

    since: Instant
    until: Instant
    resume: JSON  # the stream scan's checkpoint after the events already stored
    counts: WindowCounts


@with_config(_STRICT)
@dataclass(frozen=True)
class LastWindow:
    since: Instant
    until: Instant
    new_events: int


@with_config(_STRICT)
@dataclass(frozen=True)
class Span:
    start: Instant
    end: Instant


@with_config(_STRICT)
@dataclass(frozen=True)
class StreamCursor:
    """An activity stream's position: events before `high_water` are stored; `window`, when set,
    is a window a killed attempt left half read (finished first by the next scan)."""

    high_water: Instant | None
    window: PendingWindow | None
    last_window: LastWindow | None
    recent_windows: list[Span]  # windows a later scan's lookback re-reads, for late arrivals
    resumable: bool = True  # False: a credential in the window's resume point was masked on disk

    def to_json(self) -> JSON:
        return _dump(self)


@with_config(_STRICT)
@dataclass(frozen=True)
class CursorMeta:
    """The change cursor published with a snapshot, in the same rename as its data."""

    cursor: JSON
    full_at: Instant | None  # when the last full listing began: incremental scans run until it is old
    mode: Literal["full", "incremental"]  # how the snapshot it is published with was made
    resumable: bool = True  # False: a credential in the cursor was masked on disk: list in full

    def to_json(self) -> JSON:
        return _dump(self)


_adapters: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    # Built on first use: the runner is imported when Airflow parses the DAGs, which reads no state.
    if kind not in _adapters:
        _adapters[kind] = TypeAdapter(kind)
    return _adapters[kind]


def _dump(state: SnapshotCheckpoint | StreamCursor | CursorMeta) -> JSON:
    # `resumable` is the lake's mark (state_bytes sets it when it masks), never the runner's to write.
    body: JSON = _adapter(type(state)).dump_python(state, mode="json", exclude={NOT_RESUMABLE})
    return {VERSION_FIELD: STATE_VERSION, **body}


# -- state from before versions: read when it has exactly the shape saaslens wrote then ---------------


def _legacy_checkpoint(body: JSON) -> JSON:
    if body.keys() - {NOT_RESUMABLE} == {"snapshot_id"}:  # written after a publish: `{"snapshot_id": null}`
        return {**body, "parts": {}, "resume": None, "cursor": None, "full_at": None}
    return body


def _legacy_stream_cursor(body: JSON) -> JSON:
    # A stream's first checkpoint was written as `{"window": ...}` alone, before any high-water mark.
    return {"high_water": None, "window": None, "last_window": None, "recent_windows": [], **body}


def _as_written(body: JSON) -> JSON:
    return body


@dataclass(frozen=True)
class _StateFile:
    instance: str
    key: str
    path: Path
    deleting_it: str  # what deleting the file does, for the operator

    def refused(self, problem: str) -> StateRefused:
        return StateRefused(
            f"{self.instance}: the state {self.key} ({self.path}) {problem}. It was not read rather than "
            f"read wrongly. Delete that file to start over: {self.deleting_it}"
        )

    def parse(self, kind: type[T], data: object, legacy: Callable[[JSON], JSON]) -> T:
        if not isinstance(data, dict):
            raise self.refused("is not a JSON object")
        body = dict(data)
        if VERSION_FIELD not in body:
            body = legacy(body)
        else:
            version = body.pop(VERSION_FIELD)
            if isinstance(version, bool) or version != STATE_VERSION:
                raise self.refused(
                    f"has version {version!r}, and this saaslens reads version {STATE_VERSION} and state from "
                    "before versions (was it written by a newer saaslens?)"
                )
        try:
            # As JSON: in strict mode pydantic takes a JSON object for a dataclass, a Python dict only in lax mode.
            parsed: T = _adapter(kind).validate_json(orjson.dumps(body))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'the object'}: {error['msg']}"
                for error in exc.errors()[:3]
            )
            raise self.refused(f"is malformed ({problems})") from None
        return parsed


class ScanState:
    """The typed state of one instance: snapshot checkpoints, stream cursors and the change cursors
    published with snapshots."""

    def __init__(self, lake: Lake, app: str, instance: str) -> None:
        self.lake = lake
        self.app = app
        self.instance = instance
        self.store = StateStore(lake)

    def _file(self, key: str, deleting_it: str) -> _StateFile:
        return _StateFile(
            f"{self.app}/{self.instance}", key, self.store.path(self.app, self.instance, key), deleting_it
        )

    def _stored(self, where: _StateFile, key: str) -> object:
        try:
            return self.store.get(self.app, self.instance, key)
        except LakeError as exc:
            raise where.refused(f"is unreadable ({exc})") from None

    def snapshot_checkpoint(self, stage: str) -> SnapshotCheckpoint | None:
        key = f"snapshot.{stage}"
        where = self._file(key, f"the {stage} stage then lists in full on its next run")
        data = self._stored(where, key)
        return None if data is None else where.parse(SnapshotCheckpoint, data, _legacy_checkpoint)

    def save_snapshot_checkpoint(self, stage: str, checkpoint: SnapshotCheckpoint) -> bool:
        return self.store.put(self.app, self.instance, f"snapshot.{stage}", checkpoint.to_json())

    def stream_cursor(self, stream: str) -> StreamCursor | None:
        key = f"activities.{stream}"
        where = self._file(
            key,
            f"the {stream} stream is then read again from activities_initial_days ago (events already stored "
            "are not stored twice)",
        )
        data = self._stored(where, key)
        return None if data is None else where.parse(StreamCursor, data, _legacy_stream_cursor)

    def save_stream_cursor(self, stream: str, cursor: StreamCursor) -> bool:
        return self.store.put(self.app, self.instance, f"activities.{stream}", cursor.to_json())

    def cursor_meta(self, table: str) -> CursorMeta | None:
        """The change cursor published with the latest `table` snapshot, if any."""
        latest = self.lake.latest_snapshot_dir(table, self.app, self.instance)
        if latest is None:
            return None
        where = _StateFile(
            f"{self.app}/{self.instance}",
            f"cursor.json of the latest {table} snapshot",
            latest / "cursor.json",
            "the next scan then lists in full and publishes a new cursor with its snapshot",
        )
        try:
            data = self.lake.snapshot_meta(table, self.app, self.instance, "cursor.json")
        except LakeError as exc:
            raise where.refused(f"is unreadable ({exc})") from None
        return None if data is None else where.parse(CursorMeta, data, _as_written)
