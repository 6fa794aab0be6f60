"""What the report shows, read from the catalog views: instance freshness, account summaries, the
chart series and the findings (only through saaslens.findings)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from saaslens.findings import Finding, resolve_params, run_finding, with_suggested_actions
from saaslens.http.redaction import redact
from saaslens.reports.freshness import InstanceFreshness, StageRun, judge_stage, stale_after
from saaslens.vocabulary import STAGE_TABLES

if TYPE_CHECKING:
    import duckdb

    from saaslens.config import ConnectedApps

SIGNIN_DAYS = 30
SEVERITY_ORDER = ("high", "medium", "low", "info")
# Columns a report never carries: the provider's raw JSON, and anything named like a credential.
_DROPPED_COLUMN = re.compile(
    r"(?i)(^raw$|_raw$|^raw_|secret|password|credential|private_key|access_token|refresh_token)"
)
# An RE2 prefilter that matches wherever saaslens.http.redaction's credential patterns could
# (an auth scheme followed by a token, `secret=`-style pairs, PEM keys, Slack/GitHub tokens, JWTs);
# only matching values go through the full (Python) redactor, so large findings stay fast.
_CREDENTIAL_HINT = (
    r"(?i)(\b(ssws|bearer|basic|token)\s+[a-z0-9._~+/=-]{8}|(access_token|refresh_token|id_token|client_secret|"
    r"assertion|password|api_?key|secret|sig|signature)[\"']?\s*[=:]|-----BEGIN|xox[abposr]-|gh[pousr]_|eyJ)"
)
_STAGE_OF_TABLE = {table: str(stage) for stage, tables in STAGE_TABLES.items() for table in tables}
# The catalog's derived views, by the canonical table they are built on.
_STAGE_OF_TABLE.update({"identities": "users", "identity_keys": "users", "activities_normalized": "activities"})


@dataclass
class FindingResult:
    finding: Finding
    params: dict[str, Any]
    table: pa.Table | None
    error: str | None
    stages: set[str]
    affected: list[tuple[InstanceFreshness, list[Any]]] = field(default_factory=list)
    covered: list[str] = field(default_factory=list)  # enabled instances whose connector has a stage it reads
    notes: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return 0 if self.table is None else self.table.num_rows


@dataclass
class ReportData:
    report_date: date
    generated_at: datetime
    lake_root: str
    instances: list[InstanceFreshness]
    accounts: dict[tuple[str, str], dict[str, int]]
    admins: dict[tuple[str, str], int]
    mfa_unknown: dict[tuple[str, str], tuple[int, int]]  # admins with mfa null, admins
    charts: dict[str, dict[str, Any]]
    findings: list[FindingResult]
    config_note: str | None = None
    # Content inspection per instance: status -> files, from each file's newest scan; and when it ran.
    content: dict[tuple[str, str], ContentCoverage] = field(default_factory=dict)
    posture: PostureSummary | None = None


@dataclass
class PostureSummary:
    """Security posture for the report (posture_current, posture_changes; docs/posture.md)."""

    # (app, instance) -> effective status -> rules
    instances: dict[tuple[str, str], dict[str, int]]
    # baseline family (MS.AAD, GWS.DRIVEDOCS, CIS GitHub ...) -> effective status -> rule results
    baselines: dict[str, dict[str, int]]
    current: pa.Table  # every instance's newest result per rule, effective status included
    changes: pa.Table  # state changes since `changes_since`, with the admin events that explain them
    changes_since: datetime

    @staticmethod
    def score(counts: dict[str, int]) -> float | None:
        """Share of evaluated rules that pass, muted and not evaluated left out: a rule nobody could
        check counts neither for nor against; None when none was evaluated."""
        evaluated = counts.get("pass", 0) + counts.get("fail", 0)
        return None if not evaluated else counts.get("pass", 0) / evaluated

    @property
    def failing(self) -> pa.Table:
        return self.current.filter(pc.equal(self.current.column("effective_status"), "fail"))


_BASELINE_ID = re.compile(r"\b([A-Z]+\.[A-Z]+)\.\d")
_TRAILING_NUMBERS = re.compile(r"(\s+[\w.()-]*\d[\w.()-]*)+$")


def baseline_family(baseline: str) -> str:
    """The baseline a rule's mapping belongs to: a CISA SCuBA id anywhere in it by its product
    section ("CISA SCuBA MS.AAD.3.1v1" -> MS.AAD, "... GWS.DRIVEDOCS.1.1v1" -> GWS.DRIVEDOCS), a
    cited guide by the part before its colon ("GitHub docs: Best practices ..." -> GitHub docs), and
    anything else without its trailing numbers ("DISA Okta IDaaS STIG V-273193" -> DISA Okta IDaaS
    STIG, "NIST SP 800-53 IA-5(1)" -> NIST SP)."""
    text = baseline.strip()
    match = _BASELINE_ID.search(text)
    if match:
        return match.group(1)
    if ":" in text:
        return text.split(":", 1)[0].strip()
    return _TRAILING_NUMBERS.sub("", text).strip() or text


def posture_summary(con: duckdb.DuckDBPyConnection, since: datetime) -> PostureSummary | None:
    """The posture section's data; None when no instance has posture results yet."""
    current = con.sql(
        """
        select app, instance, rule_id, title, severity, effective_status, status, reason, detail, baselines,
               evaluated_at, settings_snapshot_at, mute_reason, mute_expires
        from posture_current order by app, instance, rule_id
        """
    ).to_arrow_table()
    if not current.num_rows:
        return None
    instances: dict[tuple[str, str], dict[str, int]] = {}
    baselines: dict[str, dict[str, int]] = defaultdict(dict)
    for row in current.select(["app", "instance", "effective_status", "baselines"]).to_pylist():
        counts = instances.setdefault((row["app"], row["instance"]), {})
        counts[row["effective_status"]] = counts.get(row["effective_status"], 0) + 1
        for family in sorted({baseline_family(b) for b in row["baselines"] or []}):
            bucket = baselines[family]
            bucket[row["effective_status"]] = bucket.get(row["effective_status"], 0) + 1
    changes = con.sql(
        """
        select app, instance, rule_id, title, severity, previous_status, status, evaluated_at,
               event_id, occurred_at, action, actor_login, target_name
        from posture_changes where evaluated_at > $since order by evaluated_at desc, app, instance, rule_id
        """,
        params={"since": since},
    ).to_arrow_table()
    return PostureSummary(instances, dict(baselines), current, changes, since)


