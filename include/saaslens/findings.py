"""Findings: one SQL file per question a compliance owner asks, run against the DuckDB catalog.

A finding file (include/findings/<finding_id>.sql) starts with a header of `-- key: value` lines:

    -- title: Dormant accounts
    -- description: Active accounts nobody has signed in to for a while.
    --   A description (or title) may continue on lines indented by two or more spaces.
    -- severity: medium
    -- key: app, instance, account_id
    -- param dormant_days: 90
    -- param as_of: now
    -- suggests: suspend_account
    select ... where last_login_at < $as_of_ts - to_days($dormant_days)

The header ends at the first line that is not a `-- ` header line; the rest is one SELECT that
uses its params as DuckDB named parameters (`$dormant_days`). A param's default is typed from its
literal: 90 is an int, 1.5 a float, 'text' / "text" / text a string, [a, b] a list of those.
Values given at run time are converted to the default's type, so a CLI can pass strings.

`suggests` (optional) names a remedy (saaslens.vocabulary.Remedy): the report lists, per row, the
action of the row's app that performs it, and an auto_remediate policy may run it. The rows must
then carry the target's lake keys (saaslens.connectors.kit.TARGET_KEYS: account_id, grant_id,
file_id ...); a list column named after a key plus "s" (share_ids) gives one target per item.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from saaslens import settings
from saaslens.catalog.apps import declared
from saaslens.vocabulary import Remedy

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

SEVERITIES = ("high", "medium", "low", "info")
_REQUIRED = ("title", "description", "severity", "key")
_OPTIONAL = ("suggests",)
_HEADER_LINE = re.compile(r"^--\s?(?P<field>param\s+\w+|\w+)\s*:\s*(?P<value>.*?)\s*$")
_CONTINUATION = re.compile(r"^--\s{2,}(?P<value>\S.*?)\s*$")
_PARAM_REFERENCE = re.compile(r"\$([A-Za-z_]\w*)")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$")


class FindingError(ValueError):
    """A finding file or a finding's parameters are wrong; the message names the file or finding."""


@dataclass(frozen=True)
class Finding:
    id: str
    title: str
    description: str
    severity: str
    key: tuple[str, ...]
    params: dict[str, Any]
    sql: str
    path: Path
    # What to do about a row (docs/governance.md): each row's app's action for this remedy.
    suggests: Remedy | None = None

    def __hash__(self) -> int:  # params is a dict: hash by identity of the file instead
        return hash((self.id, self.path))


def findings_dir() -> Path:
    """include/findings, or the directory in SAASLENS_FINDINGS (read at call time)."""
    return Path(os.environ.get("SAASLENS_FINDINGS", settings.INCLUDE_DIR / "findings"))


# -- parsing ------------------------------------------------------------------------------------


def parse_literal(text: str) -> Any:
    """A param default's literal to a Python value: int, float, str or list of those."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [parse_literal(part) for part in _split_list(inner)] if inner else []
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def _split_list(inner: str) -> list[str]:
    """Split a list literal's body on commas outside quotes."""
    parts, current, quote = [], "", None
    for char in inner:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts


def _header_error(path: Path, line_no: int, message: str) -> FindingError:
    return FindingError(f"{path}:{line_no}: {message}")


