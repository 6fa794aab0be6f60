"""The facts the findings read (accounts, grants, files, failed sign-ins), one app's at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class AccountFact:
    app: str
    instance: str
    account_id: str
    email: str | None
    status: str
    is_admin: bool | None
    mfa: bool | None
    account_type: str
    created_at: datetime | None
    last_login_at: datetime | None


@dataclass(frozen=True)
class GrantFact:
    app: str
    instance: str
    grant_id: str
    account_id: str | None
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class FileFact:
    app: str
    instance: str
    file_id: str
    owner_id: str | None
    visibility: str


@dataclass(frozen=True)
class FailureFact:
    app: str
    instance: str
    occurred_at: datetime
    subject: str | None
    ip: str | None


@dataclass
class Facts:
    accounts: list[AccountFact] = field(default_factory=list)
    grants: list[GrantFact] = field(default_factory=list)
    files: list[FileFact] = field(default_factory=list)
    failures: list[FailureFact] = field(default_factory=list)


def parse_time(value: Any, *, epoch_ms: bool = False) -> datetime | None:
    """ISO 8601 (any number of fraction digits, ``Z``) or epoch seconds (``epoch_ms``: milliseconds,
    as GitHub's audit log ``@timestamp``), as an aware UTC datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000 if epoch_ms else value, UTC)
    text = str(value).replace("Z", "+00:00")
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$", text)
    if match:  # Graph's audit logs carry 7 fraction digits; datetime keeps 6
        text = match.group(1) + (f".{match.group(2)[:6]}" if match.group(2) else "") + match.group(3)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def domain(address: str | None) -> str | None:
    return address.rsplit("@", 1)[1].lower() if address and "@" in address else None
