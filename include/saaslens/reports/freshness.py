"""Is an instance's data current? Each stage's latest scan run decides.

An empty finding means "nothing found" only when the instance's data is current. So every stage
the instance's connector has is judged from its newest scan_runs row: failed, skipped (the
credentials may not read it), stale (older than the instance's stale-after), never run, or ok.
Stale-after defaults to twice the instance's schedule interval (a missed run is tolerated, two
are not), or 48 hours when the instance has no schedule or one we cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

DEFAULT_STALE_AFTER = timedelta(hours=48)

# Airflow's schedule presets (cron aliases) and their intervals.
PRESET_INTERVALS = {
    "@hourly": timedelta(hours=1),
    "@daily": timedelta(days=1),
    "@midnight": timedelta(days=1),
    "@weekly": timedelta(weeks=1),
    "@monthly": timedelta(days=31),
    "@quarterly": timedelta(days=92),
    "@yearly": timedelta(days=366),
    "@annually": timedelta(days=366),
}

# Ordered worst first: an instance shows its worst stage state.
STATE_ORDER = ("failed", "never_run", "stale", "skipped", "ok")
NOT_CURRENT = frozenset({"failed", "never_run", "stale"})
STATE_LABELS = {
    "failed": "last scan failed",
    "never_run": "never scanned",
    "stale": "stale",
    "skipped": "not collected",
    "ok": "current",
}


def schedule_interval(schedule: str | None) -> timedelta | None:
    """The longest gap between runs of an Airflow schedule (preset or cron), or None if it has none."""
    if not schedule or schedule in ("@once", "@continuous", "None"):
        return None
    if schedule in PRESET_INTERVALS:
        return PRESET_INTERVALS[schedule]
    try:
        from croniter import croniter  # Airflow's own dependency for cron schedules
    except ImportError:  # pragma: no cover - Airflow is installed wherever saaslens runs
        return None
    if not croniter.is_valid(schedule):
        return None
    # The longest gap over two weeks of runs: "0 9 * * 1-5" runs daily but skips the weekend.
    moments = croniter(schedule, datetime(2026, 1, 5, tzinfo=UTC))
    previous = moments.get_next(datetime)
    longest = timedelta(0)
    limit = previous + timedelta(days=15)
    for _ in range(2000):
        current = moments.get_next(datetime)
        longest = max(longest, current - previous)
        if current > limit:
            break
        previous = current
    return longest or None


def stale_after(schedule: str | None, override: timedelta | None = None) -> timedelta:
    if override is not None:
        return override
    interval = schedule_interval(schedule)
    return 2 * interval if interval else DEFAULT_STALE_AFTER


@dataclass(frozen=True)
class StageRun:
    stage: str
    status: str  # success | failed | skipped, as scan_runs records it
    ended_at: datetime
    records: int | None = None
    error: str | None = None
    last_success_at: datetime | None = None


@dataclass(frozen=True)
class StageState:
    stage: str
    state: str  # one of STATE_ORDER
    run: StageRun | None
    detail: str


@dataclass
class InstanceFreshness:
    app: str
    instance: str
    schedule: str | None
    stale_after: timedelta
    configured: bool
    enabled: bool
    stages: dict[str, StageState] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.app}/{self.instance}"

    @property
    def state(self) -> str:
        if not self.stages:
            return "never_run"
        return min((s.state for s in self.stages.values()), key=STATE_ORDER.index)

    @property
    def current(self) -> bool:
        return self.state not in NOT_CURRENT

    def problems(self, stages: set[str] | None = None) -> list[StageState]:
        """Stages (optionally only `stages`) whose data is missing, old or partial."""
        return [s for s in self.stages.values() if s.state != "ok" and (stages is None or s.stage in stages)]


def judge_stage(stage: str, run: StageRun | None, now: datetime, limit: timedelta) -> StageState:
    if run is None:
        return StageState(stage, "never_run", None, "no scan run recorded")
    age = now - run.ended_at
    if run.status == "failed":
        since = f"; last success {run.last_success_at:%Y-%m-%d %H:%M} UTC" if run.last_success_at else ""
        return StageState(stage, "failed", run, f"failed {_ago(age)} ago: {run.error or 'no message'}{since}")
    if run.status == "skipped":
        return StageState(stage, "skipped", run, f"skipped {_ago(age)} ago: {run.error or 'no reason given'}")
    if age > limit:
        return StageState(stage, "stale", run, f"last success {_ago(age)} ago (stale after {_ago(limit)})")
    return StageState(stage, "ok", run, f"{_ago(age)} ago")


def _ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
