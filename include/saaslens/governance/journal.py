"""The governance audit trail: `governance_actions` rows in the lake, and the intents that make a
crash between applying a change and recording it safe.

Layout under the lake root:
    governance_actions/app=<app>/instance=<inst>/action_date=<d>/<action_id>.parquet
    _state/governance/<app>/<inst>/<action>/<target hash>.json     intent: a change about to be sent

A row's file is named by its action id (run, action and target hashed), so a retried record step
rewrites the same row instead of adding one: the table stays one row per target and run. An intent
is written (atomically, fsynced) before a change is sent and removed after its row is written; a run
that finds an intent left by a killed attempt, and the target already in the wanted state, records
that attempt's change as applied, once, instead of sending it again or calling it already-applied.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from saaslens.http.redaction import redact
from saaslens.lake.writer import Lake, atomic_write, read_json_state, state_bytes, to_arrow

TABLE = "governance_actions"


def action_id(run_id: str, action: str, target_kind: str, target_id: str) -> str:
    """A stable id for one target of one run: the same in every retry of the run."""
    digest = hashlib.sha256("\x1f".join((run_id, action, target_kind, target_id)).encode()).hexdigest()
    return digest[:32]


def json_text(value: Any) -> str | None:
    """JSON for a before/after/requests column, redacted: a provider that echoes a token in a
    state it returns must not put it in the audit trail."""
    if value is None:
        return None
    return redact(json.dumps(value, sort_keys=True, default=_json_default, ensure_ascii=False))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def jsonable(value: Any) -> Any:
    """`value` with datetimes as ISO text, so plans cross XCom and JSON files unchanged."""
    return json.loads(json.dumps(value, default=_json_default))


def write_row(lake: Lake, row: Mapping[str, Any]) -> Path:
    """Write one governance_actions row, named by its action_id. A rewrite (a retried record step)
    replaces the row where it already is, even when the retry runs on a later day than the first
    attempt, so the table keeps one row per target and run."""
    instance_dir = lake.instance_dir(TABLE, row["app"], row["instance"])
    recorded: datetime = row["recorded_at"]
    existing = sorted(instance_dir.glob(f"action_date=*/{row['action_id']}.parquet"))
    path = (
        existing[0] if existing else instance_dir / f"action_date={recorded:%Y-%m-%d}" / f"{row['action_id']}.parquet"
    )
    lake.ensure_schema_file(TABLE)
    return atomic_write(path, to_arrow(TABLE, [dict(row)]))


class Intents:
    """Changes about to be sent, one file per action and target, in the lake's state directory."""

    def __init__(self, lake: Lake, app: str, instance: str) -> None:
        self.directory = lake.root / "_state" / "governance" / app / instance

    def _path(self, action: str, target_id: str) -> Path:
        name = hashlib.sha256(target_id.encode()).hexdigest()[:32]
        return self.directory / action / f"{name}.json"

    def write(self, action: str, target_id: str, intent: Mapping[str, Any]) -> None:
        atomic_write(self._path(action, target_id), state_bytes(dict(intent), "governance intent"))

    def read(self, action: str, target_id: str) -> dict[str, Any] | None:
        return read_json_state(
            self._path(action, target_id),
            "; it records a change that may have been sent: check the target by hand before deleting it",
        )

    def clear(self, action: str, target_id: str) -> None:
        self._path(action, target_id).unlink(missing_ok=True)


def now() -> datetime:
    return datetime.now(UTC)
