"""Write, audit, publish: every snapshot is validated with Great Expectations before it becomes
visible. A blocking failure quarantines the staged snapshot with its validation result, keeps
the previous snapshot current and fails the stage with a message naming the table, the
expectation and a sample of offending keys; warnings are recorded beside the published
snapshot and do not block.

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

from saaslens.memory import freeze_after_import
from saaslens.lake.schema import (
    ACCOUNT_STATUSES,
    ACCOUNT_TYPES,
    ACTIVITY_CATEGORIES,
    OUTCOMES,
    RUN_STATUSES,
    TABLES,
)

if TYPE_CHECKING:
    import pyarrow as pa

BLOCKING = "blocking"
WARNING = "warning"
SAMPLE_SIZE = 5
# Nothing a SaaS API reports predates 1990; a little ahead of now absorbs clock skew.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)

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

    def describe(self) -> str:
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
    def success(self) -> bool:
        return not self.blocking

    def summary(self) -> str:
        if not self.findings:
            return f"{self.table}: {self.rows} rows passed every expectation"
        lines = [f"{self.table}: {self.rows} rows; {len(self.blocking)} blocking, {len(self.warnings)} warning(s)"]
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
def _context():
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
        if column.type == "timestamp":
            checks.append(
                (
                    BLOCKING,
                    gx.expectations.ExpectColumnValuesToBeBetween(
                        column=column.name, min_value=EARLIEST, max_value=datetime.now(UTC) + timedelta(days=2)
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


def _sample_keys(frame, table: str, column: str | None, expectation: Any, result: dict[str, Any]) -> list[Any]:
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
    """The columns `expectations_for` reads: required, timestamp, allowed-set and key columns."""
    spec = TABLES[table]
    return frozenset(
        [c.name for c in spec.columns if c.required or c.type == "timestamp" or (table, c.name) in ALLOWED_VALUES]
        + list(spec.key)
    )


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
