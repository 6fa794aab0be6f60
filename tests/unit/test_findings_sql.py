"""Each finding's SQL on a small hand-built lake where the expected rows are plain to see."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saaslens.findings import get_finding, run_finding
from tests.unit.lake_builder import NOW, LakeBuilder, ago


def keys(con, finding_id: str, **params) -> set[tuple]:
    finding = get_finding(finding_id)
    table = run_finding(con, finding, params)
    return {tuple(row[c] for c in finding.key) for row in table.to_pylist()}


@pytest.fixture
def lake(tmp_path) -> LakeBuilder:
    return LakeBuilder(tmp_path)


def test_orphaned_accounts(lake):
    lake.accounts(
        "okta",
        "acme",
        {"account_id": "o-ada", "email": "Ada@Acme.com", "status": "suspended"},
        {"account_id": "o-bob", "email": "bob@acme.com", "status": "deprovisioned"},
        {"account_id": "o-cy", "email": "cy@acme.com"},
        {"account_id": "o-nul", "email": None, "status": "suspended"},
    )
    lake.accounts("okta", "other", {"account_id": "o2-ada", "email": "ada@acme.com"})
    lake.accounts(
        "google_workspace",
        "acme",
        {"account_id": "g-bob", "email": "bob@acme.com"},  # active in a second IdP: still orphaned
        {"account_id": "g-cy", "email": "cy@acme.com", "status": "suspended"},
    )
    lake.accounts(
        "slack",
        "acme",
        {"account_id": "s-ada", "email": " ADA@acme.com"},  # mixed case and a stray space
        {"account_id": "s-bob", "email": "bob@acme.com", "status": "deprovisioned"},  # already gone
        {"account_id": "s-cy", "email": "cy@acme.com", "status": "pending"},  # not active
        {"account_id": "s-nul", "email": None},  # null email: nobody's
    )
    lake.accounts("github", "acme", {"account_id": "1", "email": None, "login": "ada"})  # unlinked
    con = lake.catalog()
    assert keys(con, "orphaned_accounts") == {
        ("okta", "other", "o2-ada"),  # same app, other instance
        ("slack", "acme", "s-ada"),
        ("google_workspace", "acme", "g-bob"),
        ("okta", "acme", "o-cy"),  # suspended in Google, active in Okta
    }
    row = run_finding(con, get_finding("orphaned_accounts")).to_pylist()
    assert {r["account_id"]: r["disabled_in"] for r in row}["s-ada"] == "okta/acme (suspended)"


def test_dormant_accounts(lake):
    lake.accounts(
        "okta",
        "acme",
        {"account_id": "old", "last_login_at": ago(days=100)},
        {"account_id": "recent", "last_login_at": ago(days=80)},
        {"account_id": "never-old", "created_at": ago(days=200)},
        {"account_id": "never-new", "created_at": ago(days=10)},
        {"account_id": "unknown"},  # neither sign-in nor creation time: cannot say
        {"account_id": "gone", "status": "suspended", "last_login_at": ago(days=300)},
    )
    con = lake.catalog()
    as_of = NOW.isoformat()
    assert keys(con, "dormant_accounts", as_of=as_of) == {("okta", "acme", "old"), ("okta", "acme", "never-old")}
    assert keys(con, "dormant_accounts", as_of=as_of, dormant_days=60) == {
        ("okta", "acme", "old"),
        ("okta", "acme", "recent"),
        ("okta", "acme", "never-old"),
    }
    # as_of moves the window: 30 days earlier nothing but the never-signed-in account was idle.
    earlier = (NOW - timedelta(days=30)).isoformat()
    assert keys(con, "dormant_accounts", as_of=earlier) == {("okta", "acme", "never-old")}
    # The default as_of is the wall clock, long after NOW here: every timed account is dormant.
    assert len(keys(con, "dormant_accounts")) == 4


def test_privileged_accounts_and_admins_without_mfa(lake):
    lake.accounts(
        "google_workspace",
        "acme",
        {"account_id": "a1", "is_admin": True, "mfa_enabled": True},
        {"account_id": "a2", "is_admin": True, "mfa_enabled": False},
        {"account_id": "a3", "is_admin": False, "mfa_enabled": False},
    )
    lake.accounts("okta", "acme", {"account_id": "o1", "is_admin": True, "mfa_enabled": None})
    lake.snapshot(
        "privileges",
        "okta",
        "acme",
        [
            {"account_id": "o1", "privilege_id": "r1", "privilege_name": "SUPER_ADMIN"},
            {"account_id": "o1", "privilege_id": "r2", "privilege_name": "APP_ADMIN"},
        ],
    )
    con = lake.catalog()
    assert keys(con, "privileged_accounts") == {
        ("google_workspace", "acme", "a1"),
        ("google_workspace", "acme", "a2"),
        ("okta", "acme", "o1"),
    }
    roles = {r["account_id"]: r["privileges"] for r in run_finding(con, get_finding("privileged_accounts")).to_pylist()}
    assert roles["o1"] == "APP_ADMIN, SUPER_ADMIN"
    # Okta's null (the app does not say) is left out, not counted as "no MFA".
    assert keys(con, "admins_without_mfa") == {("google_workspace", "acme", "a2")}


def test_privilege_changes_compare_the_newest_and_the_previous_snapshot(lake):
    first, second, third = ago(days=3), ago(days=2), ago(days=1)
    lake.accounts(
        "okta", "acme", {"account_id": "ancient", "is_admin": True}, {"account_id": "a", "is_admin": False}, at=first
    )
    lake.accounts(
        "okta",
        "acme",
        {"account_id": "ancient", "is_admin": False},  # removed two snapshots ago: not a change now
        {"account_id": "a", "is_admin": True},  # will be removed
        {"account_id": "b", "is_admin": False},  # will be added
        {"account_id": "d", "is_admin": True},  # admin in both
        {"account_id": "e", "is_admin": True},  # gone from the newest snapshot
        at=second,
    )
    lake.accounts(
        "okta",
        "acme",
        {"account_id": "ancient", "is_admin": False},
        {"account_id": "a", "is_admin": False},
        {"account_id": "b", "is_admin": True},
        {"account_id": "c", "is_admin": True},  # new, and an admin
        {"account_id": "d", "is_admin": True},
        at=third,
    )
    # An instance with a single snapshot has nothing to compare with.
    lake.accounts("slack", "acme", {"account_id": "s", "is_admin": True}, at=third)
    con = lake.catalog()
    assert keys(con, "privilege_changes") == {
        ("okta", "acme", "a", "removed"),
        ("okta", "acme", "b", "added"),
        ("okta", "acme", "c", "added"),
        ("okta", "acme", "e", "removed"),
    }


def test_external_accounts(lake):
    lake.accounts(
        "microsoft365",
        "acme",
        {"account_id": "guest", "account_type": "guest"},
        {"account_id": "pending-guest", "account_type": "guest", "status": "pending"},
        {"account_id": "gone-guest", "account_type": "guest", "status": "deprovisioned"},
        {"account_id": "member"},
    )
    lake.accounts("github", "acme", {"account_id": "oc", "account_type": "external"})
    con = lake.catalog()
    assert keys(con, "external_accounts") == {
        ("microsoft365", "acme", "guest"),
        ("microsoft365", "acme", "pending-guest"),
        ("github", "acme", "oc"),
    }


def test_exposed_files(lake):
    lake.snapshot(
        "files",
        "google_workspace",
        "acme",
        [
            {"file_id": "pub", "visibility": "public"},
            {"file_id": "ext", "visibility": "external"},
            {"file_id": "int", "visibility": "internal"},
            {"file_id": "priv", "visibility": "private"},
        ],
    )
    lake.snapshot(
        "file_shares",
        "google_workspace",
        "acme",
        [
            {"file_id": "pub", "share_id": "1", "principal_type": "anyone"},
            {
                "file_id": "ext",
                "share_id": "2",
                "principal_type": "user",
                "principal_email": "x@partner.com",
                "is_external": True,
            },
            {"file_id": "ext", "share_id": "3", "principal_type": "user", "principal_email": "y@acme.com"},
        ],
    )
    con = lake.catalog()
    assert keys(con, "exposed_files") == {("google_workspace", "acme", "pub"), ("google_workspace", "acme", "ext")}
    exposed = {r["file_id"]: r["exposed_to"] for r in run_finding(con, get_finding("exposed_files")).to_pylist()}
    assert exposed == {"pub": "anyone (reader)", "ext": "x@partner.com (reader)"}


def test_broad_oauth_grants_and_grants_of_inactive_accounts(lake):
    lake.accounts(
        "okta",
        "acme",
        {"account_id": "active"},
        {"account_id": "suspended", "status": "suspended"},
        {"account_id": "gone", "status": "deprovisioned"},
    )
    lake.snapshot(
        "app_permissions",
        "okta",
        "acme",
        [
            {"grant_id": "g1", "account_id": "active", "scopes": ["okta.users.read", "okta.users.manage"]},
            {"grant_id": "g2", "account_id": "suspended", "scopes": ["okta.users.manage.self"]},  # self only
            {"grant_id": "g3", "account_id": "gone", "scopes": []},
            {"grant_id": "g4", "account_id": None, "scopes": ["okta.apps.manage"]},  # org-wide
        ],
    )
    lake.snapshot(
        "app_permissions",
        "microsoft365",
        "acme",
        [
            {"grant_id": "m1", "scopes": ["Files.ReadWrite.All"]},
            {"grant_id": "m2", "scopes": ["files.readwrite.all"]},  # not the provider's spelling
            {"grant_id": "m3", "scopes": ["repo"]},  # a GitHub scope name under another app
        ],
    )
    con = lake.catalog()
    assert keys(con, "broad_oauth_grants") == {
        ("okta", "acme", "g1"),
        ("okta", "acme", "g4"),
        ("microsoft365", "acme", "m1"),
    }
    scopes = {r["grant_id"]: r["broad_scopes"] for r in run_finding(con, get_finding("broad_oauth_grants")).to_pylist()}
    assert scopes["g1"] == ["okta.users.manage"]
    assert keys(con, "grants_of_inactive_accounts") == {("okta", "acme", "g2"), ("okta", "acme", "g3")}


def failure(event_id: str, when, **fields) -> dict:
    return {"event_id": event_id, "occurred_at": when, "outcome": "failure", **fields}


def test_failed_signin_spikes(lake):
    hour = NOW.replace(minute=0) - timedelta(hours=5)
    events = [  # ten failures for one user from ten IPs within one hour: an account spike
        failure(f"a{k}", hour + timedelta(minutes=k), target_name="ada@acme.com", target_type="User", ip=f"10.0.0.{k}")
        for k in range(10)
    ]
    events += [  # ten users from one IP within one hour: a spray
        failure(f"s{k}", hour + timedelta(minutes=2 * k), actor_login=f"u{k}@acme.com", ip="203.0.113.66")
        for k in range(10)
    ]
    events += [  # nine failures only; and eleven split across two hours; and old ones; and successes
        failure(f"n{k}", hour + timedelta(minutes=k), actor_login="nine@acme.com") for k in range(9)
    ]
    events += [failure(f"h{k}", hour + timedelta(minutes=50 + 2 * k), actor_login="split@acme.com") for k in range(11)]
    events += [failure(f"o{k}", ago(days=9) + timedelta(minutes=k), actor_login="old@acme.com") for k in range(12)]
    events += [
        {"event_id": f"ok{k}", "occurred_at": hour, "outcome": "success", "actor_login": "fine@acme.com"}
        for k in range(12)
    ]
    events += [  # failures that are not sign-ins (a blocked download) do not count
        failure(f"f{k}", hour, category="file", action="file_downloaded_blocked", actor_login="dl@acme.com")
        for k in range(12)
    ]
    # Microsoft 365: the target is the application, so the account is the actor.
    events_m365 = [
        failure(
            f"m{k}",
            hour + timedelta(minutes=k),
            action="signIn",
            actor_login="grace@acme.com",
            target_name="Microsoft Teams",
            target_type="Application",
        )
        for k in range(10)
    ]
    lake.events("okta", "acme", events)
    lake.events("microsoft365", "acme", events_m365)
    con = lake.catalog()
    as_of = NOW.isoformat()
    assert keys(con, "failed_signin_spikes", as_of=as_of) == {
        ("okta", "acme", "account", "ada@acme.com", hour),
        ("okta", "acme", "ip", "203.0.113.66", hour),
        ("microsoft365", "acme", "account", "grace@acme.com", hour),
    }
    assert ("okta", "acme", "account", "nine@acme.com", hour) in keys(
        con, "failed_signin_spikes", as_of=as_of, threshold=9
    )
    assert ("okta", "acme", "account", "old@acme.com", ago(days=9).replace(minute=0, second=0)) in keys(
        con, "failed_signin_spikes", as_of=as_of, days=10
    )
    counts = {
        (r["dimension"], r["subject"]): (r["failures"], r["distinct_counterparts"])
        for r in run_finding(con, get_finding("failed_signin_spikes"), {"as_of": as_of}).to_pylist()
    }
    assert counts[("account", "ada@acme.com")] == (10, 10)
    assert counts[("ip", "203.0.113.66")] == (10, 10)


def test_findings_see_only_the_newest_snapshot(lake):
    lake.accounts("okta", "acme", {"account_id": "x", "is_admin": True}, at=ago(days=2))
    lake.accounts("okta", "acme", {"account_id": "x", "is_admin": False}, at=ago(days=1))
    assert keys(lake.catalog(), "privileged_accounts") == set()
