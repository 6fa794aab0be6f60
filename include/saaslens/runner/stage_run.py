"""Run one stage of one instance: the code behind every Airflow task and `saaslens sync`.

A stage reads through its connector, stages rows into the lake, publishes atomically, records a
scan_runs row, and returns a small JSON-able summary (safe for XCom: counts, never credentials).
This module checks the stage may run, hands it to snapshots.py or activities.py, maps what went
wrong to skipped / credentials rejected / failed, and writes the run's scan_runs row.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from saaslens import connections
from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors import registry
from saaslens.connectors.base import Connector, HttpContext, StageAccess
from saaslens.connectors.kit import ActivityStage, SnapshotStage, action_access
from saaslens.http import AuthenticationError, PermissionDeniedError, RunMetrics
from saaslens.http.errors import ApiError, FeatureUnavailableError
from saaslens.http.redaction import redact
from saaslens.lake.writer import Lake
from saaslens.memory import long_lived_objects_frozen, release_freed_memory
from saaslens.posture import evaluate as posture
from saaslens.runner.activities import ActivityJob, run_activities
from saaslens.runner.gate import QualityGate
from saaslens.runner.scope import CredentialsRejected, RunContext, StageFailed, StageScope, StageSkipped
from saaslens.runner.snapshots import SnapshotJob, run_snapshot_stage
from saaslens.runner.state import ScanState
from saaslens.vocabulary import STAGE_ORDER, Stage

log = logging.getLogger(__name__)

__all__ = ["StageResult", "StageRunner", "run_stage"]


def _failure_text(exc: BaseException) -> str:
    """What failed, for the run record. A lookup error raised inside a connector's code (a
    `transform.py` or `connector.py` reading provider data) means the provider sent a field of a
    shape its API does not document: the HTTP layer checks pages and items, fields inside an item
    are the connector's to read. Named as a malformed answer, with where it was met."""
    text = redact(str(exc))
    if isinstance(exc, AttributeError | TypeError | KeyError):
        frames = traceback.extract_tb(exc.__traceback__)
        inner = frames[-1] if frames else None
        if inner is not None and "/saaslens/connectors/" in inner.filename.replace("\\", "/"):
            where = inner.filename.replace("\\", "/").split("/saaslens/connectors/")[-1]
            return (
                f"MalformedResponseError: provider data of an unexpected shape reached {where}:{inner.name} "
                f"line {inner.lineno} ({text}); the provider's answer does not match its documented format"
            )
    return f"{type(exc).__name__}: {text}"


@dataclass
class StageResult:
    instance: str
    stage: str
    status: str
    records: int = 0
    snapshot_id: str | None = None
    detail: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Outcome:
    """How a stage run ended, for its scan_runs row and its caller."""

    status: str = "failed"
    detail: str | None = None
    records: int = 0
    error: BaseException | None = None  # raised to the caller after the row is written