@dataclass
class ContentCoverage:
    statuses: dict[str, int]
    last_scan: datetime | None
    files_breaking_policies: int
    listed_files: int


def content_coverage(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], ContentCoverage]:
    """What content inspection has read of each instance's files (file_scans_latest), how many of its
    listed files have no scan yet, and how many break a policy."""
    found: dict[tuple[str, str], ContentCoverage] = {}
    for app, instance, status, files, last in _rows(
        con,
        """
        select app, instance, status, count(*), max(scanned_at)
        from file_scans_latest group by all order by all
        """,
    ):
        item = found.setdefault((app, instance), ContentCoverage({}, None, 0, 0))
        item.statuses[status] = int(files)
        moment = _utc(last) if last is not None else None
        item.last_scan = max(filter(None, (item.last_scan, moment)), default=None)
    for app, instance, listed, unscanned, breaking in _rows(
        con,
        """
        select f.app, f.instance, count(*),
               count(*) filter (where s.file_id is null),
               count(distinct d.file_id)
        from files as f
        left join file_scans_latest as s using (app, instance, file_id)
        left join dlp_findings as d using (app, instance, file_id)
        where (f.app, f.instance) in (select (app, instance) from file_scans_latest)
        group by all
        """,
    ):
        item = found[(app, instance)]
        item.listed_files = int(listed)
        item.files_breaking_policies = int(breaking)
        if unscanned:
            item.statuses["not scanned yet"] = int(unscanned)
    return found


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    return con.execute(sql, params or {}).fetchall()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def latest_runs(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict[str, StageRun]]:
    rows = _rows(
        con,
        """
        select app, instance, stage, status, ended_at, records, error,
               max(ended_at) filter (where status = 'success') over (partition by app, instance, stage)
        from scan_runs
        qualify row_number() over (partition by app, instance, stage order by ended_at desc, attempt desc) = 1
        """,
    )
    runs: dict[tuple[str, str], dict[str, StageRun]] = defaultdict(dict)
    for app, instance, stage, status, ended_at, records, error, last_success in rows:
        runs[(app, instance)][stage] = StageRun(
            stage,
            status,
            _utc(ended_at),
            records,
            redact(error) if error else None,
            _utc(last_success) if last_success else None,
        )
    return runs


def instance_freshness(
    con: duckdb.DuckDBPyConnection, apps: ConnectedApps | None, now: datetime, override: timedelta | None
) -> list[InstanceFreshness]:
    from saaslens.connectors import registry

    runs = latest_runs(con)
    seen = {(app, inst) for app, inst in _rows(con, "select distinct app, instance from accounts")}
    configured = {(i.app, i.name): i for i in (apps.instances if apps else [])}
    result = []
    for key in sorted(set(configured) | set(runs) | seen):
        app, name = key
        config = configured.get(key)
        schedule = config.schedule if config else None
        try:
            expected = [str(stage) for stage in registry.app_spec(app).stage_names]
        except (KeyError, registry.ConnectorLoadError):  # no connector (or a broken plug-in): the stages it ran
            expected = sorted(runs.get(key, {}))
        item = InstanceFreshness(
            app,
            name,
            schedule,
            stale_after(schedule, override),
            configured=config is not None,
            enabled=config.enabled if config else True,
        )
        for stage in expected:
            item.stages[stage] = judge_stage(stage, runs.get(key, {}).get(stage), now, item.stale_after)
        result.append(item)
    return result


