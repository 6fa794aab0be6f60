"""What every part of a stage run shares: the run it belongs to, the instance and stage, where it
writes, its metrics, and the ways a stage ends other than with success."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from saaslens.http import RunMetrics
from saaslens.lake.writer import Lake, SnapshotWriter, snapshot_id_for


class StageSkipped(Exception):
    """The stage cannot run with these credentials or this plan; not a failure."""


class CredentialsRejected(Exception):
    """The provider rejected the credentials: retrying cannot help, so the task fails at once."""


class StageFailed(Exception):
    """Anything else; retried by Airflow. The message names the instance and stage."""


@dataclass
class RunContext:
    run_id: str
    snapshot_id: str
    attempt: int = 1
    inside_airflow: bool = False
    progress: Callable[[str, int, RunMetrics], None] | None = None

    @classmethod
    def for_cli(cls) -> RunContext:
        now = datetime.now(UTC)
        return cls(run_id=f"cli-{now:%Y%m%dT%H%M%S}", snapshot_id=snapshot_id_for(now))


@dataclass
class StageScope:
    """One stage of one instance in one run, as the snapshot and activity code sees it."""

    app: str
    instance: str
    stage: str
    ctx: RunContext
    lake: Lake
    metrics: RunMetrics = field(default_factory=RunMetrics)
    scan_mode: str | None = None  # full, incremental or resumed, for snapshot stages (scan_runs)

    @property
    def label(self) -> str:
        return f"{self.app}/{self.instance}"

    @property
    def snapshot_id(self) -> str:
        return self.ctx.snapshot_id

    def progress(self, records: int) -> None:
        self.metrics.add(records=records)
        if self.ctx.progress:
            self.ctx.progress(self.stage, int(self.metrics.records), self.metrics)

    def snapshot_writer(self, table: str, *, resumable: bool = False) -> SnapshotWriter:
        return self.lake.snapshot_writer(table, self.app, self.instance, self.ctx.snapshot_id, resumable=resumable)
