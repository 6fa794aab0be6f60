"""A provider's "no such time" value means unknown and becomes null in every connector's rows; it
never becomes 1970-01-01 or the year 1 (issue 10, item 15).

Sentinels seen in real responses: Slack's Slackbot has ``"updated": 0`` in users.list; Google's
Directory API gives ``lastLoginTime`` ``1970-01-01T00:00:00.000Z`` to a user who never signed in;
Microsoft Graph serialises an unset DateTimeOffset as ``0001-01-01T00:00:00Z``; empty strings."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from saaslens.connectors.github import transform as github
from saaslens.connectors.google_workspace import transform as google
from saaslens.connectors.microsoft365 import transform as microsoft365
from saaslens.connectors.okta import transform as okta
from saaslens.connectors.slack import transform as slack
from saaslens.lake.writer import Lake
from saaslens.transform_utils import parse_time
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.lake_sync import STAGES, sync

UNKNOWN = [
    0,
    0.0,
    "0",
    "",
    "   ",
    "1970-01-01T00:00:00.000Z",
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:00+00:00",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00.0000000Z",
    "0001-01-01T00:00:00+08:00",
    datetime(1970, 1, 1, tzinfo=UTC),
]


@pytest.mark.parametrize("value", UNKNOWN, ids=repr)
def test_provider_sentinels_parse_as_unknown(value):
    assert parse_time(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)),
        (1544269234, datetime(2018, 12, 8, 11, 40, 34, tzinfo=UTC)),
        ("1544269234", datetime(2018, 12, 8, 11, 40, 34, tzinfo=UTC)),
        (1700000000123, datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)),
        ("2026-11-27T14:40:00.000Z", datetime(2026, 11, 27, 14, 40, tzinfo=UTC)),
        ("0002-01-01T00:00:00Z", datetime(2, 1, 1, tzinfo=UTC)),
    ],
)
def test_real_times_still_parse(value, expected):
    assert parse_time(value) == expected


# Slackbot exactly as a recorded users.list response shows it (ymtszw/zephyr tests/SlackTestData.elm).
SLACKBOT = {
    "id": "USLACKBOT",
    "team_id": "TEP3UKAJH",
    "name": "slackbot",
    "deleted": False,
    "color": "757575",
    "real_name": "slackbot",
    "tz": None,
    "tz_label": "Pacific Standard Time",
    "tz_offset": -28800,
    "profile": {"real_name": "slackbot", "display_name": "slackbot", "always_active": True, "team": "TEP3UKAJH"},
    "is_admin": False,
    "is_owner": False,
    "is_primary_owner": False,
    "is_restricted": False,
    "is_ultra_restricted": False,
    "is_bot": False,
    "is_app_user": False,
    "updated": 0,
}


def test_every_transform_turns_sentinels_into_null():
    assert slack.account_row(SLACKBOT)["updated_at"] is None
    assert slack.account_row(SLACKBOT)["account_type"] == "bot"
    group = {"id": "S1", "name": "g", "handle": "g", "date_create": 0, "date_update": 0, "date_delete": 0}
    assert (slack.group_row(group)["created_at"], slack.group_row(group)["updated_at"]) == (None, None)

    never = {"id": "1", "primaryEmail": "a@x.test", "lastLoginTime": "1970-01-01T00:00:00Z", "creationTime": ""}
    assert google.account_row(never)["last_login_at"] is None
    assert google.account_row(never)["created_at"] is None

    unset = {"id": "u", "createdDateTime": "0001-01-01T00:00:00Z", "signInActivity": {}}
    unset["signInActivity"]["lastSuccessfulSignInDateTime"] = "0001-01-01T00:00:00Z"
    unset["signInActivity"]["lastSignInDateTime"] = "0001-01-01T00:00:00Z"
    row = microsoft365.account_row(unset, set())
    assert (row["created_at"], row["last_login_at"], row["last_login_attempt_at"]) == (None, None, None)

    user = {"id": "00u1", "status": "ACTIVE", "created": "", "lastLogin": "", "lastUpdated": "", "profile": {}}
    row = okta.account_row(user, set())
    assert (row["created_at"], row["last_login_at"], row["updated_at"]) == (None, None, None)

    member = {"id": 1, "login": "octo", "created_at": "", "updated_at": "1970-01-01T00:00:00Z"}
    row = github.account_row(member, "member", None)
    assert (row["created_at"], row["updated_at"]) == (None, None)


@pytest.mark.integration
def test_slack_and_google_syncs_publish_every_account_with_sentinel_times_as_null(tmp_path):
    specs = [
        TenantSpec(app="slack", name="sentinel", seed=61, users=30, options={"anchor": "2026-11-27T12:00:00+00:00"}),
        TenantSpec(
            app="google_workspace", name="sentinel", seed=62, users=40, options={"anchor": "2026-11-27T12:00:00+00:00"}
        ),
    ]
    lake = Lake(tmp_path / "lake")
    with SandboxServer(specs) as server:
        truths = {s.app: server.personality(s.app, s.name).ground_truth() for s in specs}
        for app, truth in truths.items():
            results = sync(server, lake, app, "sentinel", truth, stages=STAGES[app][:2])
            assert {s: r.status for s, r in results.items()} == {"authenticate": "success", "users": "success"}

    slack_truth = truths["slack"]
    slackbot = next(u for u in slack_truth["users"] if u["id"] == "USLACKBOT")
    assert (slackbot["updated"], slackbot["is_bot"]) == (0, False)  # as Slack returns it
    accounts = {a["account_id"]: a for a in lake.read_snapshot("accounts", "slack", "sentinel").to_pylist()}
    assert set(accounts) == {u["id"] for u in slack_truth["users"]}, "the accounts snapshot was not published whole"
    unknown = set(slack_truth["provider_sentinels"]["accounts.updated_at"])
    assert unknown == {"USLACKBOT"}
    for user in slack_truth["users"]:
        expected = None if user["id"] in unknown else datetime.fromtimestamp(user["updated"], UTC)
        assert accounts[user["id"]]["updated_at"] == expected, user["id"]
        assert json.loads(accounts[user["id"]]["raw"]) == user

    google_truth = truths["google_workspace"]
    never = set(google_truth["provider_sentinels"]["accounts.last_login_at"])
    assert never, "the Google sandbox generated no user who never signed in"
    rows = {a["account_id"]: a for a in lake.read_snapshot("accounts", "google_workspace", "sentinel").to_pylist()}
    assert set(rows) == {u["id"] for u in google_truth["users"]}
    for user in google_truth["users"]:
        if user["id"] in never:
            assert user["lastLoginTime"] == "1970-01-01T00:00:00.000Z"
            assert rows[user["id"]]["last_login_at"] is None
        else:
            assert rows[user["id"]]["last_login_at"] == datetime.fromisoformat(user["lastLoginTime"])
