"""The audit log's ``phrase`` search syntax and its ``after``/``before`` cursors.

Syntax (https://docs.github.com/enterprise-cloud@latest/organizations/keeping-your-organization-secure/managing-security-settings-for-your-organization/reviewing-the-audit-log-for-your-organization#searching-the-audit-log
and data/reusables/time_date/time_format.md in github/docs): ``key:value`` qualifiers separated by
spaces (``+`` in a URL); ``-`` in front negates; ``created`` takes a date ``YYYY-MM-DD`` with an
optional time ``THH:MM:SS`` and UTC offset, behind ``>``, ``>=``, ``<``, ``<=``, or as a range
``A..B`` (inclusive, ``*`` open); ``action:team`` matches the whole ``team`` category,
``action:team.create`` one action.

Cursors: GitHub's ``Link`` header carries opaque ``after``/``before`` cursors; the one in the
documentation example decodes to ``1.664383359927e+12|9hC0quDshWUmYKZ91EOf5w``, the event's
epoch-millisecond timestamp and its ``_document_id`` (https://docs.github.com/enterprise-cloud@latest/admin/monitoring-activity-in-your-enterprise/reviewing-audit-logs-for-your-enterprise/using-the-audit-log-api-for-your-enterprise).
The sandbox issues cursors of that shape.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

SUPPORTED_KEYS = frozenset({"created", "action", "actor", "user", "repo"})
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?)?$")
_TOKEN = re.compile(r'(-?)([a-z_]+):("(?:[^"\\]|\\.)*"|\S+)')


class PhraseError(ValueError):
    """The phrase cannot be parsed or uses a qualifier the sandbox does not emulate."""


@dataclass
class AuditQuery:
    """A parsed phrase: a time interval [since_ms, until_ms) and per-event qualifiers."""

    since_ms: int | None = None
    until_ms: int | None = None
    include: list[tuple[str, str]] = field(default_factory=list)  # (key, value) that must match
    exclude: list[tuple[str, str]] = field(default_factory=list)  # (key, value) that must not

    @property
    def has_event_filters(self) -> bool:
        return bool(self.include or self.exclude)

    def narrow(self, lo: int | None, hi: int | None) -> None:
        if lo is not None:
            self.since_ms = lo if self.since_ms is None else max(self.since_ms, lo)
        if hi is not None:
            self.until_ms = hi if self.until_ms is None else min(self.until_ms, hi)


def _instant(text: str) -> tuple[int, int]:
    """[start, end) in epoch ms that a date or date-time covers (a day, a minute or a second)."""
    match = _DATE.match(text)
    if not match:
        raise PhraseError(f"not a date or date-time: {text!r}")
    day, hour, minute, second, offset = match.groups()
    try:
        start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    except ValueError:
        raise PhraseError(f"not a date: {day!r}") from None
    if hour is None:
        width = timedelta(days=1)
    else:
        start = start.replace(hour=int(hour), minute=int(minute), second=int(second or 0))
        width = timedelta(seconds=1) if second is not None else timedelta(minutes=1)
        if offset and offset != "Z":
            sign = 1 if offset[0] == "+" else -1
            digits = offset[1:].replace(":", "")
            start -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    begin = int(start.timestamp() * 1000)
    return begin, begin + int(width.total_seconds() * 1000)


def _created(query: AuditQuery, value: str) -> None:
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            lo, hi = _instant(value[len(op) :])
            bounds = {">=": (lo, None), ">": (hi, None), "<=": (None, hi), "<": (None, lo)}[op]
            query.narrow(*bounds)
            return
    if ".." in value:
        first, _, last = value.partition("..")
        query.narrow(
            None if first == "*" else _instant(first)[0],
            None if last == "*" else _instant(last)[1],
        )
        return
    query.narrow(*_instant(value))


def parse_phrase(phrase: str | None) -> AuditQuery:
    query = AuditQuery()
    text = (phrase or "").strip()
    position = 0
    for match in _TOKEN.finditer(text):
        if text[position : match.start()].strip():
            raise PhraseError(f"free text is not searchable: {text[position : match.start()].strip()!r}")
        position = match.end()
        negated, key, value = match.groups()
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        if key not in SUPPORTED_KEYS:
            raise PhraseError(f"unsupported qualifier {key!r}")
        if key == "created":
            if negated:
                raise PhraseError("created cannot be negated")
            _created(query, value)
        else:
            (query.exclude if negated else query.include).append((key, value))
    if text[position:].strip():
        raise PhraseError(f"free text is not searchable: {text[position:].strip()!r}")
    return query


def event_matches(event: dict[str, object], key: str, value: str) -> bool:
    if key == "action":
        action = str(event.get("action") or "")
        return action == value or action.startswith(value + ".")
    return str(event.get(key) or "").lower() == value.lower()


def encode_cursor(timestamp_ms: int, document_id: str) -> str:
    return base64.b64encode(f"{timestamp_ms:.12e}|{document_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.b64decode(cursor, validate=True).decode()
        stamp, document_id = raw.split("|", 1)
        return round(float(stamp)), document_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise PhraseError("invalid cursor") from None
