"""The Slack sandbox personality: determinism, pagination, auth failures, plans, throttling."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest

from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec
from saaslens_sandbox.slack import SlackPersonality
from saaslens_sandbox.slack.generator import SlackSandboxOptions, SlackTenant

ANCHOR = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OWNER = {"Authorization": "Bearer xoxp-sandbox-acme-owner"}
NOAUDIT = {"Authorization": "Bearer xoxp-sandbox-acme-noaudit"}
BOT = {"Authorization": "Bearer xoxb-sandbox-acme-bot"}


def spec(name: str = "acme", users: int = 120, seed: int = 7, **options) -> TenantSpec:
    return TenantSpec(
        app="slack",
        name=name,
        users=users,
        seed=seed,
        options={"anchor": ANCHOR.isoformat(), **options},
        rate_limits=RateLimitConfig(enabled=False),
    )


@contextmanager
def serving(*specs: TenantSpec) -> Iterator[tuple[httpx.Client, SandboxServer]]:
    with SandboxServer(list(specs)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client, server


@pytest.fixture(scope="module")
def acme():
    with serving(spec()) as (client, server):
        yield client, server.personality("slack", "acme")


def call(client: httpx.Client, method: str, headers=OWNER, **params):
    return client.get(f"/slack/acme/{method}", params=params, headers=headers)


# -- generation -----------------------------------------------------------------------------


def test_same_inputs_same_tenant_and_seed_changes_it():
    first = SlackPersonality(spec(), "/slack/acme").ground_truth()
    again = SlackPersonality(spec(), "/slack/acme").ground_truth()
    other = SlackPersonality(spec(seed=8), "/slack/acme").ground_truth()
    assert first == again
    assert {u["id"] for u in first["users"]} != {u["id"] for u in other["users"]}


def test_events_fill_the_history_window_and_match_the_requested_total():
    truth = SlackPersonality(spec(events=900, history_days=3), "/slack/acme").ground_truth()
    anchor = int(ANCHOR.timestamp())
    assert len(truth["audit_logs"]) + len(truth["access_logs"]) == 900
    assert len(truth["access_logs"]) == 180  # the default 20 % share
    assert all(anchor - 3 * 86400 <= e["date_create"] <= anchor for e in truth["audit_logs"])
    assert all(anchor - 3 * 86400 <= e["date_first"] <= e["date_last"] <= anchor for e in truth["access_logs"])
    assert len({e["id"] for e in truth["audit_logs"]}) == len(truth["audit_logs"])


def test_tenant_has_every_kind_of_account():
    users = SlackPersonality(spec(users=400), "/slack/acme").ground_truth()["users"]
    assert any(u.get("is_primary_owner") for u in users) and any(u.get("is_admin") for u in users)
    assert any(u.get("deleted") for u in users) and any(u.get("is_restricted") for u in users)
    assert any(u.get("is_ultra_restricted") for u in users) and any(u.get("is_bot") for u in users)
    assert any(u.get("is_invited_user") for u in users) and any(u["id"] == "USLACKBOT" for u in users)


def test_generation_is_fast_at_benchmark_size():
    started = time.perf_counter()
    tenant = SlackTenant(name="bench", seed=1, users=10_000, options=SlackSandboxOptions(events=200_000), anchor=ANCHOR)
    elapsed = time.perf_counter() - started
    assert tenant.audit_count + len(tenant.access_logs) == 200_000
    assert elapsed < 7.5, f"generation took {elapsed:.1f}s"


def test_options_are_validated():
    with pytest.raises(ValueError, match="plan"):
        SlackPersonality.validate_options({"plan": "platinum"})
    with pytest.raises(ValueError, match="unknown_option"):
        SlackPersonality.validate_options({"unknown_option": 1})


# -- Web API: auth, scopes, errors ------------------------------------------------------------


def test_auth_test_and_scope_headers(acme):
    client, personality = acme
    response = call(client, "auth.test")
    body = response.json()
    assert body["ok"] is True and body["team_id"] == personality.tenant.team_id
    assert body["user_id"] == personality.tenant.token_users["xoxp-sandbox-acme-owner"].id
    assert "auditlogs:read" in response.headers["x-oauth-scopes"].split(",")
    assert call(client, "auth.test", headers=BOT).json()["bot_id"].startswith("B")


@pytest.mark.parametrize(
    ("headers", "code"), [({}, "not_authed"), ({"Authorization": "Bearer xoxp-nope"}, "invalid_auth")]
)
def test_bad_credentials_are_200_ok_false(acme, headers, code):
    client, _ = acme
    response = call(client, "users.list", headers=headers, limit=1)
    assert response.status_code == 200 and response.json() == {"ok": False, "error": code}


def test_token_argument_is_accepted_too(acme):
    client, _ = acme
    response = client.post("/slack/acme/auth.test", data={"token": "xoxp-sandbox-acme-owner"})
    assert response.json()["ok"] is True


def test_missing_scope_names_needed_and_provided(acme):
    client, _ = acme
    body = call(client, "team.accessLogs", headers=NOAUDIT).json()
    assert body["error"] == "missing_scope" and body["needed"] == "admin"
    assert "users:read" in body["provided"].split(",")
    assert call(client, "team.accessLogs", headers=BOT).json()["error"] == "missing_scope"


def test_unknown_method_and_foreign_team(acme):
    client, _ = acme
    assert call(client, "chat.nothing").json() == {"ok": False, "error": "unknown_method"}
    assert call(client, "users.list", limit=1, team_id="T0OTHER01").json()["error"] == "team_access_not_granted"


def test_emails_need_users_read_email_and_2fa_needs_an_admin(acme):
    client, _ = acme
    members = call(client, "users.list", headers=BOT, limit=200).json()["members"]
    humans = [m for m in members if not m["is_bot"] and m["id"] != "USLACKBOT"]
    assert all("email" not in m["profile"] and "has_2fa" not in m for m in humans)
    members = call(client, "users.list", limit=200).json()["members"]
    assert all(
        "email" in m["profile"] and "has_2fa" in m for m in members if not m["is_bot"] and m["id"] != "USLACKBOT"
    )


# -- Web API: pagination ----------------------------------------------------------------------


def test_users_list_cursor_walk_returns_everyone_once(acme):
    client, personality = acme
    seen, cursor = [], None
    while True:
        body = call(client, "users.list", limit=7, **({"cursor": cursor} if cursor else {})).json()
        assert len(body["members"]) <= 7
        seen += [m["id"] for m in body["members"]]
        cursor = body["response_metadata"]["next_cursor"]
        if not cursor:
            break
        assert base64.b64decode(cursor).decode().startswith("user:")
    assert seen == [u["id"] for u in personality.ground_truth()["users"]]


def test_users_list_bad_cursor_and_missing_limit_on_a_large_team(acme):
    client, _ = acme
    assert call(client, "users.list", cursor="bm9wZQ==").json()["error"] == "invalid_cursor"
    with serving(spec(name="big", users=1200)) as (big, _):
        response = big.get("/slack/big/users.list", headers={"Authorization": "Bearer xoxp-sandbox-big-owner"})
        assert response.json()["error"] == "limit_required"


def test_usergroups_disabled_members_and_counts(acme):
    client, personality = acme
    groups = personality.ground_truth()["usergroups"]
    disabled = [g for g in groups if g["date_delete"]]
    assert disabled, "the generator should disable some groups"
    listed = call(client, "usergroups.list").json()["usergroups"]
    assert {g["id"] for g in listed} == {g["id"] for g in groups if not g["date_delete"]}
    assert all("users" not in g and "user_count" not in g for g in listed)
    full = call(client, "usergroups.list", include_disabled="true", include_users="true", include_count="1").json()
    assert [g["users"] for g in full["usergroups"]] == [g["users"] for g in groups]
    gone = call(client, "usergroups.users.list", usergroup=disabled[0]["id"]).json()
    assert gone["error"] == "no_such_subteam"
    members = call(client, "usergroups.users.list", usergroup=disabled[0]["id"], include_disabled="true").json()
    assert members["users"] == disabled[0]["users"]


def test_access_logs_before_and_classic_paging(acme):
    client, personality = acme
    logins = personality.ground_truth()["access_logs"]
    before = logins[len(logins) // 2]["date_last"]
    expected = [e for e in logins if e["date_last"] <= before]
    collected, page = [], 1
    while True:
        body = call(client, "team.accessLogs", before=before, count=25, page=page).json()
        assert body["paging"]["total"] == len(expected) and body["paging"]["count"] == 25
        collected += body["logins"]
        if page >= body["paging"]["pages"]:
            break
        page += 1
    assert collected == expected
    assert [e["date_last"] for e in collected] == sorted((e["date_last"] for e in collected), reverse=True)
    assert call(client, "team.accessLogs", page=101).json()["error"] == "over_pagination_limit"
    assert call(client, "team.accessLogs", count=1001).json()["error"] == "over_pagination_limit"
    assert call(client, "team.accessLogs", headers=BOT).json()["error"] == "missing_scope"


def test_files_list_paging_and_time_filters(acme):
    client, personality = acme
    files = personality.ground_truth()["files"]
    body = call(client, "files.list", count=10, page=2).json()
    assert body["files"] == files[10:20] and body["paging"]["total"] == len(files)
    middle = files[len(files) // 2]["created"]
    newer = call(client, "files.list", ts_from=middle, count=1000).json()["files"]
    assert newer == [f for f in files if f["created"] >= middle]
    older = call(client, "files.list", ts_to=middle, count=1000).json()["files"]
    assert older == [f for f in files if f["created"] <= middle]


def test_approved_apps_cursor_walk(acme):
    client, personality = acme
    expected = personality.ground_truth()["approved_apps"]
    first = call(client, "admin.apps.approved.list", limit=2).json()
    rest = call(client, "admin.apps.approved.list", limit=10, cursor=first["response_metadata"]["next_cursor"]).json()
    assert first["approved_apps"] + rest["approved_apps"] == expected and len(expected) > 2
    assert rest["response_metadata"]["next_cursor"] == ""
    assert call(client, "admin.apps.approved.list", limit=0).json()["error"] == "invalid_limit"
    assert call(client, "admin.apps.approved.list", headers=BOT).json()["error"] == "missing_scope"


def test_plans_gate_access_logs_and_audit_logs():
    with serving(spec(name="freebie", plan="free")) as (client, _):
        headers = {"Authorization": "Bearer xoxp-sandbox-freebie-owner"}
        assert client.get("/slack/freebie/team.accessLogs", headers=headers).json()["error"] == "paid_only"
        approved = client.get("/slack/freebie/admin.apps.approved.list", headers=headers).json()
        assert approved["error"] == "feature_not_enabled"
        response = client.get("/slack/freebie/audit/v1/logs", headers=headers)
        assert response.status_code == 403 and response.json()["error"] == "feature_not_enabled"


# -- Audit Logs API ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "not_authed"),
        ({"Authorization": "Bearer xoxp-nope"}, 401, "invalid_auth"),
        (NOAUDIT, 403, "missing_scope"),
        (BOT, 403, "not_allowed_token_type"),
    ],
)
def test_audit_logs_use_real_statuses(acme, headers, status, code):
    client, _ = acme
    response = client.get("/slack/acme/audit/v1/logs", headers=headers)
    assert response.status_code == status and response.json()["error"] == code
    if code == "missing_scope":
        assert response.json()["needed"] == "auditlogs:read"


def test_audit_window_walk_is_newest_first_and_complete(acme):
    client, personality = acme
    entries = personality.ground_truth()["audit_logs"]
    oldest, latest = entries[len(entries) // 4]["date_create"], entries[3 * len(entries) // 4]["date_create"]
    expected = [e for e in entries if oldest <= e["date_create"] <= latest]
    collected, cursor = [], None
    while True:
        params = {"oldest": oldest, "latest": latest, "limit": 40, **({"cursor": cursor} if cursor else {})}
        body = client.get("/slack/acme/audit/v1/logs", params=params, headers=OWNER).json()
        collected += body["entries"]
        cursor = body["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert sorted(e["id"] for e in collected) == sorted(e["id"] for e in expected)
    times = [e["date_create"] for e in collected]
    assert times == sorted(times, reverse=True)


def test_audit_filters_and_bad_arguments(acme):
    client, _ = acme
    logins = client.get("/slack/acme/audit/v1/logs", params={"action": "user_login", "limit": 20}, headers=OWNER)
    assert {e["action"] for e in logins.json()["entries"]} == {"user_login"}
    actor = logins.json()["entries"][0]["actor"]["user"]["id"]
    by_actor = client.get("/slack/acme/audit/v1/logs", params={"actor": actor, "limit": 50}, headers=OWNER).json()
    assert {e["actor"]["user"]["id"] for e in by_actor["entries"]} == {actor}
    for params, code in (
        ({"cursor": "garbage!"}, "invalid_cursor"),
        ({"limit": 10000}, "invalid_arguments"),
        ({"oldest": 20, "latest": 10}, "invalid_range"),
    ):
        response = client.get("/slack/acme/audit/v1/logs", params=params, headers=OWNER)
        assert response.status_code == 400 and response.json() == {"ok": False, "error": code}


# -- throttling and faults --------------------------------------------------------------------


def test_tier_limits_answer_429_with_retry_after_and_no_budget_headers():
    limited = spec(name="busy").model_copy(update={"rate_limits": RateLimitConfig(scale=0.1)})
    with serving(limited) as (client, _):
        headers = {"Authorization": "Bearer xoxp-sandbox-busy-owner"}
        answers = [client.get("/slack/busy/users.list", params={"limit": 1}, headers=headers) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]  # Tier 2: 20 a minute x 0.1
        assert answers[2].json() == {"ok": False, "error": "ratelimited"}
        assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
        assert not any(h.lower().startswith("x-ratelimit") for h in answers[0].headers)
        # Another method is another bucket.
        assert client.get("/slack/busy/files.list", headers=headers).status_code == 200


def test_injected_server_errors_carry_slack_bodies():
    faulty = spec(name="flaky").model_copy(update={"faults": FaultConfig(burst_5xx=1)})
    with serving(faulty) as (client, _):
        response = client.get("/slack/flaky/auth.test", headers={"Authorization": "Bearer xoxp-sandbox-flaky-owner"})
        assert response.status_code >= 500 and response.json()["ok"] is False


def test_custom_tokens_replace_the_defaults():
    tokens = [{"token": "xoxp-custom", "scopes": ["users:read"], "acts_as": "member"}]
    personality = SlackPersonality(spec(tokens=tokens), "/slack/acme")
    (credential,) = personality.ground_truth()["credentials"]
    assert credential["token"] == "xoxp-custom" and credential["scopes"] == ["users:read"]
    member = next(u for u in personality.ground_truth()["users"] if u["id"] == credential["user_id"])
    assert not member["is_admin"] and not member["is_restricted"]
    assert datetime.fromisoformat(personality.ground_truth()["anchor"]) == ANCHOR
