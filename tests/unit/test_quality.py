from __future__ import annotations

from datetime import UTC, datetime

from saaslens.lake.quality import null_implausible_values, validate
from saaslens.lake.writer import to_arrow

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def account(account_id, status="active", created=NOW):
    return {
        "app": "okta",
        "instance": "a",
        "snapshot_id": "s",
        "snapshot_at": NOW,
        "account_id": account_id,
        "status": status,
        "account_type": "member",
        "is_admin": False,
        "created_at": created,
    }


def test_a_clean_batch_passes():
    report = validate("accounts", to_arrow("accounts", [account("u1"), account("u2")]))
    assert report.success and not report.findings


def test_blocking_findings_name_the_expectation_and_sample_keys():
    rows = [
        account("u1"),
        account("u2", "migrating"),
        account("u3"),
        account("u3", "suspended"),
    ]
    report = validate("accounts", to_arrow("accounts", rows))
    found = {f.expectation: f for f in report.blocking}
    assert found["ExpectColumnValuesToBeInSet"].sample_keys == ["u2"]
    assert found["ExpectColumnValuesToBeUnique"].sample_keys == ["u3", "u3"]
    assert "accounts" in report.summary() and "u2" in report.summary()
    assert report.as_dict()["great_expectations"]["success"] is False


def test_unknown_group_member_is_only_a_warning():
    member = {
        "app": "okta",
        "instance": "a",
        "snapshot_id": "s",
        "snapshot_at": NOW,
        "group_id": "g1",
        "account_id": "ghost",
    }
    report = validate("group_members", to_arrow("group_members", [member]), known_accounts={"u1"})
    assert report.success
    assert report.warnings[0].sample_keys == ["g1/ghost"]


def test_event_batches_are_audited_before_anything_is_stored(tmp_path):
    import pytest

    from saaslens.config import InstanceConfig
    from saaslens.lake.quality import QualityGateFailed
    from saaslens.lake.writer import Lake
    from saaslens.runner import RunContext, StageRunner

    lake = Lake(tmp_path)
    runner = StageRunner(
        InstanceConfig(app="okta", name="a", conn_id="c"),
        "activities",
        RunContext(run_id="r", snapshot_id="20261101T000000000000Z"),
        lake,
    )
    writer = lake.event_writer("activities", "okta", "a", "r")
    audit = runner.gate.event_audit(writer)

    def event(event_id, category="logon", action="user.session.start"):
        return {"event_id": event_id, "occurred_at": NOW, "category": category, "action": action, "outcome": "success"}

    # The same event on two pages is harmless and dropped.
    assert writer.write([event("e1"), event("e1"), event("e2")], audit=audit) == 2
    # A different event reusing an id, and an unknown category, refuse the whole batch.
    with pytest.raises(QualityGateFailed) as info:
        writer.write(
            [event("e3"), event("e4", action="other"), event("e4"), event("e5", category="weird")], audit=audit
        )
    assert "ExpectColumnValuesToBeUnique on event_id" in str(info.value) and "e4" in str(info.value)
    assert "ExpectColumnValuesToBeInSet on category" in str(info.value) and "e5" in str(info.value)
    assert sorted(lake.read_events("activities", "okta", "a").column("event_id").to_pylist()) == ["e1", "e2"]
    (quarantined,) = (tmp_path / "_quarantine" / "activities").glob("app=okta/instance=a/batch-*")
    assert (quarantined / "events.parquet").exists() and (quarantined / "validation.json").exists()
    # Nothing of the refused batch counts as stored: a corrected retry writes e3 and e4.
    assert writer.write([event("e3"), event("e4")], audit=audit) == 2


def test_an_implausible_optional_timestamp_is_nulled_not_blocking():
    """Issue 10, item 15: one odd value (Slack's `updated: 0` became 1970-01-01) must not hide the
    whole tenant: the value becomes null, counted; the rest of the row and the batch stand."""
    rows = [account("u1"), account("u2", created=datetime(1970, 1, 1, tzinfo=UTC)), account("u3")]
    data, nulled = null_implausible_values("accounts", to_arrow("accounts", rows))
    assert [n.describe() for n in nulled] == [
        "created_at outside 1990-01-01 .. now + 2 days: 1 value(s) set to null, e.g. u2"
    ]
    assert data.column("created_at").to_pylist() == [NOW, None, NOW]
    assert data.column("account_id").to_pylist() == ["u1", "u2", "u3"]
    assert validate("accounts", data).success


def test_a_required_timestamp_out_of_range_still_blocks():
    from saaslens.lake.quality import BLOCKING

    report = validate(
        "accounts", to_arrow("accounts", [{**account("u1"), "snapshot_at": datetime(1970, 1, 2, tzinfo=UTC)}])
    )
    assert [(f.level, f.column) for f in report.findings] == [(BLOCKING, "snapshot_at")]
