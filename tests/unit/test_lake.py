from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saaslens.catalog.build import build_catalog, connect
from saaslens.lake.writer import Lake, LakeError, StateStore, snapshot_id_for


def account(i: int, status: str = "active") -> dict:
    return {
        "account_id": f"u{i}",
        "login": f"u{i}@x.test",
        "status": status,
        "account_type": "member",
        "is_admin": False,
    }


def sid(minutes: int) -> str:
    return snapshot_id_for(datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=minutes))


def test_snapshot_is_invisible_until_published_and_failure_keeps_previous(tmp_path):
    lake = Lake(tmp_path)
    with lake.snapshot_writer("accounts", "okta", "a", sid(0)) as w:
        w.write([account(1), account(2)])
        w.publish()
    with pytest.raises(RuntimeError), lake.snapshot_writer("accounts", "okta", "a", sid(1)) as w:
        w.write([account(3)])
        assert lake.snapshot_ids("accounts", "okta", "a") == [sid(0)]  # staged, not visible
        raise RuntimeError("scan died")
    assert lake.snapshot_ids("accounts", "okta", "a") == [sid(0)]
    assert not list((tmp_path / "_staging").iterdir())
    build_catalog(tmp_path)
    with connect(tmp_path) as con:
        assert con.execute("select count(*) from accounts").fetchone()[0] == 2


def test_republishing_same_snapshot_is_idempotent(tmp_path):
    lake = Lake(tmp_path)
    for _ in range(2):
        with lake.snapshot_writer("accounts", "okta", "a", sid(0)) as w:
            w.write([account(1), account(2), account(1)])  # the duplicate is dropped
            w.publish()
    assert lake.read_snapshot("accounts", "okta", "a").num_rows == 2


def test_current_view_history_and_as_of(tmp_path):
    lake = Lake(tmp_path)
    for minute, rows in ((0, [account(1)]), (10, [account(1), account(2, "suspended")])):
        with lake.snapshot_writer("accounts", "okta", "a", sid(minute)) as w:
            w.write(rows)
            w.publish()
    with lake.snapshot_writer("accounts", "okta", "b", sid(5)) as w:
        w.publish()  # an empty snapshot is current too
    build_catalog(tmp_path)
    with connect(tmp_path) as con:
        assert con.execute("select count(*) from accounts").fetchone()[0] == 2
        assert con.execute("select count(*) from accounts_history").fetchone()[0] == 3
        as_of = con.execute("select count(*) from accounts_as_of(timestamptz '2026-11-01 00:05:00+00')").fetchone()
        assert as_of[0] == 1
    # a snapshot published after the catalog was built shows up without a rebuild
    with lake.snapshot_writer("accounts", "okta", "a", sid(20)) as w:
        w.write([account(9)])
        w.publish()
    with connect(tmp_path) as con:
        assert con.execute("select account_id from accounts where instance='a'").fetchall() == [("u9",)]


def test_schema_mismatch_names_the_table(tmp_path):
    lake = Lake(tmp_path)
    with (
        pytest.raises(LakeError, match="accounts"),
        lake.snapshot_writer("accounts", "okta", "a", sid(0)) as w,
    ):
        w.write([{**account(1), "is_admin": "not-a-bool"}])


def test_event_writer_dedupes_across_writers_and_batches(tmp_path):
    lake = Lake(tmp_path)
    t = datetime(2026, 11, 1, 23, 59, tzinfo=UTC)

    def event(i, delta=0):
        return {
            "event_id": f"e{i}",
            "occurred_at": t + timedelta(minutes=delta),
            "category": "logon",
            "action": "user.session.start",
            "outcome": "success",
        }

    w1 = lake.event_writer("activities", "okta", "a", "run1")
    assert w1.write([event(1), event(2, 5), event(1)]) == 2  # e2 lands on the next day
    w2 = lake.event_writer("activities", "okta", "a", "run2")
    assert w2.write([event(1), event(2, 5), event(3)]) == 1
    assert w2.duplicates_dropped == 2
    stored = lake.read_events("activities", "okta", "a")
    assert sorted(stored.column("event_id").to_pylist()) == ["e1", "e2", "e3"]
    assert sorted(set(stored.column("event_date").to_pylist())) == ["2026-11-01", "2026-11-02"]


def test_state_store_round_trip_and_corruption_message(tmp_path):
    store = StateStore(Lake(tmp_path))
    assert store.get("okta", "a", "activities") is None
    store.put("okta", "a", "activities", {"high_water": "2026-11-01T00:00:00+00:00"})
    assert store.get("okta", "a", "activities")["high_water"].startswith("2026-11-01")
    (tmp_path / "_state" / "okta" / "a" / "activities.json").write_text("{broken")
    with pytest.raises(LakeError, match="corrupt"):
        store.get("okta", "a", "activities")
