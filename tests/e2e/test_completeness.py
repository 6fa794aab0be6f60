"""Late events against the live Okta sandbox, and the activity_completeness table that shows them.

Okta's System Log delivers some events late; the sandbox's `advance` publishes events `late_seconds`
in the past that become visible only `visible_after_seconds` from now (a delay of their sum).
With the stream's lag L and lookback K:
- delayed up to L: the first pass that covers them sees them all (no re-scan adds anything);
- delayed beyond L but within K: the first pass misses them, the next scan's lookback finds them,
  and activity_completeness shows them as late arrivals of the window they belong to;
- delayed beyond K: no scan reads that far back again, so they are missed, and the table cannot
  know it (docs/completeness.md says how a full re-read finds them).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from saaslens.catalog.build import build_catalog
from saaslens.config import InstanceConfig
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec
from tests.e2e.test_incremental_snapshots import okta_connection

pytestmark = pytest.mark.integration
LAG, LOOKBACK = 4, 30


def test_late_events_within_lag_never_missed_beyond_it_counted_beyond_lookback_missed(tmp_path):
    anchor = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
    spec = TenantSpec(
        app="okta",
        name="late",
        seed=41,
        users=40,
        options={"anchor": anchor.isoformat(), "log_events": 300},
        rate_limits=RateLimitConfig(enabled=False),
    )
    options = {"activities_lag_seconds": LAG, "activities_lookback_seconds": LOOKBACK, "activities_initial_days": 1}
    inst = InstanceConfig(app="okta", name="late", conn_id="okta_late", options=options)
    lake = Lake(tmp_path / "lake")
    with SandboxServer([spec]) as server:
        okta = server.personality("okta", "late")
        conn = okta_connection(server, "late")

        def scan() -> None:
            moment = datetime.now(UTC)
            ctx = RunContext(run_id=f"scan-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
            assert run_stage(inst, "activities", ctx, lake, connection=conn).status == "success"

        reach = datetime.now(UTC) - timedelta(days=1)  # the first scan's reach (activities_initial_days)

        def missing() -> set[str]:
            events = okta.ground_truth()["log_events"]
            truth = {e["uuid"] for e in events if datetime.fromisoformat(e["published"].replace("Z", "+00:00")) > reach}
            stored = lake.read_events("activities", "okta", "late").column("event_id").to_pylist()
            assert len(stored) == len(set(stored)), "duplicated events"
            return truth - set(stored)

        okta.advance({})
        scan()  # the initial window
        assert not missing()

        # Delayed up to the lag: published 3 s ago, visible at once; the next window covers them.
        okta.advance({"events": 40, "late_events": 20, "late_seconds": LAG - 1, "visible_after_seconds": 0})
        time.sleep(LAG + 0.5)
        scan()
        assert not missing()

        # Delayed beyond the lag: published 8 s ago, visible in 3 s. The scan now misses them...
        time.sleep(LAG + 1)
        okta.advance({"late_events": 15, "late_seconds": 2 * LAG, "visible_after_seconds": 3})
        scan()
        assert len(missing()) == 15
        time.sleep(3.5)
        scan()  # ...the next one's lookback finds them
        assert not missing()

        # Delayed beyond the lookback: nothing reads that far back again.
        okta.advance({"late_events": 7, "late_seconds": 4 * LOOKBACK, "visible_after_seconds": 0})
        scan()
        assert len(missing()) == 7

    with duckdb.connect(str(build_catalog(lake.root)), read_only=True) as con:
        rows = con.sql(
            "select window_start, window_end, pass, events_added from activity_completeness "
            "where app = 'okta' and instance = 'late' order by scanned_at, window_start, pass"
        ).fetchall()
    first = [r for r in rows if r[2] == "first"]
    rescans = [r for r in rows if r[2] == "rescan"]
    assert len(first) == 5
    # Windows 1-2: nothing arrived late. Window 3 (the one the 15 belong to): its re-scan added 15.
    late_by_window = {}
    for start, end, _, added in rescans:
        late_by_window[(start, end)] = late_by_window.get((start, end), 0) + added
    window3 = (first[2][0], first[2][1])
    assert late_by_window.get(window3) == 15, rows
    assert sum(late_by_window.values()) == 15, rows
    # Every event the lake holds is counted once, in a first pass or as a late arrival.
    stored = lake.read_events("activities", "okta", "late").num_rows
    assert sum(r[3] for r in first) + 15 == stored
    print("completeness:", [(str(r[0])[11:19], str(r[1])[11:19], r[2], r[3]) for r in rows])
