"""Evaluate an instance's posture rules against its newest settings snapshot into posture_results.

Each rule is pass, fail or not evaluated, never passed on missing data:

- no settings snapshot (the settings stage was skipped, failed or never ran): not evaluated, with
  why (the stage's skip reason, e.g. the scope the credentials lack);
- a setting the rule reads is not in the snapshot, or was not available (denied, unlicensed, not
  exposed, failed): not evaluated with that setting's status and reason;
- the rule's query answers null: not evaluated, "the settings do not say" (with its detail).

The rules run in an in-memory DuckDB over the snapshot's rows only: a rule cannot read another
instance's settings, or anything else in the lake.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from saaslens.lake.schema import POSTURE_STATUSES
from saaslens.lake.writer import Lake, snapshot_time
from saaslens.posture.mutes import Mute, load_mutes, mute_for
from saaslens.posture.rules import Rule, RuleError, load_rules

log = logging.getLogger(__name__)

TABLE = "posture_results"
_DETAIL_LIMIT = 500

# Why a setting was not evaluated, in the words the readers use (docs/posture.md).
_STATUS_REASON = {
    "denied": "permission missing",
    "unlicensed": "licence missing",
    "not_exposed": "not exposed by the API",
    "failed": "could not be read",
}


@dataclass(frozen=True)
class SettingsSnapshot:
    snapshot_id: str
    snapshot_at: datetime
    rows: list[dict[str, Any]]

    @classmethod
    def newest(cls, lake: Lake, app: str, instance: str) -> SettingsSnapshot | None:
        ids = lake.snapshot_ids("settings", app, instance)
        table = lake.read_snapshot("settings", app, instance, ids[-1]) if ids else None
        if table is None:
            return None
        return cls(
            ids[-1], snapshot_time(ids[-1]), table.select(["setting_id", "status", "value", "reason"]).to_pylist()
        )


def _connection(rows: Sequence[dict[str, Any]]) -> Any:
    import duckdb
    import pyarrow as pa

    con = duckdb.connect(":memory:")
    settings_table = pa.table(
        {
            "setting_id": [r["setting_id"] for r in rows],
            "status": [r["status"] for r in rows],
            "value": [r["value"] for r in rows],
        }
    )
    con.register("settings_rows", settings_table)
    con.execute(
        "create macro setting(id) as "
        "(select value::json from settings_rows where setting_id = id and status = 'available')"
    )
    con.execute(
        "create macro setting_items(id) as table "
        "select unnest(from_json(value, '[\"json\"]')) as item from settings_rows "
        "where setting_id = id and status = 'available'"
    )
    return con


def _run_rule(con: Any, rule: Rule) -> tuple[bool | None, str | None]:
    import duckdb

    try:
        result = con.sql(rule.sql)
    except duckdb.Error as exc:
        raise RuleError(f"{rule.path}: the query fails: {exc}") from None
    columns = [c.lower() for c in result.columns]
    if "passed" not in columns:
        raise RuleError(f"{rule.path}: the query must return a column named passed (it returns {', '.join(columns)})")
    try:
        rows = result.fetchall()
    except duckdb.Error as exc:
        # A value of an unexpected type (a cast that fails) is the provider's answer not matching
        # what the rule expects: not evaluated, named, rather than a failed scan.
        return None, f"the rule could not read the settings: {str(exc).splitlines()[0]}"
    if len(rows) != 1:
        raise RuleError(f"{rule.path}: the query must return exactly one row (it returned {len(rows)})")
    row = dict(zip(columns, rows[0], strict=True))
    passed = row["passed"]
    if passed is not None and not isinstance(passed, bool):
        raise RuleError(f"{rule.path}: passed must be a boolean (it is {type(passed).__name__})")
    detail = row.get("detail")
    return passed, None if detail is None else str(detail)[:_DETAIL_LIMIT]


def evaluate_rules(
    rules: Sequence[Rule], snapshot: SettingsSnapshot | None, no_snapshot_reason: str | None = None
) -> list[dict[str, Any]]:
    """Each rule's status, reason and detail against `snapshot` (pure: no lake, no config)."""
    results: list[dict[str, Any]] = []
    if snapshot is None:
        reason = no_snapshot_reason or "stage never run: the instance has no settings snapshot yet"
        return [{"rule": r, "status": "not_evaluated", "reason": reason, "detail": None} for r in rules]
    by_id = {row["setting_id"]: row for row in snapshot.rows}
    con = _connection(snapshot.rows)
    try:
        for rule in rules:
            missing = [s for s in rule.settings if s not in by_id]
            unavailable = [by_id[s] for s in rule.settings if s in by_id and by_id[s]["status"] != "available"]
            if missing:
                reason = f"not exposed by the API: the settings snapshot has no {', '.join(missing)}"
                results.append({"rule": rule, "status": "not_evaluated", "reason": reason, "detail": None})
                continue
            if unavailable:
                first = unavailable[0]
                why = _STATUS_REASON.get(first["status"], first["status"])
                reason = f"{why}: {first['setting_id']}" + (f" ({first['reason']})" if first["reason"] else "")
                results.append({"rule": rule, "status": "not_evaluated", "reason": reason, "detail": None})
                continue
            passed, detail = _run_rule(con, rule)
            if passed is None:
                reason = "the settings do not say" + (f": {detail}" if detail else "")
                results.append({"rule": rule, "status": "not_evaluated", "reason": reason, "detail": detail})
            else:
                results.append({"rule": rule, "status": "pass" if passed else "fail", "reason": None, "detail": detail})
    finally:
        con.close()
    return results


