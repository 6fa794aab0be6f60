"""Posture rules: one SQL file per rule, under include/posture/<app>/<name>.sql (docs/posture.md).

A rule file starts with a header of `-- key: value` lines, like a finding's:

    -- title: Passwords need at least 12 characters
    -- severity: medium
    -- rationale: Short passwords fall to guessing and spraying.
    --   A value may continue on lines indented by two or more spaces.
    -- remediation: Security > Authentication > Password: set minimum length to 12 or more.
    -- baselines: CIS Okta 1.1.1, NIST SP 800-63B 5.1.1.2
    -- settings: password_policies
    -- events: policy.lifecycle.update, policy.rule.update
    select min((item->'settings'->'password'->'complexity'->>'minLength')::int) >= 12 as passed,
           'shortest minimum length: ' || min(...) as detail
    from setting_items('password_policies')

The query returns one row: `passed` (true, false, or null when the settings do not say, which makes
the rule not evaluated, never passed) and `detail` (what it saw). It reads the instance's settings
snapshot through two macros: `setting(id)`, the setting's value as JSON, and the table macro
`setting_items(id)`, one row (`item`, JSON) per element of a setting whose value is a list.

`settings` names every setting the query reads: a rule is evaluated only when each of them was
read (settings.status available); otherwise it is not evaluated with that setting's reason.
`events` lists the activity actions (activities.action, `*` for any run of characters) that change
those settings, so a change of state can be tied to the admin event that caused it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from saaslens import settings

SEVERITIES = ("high", "medium", "low")
_REQUIRED = ("title", "severity", "rationale", "remediation", "baselines", "settings")
_OPTIONAL = ("events",)
_HEADER_LINE = re.compile(r"^--\s?(?P<field>\w+)\s*:\s*(?P<value>.*?)\s*$")
_CONTINUATION = re.compile(r"^--\s{2,}(?P<value>\S.*?)\s*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Words joined by single spaces: Entra ID audit activities are phrases ("Update authorization policy").
_EVENT = re.compile(r"^[\w.:/*-]+( [\w.:/*-]+)*$")


class RuleError(ValueError):
    """A rule file is wrong; the message names the file and the field."""


@dataclass(frozen=True)
class Rule:
    id: str  # <app>.<name>
    app: str
    title: str
    severity: str
    rationale: str
    remediation: str
    baselines: tuple[str, ...]
    settings: tuple[str, ...]
    events: tuple[str, ...]
    sql: str
    path: Path


def rules_dir() -> Path:
    """include/posture, or the directory in SAASLENS_POSTURE_RULES (read at call time)."""
    return Path(os.environ.get("SAASLENS_POSTURE_RULES", settings.INCLUDE_DIR / "posture"))


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_rule(path: Path, app: str) -> Rule:
    name = path.stem
    if not _NAME.match(name):
        raise RuleError(f"{path}: a rule's file name is its id: lowercase letters, digits and _ only")
    lines = path.read_text(encoding="utf-8").splitlines()
    header: dict[str, str] = {}
    last: str | None = None
    body_start = len(lines)
    for index, line in enumerate(lines):
        continuation = _CONTINUATION.match(line)
        if continuation and last is not None:
            header[last] += " " + continuation.group("value")
            continue
        match = _HEADER_LINE.match(line)
        if not match:
            body_start = index
            break
        field = match.group("field")
        if field not in _REQUIRED + _OPTIONAL:
            raise RuleError(f"{path}: unknown header field {field!r} (fields: {', '.join(_REQUIRED + _OPTIONAL)})")
        if field in header:
            raise RuleError(f"{path}: header field {field!r} is given twice")
        header[field] = match.group("value")
        last = field
    missing = [f for f in _REQUIRED if not header.get(f)]
    if missing:
        raise RuleError(f"{path}: header lacks {', '.join(missing)}")
    severity = header["severity"].lower()
    if severity not in SEVERITIES:
        raise RuleError(f"{path}: severity {header['severity']!r} is not one of {', '.join(SEVERITIES)}")
    sql = "\n".join(lines[body_start:]).strip().rstrip(";").strip()
    if not sql.lower().startswith(("select", "with")):
        raise RuleError(f"{path}: after the header comes one SELECT returning passed and detail")
    reads = _split(header["settings"])
    for setting in reads:
        if not _NAME.match(setting):
            raise RuleError(f"{path}: settings: {setting!r} is not a setting id (lowercase letters, digits, _)")
    events = _split(header.get("events", ""))
    for event in events:
        if not _EVENT.match(event):
            raise RuleError(f"{path}: events: {event!r} is not an activity action")
    return Rule(
        id=f"{app}.{name}",
        app=app,
        title=header["title"],
        severity=severity,
        rationale=header["rationale"],
        remediation=header["remediation"],
        baselines=_split(header["baselines"]),
        settings=reads,
        events=events,
        sql=sql,
        path=path,
    )


@cache
def _load(directory: Path, stamp: tuple[tuple[str, float], ...]) -> tuple[Rule, ...]:
    rules = []
    for app_dir in sorted(p for p in directory.iterdir() if p.is_dir()):
        for path in sorted(app_dir.glob("*.sql")):
            rules.append(parse_rule(path, app_dir.name))
    return tuple(rules)


def load_rules(app: str | None = None, directory: Path | None = None) -> tuple[Rule, ...]:
    """Every rule (of `app` if given), parsed and checked; cached until a file changes."""
    where = (directory or rules_dir()).resolve()
    if not where.is_dir():
        return ()
    stamp = tuple(sorted((str(p), p.stat().st_mtime) for p in where.glob("*/*.sql")))
    rules = _load(where, stamp)
    return tuple(r for r in rules if app is None or r.app == app)


def rules_markdown(directory: Path | None = None) -> str:
    """docs/posture_rules.md: every rule per app with its baselines (`make docs` writes it; a test
    keeps it in step with include/posture/)."""
    rules = load_rules(directory=directory)
    lines = [
        "# Posture rules",
        "",
        "Generated from include/posture/ by `saaslens posture-rules` (`make docs`); how rules are written and "
        "evaluated: [posture.md](posture.md).",
        "",
    ]
    apps = sorted({r.app for r in rules})
    lines += ["| app | rules | high | medium | low |", "|---|---:|---:|---:|---:|"]
    for app in apps:
        mine = [r for r in rules if r.app == app]
        counts = [sum(1 for r in mine if r.severity == s) for s in SEVERITIES]
        lines.append(f"| {app} | {len(mine)} | " + " | ".join(str(c) for c in counts) + " |")
    for app in apps:
        lines += [
            "",
            f"## {app}",
            "",
            "| rule | severity | checks | baselines | settings read |",
            "|---|---|---|---|---|",
        ]
        for rule in (r for r in rules if r.app == app):
            cells = [
                f"`{rule.id}`",
                rule.severity,
                rule.title,
                "; ".join(rule.baselines),
                ", ".join(f"`{s}`" for s in rule.settings),
            ]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