def parse_finding(path: Path, text: str | None = None) -> Finding:
    """Parse one finding file; a bad header raises FindingError naming the file and line."""
    text = path.read_text() if text is None else text
    lines = text.splitlines()
    fields: dict[str, str] = {}
    field_lines: dict[str, int] = {}
    params: dict[str, Any] = {}
    last: str | None = None
    body_start = len(lines)
    for index, line in enumerate(lines):
        line_no = index + 1
        if not line.strip():
            if fields or params:
                body_start = index
                break
            continue
        continuation = _CONTINUATION.match(line)
        if continuation and last and not last.startswith("param "):
            fields[last] = f"{fields[last]} {continuation['value']}"
            continue
        match = _HEADER_LINE.match(line)
        if not line.startswith("--") or match is None:
            if line.startswith("--") and not (fields or params):
                raise _header_error(path, line_no, f"expected a '-- key: value' header line, got {line.strip()!r}")
            body_start = index
            break
        field, value = match["field"], match["value"]
        if field.startswith("param"):
            name = field.split()[1]
            if name in params:
                raise _header_error(path, line_no, f"param {name!r} is declared twice")
            if not value:
                raise _header_error(path, line_no, f"param {name!r} has no default value")
            params[name] = parse_literal(value)
            last = f"param {name}"
            continue
        if field not in _REQUIRED + _OPTIONAL:
            raise _header_error(
                path,
                line_no,
                f"unknown header field {field!r} (expected {', '.join(_REQUIRED + _OPTIONAL)} or 'param <name>')",
            )
        if field in fields:
            raise _header_error(path, line_no, f"header field {field!r} is given twice")
        if not value:
            raise _header_error(path, line_no, f"header field {field!r} is empty")
        fields[field], field_lines[field], last = value, line_no, field
    missing = [name for name in _REQUIRED if name not in fields]
    if missing:
        raise _header_error(path, 1, f"header lacks {', '.join(missing)}")
    severity = fields["severity"].lower()
    if severity not in SEVERITIES:
        raise _header_error(
            path, field_lines["severity"], f"severity {fields['severity']!r} is not one of {', '.join(SEVERITIES)}"
        )
    key = tuple(part.strip() for part in fields["key"].split(","))
    bad_key = [part for part in key if not _IDENTIFIER.match(part)]
    if bad_key:
        raise _header_error(path, field_lines["key"], f"key column {bad_key[0]!r} is not a column name")
    suggests = None
    if "suggests" in fields:
        try:
            suggests = Remedy(fields["suggests"])
        except ValueError:
            raise _header_error(
                path,
                field_lines["suggests"],
                f"suggests {fields['suggests']!r} is not a remedy ({', '.join(r.value for r in Remedy)})",
            ) from None
    sql = "\n".join(lines[body_start:]).strip().rstrip(";").strip()
    if not sql:
        raise _header_error(path, len(lines) or 1, "no SQL after the header")
    _check_param_references(path, sql, params)
    return Finding(
        id=path.stem,
        title=fields["title"],
        description=fields["description"],
        severity=severity,
        key=key,
        params=params,
        sql=sql,
        path=path,
        suggests=suggests,
    )


def _check_param_references(path: Path, sql: str, params: Mapping[str, Any]) -> None:
    """DuckDB refuses both unused and undeclared named parameters; say so at load time instead."""
    referenced = set(_PARAM_REFERENCE.findall(_strip_sql_comments_and_strings(sql)))
    undeclared = sorted(referenced - set(params))
    if undeclared:
        raise FindingError(f"{path}: the SQL uses ${undeclared[0]} but the header declares no 'param {undeclared[0]}'")
    unused = sorted(set(params) - referenced)
    if unused:
        raise FindingError(f"{path}: param {unused[0]!r} is declared but the SQL never uses ${unused[0]}")


def _strip_sql_comments_and_strings(sql: str) -> str:
    return re.sub(r"--[^\n]*|'(?:[^']|'')*'", " ", sql)


def load_findings(directory: Path | None = None) -> list[Finding]:
    """Every `*.sql` finding in the directory (default findings_dir()), sorted by id."""
    directory = directory or findings_dir()
    if not directory.is_dir():
        raise FindingError(f"findings directory {directory} does not exist")
    return [parse_finding(path) for path in sorted(directory.glob("*.sql"))]


def get_finding(finding_id: str, directory: Path | None = None) -> Finding:
    for finding in load_findings(directory):
        if finding.id == finding_id:
            return finding
    raise FindingError(f"no finding {finding_id!r} in {directory or findings_dir()}")


# -- running ------------------------------------------------------------------------------------


def _coerce(finding: Finding, name: str, value: Any) -> Any:
    """A run-time value converted to the type of the param's default."""
    default = finding.params[name]
    try:
        if isinstance(default, bool) or value is None:
            return value
        if isinstance(default, int):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError("not a whole number")
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, str):
            return value.isoformat() if isinstance(value, datetime | date) else str(value)
        if isinstance(default, list):
            items = value.split(",") if isinstance(value, str) else list(value)
            return [item.strip() if isinstance(item, str) else item for item in items]
    except (TypeError, ValueError) as exc:
        raise FindingError(
            f"finding {finding.id!r}: param {name!r} expects a {type(default).__name__} like {default!r}, "
            f"got {value!r} ({exc})"
        ) from None
    return value