def result_rows(
    app: str,
    instance: str,
    evaluation_id: str,
    evaluated_at: datetime,
    snapshot: SettingsSnapshot | None,
    results: Sequence[dict[str, Any]],
    mutes: Sequence[Mute],
) -> list[dict[str, Any]]:
    rows = []
    for result in results:
        rule: Rule = result["rule"]
        mute = mute_for(mutes, rule.id, instance)
        rows.append(
            {
                "app": app,
                "instance": instance,
                "rule_id": rule.id,
                "evaluation_id": evaluation_id,
                "evaluated_at": evaluated_at,
                "settings_snapshot_id": snapshot.snapshot_id if snapshot else None,
                "settings_snapshot_at": snapshot.snapshot_at if snapshot else None,
                "title": rule.title,
                "severity": rule.severity,
                "status": result["status"],
                "reason": result["reason"],
                "detail": result["detail"],
                "baselines": list(rule.baselines),
                "settings_read": list(rule.settings),
                "change_events": list(rule.events),
                "muted": mute is not None,
                "mute_reason": mute.reason if mute else None,
                "mute_expires": mute.ends_at if mute else None,
            }
        )
    return rows


def evaluate_instance(
    lake: Lake, app: str, instance: str, evaluation_id: str, *, no_snapshot_reason: str | None = None
) -> list[dict[str, Any]]:
    """Evaluate every rule of `app` and store the results as one posture_results file per
    evaluation (a retry of the same run replaces it): against the instance's newest settings
    snapshot, or, given `no_snapshot_reason` (the settings stage was skipped), against none, so an
    older snapshot read with a scope since taken away never passes a rule now."""
    rules = load_rules(app)
    if not rules:
        return []
    mutes = load_mutes(known_rules=[r.id for r in load_rules()])
    snapshot = None if no_snapshot_reason else SettingsSnapshot.newest(lake, app, instance)
    results = evaluate_rules(rules, snapshot, no_snapshot_reason)
    rows = result_rows(app, instance, evaluation_id, datetime.now(UTC), snapshot, results, mutes)
    lake.write_posture_results(app, instance, evaluation_id, rows)
    log.info("%s/%s %s", app, instance, summary(rows))
    return rows


def summary(rows: Sequence[dict[str, Any]]) -> str:
    counts = {status: sum(1 for r in rows if r["status"] == status) for status in POSTURE_STATUSES}
    muted = sum(1 for r in rows if r["muted"])
    text = f"posture: {counts['pass']} pass, {counts['fail']} fail, {counts['not_evaluated']} not evaluated"
    return text + (f" ({muted} muted)" if muted else "")
