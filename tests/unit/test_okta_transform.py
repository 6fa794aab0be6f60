"""Okta transforms on recorded payloads (shapes from Okta's API reference examples)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from saaslens.connectors.okta import transform
from saaslens.connectors.okta.connector import okta_bucket

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "okta"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def test_account_rows():
    users = load("users.json")
    rows = [transform.account_row(u, {"00u118oQYT4TBTemp0g4"}) for u in users]
    alice, zoe, bob = rows
    assert alice["account_id"] == "00u118oQYT4TBTemp0g4"
    assert alice["email"] == "alice.smith@example.com"  # lowercased
    assert alice["display_name"] == "Alice Smith"
    assert alice["is_admin"] is True and bob["is_admin"] is False
    assert alice["last_login_at"] == datetime(2022, 5, 4, 19, 50, 52, tzinfo=UTC)
    assert (zoe["status"], zoe["provider_status"]) == ("deprovisioned", "DEPROVISIONED")
    assert zoe["display_name"] == "Zoë Ångström"
    assert (bob["status"], bob["display_name"]) == ("active", "Bob B.")
    assert json.loads(alice["raw"])["id"] == alice["account_id"]
    assert transform.account_row(users[0], None)["is_admin"] is None  # roles not readable: unknown


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("ACTIVE", "active"),
        ("STAGED", "pending"),
        ("PROVISIONED", "pending"),
        ("RECOVERY", "active"),
        ("LOCKED_OUT", "locked"),
        ("PASSWORD_EXPIRED", "active"),
        ("SUSPENDED", "suspended"),
        ("DEPROVISIONED", "deprovisioned"),
    ],
)
def test_every_okta_status_maps(status, expected):
    assert transform.account_row({"id": "x", "status": status, "profile": {}}, set())["status"] == expected


def test_activity_rows():
    failed_login, suspend, consent, password = (transform.activity_row(e) for e in load("log_events.json"))
    assert failed_login["category"] == "logon" and failed_login["outcome"] == "failure"
    assert failed_login["outcome_reason"] == "INVALID_CREDENTIALS"
    assert failed_login["ip"] == "203.0.113.7" and failed_login["country"] == "Portugal"
    assert failed_login["user_agent"].startswith("Mozilla/5.0")
    assert failed_login["occurred_at"] == datetime(2024, 8, 13, 15, 58, 20, 353000, tzinfo=UTC)
    assert suspend["category"] == "admin" and suspend["actor_login"] == "admin@example.com"
    assert suspend["target_name"] == "alice.smith@example.com" and suspend["country"] is None
    assert consent["category"] == "app" and consent["outcome"] == "unknown"
    assert password["category"] == "user" and password["target_id"] is None


@pytest.mark.parametrize(
    ("event_type", "category"),
    [
        ("user.session.start", "logon"),
        ("user.authentication.sso", "logon"),
        ("user.account.lock", "logon"),
        ("user.authentication.auth_via_mfa", "logon"),
        ("user.lifecycle.deactivate", "admin"),
        ("user.account.privilege.grant", "admin"),
        ("group.user_membership.add", "admin"),
        ("system.api_token.create", "admin"),
        ("policy.lifecycle.update", "admin"),
        ("app.oauth2.as.consent.grant", "app"),
        ("user.account.update_profile", "user"),
    ],
)
def test_categories(event_type, category):
    assert transform.category(event_type) == category


def test_privilege_and_grant_rows():
    direct, via_group = (transform.privilege_row("00u1", r) for r in load("roles.json"))
    assert (direct["privilege_name"], direct["assignment_type"]) == ("SUPER_ADMIN", "direct")
    assert via_group["assignment_type"] == "group"
    (grant,) = (transform.grant_row(g) for g in load("grants.json"))
    assert grant["scopes"] == ["okta.users.read"] and grant["account_id"] == "00u5t60iloOHN9pBi0h7"
    assert grant["client_id"] == "0oag3ihvmvAwiEPw20h7" and grant["source"] == "END_USER"


def test_rate_limit_buckets_collapse_ids():
    assert okta_bucket("/api/v1/users/00u5t60iloOHN9pBi0h7/grants") == "/api/v1/users/{id}/grants"
    assert okta_bucket("/api/v1/users") == "/api/v1/users"
    assert okta_bucket("/api/v1/groups/00g1emaKYZTWRYYRRTSK/users") == "/api/v1/groups/{id}/users"


def test_a_target_okta_names_unknown_is_named_by_its_display_name():
    """The System Log gives policies and rules alternateId "unknown"; the displayName names them."""
    event = {
        "uuid": "u1",
        "published": "2026-12-01T00:00:00.000Z",
        "eventType": "policy.lifecycle.update",
        "actor": {"id": "00u1", "type": "User", "alternateId": "admin@example.com"},
        "target": [{"id": "00p1", "type": "PolicyEntity", "alternateId": "unknown", "displayName": "Default Policy"}],
    }
    assert transform.activity_row(event)["target_name"] == "Default Policy"
    event["target"][0].pop("displayName")
    assert transform.activity_row(event)["target_name"] == "unknown"
