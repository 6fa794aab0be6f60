"""Write, audit, publish: every snapshot is validated with Great Expectations before it becomes
visible. A blocking failure quarantines the staged snapshot with its validation result, keeps
the previous snapshot current and fails the stage with a message naming the table, the
expectation and a sample of offending keys; warnings are recorded beside the published
snapshot and do not block.

Rules come in two kinds (docs/quality.md says which and why):

- BLOCKING: the batch is wrong as a whole and must not become current: a required value missing,
  a duplicate key, a value outside a closed set (the connector's mapping is wrong), a required
  timestamp out of range, or a mass deletion (a listing that suddenly returns nothing, or far
  less than the previous snapshot: what an empty 204 or a truncated listing looks like).
- ROW-LEVEL: one implausible value the provider is known to leave odd (an optional timestamp
  before 1990, Slack's `updated: 0` read as 1970): the value is set to null, counted and kept
  in the quality verdict; the row and the snapshot stand (`null_implausible_values`).

great_expectations is imported only when a batch is validated (it costs seconds and hundreds
of MB), never at DAG-parse time.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from saaslens.lake.schema import (
    ACCOUNT_STATUSES,
    ACCOUNT_TYPES,
    ACTIVITY_CATEGORIES,
    OUTCOMES,
    RUN_STATUSES,
    TABLES,
)
from saaslens.memory import freeze_after_import

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from great_expectations.data_context import EphemeralDataContext

BLOCKING = "blocking"
WARNING = "warning"
ROW_LEVEL = "row-level"  # the value was set to null; the row and the batch stand
SAMPLE_SIZE = 5
# Nothing a SaaS API reports predates 1990; a little ahead of now absorbs clock skew.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST_AHEAD = timedelta(days=2)
# The mass-deletion guard applies from this many rows in the previous snapshot: a table that
# small (a handful of grants or groups) legitimately swings by more than half.
MASS_DELETION_MIN_ROWS = 10

ALLOWED_VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("accounts", "status"): ACCOUNT_STATUSES,
    ("accounts", "account_type"): ACCOUNT_TYPES,
    ("activities", "category"): ACTIVITY_CATEGORIES,
    ("activities", "outcome"): OUTCOMES,
    ("scan_runs", "status"): RUN_STATUSES,
}


class QualityGateFailed(Exception):
    """A batch failed a blocking expectation; it was quarantined, nothing was published."""


@dataclass(frozen=True)
class Finding:
    level: str
    expectation: str
    column: str
    unexpected: int
    sample_keys: list[Any]
    detail: str | None = None  # a sentence of its own, for checks that are not a GX expectation

    def describe(self) -> str:
        if self.detail:
            return self.detail
        return (
            f"{self.expectation} on {self.column}: {self.unexpected} row(s), "
            f"e.g. {', '.join(map(str, self.sample_keys)) or 'n/a'}"
        )


@dataclass
class QualityReport:
    table: str
    rows: int
    findings: list[Finding] = field(default_factory=list)
    gx_result: dict[str, Any] = field(default_factory=dict)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.level == BLOCKING]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]

    @property
    def nulled(self) -> list[Finding]:
        return [f for f in self.findings if f.level == ROW_LEVEL]

    @property
    def success(self) -> bool:
        return not self.blocking

    def summary(self) -> str:
        if not self.findings:
            return f"{self.table}: {self.rows} rows passed every expectation"
        lines = [
            f"{self.table}: {self.rows} rows; {len(self.blocking)} blocking, {len(self.warnings)} warning(s)"
            + (f", {sum(f.unexpected for f in self.nulled)} odd value(s) set to null" if self.nulled else "")
        ]
        lines += [f"- {f.level}: {f.describe()}" for f in self.findings]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rows": self.rows,
            "success": self.success,
            "findings": [f.__dict__ for f in self.findings],
            "great_expectations": self.gx_result,
        }


# GX would otherwise try to send usage analytics; this module is imported only where it validates.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@cache
def _context() -> EphemeralDataContext:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    freeze_after_import()  # GX's modules are most of the process's objects: keep the collector off them
    return context


def _fresh_datasource(context: Any) -> Any:
    """A pandas datasource for one validation, deleted after it. GX's execution engine keeps
    every batch's data and computed metrics for its datasource's life, so one shared datasource
    made a long event scan (a validation per 20,000 events) hold every chunk it ever validated:
    about 2 MB a chunk, over 200 MB at 2M events."""
    return context.data_sources.add_pandas(f"saaslens-{uuid.uuid4().hex}")


def expectations_for(table: str, *, known_accounts: set[str] | None = None) -> list[tuple[str, Any]]:
    """(level, expectation) pairs derived from the canonical schema."""
    import great_expectations as gx

    spec = TABLES[table]
    checks: list[tuple[str, Any]] = []
    for column in spec.columns:
        if column.required:
            checks.append((BLOCKING, gx.expectations.ExpectColumnValuesToNotBeNull(column=column.name)))
        if column.type == "timestamp" and column.required:  # optional ones: null_implausible_values
            checks.append(
                (
                    BLOCKING,
                    gx.expectations.ExpectColumnValuesToBeBetween(
                        column=column.name, min_value=EARLIEST, max_value=datetime.now(UTC) + LATEST_AHEAD
                    ),
                )
            )
        allowed = ALLOWED_VALUES.get((table, column.name))
        if allowed:
            checks.append(
                (BLOCKING, gx.expectations.ExpectColumnValuesToBeInSet(column=column.name, value_set=list(allowed)))
            )
    key = [k for k in spec.key if k in spec.column_names]
    if len(key) == 1:
        checks.append((BLOCKING, gx.expectations.ExpectColumnValuesToBeUnique(column=key[0])))
    elif key:
        checks.append((BLOCKING, gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=key)))
    if table == "group_members" and known_accounts is not None:
        # A member the accounts listing does not know is worth a look (a deleted user still in
        # a group, a nested group), not worth refusing the snapshot.
        checks.append(
            (
                WARNING,
                gx.expectations.ExpectColumnValuesToBeInSet(column="account_id", value_set=sorted(known_accounts)),
            )
        )
    return checks


def _sample_keys(
    frame: pd.DataFrame, table: str, column: str | None, expectation: Any, result: dict[str, Any]
) -> list[Any]:
    key = [k for k in TABLES[table].key if k in frame.columns]
    if column is None or not key:
        return list(result.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]
    kind = type(expectation).__name__
    if kind == "ExpectColumnValuesToNotBeNull":
        rows = frame[frame[column].isna()]
    elif kind == "ExpectColumnValuesToBeUnique":
        rows = frame[frame[column].duplicated(keep=False)]
    else:
        bad = set(map(str, result.get("partial_unexpected_list") or []))
        rows = frame[frame[column].astype(str).isin(bad)]
    return ["/".join(map(str, values)) for values in rows[key].head(SAMPLE_SIZE).itertuples(index=False)]


@cache
def _checked_columns(table: str) -> frozenset[str]:
    """The columns `expectations_for` reads: required, allowed-set and key columns."""
    spec = TABLES[table]
    return frozenset([c.name for c in spec.columns if c.required or (table, c.name) in ALLOWED_VALUES] + list(spec.key))


def validate(table: str, data: pa.Table, *, known_accounts: set[str] | None = None) -> QualityReport:
    """Run the table's expectation suite on a batch (all columns but `raw`)."""
    import great_expectations as gx

    context = _context()
    source = _fresh_datasource(context)
    # Only the columns an expectation reads go to pandas: the free-text ones (raw JSON, user
    # agents, names) are most of a batch's bytes and GX hashes every column it is given.
    needed = _checked_columns(table)
    frame = data.select([c for c in data.column_names if c in needed]).to_pandas()
    name = f"{table}-{id(frame)}"
    asset = source.add_dataframe_asset(name)
    try:
        batch = asset.add_batch_definition_whole_dataframe("batch").get_batch(batch_parameters={"dataframe": frame})
        checks = expectations_for(table, known_accounts=known_accounts)
        for index, (_, expectation) in enumerate(checks):  # GX reports results in its own order
            expectation.meta = {"saaslens_check": index}
        suite = gx.ExpectationSuite(name=name, expectations=[e for _, e in checks])
        result = batch.validate(suite, result_format="SUMMARY")
    finally:
        context.data_sources.delete(source.name)
    report = QualityReport(table=table, rows=data.num_rows, gx_result=result.to_json_dict())
    for outcome in result.results:
        if outcome.success:
            continue
        level, expectation = checks[outcome.expectation_config.meta["saaslens_check"]]
        column = getattr(expectation, "column", None)
        column_name = column or ",".join(getattr(expectation, "column_list", []) or [])
        report.findings.append(
            Finding(
                level=level,
                expectation=type(expectation).__name__,
                column=column_name,
                unexpected=int(outcome.result.get("unexpected_count") or 0),
                sample_keys=_sample_keys(frame, table, column, expectation, outcome.result),
            )
        )
    return report


