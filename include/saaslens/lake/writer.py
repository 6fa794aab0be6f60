"""Writing the lake so that readers never see half a run.

Layout under the lake root:
    <table>/_schema.parquet                                   empty file carrying the schema
    <table>/app=<app>/instance=<inst>/snapshot=<id>/part-*.parquet     snapshot tables
    activities/app=<app>/instance=<inst>/event_date=<d>/part-*.parquet  event tables
    scan_runs/app=<app>/instance=<inst>/run_date=<d>/*.parquet
    _staging/   work in progress (never read by the catalog)
    _state/     cursors, committed after the data they cover

A snapshot is staged in full and renamed into place in one step, so a reader sees the previous
snapshot or the new one, never a mix. Event files are staged and renamed one by one, after
dropping ids the partition already holds, so retries and overlapping windows add no duplicates.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import unquote_plus

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from saaslens.http.redaction import MASK, contains_secret, is_sensitive_query_key, redact, registered_secrets
from saaslens.lake.schema import TABLES, arrow_schema

log = logging.getLogger(__name__)

SNAPSHOT_ID_FORMAT = "%Y%m%dT%H%M%S%fZ"


class LakeError(Exception):
    pass


def snapshot_id_for(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(SNAPSHOT_ID_FORMAT)


def snapshot_time(snapshot_id: str) -> datetime:
    return datetime.strptime(snapshot_id, SNAPSHOT_ID_FORMAT).replace(tzinfo=UTC)


def _file_name(name: str) -> str:
    """`name` (a run id, a window's or an evaluation's id) as a safe file name: anything but letters,
    digits, - _ and . becomes _, so no id can add a directory or leave the lake."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


# The lake holds personal data (names, emails, sign-ins) and the cursors of every scan: only its
# owner may read it, whatever the process umask (ISO/IEC 27002 8.3, least privilege).
FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dirs(path: Path) -> None:
    """`mkdir -p` whose new directories are 0700 (an explicit chmod: mkdir's mode is masked by
    the umask). Existing directories, the lake root a user made included, are left as they are."""
    missing: list[Path] = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:  # made meanwhile by another writer
            continue
        os.chmod(directory, DIR_MODE)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, content: bytes | pa.Table, *, sync_dir: bool = True) -> Path:
    """The one way a file gets into the lake: written to a temporary file in the same directory
    (a hidden name, created 0600 so it is never readable by others, even for a moment), fsynced,
    renamed over `path`, and the directory fsynced, so after a crash the file is whole or absent
    and its name survives. `content` is bytes or an Arrow table (written as Parquet).

    `sync_dir=False` leaves the directory's fsync to the caller, who syncs it once for many files:
    a staged snapshot's parts, synced before the snapshot directory is renamed into place."""
    private_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    try:
        # Both truncate the file created above rather than create it again: its mode stays 0600.
        if isinstance(content, pa.Table):
            pq.write_table(content, tmp)
        else:
            tmp.write_bytes(content)
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        _fsync_dir(path.parent)
    return path


def rename_durably(source: Path, target: Path) -> None:
    """Move a whole directory (a staged snapshot, a report) into place and make the new name
    durable. Its files were each written by `atomic_write`, the last one syncing the directory."""
    os.replace(source, target)
    _fsync_dir(target.parent)


def read_json_state(path: Path, remedy: str) -> dict[str, Any] | None:
    """A JSON object saaslens wrote (a cursor, a snapshot's cursor.json or quality.json), or None when
    absent. A file that does not parse is refused, naming it and `remedy`, never read as empty."""
    try:
        state: dict[str, Any] = orjson.loads(path.read_bytes())  # saaslens wrote it: a JSON object
    except FileNotFoundError:
        return None
    except orjson.JSONDecodeError as exc:
        raise LakeError(f"{path} is corrupt ({exc}){remedy}") from None
    return state


# -- no secret on disk: checkpoints and cursors (issue 10, item 5) ----------------------------------

# A URL's query, parameter by parameter: `name=value` up to the next & or # (RFC 3986 section 3.4).
_QUERY_PARAMETER = re.compile(r"(?<=[?&])([^=&#]+)=([^&#]*)")
NOT_RESUMABLE = "resumable"  # set to False in a state whose stored request had a credential masked


class SecretInState(LakeError):
    """A state or cursor would have held a registered secret; it was not written."""


def _mask_query(text: str) -> tuple[str, bool]:
    """`text` with the values of credential parameters (access_token=, sig=, ...) masked, if it
    has a query; the rest stays byte for byte (a clean request must resume exactly as it was)."""
    if "?" not in text or "=" not in text:
        return text, False
    masked = False

    def mask(match: re.Match[str]) -> str:
        nonlocal masked
        if is_sensitive_query_key(unquote_plus(match.group(1))) and match.group(2) != MASK:
            masked = True
            return f"{match.group(1)}={MASK}"
        return match.group(0)

    return _QUERY_PARAMETER.sub(mask, text), masked


