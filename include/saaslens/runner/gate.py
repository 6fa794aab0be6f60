"""The quality gate as a stage run applies it (docs/quality.md): every staged snapshot and every
activities batch is validated before anything of it becomes visible; odd values become null and
are counted in the run's detail; a failing snapshot or batch is quarantined, and the previous
snapshot (or the stream's cursor) stays where it was."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from saaslens.lake.quality import (
    Finding,
    QualityGateFailed,
    ShrinkLimits,
    mass_deletion,
    null_implausible_values,
    validate,
)
from saaslens.lake.writer import EventWriter, SnapshotWriter
from saaslens.runner.scope import StageScope

log = logging.getLogger(__name__)

SnapshotAudit = Callable[[pa.Table], dict[str, Any]]
EventAudit = Callable[[pa.Table], pa.Table]


@dataclass
class QualityGate:
    scope: StageScope
    limits: ShrinkLimits = field(default_factory=ShrinkLimits)  # the instance's mass-deletion limits
    notes: list[str] = field(default_factory=list)  # odd values set to null, for the run's detail

    def null_implausible(self, table: str, data: pa.Table, *, note: bool = True) -> tuple[pa.Table, list[Finding]]:
        """The gate's row-level rules: odd values become null, counted and logged."""
        data, nulled = null_implausible_values(table, data)
        if note:
            for finding in nulled:
                log.warning("%s: %s: %s", self.scope.label, table, finding.describe())
                self.notes.append(f"{table}.{finding.column}: {finding.unexpected} value(s) set to null")
        return data, nulled

    def snapshot_audit(self, table: str, writer: SnapshotWriter) -> SnapshotAudit:
        """The gate for one staged snapshot (write, audit, publish); returns the verdict published
        with it as quality.json."""
        scope = self.scope

        def audit(data: pa.Table) -> dict[str, Any]:
            data, nulled = self.null_implausible(table, data)
            if nulled:
                writer.rewrite_parts(lambda part: self.null_implausible(table, part, note=False)[0])
            known = None
            if table == "group_members":
                accounts = scope.lake.read_snapshot("accounts", scope.app, scope.instance)
                known = set(accounts.column("account_id").to_pylist()) if accounts is not None else None
            report = validate(table, data, known_accounts=known)
            report.findings += nulled
            previous = [s for s in scope.lake.snapshot_ids(table, scope.app, scope.instance) if s != scope.snapshot_id]
            shrink = mass_deletion(
                table,
                scope.lake.snapshot_rows(table, scope.app, scope.instance, previous[-1]) if previous else None,
                data.num_rows,
                self.limits,
                scope.label,
            )
            if shrink is not None:
                report.findings.append(shrink)
            if not report.success:
                where = writer.quarantine(report.as_dict(), report.summary())
                raise QualityGateFailed(
                    f"the {table} snapshot failed the quality gate and was quarantined in {where}; the previous "
                    f"snapshot stays current.\n{report.summary()}"
                )
            if report.warnings:
                log.warning("%s: %s", scope.label, report.summary())
            return {
                "summary": report.summary(),
                "warnings": [f.describe() for f in report.warnings],
                "nulled": [{"column": f.column, "rows": f.unexpected, "sample_keys": f.sample_keys} for f in nulled],
            }

        return audit

    def event_audit(self, writer: EventWriter) -> EventAudit:
        """The gate for one activities batch, before any of it is stored."""

        def audit(data: pa.Table) -> pa.Table:
            data, _ = self.null_implausible("activities", data)
            report = validate("activities", data)
            if not report.success:
                where = writer.quarantine(data, report.as_dict(), report.summary())
                raise QualityGateFailed(
                    f"an activities batch failed the quality gate and was quarantined in {where}; the stream's "
                    f"cursor stays before it.\n{report.summary()}"
                )
            return data

        return audit
