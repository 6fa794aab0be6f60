"""The mute list: posture rules an organization has decided to live with for a while, per instance
(include/posture.yaml, or the file in SAASLENS_POSTURE). A muted rule is still evaluated and shown
as muted, never as passing, until the end of its expiry date.

    mutes:
      - rule: okta.password_min_length
        instance: acme
        reason: legacy kiosk accounts, replaced in Q1 (ticket SEC-112)
        expires: 2027-03-31
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from saaslens import settings


class MuteError(ValueError):
    """The mute list is wrong; the message names the file and the entry."""


class Mute(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
    instance: str = Field(min_length=1)
    reason: str = Field(min_length=3)
    expires: date

    @property
    def app(self) -> str:
        return self.rule.split(".", 1)[0]

    @property
    def ends_at(self) -> datetime:
        """The end of the expiry date, UTC: a mute expiring 2027-03-31 holds all that day."""
        return datetime.combine(self.expires + timedelta(days=1), time(), tzinfo=UTC)


class _MuteFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mutes: list[Mute] = Field(default_factory=list)


def mutes_path() -> Path:
    return Path(os.environ.get("SAASLENS_POSTURE", settings.INCLUDE_DIR / "posture.yaml"))


def load_mutes(path: Path | None = None, known_rules: Iterable[str] | None = None) -> tuple[Mute, ...]:
    """The mutes of the file (none when it does not exist). A mute of a rule that does not exist is
    an error naming it: a typo must not leave a failing rule unmuted while someone believes it muted."""
    where = path or mutes_path()
    try:
        document = yaml.safe_load(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    except yaml.YAMLError as exc:
        raise MuteError(f"{where}: not valid YAML: {exc}") from None
    try:
        parsed = _MuteFile.model_validate(document or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise MuteError(f"{where}: {problems}") from None
    if known_rules is not None:
        known = set(known_rules)
        for index, mute in enumerate(parsed.mutes):
            if mute.rule not in known:
                raise MuteError(f"{where}: mutes.{index}.rule: no posture rule {mute.rule!r}")
    return tuple(parsed.mutes)


def mute_for(mutes: Iterable[Mute], rule_id: str, instance: str) -> Mute | None:
    """The mute of this rule and instance with the latest expiry, expired or not (the views compare
    the expiry with the time they are read)."""
    found = [m for m in mutes if m.rule == rule_id and m.instance == instance]
    return max(found, key=lambda m: m.expires) if found else None
