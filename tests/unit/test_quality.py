from __future__ import annotations

from datetime import UTC, datetime

from saaslens.lake.quality import validate
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
        account("u4", created=datetime(1970, 1, 2, tzinfo=UTC)),
    ]
    report = validate("accounts", to_arrow("accounts", rows))
    found = {f.expectation: f for f in report.blocking}
    assert found["ExpectColumnValuesToBeInSet"].sample_keys == ["u2"]
    assert found["ExpectColumnValuesToBeUnique"].sample_keys == ["u3", "u3"]
    assert found["ExpectColumnValuesToBeBetween"].column == "created_at"
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
