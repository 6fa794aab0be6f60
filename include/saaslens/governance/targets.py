"""Which tenant objects a governance request names: parsed from what an admin typed, resolved from
the instance's newest snapshot in the lake (a target saaslens has never seen is an error naming it,
before anything is read from or sent to the provider)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import pyarrow.compute as pc

from saaslens.connectors.kit import TARGET_KEYS, Target
from saaslens.lake.writer import Lake
from saaslens.vocabulary import TargetKind


class TargetError(ValueError):
    """A target reference that does not name exactly one object the lake knows."""


# Account targets may be named by these columns too, matched without regard to case, so an admin
# can type an email where the lake keys accounts by an opaque provider id.
_ACCOUNT_ALIASES = ("login", "email")
_ACCOUNT_KINDS = (TargetKind.ACCOUNT, TargetKind.SESSION)


def parse_reference(kind: TargetKind, reference: str) -> dict[str, str]:
    """The key columns a typed reference names. Either URL-query style (`file_id=F&share_id=S`,
    values percent-encoded when they hold '&' or '='), or the values alone in key order joined by
    '/' (`F/S`); a kind keyed by one column takes the whole text as its value, so an id holding '/'
    needs no escaping there."""
    keys = TARGET_KEYS[kind][1]
    text = reference.strip()
    if not text:
        raise TargetError(f"an empty {kind.value} target")
    if "=" in text:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False)
        named = dict(pairs)
        unknown = sorted(set(named) - set(keys))
        missing = [key for key in keys if not named.get(key)]
        if unknown or missing or len(named) != len(pairs):
            raise TargetError(
                f"target {reference!r}: a {kind.value} target names {' and '.join(keys)} once each "
                f"(unknown: {unknown}, missing: {missing})"
            )
        return {key: named[key] for key in keys}
    if len(keys) == 1:
        return {keys[0]: text}
    parts = text.split("/", len(keys) - 1)
    if len(parts) != len(keys) or not all(parts):
        raise TargetError(
            f"target {reference!r}: a {kind.value} target is {'/'.join(keys)} (or {'&'.join(f'{k}=...' for k in keys)})"
        )
    return dict(zip(keys, parts, strict=True))


def _label(kind: TargetKind, row: Mapping[str, Any], account_names: Mapping[str, str]) -> str:
    if kind in _ACCOUNT_KINDS:
        return str(row.get("email") or row.get("login") or row.get("display_name") or "")
    if kind == TargetKind.PRIVILEGE:
        who = account_names.get(str(row.get("account_id")), str(row.get("account_id") or ""))
        return f"{row.get('privilege_name') or ''} of {who}".strip()
    if kind == TargetKind.APP_GRANT:
        who = account_names.get(str(row.get("account_id")), "") if row.get("account_id") else "the organization"
        return f"{row.get('client_name') or row.get('client_id') or ''} for {who}".strip()
    if kind == TargetKind.FILE_SHARE:
        return (
            f"{row.get('principal_type') or ''} {row.get('principal_email') or row.get('principal_id') or ''}".strip()
        )
    if kind == TargetKind.FILE:
        return str(row.get("name") or "")
    if kind == TargetKind.GROUP_MEMBERSHIP:
        return f"{account_names.get(str(row.get('account_id')), row.get('account_id'))} in {row.get('group_id')}"
    return ""


def _rows_matching(table: Any, column: str, value: str, *, fold_case: bool = False) -> list[dict[str, Any]]:
    if column not in table.column_names:
        return []
    values = table.column(column)
    mask = pc.equal(pc.utf8_lower(values), value.lower()) if fold_case else pc.equal(values, value)
    return list(table.filter(pc.fill_null(mask, False)).to_pylist())


def resolve_targets(lake: Lake, app: str, instance: str, kind: TargetKind, references: Sequence[str]) -> list[Target]:
    """One Target per reference, from the newest published snapshot of the kind's table. Raises
    TargetError naming every reference that matches no row, or more than one (an email two accounts
    share), and the snapshot searched; duplicates in `references` count once."""
    table_name, keys = TARGET_KEYS[kind]
    table = lake.read_snapshot(table_name, app, instance)
    if table is None:
        raise TargetError(
            f"{app}/{instance}: no {table_name} snapshot in the lake to find targets in; run the instance's "
            f"scan first (saaslens sync {app}/{instance})"
        )
    accounts = table if table_name == "accounts" else lake.read_snapshot("accounts", app, instance)
    account_names: dict[str, str] = {}
    if accounts is not None and kind not in _ACCOUNT_KINDS:
        for row in accounts.select(
            [c for c in ("account_id", "email", "login") if c in accounts.column_names]
        ).to_pylist():
            account_names[str(row["account_id"])] = str(row.get("email") or row.get("login") or row["account_id"])
    files = lake.read_snapshot("files", app, instance) if kind == TargetKind.FILE_SHARE else None
    problems: list[str] = []
    targets: list[Target] = []
    seen: set[tuple[str, ...]] = set()
    for reference in references:
        named = parse_reference(kind, reference)
        candidates = _rows_matching(table, keys[0], named[keys[0]])
        for key in keys[1:]:
            candidates = [row for row in candidates if str(row.get(key)) == named[key]]
        if not candidates and kind in _ACCOUNT_KINDS:
            for alias in _ACCOUNT_ALIASES:
                candidates = _rows_matching(table, alias, named[keys[0]], fold_case=True)
                if candidates:
                    break
        if len(candidates) != 1:
            found = "no" if not candidates else f"{len(candidates)}"
            problems.append(f"{reference!r} ({found} {table_name} rows match)")
            continue
        row = candidates[0]
        identity = tuple(str(row[key]) for key in keys)
        if identity in seen:
            continue
        seen.add(identity)
        if files is not None:
            # A share's file, as scanned: where it lives (a drive, a site) is in the file's raw JSON.
            parents = _rows_matching(files, "file_id", identity[0])
            row["file"] = parents[0] if parents else None
        targets.append(Target(kind, dict(zip(keys, identity, strict=True)), _label(kind, row, account_names), row))
    if problems:
        snapshot = lake.snapshot_ids(table_name, app, instance)[-1]
        raise TargetError(
            f"{app}/{instance}: unknown {kind.value} target(s) {', '.join(problems)} in the {table_name} "
            f"snapshot {snapshot}; name a target by {'/'.join(keys)}"
            + (" (or an account's login or email)" if kind in _ACCOUNT_KINDS else "")
        )
    return targets


def target_id(target: Target) -> str:
    """The target's lake key as one text, parts joined by '/' in TARGET_KEYS order."""
    return "/".join(target.keys[key] for key in TARGET_KEYS[target.kind][1])
