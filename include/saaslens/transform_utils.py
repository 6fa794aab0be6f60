"""Small pure helpers the connectors' transforms share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (with Z or an offset) or epoch seconds / milliseconds, to an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value  # epoch ms (GitHub's audit log) or s
        return datetime.fromtimestamp(seconds, tz=UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso_z(moment: datetime) -> str:
    """The UTC ISO form most APIs accept in query strings: 2026-11-27T14:40:00.000Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def lower(value: Any) -> str | None:
    return str(value).strip().lower() if value else None


def raw_json(item: Any) -> str:
    return orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode()