def account_summary(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[tuple[str, str], dict[str, int]], dict[tuple[str, str], int], dict[tuple[str, str], tuple[int, int]]]:
    by_status: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    admins: dict[tuple[str, str], int] = defaultdict(int)
    mfa: dict[tuple[str, str], tuple[int, int]] = {}
    for app, inst, status, count, admin_count in _rows(
        con, "select app, instance, status, count(*), count(*) filter (where is_admin) from accounts group by all"
    ):
        by_status[(app, inst)][status] = count
        admins[(app, inst)] += admin_count
    for app, inst, unknown, total in _rows(
        con,
        "select app, instance, count(*) filter (where mfa_enabled is null), count(*) "
        "from accounts where is_admin group by all",
    ):
        mfa[(app, inst)] = (unknown, total)
    return dict(by_status), dict(admins), mfa


def chart_series(con: duckdb.DuckDBPyConnection, now: datetime) -> dict[str, dict[str, Any]]:
    status = _rows(con, "select app || '/' || instance, status, count(*) from accounts group by all order by 1")
    admins = _rows(
        con,
        "select app || '/' || instance, snapshot_at, count(*) filter (where is_admin) "
        "from accounts_history group by all order by 1, 2",
    )
    since = now - timedelta(days=SIGNIN_DAYS)
    failures = _rows(
        con,
        """
        select cast(timezone('UTC', occurred_at) as date) as day, app, count(*)
        from activities
        where category = 'logon' and outcome = 'failure' and occurred_at > $since and occurred_at <= $until
        group by all
        """,
        {"since": since, "until": now},
    )
    sharing = _rows(
        con,
        "select app || '/' || instance, coalesce(visibility, 'unknown'), count(*) from files group by all order by 1",
    )
    first_day = (since + timedelta(days=1)).date()
    return {
        "status": {"rows": sorted({r[0] for r in status}), "values": {(r[0], r[1]): r[2] for r in status}},
        "admins": {"series": _group_series(admins)},
        "signins": {
            "days": [first_day + timedelta(days=i) for i in range(SIGNIN_DAYS)],
            "apps": sorted({r[1] for r in failures}),
            "values": {(r[0], r[1]): r[2] for r in failures},
        },
        "sharing": {"rows": sorted({r[0] for r in sharing}), "values": {(r[0], r[1]): r[2] for r in sharing}},
    }


def _group_series(rows: list[tuple[Any, ...]]) -> dict[str, list[tuple[datetime, float]]]:
    series: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for name, moment, value in rows:
        series[name].append((_utc(moment), value))
    return dict(series)


def stages_read_by(finding: Finding) -> set[str]:
    """The stages whose tables a finding's SQL reads; all stages if it names none we know."""
    sql = re.sub(r"--[^\n]*|'(?:[^']|'')*'", " ", finding.sql).lower()
    stages = {_STAGE_OF_TABLE[name] for name in _STAGE_OF_TABLE if re.search(rf"\b{name}(_history|_as_of)?\b", sql)}
    return stages or {str(stage) for stage in STAGE_TABLES}


def safe_table(table: pa.Table) -> pa.Table:
    """Drop raw/credential-named columns and mask credential-shaped text in what is left."""
    keep = [name for name in table.column_names if not _DROPPED_COLUMN.search(name)]
    table = table.select(keep)
    for index, column_field in enumerate(table.schema):
        if pa.types.is_string(column_field.type) or pa.types.is_large_string(column_field.type):
            table = table.set_column(index, column_field, _redact_strings(table.column(index)))
    return table


def _redact_strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    hits = pc.match_substring_regex(column, _CREDENTIAL_HINT)
    if not pc.any(hits).as_py():
        return column
    values = column.to_pylist()
    flags = hits.to_pylist()
    masked = [redact(v) if f else v for v, f in zip(values, flags, strict=True)]
    return pa.chunked_array([pa.array(masked, column.type)])


def run_findings(
    con: duckdb.DuckDBPyConnection,
    findings: list[Finding],
    instances: list[InstanceFreshness],
    now: datetime,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> list[FindingResult]:
    results = []
    for finding in sorted(findings, key=lambda f: (SEVERITY_ORDER.index(f.severity), f.id)):
        given = dict((overrides or {}).get(finding.id, {}))
        if "as_of" in finding.params and "as_of" not in given:
            given["as_of"] = now.isoformat()  # one moment for the whole report
        stages = stages_read_by(finding)
        try:
            params = resolve_params(finding, given)
            table: pa.Table | None = with_suggested_actions(finding, safe_table(run_finding(con, finding, given)))
            error = None
        except Exception as exc:  # a broken finding is shown as broken, never as "no rows"
            params, table, error = given, None, redact(str(exc))
        result = FindingResult(finding, params, table, error, stages)
        for item in instances:
            if not item.enabled or not stages & set(item.stages):
                continue
            result.covered.append(item.label)
            problems = item.problems(stages)
            if problems:
                result.affected.append((item, problems))
        results.append(result)
    return results