def resolve_params(finding: Finding, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The finding's defaults overridden by `params`; an unknown name raises naming both."""
    given = dict(params or {})
    unknown = sorted(set(given) - set(finding.params))
    if unknown:
        known = ", ".join(finding.params) or "none"
        raise FindingError(f"finding {finding.id!r} has no param {unknown[0]!r} (its params: {known})")
    resolved = dict(finding.params)
    resolved.update({name: _coerce(finding, name, value) for name, value in given.items()})
    return resolved


def run_finding(con: duckdb.DuckDBPyConnection, finding: Finding, params: Mapping[str, Any] | None = None) -> pa.Table:
    """Run a finding against the catalog; the result always carries the finding's key columns."""
    import duckdb

    values = resolve_params(finding, params)
    try:
        table = con.sql(finding.sql, params=values or None).to_arrow_table()
    except duckdb.Error as exc:
        raise FindingError(f"finding {finding.id!r} ({finding.path}) failed: {exc}") from exc
    missing = [column for column in finding.key if column not in table.column_names]
    if missing:
        raise FindingError(f"finding {finding.id!r} ({finding.path}) returns no key column {missing[0]!r}")
    return table


# -- the broad scopes ---------------------------------------------------------------------------


def broad_scopes() -> list[tuple[str, str, str]]:
    """(app, scope, why) of every broad scope the apps declare (each app's scopes.py, carried by its
    AppSpec), as the catalog's broad_scopes table holds them."""
    return list(declared().broad_scopes)


def is_broad_scope(app: str, scope: str, rules: list[tuple[str, str, str]] | None = None) -> bool:
    """Whether a granted scope is on the broad-scope list, matched as the broad_oauth_grants finding
    does: the same app and exactly the same scope string."""
    rules = broad_scopes() if rules is None else rules
    return any(rule_app == app and rule_scope == scope for rule_app, rule_scope, _ in rules)


# -- suggested actions ----------------------------------------------------------------------------

SUGGESTED_ACTION = "suggested_action"


def suggested_actions(remedy: Remedy) -> dict[str, str]:
    """Per app, the implemented action that performs `remedy` (the first its app declares)."""
    from saaslens.connectors import registry

    chosen: dict[str, str] = {}
    for spec in registry.app_specs():
        for action in spec.actions:
            if action.implemented and remedy in action.remedies:
                chosen.setdefault(spec.app, action.name)
    return chosen


def with_suggested_actions(finding: Finding, table: pa.Table) -> pa.Table:
    """The finding's rows with a `suggested_action` column (null where the row's app has no action
    for the remedy), when the finding suggests one; else the table unchanged."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if finding.suggests is None or "app" not in table.column_names or SUGGESTED_ACTION in table.column_names:
        return table
    actions = suggested_actions(finding.suggests)
    apps = pa.array(list(actions), pa.string())
    names = pa.array(list(actions.values()), pa.string())
    index = pc.index_in(pc.cast(table.column("app"), pa.string()), value_set=apps)
    return table.append_column(SUGGESTED_ACTION, pc.take(names, index))


def suggestion_targets(finding: Finding, rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[str]]:
    """What auto-remediation would act on: per (app, instance, action), the target references the
    finding's rows name (as `saaslens act --target` takes them), in row order, without repeats. A
    row whose app has no action for the remedy, or that lacks the target's keys, names nothing."""
    from urllib.parse import urlencode

    from saaslens.connectors import registry
    from saaslens.connectors.kit import TARGET_KEYS

    if finding.suggests is None:
        return {}
    actions = suggested_actions(finding.suggests)
    targets: dict[tuple[str, str, str], list[str]] = {}
    for row in rows:
        app, instance = row.get("app"), row.get("instance")
        if app not in actions or not instance:
            continue
        name = actions[app]
        kind = next(a.target for a in registry.app_spec(app).actions if a.name == name)
        keys = TARGET_KEYS[kind][1]
        values: list[dict[str, str]] = [{}]
        for key in keys:
            if row.get(key) is not None:
                options = [row[key]]
            elif isinstance(row.get(f"{key}s"), list):
                options = list(row[f"{key}s"])
            else:
                values = []
                break
            values = [{**v, key: str(o)} for v in values for o in options if o is not None]
        refs = targets.setdefault((str(app), str(instance), name), [])
        for value in values:
            ref = value[keys[0]] if len(keys) == 1 else urlencode(value)
            if ref not in refs:
                refs.append(ref)
    return {key: refs for key, refs in targets.items() if refs}
