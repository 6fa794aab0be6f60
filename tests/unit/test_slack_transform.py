"""Slack transforms on recorded payloads (shapes from the Web API description's examples and the
Audit Logs API documentation), plus the connector's error policy and paginators."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from saaslens.connectors.slack import transform
from saaslens.connectors.slack.connector import (
    AccessLogPaginator,
    PageNumberPaginator,
    SlackErrorPolicy,
    slack_bucket,
)
from saaslens.http import (
    ApiClient,
    AuthenticationError,
    FeatureUnavailableError,
    PermissionDeniedError,
    RetryPolicy,
    ThrottledError,
)
from saaslens.http.auth import StaticTokenAuth
from saaslens.http.pagination import BodyCursorPaginator, PageRequest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def test_account_rows():
    spengler, glinda, zoe, bot, slackbot, invited = (
        transform.account_row(u) for u in load("users_list.json")["members"]
    )
    assert spengler["account_id"] == "W012A3CDE" and spengler["login"] == "spengler"
    assert spengler["email"] == "spengler@ghostbusters.example.com"  # lowercased
    assert spengler["display_name"] == "Egon Spengler" and spengler["is_admin"] is True
    assert (spengler["status"], spengler["account_type"], spengler["mfa_enabled"]) == ("active", "member", False)
    assert spengler["updated_at"] == datetime(2017, 8, 7, 20, 44, 46, tzinfo=UTC)
    assert (glinda["status"], glinda["provider_status"]) == ("deprovisioned", "deleted")
    assert glinda["account_type"] == "guest" and glinda["mfa_enabled"] is True and glinda["is_admin"] is False
    assert zoe["display_name"] == "Zoë Ångström" and zoe["is_admin"] is True
    assert zoe["mfa_enabled"] is None  # has_2fa only reaches admins' tokens: unknown, not "off"
    assert bot["account_type"] == "bot" and slackbot["account_type"] == "bot"
    assert (invited["status"], invited["provider_status"]) == ("pending", "invited")
    assert invited["display_name"] is None
    assert json.loads(spengler["raw"])["id"] == "W012A3CDE"


def test_privilege_rows_cover_workspace_and_org_roles():
    spengler, glinda, zoe, *_ = load("users_list.json")["members"]
    assert {r["privilege_id"]: r["scope"] for r in transform.privilege_rows(spengler)} == {
        "admin": "workspace:T012AB3C4",
        "org_admin": "enterprise:E0123ABCDEF",
    }
    assert {r["privilege_name"] for r in transform.privilege_rows(zoe)} == {
        "primary_owner",
        "owner",
        "admin",
        "org_owner",
        "org_admin",
    }
    assert transform.privilege_rows(glinda) == []


def test_group_rows_and_members():
    admins, owners, marketing = (transform.group_row(g) for g in load("usergroups_list.json")["usergroups"])
    assert (admins["group_type"], owners["group_type"], marketing["group_type"]) == ("admin", "owner", "usergroup")
    assert marketing["created_at"] == datetime(2015, 11, 5, 18, 6, 33, tzinfo=UTC)
    assert "users" not in json.loads(marketing["raw"])  # members live in group_members
    assert transform.member_row("S0614TZR7", "W123A4BC5") == {
        "group_id": "S0614TZR7",
        "account_id": "W123A4BC5",
        "member_role": "member",
        "raw": None,
    }


def test_approved_apps_are_org_wide_grants():
    (approved,) = load("approved_apps.json")["approved_apps"]
    row = transform.app_grant_row(approved, "T012AB3C4")
    assert (row["grant_id"], row["client_id"], row["client_name"]) == (
        "T012AB3C4:A0W7UKG8E",
        "A0W7UKG8E",
        "My Test App",
    )
    assert row["scopes"] == ["bot"] and row["account_id"] is None and row["source"] == "admin"
    assert row["created_at"] == datetime(2019, 11, 21, 0, 38, 27, tzinfo=UTC)
    assert transform.app_grant_row(approved, None)["grant_id"] == "A0W7UKG8E"


def test_access_log_rows():
    alice, rabbit = (transform.access_log_row(login) for login in load("access_logs.json")["logins"])
    assert alice["category"] == "logon" and alice["outcome"] == "success"
    assert (alice["actor_id"], alice["actor_login"], alice["ip"], alice["country"]) == (
        "U45678",
        "alice",
        "127.0.0.1",
        "US",
    )
    assert alice["occurred_at"] == datetime(2015, 2, 3, 0, 21, 4, tzinfo=UTC)
    assert alice["user_agent"].startswith("SlackWeb Mozilla/5.0")
    assert alice["event_id"] != rabbit["event_id"]


def test_access_log_event_id_follows_the_aggregate():
    login = load("access_logs.json")["logins"][0]
    same = transform.access_log_event_id(dict(login))
    assert transform.access_log_event_id(login) == same
    # Another login from the same IP and agent moves date_last: a new event, not an overwrite.
    assert transform.access_log_event_id({**login, "date_last": login["date_last"] + 60, "count": 2}) != same


def test_audit_rows():
    login, channel, failed, download, promote, install = (
        transform.audit_row(e) for e in load("audit_logs.json")["entries"]
    )
    assert (login["category"], login["outcome"], login["actor_login"]) == ("logon", "success", "bird@slack.com")
    assert (login["target_id"], login["target_type"], login["ip"]) == ("W123AB456", "user", "1.23.45.678")
    assert login["occurred_at"] == datetime(2018, 3, 16, 15, 32, 23, tzinfo=UTC)
    assert login["country"] is None and login["user_agent"].startswith("Mozilla/5.0")
    assert (channel["category"], channel["target_name"], channel["target_type"]) == ("user", "REDACTED", "channel")
    assert (failed["outcome"], failed["outcome_reason"], failed["user_agent"]) == ("failure", "invalid_password", None)
    assert (download["category"], download["target_name"]) == ("file", "budget.xlsx")
    assert (promote["category"], promote["actor_id"], promote["target_id"]) == ("admin", "W0123OWNER", "W123AB456")
    assert (install["category"], install["target_id"]) == ("app", "A0123APP45")


@pytest.mark.parametrize(
    ("action", "category"),
    [
        ("user_login", "logon"),
        ("user_logout", "logon"),
        ("user_session_reset_by_admin", "logon"),
        ("user_created", "admin"),
        ("role_change_to_owner", "admin"),
        ("guest_created", "admin"),
        ("pref.sso_setting_changed", "admin"),
        ("app_approved", "admin"),
        ("app_scopes_expanded", "app"),
        ("workflow_published", "app"),
        ("file_public_link_created", "file"),
        ("user_channel_join", "user"),
        ("emoji_added", "user"),
    ],
)
def test_audit_categories(action, category):
    assert transform.audit_category(action) == category


def test_file_and_share_rows():
    hosted, shared, gdoc = load("files_list.json")["files"]
    assert transform.file_row(hosted)["visibility"] == "internal"
    assert transform.file_row(shared)["visibility"] == "public"
    assert transform.file_row(gdoc)["visibility"] == "private"
    assert transform.file_row(hosted)["created_at"] == datetime(2018, 7, 16, 17, 47, 34, tzinfo=UTC)
    assert transform.file_row(hosted)["size_bytes"] == 144538
    assert [(r["share_id"], r["principal_type"]) for r in transform.share_rows(hosted)] == [("C0T8SE4AU", "group")]
    shares = {r["share_id"]: r for r in transform.share_rows(shared)}
    assert set(shares) == {"C0T8SE4AU", "C0EXTCONN1", "G0123PRIV1", "D0123DM456", "public_url"}
    assert shares["C0EXTCONN1"]["is_external"] is True and shares["C0T8SE4AU"]["is_external"] is False
    assert shares["D0123DM456"]["principal_type"] == "user"
    assert (shares["public_url"]["principal_type"], shares["public_url"]["is_external"]) == ("anyone", True)
    assert transform.share_rows(gdoc) == []
    external_only = {**shared, "public_url_shared": False}
    assert transform.visibility(external_only) == "external"


def test_buckets_are_methods():
    assert slack_bucket("/users.list") == "users.list"
    assert slack_bucket("/api/team.accessLogs") == "team.accessLogs"
    assert slack_bucket("/audit/v1/logs") == "audit/logs"
    assert slack_bucket("/logs") == "logs"


# -- error policy, on an httpx.MockTransport ----------------------------------------------------


def client_for(handler) -> tuple[ApiClient, list[float]]:
    sleeps: list[float] = []
    client = ApiClient(
        "https://slack.com/api",
        auth=StaticTokenAuth("xoxp-test-token"),
        error_policy=SlackErrorPolicy(),
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        retry=RetryPolicy(max_attempts=3),
    )
    return client, sleeps


MISSING_ADMIN_SCOPE = {"ok": False, "error": "missing_scope", "needed": "admin", "provided": "users:read"}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"ok": False, "error": "invalid_auth"}, 200, AuthenticationError),
        ({"ok": False, "error": "token_revoked"}, 200, AuthenticationError),
        (
            {"ok": False, "error": "missing_scope", "needed": "admin", "provided": "users:read"},
            200,
            PermissionDeniedError,
        ),
        ({"ok": False, "error": "paid_only"}, 200, FeatureUnavailableError),
        ({"ok": False, "error": "not_allowed_token_type"}, 200, FeatureUnavailableError),
        ({"ok": False, "error": "invalid_auth"}, 401, AuthenticationError),
        ({"ok": False, "error": "feature_not_enabled"}, 403, FeatureUnavailableError),
        ({"ok": False, "error": "missing_scope", "needed": "auditlogs:read"}, 403, PermissionDeniedError),
    ],
)
def test_ok_false_and_status_errors_are_typed(body, status, error):
    client, _ = client_for(lambda request: httpx.Response(status, json=body))
    with pytest.raises(error) as raised:
        client.get_json("users.list")
    assert raised.value.provider_code == body["error"]
    if body.get("needed"):
        assert f"needed: {body['needed']}" in str(raised.value)


def test_ratelimited_waits_retry_after_then_succeeds():
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "7"}, json={"ok": False, "error": "ratelimited"}),
            httpx.Response(200, json={"ok": True, "members": []}),
        ]
    )
    client, sleeps = client_for(lambda request: next(answers))
    assert client.get_json("users.list") == {"ok": True, "members": []}
    assert 7 <= sleeps[0] < 8 and client.metrics.throttled == 1


def test_ratelimited_in_a_200_body_is_a_throttle_too():
    client, _ = client_for(lambda request: httpx.Response(200, json={"ok": False, "error": "ratelimited"}))
    with pytest.raises(ThrottledError):
        client.get_json("users.list")


def test_cursor_paging_ends_on_empty_next_cursor():
    pages = {
        None: {"ok": True, "members": [{"id": "W1"}], "response_metadata": {"next_cursor": "dXNlcjpXMg=="}},
        "dXNlcjpXMg==": {"ok": True, "members": [{"id": "W2"}], "response_metadata": {"next_cursor": ""}},
    }
    client, _ = client_for(lambda request: httpx.Response(200, json=pages[request.url.params.get("cursor")]))
    assert [u["id"] for u in client.iter_items("users.list", BodyCursorPaginator("members"), {"limit": 1})] == [
        "W1",
        "W2",
    ]


def _response(payload) -> httpx.Response:
    return httpx.Response(200, json=payload)


def test_page_number_paginator_follows_paging():
    paginator = PageNumberPaginator("files", count=2)
    first = PageRequest(url="https://slack.com/api/files.list", params=paginator.first_params())
    payload = {"files": [{}, {}], "paging": {"count": 2, "total": 3, "page": 1, "pages": 2}}
    following = paginator.next_request(first, _response(payload), payload, payload["files"])
    assert following.params == {"page": 2, "count": 2}
    last = {"files": [{}], "paging": {"count": 2, "total": 3, "page": 2, "pages": 2}}
    assert paginator.next_request(following, _response(last), last, last["files"]) is None


def test_access_log_paginator_reanchors_before_past_page_100_and_stops_at_the_window():
    paginator = AccessLogPaginator(count=2, since=1000)
    current = PageRequest(url="https://slack.com/api/team.accessLogs", params={"before": 5000, "page": 100, "count": 2})
    items = [{"date_last": 4200}, {"date_last": 4100}]
    payload = {"logins": items, "paging": {"count": 2, "total": 900, "page": 100, "pages": 450}}
    following = paginator.next_request(current, _response(payload), payload, items)
    assert following.params == {"before": 4100, "page": 1, "count": 2}
    older = [{"date_last": 1200}, {"date_last": 999}]
    payload = {"logins": older, "paging": {"count": 2, "total": 900, "page": 3, "pages": 450}}
    assert paginator.next_request(following, _response(payload), payload, older) is None