def _mask_credentials(value: Any) -> tuple[Any, bool]:
    """A copy of a JSON-able state with credentials in stored requests masked: credential
    parameters of any URL, and of a request's `params` (PageRequest.to_state)."""
    if isinstance(value, str):
        return _mask_query(value)
    if isinstance(value, Mapping):
        out, masked = {}, False
        for key, item in value.items():
            if key == "params" and isinstance(item, Mapping) and "url" in value:
                item = {k: MASK if is_sensitive_query_key(str(k)) and v is not None else v for k, v in item.items()}
                masked = masked or item != dict(value["params"])
            out[key], hit = _mask_credentials(item)
            masked = masked or hit
        return out, masked
    if isinstance(value, list | tuple):
        items = [_mask_credentials(v) for v in value]
        return [v for v, _ in items], any(hit for _, hit in items)
    return value, False


def state_bytes(state: Mapping[str, Any], what: str, **dump: Any) -> bytes:
    """The JSON to persist for a state, checkpoint or cursor, safe to write: a credential in a
    stored request is masked and the state marked not resumable (a masked request must never be
    sent: the scan restarts that listing instead); a registered secret anywhere else refuses the
    whole state (SecretInState, naming `what` but not the secret)."""
    safe, masked = _mask_credentials(dict(state))
    if masked:
        safe[NOT_RESUMABLE] = False
        log.warning("%s: a credential in a stored request was masked; it will not be resumed", what)
    data = orjson.dumps(safe, default=str, **dump)
    # The text as stored, and each string as held (JSON escapes the newlines of a multi-line key).
    if contains_secret(data.decode()) or any(contains_secret(text) for text in _strings(safe)):
        raise SecretInState(f"{what}: refused: it would hold a registered secret")
    return data


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def is_resumable(state: Mapping[str, Any] | None) -> bool:
    return bool(state) and state.get(NOT_RESUMABLE) is not False  # type: ignore[union-attr]


# -- no secret in stored values (issue 10, item 12) ------------------------------------------------


@lru_cache(maxsize=8)
def _secret_patterns(secrets: tuple[str, ...]) -> tuple[re.Pattern[bytes], ...]:
    return tuple(re.compile(re.escape(secret.encode())) for secret in secrets)


def _string_values(chunk: pa.Array) -> pa.Array | None:
    if pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type):
        return chunk
    if pa.types.is_list(chunk.type) and pa.types.is_string(chunk.type.value_type):
        return chunk.values
    return None


def _may_hold(column: pa.ChunkedArray, patterns: tuple[re.Pattern[bytes], ...]) -> bool:
    """A fast pre-check on the column's character data, without copying it (re scans a buffer in
    place at several GB/s, five times pc.match_substring): True on any hit, even one straddling
    two values, so a miss is certain and a hit gets the exact treatment."""
    for chunk in column.chunks:
        values = _string_values(chunk)
        data = values.buffers()[2] if values is not None and len(values) else None
        if data is not None and any(p.search(memoryview(data)) for p in patterns):
            return True
    return False


def _replace(column: pa.ChunkedArray, secrets: tuple[str, ...]) -> pa.ChunkedArray:
    chunks = []
    for chunk in column.chunks:
        values = _string_values(chunk)
        for secret in secrets:
            values = pc.replace_substring(values, secret, MASK)
        if pa.types.is_list(chunk.type):
            values = pa.ListArray.from_arrays(chunk.offsets, values, mask=chunk.is_null())
        chunks.append(values)
    return pa.chunked_array(chunks, column.type)


def mask_registered_secrets(table: pa.Table) -> pa.Table:
    """`table` with every registered secret in its string columns replaced by the mask. A provider
    may echo a credential in its data (a user named after the API token, a file titled with it);
    the lake must not keep it. Costs one in-place buffer scan per string column and secret."""
    secrets = registered_secrets()
    if not secrets or not table.num_rows:
        return table
    patterns = _secret_patterns(secrets)
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if _may_hold(column, patterns):
            table = table.set_column(index, field, _replace(column, secrets))
    return table