# -- row-level rules: an odd value is nulled, not the snapshot refused -----------------------------


def _key_samples(data: pa.Table, table: str, mask: Any) -> list[Any]:
    key = [k for k in TABLES[table].key if k in data.column_names]
    if not key:
        return []
    rows = data.select(key).filter(mask).slice(0, SAMPLE_SIZE).to_pylist()
    return ["/".join(str(row[k]) for k in key) for row in rows]


def null_implausible_values(table: str, data: pa.Table) -> tuple[pa.Table, list[Finding]]:
    """Set optional timestamps outside [1990, now + 2 days] to null, with a finding per column
    counting them. Providers write sentinels for "never" or "unknown" (0, the epoch, Google's
    1970-01-01T00:00:00.000Z for a user who never signed in); connectors map the known ones to
    null, and this catches the ones nobody knew yet without hiding the tenant's other rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    findings: list[Finding] = []
    latest = datetime.now(UTC) + LATEST_AHEAD
    for column in TABLES[table].columns:
        if column.type != "timestamp" or column.required or column.name not in data.column_names:
            continue
        values = data.column(column.name)
        if not values.length() or values.null_count == values.length():
            continue
        earliest_scalar = pa.scalar(EARLIEST, values.type)
        latest_scalar = pa.scalar(latest, values.type)
        odd = pc.fill_null(pc.or_(pc.less(values, earliest_scalar), pc.greater(values, latest_scalar)), False)
        count = int(pc.sum(odd).as_py() or 0)
        if not count:
            continue
        samples = _key_samples(data, table, odd)
        detail = (
            f"{column.name} outside {EARLIEST:%Y-%m-%d} .. now + {LATEST_AHEAD.days} days: "
            f"{count} value(s) set to null, e.g. {', '.join(map(str, samples)) or 'n/a'}"
        )
        findings.append(Finding(ROW_LEVEL, "ImplausibleValueNulled", column.name, count, samples, detail))
        index = data.column_names.index(column.name)
        data = data.set_column(index, data.field(index), pc.if_else(odd, pa.scalar(None, values.type), values))
    return data, findings


# -- the mass-deletion guard -------------------------------------------------------------------------


@dataclass(frozen=True)
class ShrinkLimits:
    """How far a snapshot may shrink against the previous one (instance options
    `max_snapshot_shrink` and `allow_empty_snapshots`, see ConnectorOptions)."""

    max_shrink: float = 0.5
    allow_empty: bool = False


def mass_deletion(
    table: str, previous_rows: int | None, rows: int, limits: ShrinkLimits, instance_label: str
) -> Finding | None:
    """A blocking finding when a snapshot listing suddenly lost (nearly) everything. Like
    Cartography's cleanup safety threshold: an empty or truncated answer (a 204, a `null` body, a
    listing cut short) must not be taken for the provider deleting the rows. No previous snapshot,
    or one under MASS_DELETION_MIN_ROWS rows: nothing to compare, nothing refused."""
    if previous_rows is None or previous_rows < MASS_DELETION_MIN_ROWS or rows >= previous_rows:
        return None
    gone = (previous_rows - rows) / previous_rows
    where = f"the {table} snapshot has {rows} rows where the previous one had {previous_rows} rows"
    if rows == 0:
        if limits.allow_empty:
            return None
        detail = (
            f"mass deletion: {where}; refused as an empty answer. If {instance_label} really has no "
            f"{table} now, set the instance option allow_empty_snapshots: true and run the stage again"
        )
    elif gone > limits.max_shrink:
        detail = (
            f"mass deletion: {where} ({gone:.0%} gone, more than max_snapshot_shrink {limits.max_shrink:g}). "
            f"If that is real, raise the instance option max_snapshot_shrink (up to 1.0) for {instance_label} "
            f"and run the stage again"
        )
    else:
        return None
    return Finding(BLOCKING, "MassDeletionGuard", "*", previous_rows - rows, [], detail)