class StageRunner:
    def __init__(
        self,
        instance: InstanceConfig,
        stage: str,
        ctx: RunContext,
        lake: Lake,
        *,
        connection: ConnectionInfo | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if stage not in STAGE_ORDER:
            raise ValueError(f"unknown stage {stage!r} (stages: {', '.join(STAGE_ORDER)})")
        self.instance = instance
        self.stage = stage
        self.ctx = ctx
        self.lake = lake
        self.scope = StageScope(instance.app, instance.name, stage, ctx, lake)
        self.gate = QualityGate(self.scope)
        self.state = ScanState(lake, instance.app, instance.name)
        self.label = self.scope.label
        self._connection = connection
        self._transport = transport
        self.spec = registry.app_spec(instance.app)
        self.connector_class = self.spec.connector
        if stage not in self.spec.stage_names:
            raise StageSkipped(f"{self.label}: {self.connector_class.title} has no {stage} stage")

    @property
    def metrics(self) -> RunMetrics:
        return self.scope.metrics

    @property
    def scan_mode(self) -> str | None:
        return self.scope.scan_mode

    def _connector(self) -> Connector:
        connection = self._connection or connections.resolve(
            self.instance.conn_id, instance_label=self.label, inside_airflow=self.ctx.inside_airflow
        )
        return self.connector_class(self.instance.options, connection, HttpContext(self.metrics, self._transport))

    def _permission_check(self) -> None:
        """A stage authenticate found denied is skipped without a request (the reason is kept)."""
        if self.stage == "authenticate":
            return
        permissions = self.lake.read_snapshot("instance_permissions", self.instance.app, self.instance.name)
        if permissions is None:
            return  # never authenticated: try, and let a denial speak for itself
        for row in permissions.to_pylist():
            if row["kind"] == "stage" and row["name"] == self.stage and not row["granted"]:
                raise StageSkipped(f"{self.label}: {self.stage} skipped: {row['detail']}")

    def _authenticate(self, connector: Connector) -> tuple[int, str]:
        report = connector.authenticate()
        for stage in self.spec.stage_names:
            if stage != "authenticate":
                report.stages.setdefault(stage, StageAccess(True, "not probed"))
        rows = report.rows() + self._action_rows()
        with self.scope.snapshot_writer("instance_permissions") as writer:
            writer.write(rows)
            writer.publish()
        denied = [f"{s} ({a.reason})" for s, a in report.stages.items() if not a.allowed]
        detail = f"{report.identity}; " + (f"denied: {', '.join(denied)}" if denied else "all stages allowed")
        return writer.rows_written, detail

    def _action_rows(self) -> list[dict[str, Any]]:
        """What the instance's action connection may do, one row per declared action, found with
        read calls only. Without an action connection actions are disabled, and the rows say so;
        a connection that fails to authenticate does not fail the scan: its rows carry the error."""
        actions = self.spec.actions
        if not actions:
            return []
        conn_id = self.instance.actions_conn_id
        if not conn_id:
            reason = "disabled: the instance has no actions_conn_id"
            return [{"kind": "action", "name": a.name, "granted": False, "detail": reason} for a in actions]
        try:
            connection = connections.resolve(conn_id, instance_label=self.label, inside_airflow=self.ctx.inside_airflow)
            connector = self.connector_class(
                self.instance.options, connection, HttpContext(self.metrics, self._transport)
            )
            try:
                access = action_access(actions, connector.authenticate())
            finally:
                connector.close()
        except (connections.ConnectionNotFoundError, ApiError) as exc:
            reason = redact(f"unknown: the action connection {conn_id!r} could not be checked: {exc}")
            return [{"kind": "action", "name": a.name, "granted": None, "detail": reason} for a in actions]
        return [
            {
                "kind": "action",
                "name": a.action,
                "granted": a.granted,
                "detail": f"{a.access}: {a.permission} ({a.detail})",
            }
            for a in access
        ]

    def _dispatch(self, connector: Connector) -> tuple[int, str]:
        if self.stage == "authenticate":
            return self._authenticate(connector)
        spec = self.spec.stage(self.stage)
        if isinstance(spec, ActivityStage):
            run_tag = f"{self.ctx.snapshot_id}-{self.ctx.attempt}"
            writer = self.lake.event_writer("activities", self.instance.app, self.instance.name, run_tag)
            return run_activities(ActivityJob(self.scope, spec, connector, self.gate, self.state, writer))
        if isinstance(spec, SnapshotStage):
            return run_snapshot_stage(SnapshotJob(self.scope, spec, connector, self.gate, self.state))
        raise ValueError(f"{self.label}: {self.stage} is declared as neither a snapshot nor an activity stage")

    def _run_stage(self) -> tuple[int, str]:
        self._permission_check()
        connector = self._connector()
        try:
            with long_lived_objects_frozen():
                records, detail = self._dispatch(connector)
            if self.gate.notes:
                detail = f"{detail}; quality gate: {'; '.join(self.gate.notes)}"
            return records, detail
        finally:
            connector.close()
            release_freed_memory()

    def _outcome(self, exc: Exception) -> _Outcome:
        """What a stage that raised amounts to: skipped (not a failure), credentials rejected
        (retrying cannot help) or failed (retried by Airflow). Messages are redacted."""
        if isinstance(exc, StageSkipped):
            return _Outcome("skipped", str(exc))
        if isinstance(exc, PermissionDeniedError | FeatureUnavailableError):
            return _Outcome("skipped", f"{self.label}: {self.stage} skipped: {redact(str(exc))}")
        if isinstance(exc, AuthenticationError):
            detail = f"{self.label}: credentials rejected: {redact(str(exc))}"
            return _Outcome(detail=detail, error=CredentialsRejected(detail))
        if isinstance(exc, connections.ConnectionNotFoundError | connections.ConnectionInvalidError):
            detail = f"{self.label}: {redact(str(exc))}"
            return _Outcome(detail=detail, error=CredentialsRejected(detail))
        detail = f"{self.label}: {self.stage} failed: {_failure_text(exc)}"
        return _Outcome(detail=detail, error=StageFailed(detail))

    def _record(self, outcome: _Outcome, started: datetime) -> None:
        """The run's scan_runs row, written whatever happened."""
        success = outcome.status == "success"
        metrics = self.metrics
        self.lake.append_run(
            {
                "app": self.instance.app,
                "instance": self.instance.name,
                "run_id": self.ctx.run_id,
                "stage": self.stage,
                "attempt": self.ctx.attempt,
                "started_at": started,
                "ended_at": datetime.now(UTC),
                "status": outcome.status,
                "snapshot_id": self.ctx.snapshot_id if success and self.stage != "activities" else None,
                "scan_mode": self.scan_mode,
                "records": outcome.records,
                "requests": metrics.requests,
                "retries": metrics.retries,
                "throttled": metrics.throttled,
                "bytes": metrics.bytes,
                "pacing_wait_seconds": round(metrics.pacing_wait_seconds, 3),
                "error": None if success else outcome.detail,
            }
        )

    def _evaluate_posture(self, outcome: _Outcome) -> str | None:
        """The posture rules over the snapshot just published, or, when the stage was skipped, over
        none (each rule then says why it is not evaluated). A failed stage evaluates nothing: its
        retry will, and the newest results stay those of the last snapshot read."""
        skipped = (outcome.detail or "settings stage skipped") if outcome.status == "skipped" else None
        rows = posture.evaluate_instance(
            self.lake, self.instance.app, self.instance.name, self.ctx.snapshot_id, no_snapshot_reason=skipped
        )
        if not rows:
            return outcome.detail
        return f"{outcome.detail}; {posture.summary(rows)}" if outcome.detail else posture.summary(rows)

    def run(self) -> StageResult:
        started = datetime.now(UTC)
        clock = time.monotonic()
        outcome = _Outcome()
        try:
            records, detail = self._run_stage()
            outcome = _Outcome("success", detail, records)
        except Exception as exc:
            outcome = self._outcome(exc)
        finally:
            if outcome.status != "success":
                outcome.records = int(self.metrics.records)  # what was stored before it stopped
            self._record(outcome, started)
        if self.stage == Stage.SETTINGS and outcome.status in ("success", "skipped"):
            outcome.detail = self._evaluate_posture(outcome)
        log.info(
            "%s %s: %s in %.1fs (%s)",
            self.label,
            self.stage,
            outcome.status,
            time.monotonic() - clock,
            outcome.detail or "",
        )
        if outcome.error is not None:
            raise outcome.error from None
        return StageResult(
            self.label,
            self.stage,
            outcome.status,
            outcome.records,
            self.ctx.snapshot_id if outcome.status == "success" else None,
            outcome.detail,
            self.metrics.as_dict(),
        )


def run_stage(instance: InstanceConfig, stage: str, ctx: RunContext, lake: Lake, **kwargs: Any) -> StageResult:
    try:
        runner = StageRunner(instance, stage, ctx, lake, **kwargs)
    except StageSkipped as exc:
        return StageResult(f"{instance.app}/{instance.name}", stage, "skipped", detail=str(exc))
    return runner.run()