def _mask_text(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _write_verdict(directory: Path, report: dict[str, Any], summary: str) -> None:
    """A refused batch's validation result beside it (sample keys and values: masked as stored)."""
    atomic_write(directory / "validation.json", redact(orjson.dumps(report, default=str).decode()).encode())
    atomic_write(directory / "summary.txt", (redact(summary) + "\n").encode())


def _fingerprint(row: Mapping[str, Any]) -> int:
    """Content identity of a row, to tell a repeated object from a different one under the same key."""
    return hash(orjson.dumps(row, option=orjson.OPT_SORT_KEYS, default=str))


def _naive_utc(values: list[Any]) -> list[Any]:
    """Aware datetimes as naive UTC: Arrow converts an aware datetime by calling back into
    Python for its offset (about 40 us each), a naive one natively (under 1 us)."""
    return [
        v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo is not None else v
        for v in values
    ]


def column_to_arrow(table: str, field: pa.Field, values: list[Any]) -> pa.Array:
    try:
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            naive = pa.array(_naive_utc(values), pa.timestamp(field.type.unit))
            return naive.cast(field.type)
        return pa.array(values, field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise LakeError(f"rows for table {table!r} do not fit its schema: column {field.name!r}: {exc}") from None


def _rows_to_arrow(table: str, rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    arrays = [column_to_arrow(table, field, [row.get(field.name) for row in rows]) for field in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def to_arrow(table: str, rows: Sequence[Mapping[str, Any]], schema: pa.Schema | None = None) -> pa.Table:
    """Rows (dicts) to an Arrow table of the canonical schema (or `schema`, a subset of it),
    column by column, registered secrets masked; a clear error names the table and the column."""
    return mask_registered_secrets(_rows_to_arrow(table, rows, schema or arrow_schema(table)))


class Lake:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    # -- paths --------------------------------------------------------------------------------

    def table_dir(self, table: str) -> Path:
        return self.root / table

    def instance_dir(self, table: str, app: str, instance: str) -> Path:
        return self.table_dir(table) / f"app={app}" / f"instance={instance}"

    def staging_dir(self) -> Path:
        path = self.root / "_staging" / uuid.uuid4().hex
        private_dirs(path)
        return path

    def ensure_schema_file(self, table: str) -> None:
        """An empty Parquet file per table, so catalog views exist (and have every column)
        before the first snapshot lands."""
        path = self.table_dir(table) / "_schema.parquet"
        if path.exists():
            return
        atomic_write(path, arrow_schema(table).empty_table())

    def ensure_all_schema_files(self) -> None:
        for table in TABLES:
            self.ensure_schema_file(table)

    # -- snapshots ----------------------------------------------------------------------------

    def snapshot_writer(
        self, table: str, app: str, instance: str, snapshot_id: str, *, resumable: bool = False
    ) -> SnapshotWriter:
        return SnapshotWriter(self, table, app, instance, snapshot_id, resumable=resumable)

    def resumable_staging_dir(self, table: str, app: str, instance: str, snapshot_id: str) -> Path:
        """Where an in-progress snapshot's parts wait for the rest of the scan (never in the catalog)."""
        base = self.root / "_staging" / "snapshots" / table / f"app={app}" / f"instance={instance}"
        return base / f"snapshot={snapshot_id}"

    def discard_staged(self, table: str, app: str, instance: str, keep: str | None = None) -> None:
        """Remove in-progress snapshots of an instance's table, except snapshot `keep`."""
        base = self.root / "_staging" / "snapshots" / table / f"app={app}" / f"instance={instance}"
        for path in base.glob("snapshot=*") if base.exists() else []:
            if keep is None or path.name != f"snapshot={keep}":
                shutil.rmtree(path, ignore_errors=True)
        if base.exists():
            self.prune_staging(base)

    def prune_staging(self, directory: Path) -> None:
        """Remove empty directories from `directory` up to `_staging` (left by published snapshots)."""
        stop = self.root / "_staging"
        while directory != stop and stop in directory.parents:
            try:
                directory.rmdir()
            except OSError:  # not empty: another table or instance is staging there
                return
            directory = directory.parent

    def latest_snapshot_dir(self, table: str, app: str, instance: str) -> Path | None:
        ids = self.snapshot_ids(table, app, instance)
        return self.instance_dir(table, app, instance) / f"snapshot={ids[-1]}" if ids else None

    def snapshot_meta(self, table: str, app: str, instance: str, name: str) -> dict[str, Any] | None:
        """A JSON file published with the latest snapshot (`cursor.json`, `quality.json`), if any."""
        latest = self.latest_snapshot_dir(table, app, instance)
        if latest is None:
            return None
        return read_json_state(latest / name, "")

    def snapshot_ids(self, table: str, app: str, instance: str) -> list[str]:
        base = self.instance_dir(table, app, instance)
        if not base.exists():
            return []
        return sorted(p.name.split("=", 1)[1] for p in base.iterdir() if p.name.startswith("snapshot="))

    def snapshot_rows(self, table: str, app: str, instance: str, snapshot_id: str) -> int:
        """Rows of a published snapshot, from the Parquet footers (nothing else is read)."""
        path = self.instance_dir(table, app, instance) / f"snapshot={snapshot_id}"
        return sum(pq.ParquetFile(part).metadata.num_rows for part in path.glob("*.parquet"))

    def read_snapshot(self, table: str, app: str, instance: str, snapshot_id: str | None = None) -> pa.Table | None:
        """The given (default: latest) published snapshot, or None if there is none."""
        ids = self.snapshot_ids(table, app, instance)
        if not ids:
            return None
        chosen = snapshot_id or ids[-1]
        path = self.instance_dir(table, app, instance) / f"snapshot={chosen}"
        return pq.read_table(sorted(path.glob("*.parquet")), schema=arrow_schema(table))

    def read_events(self, table: str, app: str, instance: str) -> pa.Table:
        base = self.instance_dir(table, app, instance)
        files = sorted(base.glob("event_date=*/*.parquet")) if base.exists() else []
        if not files:
            return arrow_schema(table).empty_table()
        return pa.concat_tables(pq.read_table(f, schema=arrow_schema(table)) for f in files)

    # -- events -------------------------------------------------------------------------------

    def event_writer(self, table: str, app: str, instance: str, run_tag: str) -> EventWriter:
        return EventWriter(self, table, app, instance, run_tag)

    # -- runs ---------------------------------------------------------------------------------

    def write_completeness(self, app: str, instance: str, stream: str, name: str, rows: list[dict[str, Any]]) -> Path:
        """One scanned window's activity_completeness rows. The name is the window's, so a retry
        that finishes the same window replaces the file instead of adding to it."""
        safe = _file_name(name)
        directory = self.instance_dir("activity_completeness", app, instance) / f"stream={stream}"
        self.ensure_schema_file("activity_completeness")
        rows = [{**row, "app": app, "instance": instance, "stream": stream} for row in rows]
        return atomic_write(directory / f"{safe}.parquet", to_arrow("activity_completeness", rows))

    def write_posture_results(self, app: str, instance: str, evaluation_id: str, rows: list[dict[str, Any]]) -> Path:
        """One evaluation's posture_results rows. Named after the evaluation, so a retried run
        replaces its file rather than adding a second verdict."""
        safe = _file_name(evaluation_id)
        directory = self.instance_dir("posture_results", app, instance)
        self.ensure_schema_file("posture_results")
        return atomic_write(directory / f"{safe}.parquet", to_arrow("posture_results", rows))

    def append_run(self, row: Mapping[str, Any]) -> Path:
        started: datetime = row["started_at"]
        directory = self.instance_dir("scan_runs", row["app"], row["instance"]) / f"run_date={started:%Y-%m-%d}"
        safe_run = _file_name(str(row["run_id"]))
        name = f"{safe_run}-{row['stage']}-{row['attempt']}.parquet"
        self.ensure_schema_file("scan_runs")
        return atomic_write(directory / name, to_arrow("scan_runs", [dict(row)]))


_SNAPSHOT_DERIVED = frozenset({"app", "instance", "snapshot_id", "snapshot_at"})


class _InstanceTableWriter:
    """What every writer starts from: the lake, one table of the kind the writer writes, and the
    instance whose rows it holds."""

    kind: ClassVar[str]

    def __init__(self, lake: Lake, table: str, app: str, instance: str) -> None:
        if TABLES[table].kind != self.kind:
            raise LakeError(f"{table!r} is not {'an event' if self.kind == 'events' else 'a ' + self.kind} table")
        self.lake = lake
        self.table = table
        self.app = app
        self.instance = instance

    def quarantine_dir(self, name: str) -> Path:
        """Where refused rows of this table and instance are set aside (never read by the catalog);
        `name` is made unique so two refusals never meet."""
        where = self.lake.root / "_quarantine" / self.table / f"app={self.app}" / f"instance={self.instance}"
        return where / f"{name}-{uuid.uuid4().hex[:8]}"


class SnapshotWriter(_InstanceTableWriter):
    """Stage a snapshot in parts; `publish()` makes it visible in one rename.

    Re-publishing the same snapshot id (a retried Airflow task of the same run) replaces it, so
    reruns are idempotent. Leaving the context without publishing discards the staged parts and
    leaves the current snapshot untouched, unless the writer is `resumable`: then the parts stay
    in `_staging/snapshots/<table>/app=/instance=/snapshot=<id>/` for a retry of the same run
    (same snapshot id) to continue from, and `truncate()` drops parts written after the last
    checkpoint. Each part has a sidecar of its rows' key fingerprints, so a resumed writer still
    tells the identical object seen twice from two different objects sharing a key.
    """

    kind = "snapshot"

    def __init__(self, lake: Lake, table: str, app: str, instance: str, snapshot_id: str, *, resumable: bool = False):
        super().__init__(lake, table, app, instance)
        self.snapshot_id = snapshot_id
        self.snapshot_at = snapshot_time(snapshot_id)
        self.resumable = resumable
        self.rows_written = 0
        self._staging: Path | None = None
        self._parts = 0
        self._keys: dict[tuple[Any, ...], str] = {}
        self._pending: list[pa.Table] = []
        self._pending_keys: list[tuple[tuple[Any, ...], str]] = []
        self._schema = arrow_schema(table)
        self._body_schema = pa.schema([f for f in self._schema if f.name not in _SNAPSHOT_DERIVED])
        self.published = False

    def __enter__(self) -> SnapshotWriter:
        if self.resumable:
            # Created with the first part, so a scan that fails before any leaves nothing behind.
            self._staging = self.lake.resumable_staging_dir(self.table, self.app, self.instance, self.snapshot_id)
            self._load_staged()
        else:
            self._staging = self.lake.staging_dir()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._staging is not None and not self.resumable:
            shutil.rmtree(self._staging, ignore_errors=True)
        self._staging = None

    @property
    def parts(self) -> int:
        return self._parts

    def _part_paths(self) -> list[Path]:
        assert self._staging is not None
        return sorted(self._staging.glob("part-*.parquet")) if self._staging.exists() else []

    def _load_staged(self) -> None:
        """Pick up the parts a killed attempt left, with their key fingerprints."""
        self._keys, self.rows_written, self._parts = {}, 0, 0
        self._pending, self._pending_keys = [], []
        for part in self._part_paths():
            sidecar = part.with_suffix(".keys.json")
            if not sidecar.exists():  # killed between the part and its sidecar: not committed
                part.unlink()
                continue
            entries = orjson.loads(sidecar.read_bytes())
            entries = entries["keys"] if isinstance(entries, dict) else entries  # older sidecars: a list
            for key, fingerprint in entries:
                self._keys.setdefault(tuple(key), fingerprint)
            self.rows_written += len(entries)
            self._parts = max(self._parts, int(part.name[5:10]) + 1)

    def truncate(self, parts: int) -> None:
        """Keep only the first `parts` parts: those the last checkpoint covers."""
        for part in self._part_paths():
            if int(part.name[5:10]) >= parts:
                part.unlink()
                part.with_suffix(".keys.json").unlink(missing_ok=True)
        self._load_staged()

    def add(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Take a page of rows for the next part, as Arrow at once (a chunk held as Python dicts
        costs several times its size and keeps the garbage collector busy); returns how many were
        kept. Nothing is on disk until `flush`."""
        assert self._staging is not None, "use SnapshotWriter as a context manager"
        key_columns = TABLES[self.table].key
        kept, fingerprints = [], []
        secrets = registered_secrets()  # keys are masked as their columns are (to_arrow)
        for row in rows:
            key = tuple(row.get(k) for k in key_columns)
            if secrets:
                key = tuple(_mask_text(k, secrets) if isinstance(k, str) else k for k in key)
            digest = hashlib.blake2b(orjson.dumps(row, option=orjson.OPT_SORT_KEYS, default=str), digest_size=12)
            fingerprint = digest.hexdigest()
            if self._keys.get(key) == fingerprint:
                # The same object on two pages (a list shifting under us): harmless, drop it.
                # The same key with different content is kept for the quality gate to refuse.
                continue
            self._keys.setdefault(key, fingerprint)
            fingerprints.append((key, fingerprint))
            kept.append(row)
        if kept:
            body = to_arrow(self.table, kept, self._body_schema)
            n = body.num_rows
            whole = {
                "app": pa.repeat(pa.scalar(self.app), n),
                "instance": pa.repeat(pa.scalar(self.instance), n),
                "snapshot_id": pa.repeat(pa.scalar(self.snapshot_id), n),
                "snapshot_at": pa.repeat(pa.scalar(self.snapshot_at, self._schema.field("snapshot_at").type), n),
            }
            arrays = [whole[f.name] if f.name in whole else body.column(f.name) for f in self._schema]
            self._pending.append(pa.Table.from_arrays(arrays, schema=self._schema))
            self._pending_keys.extend(fingerprints)
        return len(kept)

    @property
    def pending_rows(self) -> int:
        return sum(t.num_rows for t in self._pending)

    def flush(self) -> int:
        """Stage what `add` took as one part (durable, with its key sidecar, when resumable)."""
        assert self._staging is not None, "use SnapshotWriter as a context manager"
        if not self._pending:
            return 0
        table = pa.concat_tables(self._pending)
        part = self._staging / f"part-{self._parts:05d}.parquet"
        # Durable (file and directory) before a checkpoint may point past it, when resumable;
        # otherwise publish syncs the directory once.
        atomic_write(part, table, sync_dir=self.resumable)
        if self.resumable:
            keys = state_bytes({"keys": self._pending_keys}, f"{self.table} part key sidecar")
            atomic_write(part.with_suffix(".keys.json"), keys)
        self._parts += 1
        self.rows_written += table.num_rows
        self._pending, self._pending_keys = [], []
        rows: int = table.num_rows
        return rows

    def write(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """`add` and `flush`: the rows as one part."""
        self.add(rows)
        return self.flush()

    def staged(self) -> pa.Table:
        """The staged snapshot as the quality gate sees it: every column but `raw`. The provider's
        JSON is most of a snapshot's bytes and no expectation reads it, so leaving it on disk
        keeps the audit's memory small at any tenant size."""
        assert self._staging is not None, "use SnapshotWriter as a context manager"
        schema = arrow_schema(self.table)
        audited = pa.schema([f for f in schema if f.name != "raw"])
        parts = self._part_paths()
        if not parts:
            return audited.empty_table()
        return pq.read_table(parts, schema=schema, columns=audited.names)

    def rewrite_parts(self, change: Callable[[pa.Table], pa.Table]) -> None:
        """Apply `change` to every staged part (all columns) and write back the parts it changed:
        how the quality gate's row-level rules null a value in a staged snapshot."""
        schema = arrow_schema(self.table)
        for part in self._part_paths():
            data = pq.read_table(part, schema=schema)
            changed = change(data)
            if changed is not data:
                atomic_write(part, changed, sync_dir=self.resumable)

    def discard(self) -> None:
        """Drop what is staged (a resumable writer's parts included)."""
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def quarantine(self, report: dict[str, Any], summary: str) -> Path:
        """Move the staged snapshot aside with its validation result; nothing is published."""
        assert self._staging is not None, "use SnapshotWriter as a context manager"
        target = self.quarantine_dir(f"snapshot={self.snapshot_id}")
        private_dirs(target.parent)
        _write_verdict(self._staging, report, summary)
        rename_durably(self._staging, target)
        if self.resumable:
            self.lake.prune_staging(self._staging.parent)
        self._staging = None
        return target

    def publish(self, audit: Callable[[pa.Table], Any] | None = None, extra: Mapping[str, Any] | None = None) -> None:
        """Make the snapshot visible. `audit` sees the whole staged batch first and may refuse it
        (it raises after quarantining); whatever it returns is kept beside the snapshot. `extra`
        JSON files (name -> content) are published in the same rename, e.g. the change cursor the
        snapshot was read up to: a cursor can then never be ahead of the data it covers."""
        assert self._staging is not None, "use SnapshotWriter as a context manager"
        private_dirs(self._staging)
        if audit is not None:
            verdict = audit(self.staged())
            if verdict is not None:
                verdict_json = redact(orjson.dumps(verdict, default=str).decode()).encode()
                atomic_write(self._staging / "quality.json", verdict_json, sync_dir=False)
        for name, content in (extra or {}).items():
            try:
                data = state_bytes(content, f"{self.table} snapshot {name} for {self.app}/{self.instance}")
            except SecretInState as exc:  # the data is published; the next scan lists in full
                log.warning("%s", exc)
                continue
            atomic_write(self._staging / name, data, sync_dir=False)
        for sidecar in self._staging.glob("*.keys.json"):
            sidecar.unlink()
        if self._parts == 0:  # an empty snapshot is a fact worth publishing ("no grants now")
            atomic_write(self._staging / "part-00000.parquet", arrow_schema(self.table).empty_table(), sync_dir=False)
        _fsync_dir(self._staging)  # the names of the files atomic_write left unsynced above
        self.lake.ensure_schema_file(self.table)
        target = self.lake.instance_dir(self.table, self.app, self.instance) / f"snapshot={self.snapshot_id}"
        private_dirs(target.parent)
        replaced: Path | None = None
        if target.exists():
            replaced = self.lake.root / "_staging" / f"replaced-{uuid.uuid4().hex}"
            os.replace(target, replaced)
        rename_durably(self._staging, target)
        if self.resumable:
            self.lake.prune_staging(self._staging.parent)
        self._staging = None
        self.published = True
        if replaced is not None:
            shutil.rmtree(replaced, ignore_errors=True)
        log.info(
            "published %s snapshot %s for %s/%s: %d rows",
            self.table,
            self.snapshot_id,
            self.app,
            self.instance,
            self.rows_written,
        )


def _id_hashes(ids: list[Any]) -> np.ndarray:
    return np.fromiter((hash(i) for i in ids), dtype=np.int64, count=len(ids))


class KnownIds:
    """The event ids one date partition already holds, kept as a sorted array of their 64-bit
    hashes: 8 bytes an id, so a writer's memory stays flat however many events a partition
    gathers (a set of the id strings costs ~110 bytes each). A hash match is confirmed against
    the ids stored on disk, so a collision can never drop a new event."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.key = key
        self.hashes = np.empty(0, dtype=np.int64)
        stored = self._read_stored()
        if stored is not None:
            self.add(stored.to_pylist())

    def _read_stored(self) -> pa.ChunkedArray | None:
        files = sorted(self.directory.glob("*.parquet")) if self.directory.exists() else []
        if not files:
            return None
        # File by file: read as one dataset, the hive path (app=, event_date=) would add columns.
        return pa.chunked_array(
            [pq.ParquetFile(f).read(columns=[self.key]).column(self.key).combine_chunks() for f in files]
        )

    def add(self, ids: list[Any]) -> None:
        self.hashes = np.union1d(self.hashes, _id_hashes(ids))

    def stored(self, ids: list[Any]) -> set[Any]:
        """Those of `ids` this partition already holds."""
        if not ids or not len(self.hashes):
            return set()
        hashes = _id_hashes(ids)
        at = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
        maybe = [ids[i] for i in np.flatnonzero(self.hashes[at] == hashes)]
        if not maybe:
            return set()
        on_disk = self._read_stored()
        if on_disk is None:
            return set()
        candidates = pa.array(maybe)
        present = pc.is_in(candidates, value_set=on_disk.combine_chunks())
        return set(candidates.filter(present).to_pylist())


_DERIVED = frozenset({"app", "instance", "event_date"})


class EventWriter(_InstanceTableWriter):
    """Append events, dropping ids already stored, one staged-and-renamed file per date and batch."""

    kind = "events"

    def __init__(self, lake: Lake, table: str, app: str, instance: str, run_tag: str) -> None:
        super().__init__(lake, table, app, instance)
        self.run_tag = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in run_tag)
        self.key = TABLES[table].key[0]
        self._known: dict[str, KnownIds] = {}
        self._seq = 0
        self.written = 0
        self.duplicates_dropped = 0
        # occurred_at of the events the last write() stored, and of those it found already stored
        # (by an earlier scan or a killed attempt): what completeness accounting needs.
        self._occurred_type = arrow_schema(table).field("occurred_at").type
        self.last_stored_times = pa.chunked_array([], self._occurred_type)
        self.last_known_times = pa.chunked_array([], self._occurred_type)

    def _known_ids(self, event_date: str) -> KnownIds:
        if event_date not in self._known:
            directory = self.lake.instance_dir(self.table, self.app, self.instance) / f"event_date={event_date}"
            self._known[event_date] = KnownIds(directory, self.key)
        return self._known[event_date]

    def _body_schema(self) -> pa.Schema:
        """The canonical schema without the columns the writer derives (app, instance, date)."""
        return pa.schema([f.with_nullable(True) for f in arrow_schema(self.table) if f.name not in _DERIVED])

    def to_arrow(self, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
        """A connector's event rows as an Arrow batch for `write`. Converting each page as it
        arrives keeps a chunk's worth of events out of Python objects, which the garbage
        collector would otherwise walk again and again while the chunk fills."""
        return _rows_to_arrow(self.table, list(rows), self._body_schema())  # masked in write, once a chunk

    def _prepare(self, body: pa.Table, *, keep_conflicts: bool) -> tuple[pa.Table, pa.Array]:
        """The events not stored before, and each one's partition date. The same event seen
        twice (on two pages) is dropped; two different events sharing an id are kept when
        `keep_conflicts`, for the quality gate to refuse. Content is compared only when an id
        repeats, so the common case costs a dict lookup per event."""
        occurred = body.column("occurred_at")
        if occurred.null_count:
            missing = body.filter(pc.is_null(occurred)).column(self.key).to_pylist()[:5]
            raise LakeError(f"{self.table}: events without occurred_at cannot be partitioned (ids {missing})")
        dates = pc.strftime(occurred, format="%Y-%m-%d").combine_chunks()
        ids = body.column(self.key).to_pylist()
        date_list = dates.to_pylist()
        stored: set[Any] = set()
        for event_date in set(date_list):
            stored |= self._known_ids(event_date).stored(
                [i for i, d in zip(ids, date_list, strict=True) if d == event_date]
            )
        keep: list[int] = []
        known: list[int] = []
        first_seen: dict[Any, int] = {}
        for index, event_id in enumerate(ids):
            if event_id in stored:
                known.append(index)
                continue
            first = first_seen.get(event_id)
            if first is not None and (not keep_conflicts or self._same_event(body, first, index)):
                continue
            first_seen.setdefault(event_id, index)
            keep.append(index)
        self.duplicates_dropped += len(ids) - len(keep)
        self.last_known_times = occurred.take(pa.array(known, pa.int64()))
        if len(keep) == len(ids):
            return body, dates
        indices = pa.array(keep, pa.int64())
        return body.take(indices), dates.take(indices)

    @staticmethod
    def _same_event(body: pa.Table, first: int, other: int) -> bool:
        pair = body.take([first, other]).to_pylist()
        return _fingerprint(pair[0]) == _fingerprint(pair[1])

    def _table(self, body: pa.Table, dates: pa.Array) -> pa.Table:
        """The canonical table: the partition and bookkeeping columns are added whole."""
        schema = arrow_schema(self.table)
        ingested = body.column("ingested_at")
        if ingested.null_count:  # stored now, unless the row says when (a replayed quarantine)
            ingested = pc.fill_null(ingested, pa.scalar(datetime.now(UTC), ingested.type))
        n = body.num_rows
        columns = {
            "app": pa.repeat(pa.scalar(self.app), n) if n else pa.array([], pa.string()),
            "instance": pa.repeat(pa.scalar(self.instance), n) if n else pa.array([], pa.string()),
            "event_date": dates,
            "ingested_at": ingested,
        }
        arrays = [columns[f.name] if f.name in columns else body.column(f.name) for f in schema]
        return pa.Table.from_arrays(arrays, schema=schema)

    def quarantine(self, data: pa.Table, report: dict[str, Any], summary: str) -> Path:
        """Set a refused batch aside with its validation result; nothing of it is stored."""
        target = self.quarantine_dir(f"batch-{self.run_tag}")
        atomic_write(target / "events.parquet", mask_registered_secrets(data))
        _write_verdict(target, report, summary)
        return target

    def write(
        self, events: pa.Table | Iterable[Mapping[str, Any]], audit: Callable[[pa.Table], Any] | None = None
    ) -> int:
        """Store the events not stored before (an Arrow batch from `to_arrow`, or rows); returns
        how many were new. `audit` sees the whole batch before anything is written and may
        refuse it by raising."""
        self.last_stored_times = self.last_known_times = pa.chunked_array([], self._occurred_type)
        body = events if isinstance(events, pa.Table) else self.to_arrow(events)
        if not body.num_rows:
            return 0
        body = mask_registered_secrets(body)  # before deduplication: ids are compared as stored
        body, dates = self._prepare(body, keep_conflicts=audit is not None)
        if not body.num_rows:
            return 0
        table = self._table(body, dates)
        del body
        if audit is not None:
            checked = audit(table)  # may refuse (raises) or return the batch with odd values nulled
            if isinstance(checked, pa.Table):
                table = checked
        new = 0
        stored_times = []
        partitions = sorted(set(dates.to_pylist()))
        for event_date in partitions:
            batch = table if len(partitions) == 1 else table.filter(pc.equal(table.column("event_date"), event_date))
            directory = self.lake.instance_dir(self.table, self.app, self.instance) / f"event_date={event_date}"
            name = f"part-{self.run_tag}-{uuid.uuid4().hex[:8]}-{self._seq:05d}.parquet"
            self._seq += 1
            # Under a hidden .tmp name until whole: neither the catalog's glob nor KnownIds reads it.
            atomic_write(directory / name, batch)
            # Known only once stored: a failed write leaves them to be written by a retry.
            self._known_ids(event_date).add(batch.column(self.key).to_pylist())
            stored_times.append(batch.column("occurred_at"))
            new += batch.num_rows
        self.last_stored_times = pa.chunked_array(
            [chunk for column in stored_times for chunk in column.chunks], self._occurred_type
        )
        self.lake.ensure_schema_file(self.table)
        self.written += new
        return new


class StateStore:
    """Cursors per (app, instance, stream), written atomically after the data they cover."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def path(self, app: str, instance: str, stream: str) -> Path:
        return self.lake.root / "_state" / app / instance / f"{stream}.json"

    def get(self, app: str, instance: str, stream: str) -> dict[str, Any] | None:
        return read_json_state(self.path(app, instance, stream), "; delete it to rescan from the start")

    def put(self, app: str, instance: str, stream: str, state: Mapping[str, Any]) -> bool:
        """Commit a state; False if it was refused for holding a registered secret (the previous
        one stays: a resumed scan then starts from an earlier checkpoint, never from a secret).
        A state whose stored request had a credential masked is kept marked not resumable."""
        what = f"checkpoint {stream} of {app}/{instance}"
        try:
            data = state_bytes(state, what, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        except SecretInState as exc:
            log.warning("%s", exc)
            return False
        atomic_write(self.path(app, instance, stream), data)
        return True
