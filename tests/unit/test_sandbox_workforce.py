"""The shared sandbox workforce: deterministic people, planted states in every app's tenant (in the
ground truth and in what the provider APIs serve), and an oracle that finds every planted case."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from pydantic import ValidationError

from saaslens_sandbox.core import SandboxServer, TenantSpec
from saaslens_sandbox.github.generator import GitHubOptions, GitHubTenant
from saaslens_sandbox.google_workspace.generator import GoogleWorkspaceOptions, GoogleWorkspaceTenant
from saaslens_sandbox.microsoft365.tenant import Microsoft365Options, Microsoft365Tenant
from saaslens_sandbox.okta.generator import OktaOptions, OktaTenant
from saaslens_sandbox.slack.generator import SlackSandboxOptions, SlackTenant
from saaslens_sandbox.workforce import SPRAY_IP, workforce
from tests.oracles.workforce import (
    APPS,
    FINDING_IDS,
    LAST_LOGIN_APPS,
    MFA_APPS,
    collect_facts,
    expected_findings,
    load_broad_scopes,
    planted_cases,
)

ANCHOR = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ORG = "acme"
USERS = 30


def generated_truths(seed: int = 7, anchor: datetime = ANCHOR, org: str = ORG) -> dict[tuple[str, str], dict]:
    """Ground truth of one small tenant per app with the workforce, straight from the generators."""
    opts: dict[str, Any] = {"workforce": org, "anchor": anchor}
    tenants = {
        "okta": OktaTenant(
            name="acme", seed=seed, users=USERS, options=OktaOptions(**opts), anchor=anchor, link_base="x"
        ),
        "google_workspace": GoogleWorkspaceTenant(
            name="acme", seed=seed, users=USERS, options=GoogleWorkspaceOptions(**opts), anchor=anchor
        ),
        "microsoft365": Microsoft365Tenant(
            name="acme", seed=seed, users=USERS, options=Microsoft365Options(**opts), anchor=anchor
        ),
        "slack": SlackTenant(name="acme", seed=seed, users=USERS, options=SlackSandboxOptions(**opts), anchor=anchor),
        "github": GitHubTenant("acme", seed, USERS, GitHubOptions(**opts), anchor, "x"),
    }
    return {(app, "acme"): t.ground_truth() for app, t in tenants.items()}


INSTANCES = {(app, "acme"): f"{app}-main" for app in APPS}


@pytest.fixture(scope="module")
def truths() -> dict[tuple[str, str], dict]:
    return generated_truths()


# -- the workforce itself ----------------------------------------------------------------------


def test_workforce_is_deterministic_and_per_org():
    first = workforce(ORG)
    workforce.cache_clear()
    again = workforce(ORG)
    assert first == again and first is not again
    other = workforce("globex")
    assert other.domain == "globex.example.com" and first.domain == "acme.example.com"
    assert [p.slot for p in other.people] == [p.slot for p in first.people]
    assert [p.email for p in other.people] != [p.email.replace("acme", "globex") for p in first.people]
    emails = [p.email for p in first.people]
    assert len(emails) == len(set(emails)) >= 30
    for app in APPS:
        planned = first.plan_for(app)
        assert len({a.email for a in planned}) == len(planned), app
    assert all(p.email.endswith("@acme-partners.example.net") for p in first.people if p.external)


def test_bad_org_names_are_refused_with_the_field_named():
    with pytest.raises(ValueError, match="workforce org 'Acme Corp'"):
        workforce("Acme Corp")
    with pytest.raises(ValidationError, match="workforce"):
        OktaOptions(workforce="no spaces please")
    with pytest.raises(ValueError, match="no plan for app 'zoom'"):
        workforce(ORG).plan_for("zoom")


def test_same_inputs_give_identical_tenants():
    assert generated_truths(seed=3) == generated_truths(seed=3)


def test_without_the_option_tenants_are_unchanged():
    plain = OktaTenant(name="acme", seed=7, users=USERS, options=OktaOptions(), anchor=ANCHOR, link_base="x")
    emails = {u["profile"]["email"] for u in plain.ground_truth()["users"]}
    assert not emails & workforce(ORG).emails("okta")


# -- planted states in the ground truth -----------------------------------------------------------


def test_every_tenant_holds_the_planned_people_in_the_planned_states(truths):
    facts = collect_facts(truths, INSTANCES)
    by_email = {(a.app, a.email): a for a in facts.accounts if a.email}
    wf = workforce(ORG)
    for app in APPS:
        assert truths[(app, "acme")]["workforce"] == ORG
        for planned in wf.plan_for(app):
            account = by_email.get((app, planned.email))
            assert account is not None, f"{planned.email} missing from {app}"
            assert account.status == planned.status, (app, planned.email)
            if planned.admin:
                assert account.is_admin, (app, planned.email)
            if app in MFA_APPS and planned.admin:
                assert account.mfa is planned.mfa, (app, planned.email)
            if planned.guest:
                assert account.account_type in ("guest", "external"), (app, planned.email)
            if app in LAST_LOGIN_APPS:
                anchor = ANCHOR if app != "github" else None
                if planned.last_login_days is None:
                    assert account.last_login_at is None, (app, planned.email)
                else:
                    idle = (anchor - account.last_login_at).total_seconds() / 86_400
                    assert idle == pytest.approx(planned.last_login_days, abs=0.01), (app, planned.email)


def test_okta_planted_sign_in_failures_are_in_the_system_log(truths):
    wf = workforce(ORG)
    log = truths[("okta", "acme")]["log_events"]
    failures = [e for e in log if e["eventType"] == "user.session.start" and e["outcome"]["result"] == "FAILURE"]
    spiked = wf.person("spiked").email
    spike = [e for e in failures if e["actor"]["alternateId"] == spiked]
    assert len(spike) >= wf.failed_sign_ins.spike_count
    spray = [e for e in failures if e["client"]["ipAddress"] == SPRAY_IP]
    assert {e["actor"]["alternateId"] for e in spray} == {wf.person(s).email for s in wf.failed_sign_ins.spray_slots}
    hours = {e["published"][:13] for e in spray}
    assert len(hours) == 1 and all(ANCHOR - timedelta(days=1) < datetime.fromisoformat(e["published"]) for e in spray)


# -- the oracle ----------------------------------------------------------------------------------


def test_expected_findings_hold_every_planted_case(truths):
    result = expected_findings(truths, INSTANCES, ANCHOR + timedelta(minutes=1))
    assert set(result) == set(FINDING_IDS)
    wf = workforce(ORG)
    facts = collect_facts(truths, INSTANCES)
    ids = {(a.app, a.email): a.account_id for a in facts.accounts if a.email}

    def key(app: str, slot: str) -> tuple[str, str, str]:
        return (app, f"{app}-main", ids[(app, wf.person(slot).email)])

    # Spot checks against the plan, written out by hand (expected_findings also checks all of them).
    leaver = "leaver_deprovisioned"
    assert {key(app, leaver) for app in ("google_workspace", "microsoft365", "slack", "github")} <= result[
        "orphaned_accounts"
    ]
    assert key("okta", leaver) not in result["orphaned_accounts"]  # the identity provider's own account
    assert key("slack", "offboarded") not in result["orphaned_accounts"]  # deleted in Slack too
    assert {key("okta", "dormant_okta"), key("okta", "never_signed_in")} <= result["dormant_accounts"]
    assert key("google_workspace", "dormant_google") in result["dormant_accounts"]
    assert key("microsoft365", "dormant_entra") in result["dormant_accounts"]
    assert {key(app, "admin_everywhere") for app in APPS} <= result["privileged_accounts"]
    assert {
        key("google_workspace", "admin_google_no_2sv"),
        key("slack", "admin_slack_no_2fa"),
        key("github", "admin_github_no_2fa"),
    } <= result["admins_without_mfa"]
    assert not {key(app, "admin_everywhere") for app in APPS} & result["admins_without_mfa"]
    assert {key("microsoft365", "guest_partner"), key("github", "outside_collaborator")} <= result["external_accounts"]
    grants = {g.account_id: g.grant_id for g in facts.grants if g.account_id}
    okta_inactive = ("okta", "okta-main", grants[ids[("okta", wf.person("leaver_suspended").email)]])
    assert okta_inactive in result["grants_of_inactive_accounts"]
    assert okta_inactive not in result["broad_oauth_grants"]  # a self-service scope, not a broad one
    assert ("okta", "okta-main", grants[ids[("okta", wf.person("broad_grants").email)]]) in result["broad_oauth_grants"]
    spike_hours = {k[4] for k in result["failed_signin_spikes"] if k[2] == "ip" and k[3] == SPRAY_IP}
    assert len(spike_hours) == 1
    assert not result["privilege_changes"]  # one snapshot: nothing to compare with


def test_the_oracle_reports_a_planted_case_the_data_lacks(truths):
    broken = dict(truths)
    okta = dict(broken[("okta", "acme")])
    spiked = workforce(ORG).person("spiked").email
    okta["log_events"] = [e for e in okta["log_events"] if e["actor"]["alternateId"] != spiked]
    broken[("okta", "acme")] = okta
    with pytest.raises(AssertionError, match=r"failed_signin_spikes: .* failed to sign in 14 times"):
        expected_findings(broken, INSTANCES, ANCHOR)


def test_planted_broad_grants_are_on_the_broad_scope_list():
    broad = load_broad_scopes()
    wf = workforce(ORG)
    for app in ("okta", "google_workspace", "microsoft365"):
        planned = next(a for a in wf.plan_for(app) if a.person.slot == "broad_grants")
        assert any((app, scope) in broad for scope in planned.grant_scopes), app


def test_planted_cases_describe_every_finding():
    cases = planted_cases(ORG)
    assert set(cases) == set(FINDING_IDS)
    assert all(cases[f] for f in FINDING_IDS)
    assert any("203.0.113.66" in c for c in cases["failed_signin_spikes"])


# -- through the provider APIs, and a privilege change between two snapshots -----------------------


@pytest.fixture(scope="module")
def server():
    anchor = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    options = {"workforce": ORG, "anchor": anchor.isoformat()}
    specs = [TenantSpec(app=app, name="acme", seed=5, users=USERS, options=options) for app in APPS]
    with SandboxServer(specs) as running:
        yield running


def _google_client(server: SandboxServer) -> httpx.Client:
    creds = server.personality("google_workspace", "acme").ground_truth()["credentials"]
    key_file = creds["service_accounts"]["scanner"]["key_file"]
    now = int(time.time())
    claims = {
        "iss": key_file["client_email"],
        "sub": creds["subject"],
        "scope": "https://www.googleapis.com/auth/admin.directory.user.readonly",
        "aud": key_file["token_uri"],
        "iat": now,
        "exp": now + 600,
    }
    grant = {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": jwt.encode(claims, key_file["private_key"], algorithm="RS256"),
    }
    token = httpx.post(key_file["token_uri"], data=grant).json()["access_token"]
    return httpx.Client(
        base_url=server.tenant_url("google_workspace", "acme"), headers={"Authorization": f"Bearer {token}"}
    )


def test_the_apis_serve_the_planted_states(server):
    wf = workforce(ORG)
    okta = httpx.Client(
        base_url=server.tenant_url("okta", "acme"), headers={"Authorization": "SSWS sandbox-okta-acme-admin"}
    )
    for planned in wf.plan_for("okta"):
        user = okta.get(f"/api/v1/users/{planned.email}").json()
        assert user["status"] == planned.status.upper(), planned.email
    admins = {u["id"] for u in okta.get("/api/v1/iam/assignees/users", params={"limit": 100}).json()["value"]}
    for planned in wf.plan_for("okta"):
        user_id = okta.get(f"/api/v1/users/{planned.email}").json()["id"]
        assert (user_id in admins) is planned.admin, planned.email

    with _google_client(server) as google:
        users = google.get("/admin/directory/v1/users", params={"customer": "my_customer", "maxResults": 500}).json()[
            "users"
        ]
    by_email = {u["primaryEmail"]: u for u in users}
    for planned in wf.plan_for("google_workspace"):
        user = by_email[planned.email]
        assert user["suspended"] is (planned.status == "suspended")
        assert user["isEnrolledIn2Sv"] is planned.mfa and user["isAdmin"] is planned.admin

    slack = httpx.post(
        server.tenant_url("slack", "acme") + "/users.list",
        headers={"Authorization": "Bearer xoxp-sandbox-acme-owner"},
        data={"limit": 1000},
    ).json()["members"]
    by_email = {(m.get("profile") or {}).get("email"): m for m in slack}
    for planned in wf.plan_for("slack"):
        member = by_email[planned.email]
        assert member["deleted"] is (planned.status != "active") and member["is_admin"] is planned.admin
        assert member["has_2fa"] is planned.mfa and member["is_restricted"] is planned.guest

    github_truth = server.personality("github", "acme").ground_truth()
    owner_token = next(t["token"] for t in github_truth["credentials"]["tokens"] if t["owner"])
    headers = {"Authorization": f"Bearer {owner_token}", "User-Agent": "saaslens-test"}
    base = server.tenant_url("github", "acme") + "/orgs/acme"
    no_2fa = {u["login"] for u in httpx.get(f"{base}/members?filter=2fa_disabled&per_page=100", headers=headers).json()}
    owners = httpx.get(f"{base}/members?role=admin&per_page=100", headers=headers).json()
    collaborators = {
        u["login"] for u in httpx.get(f"{base}/outside_collaborators?per_page=100", headers=headers).json()
    }
    emails = {u["login"]: u.get("email") for u in owners}
    for planned in wf.plan_for("github"):
        login = planned.person.github_login
        assert (login in no_2fa) is (not planned.mfa and not planned.guest), login
        assert (login in collaborators) is planned.guest, login
        if planned.admin:
            assert emails[login] == planned.email

    m365 = server.personality("microsoft365", "acme")
    creds = m365.ground_truth()["credentials"]
    graph = server.tenant_url("microsoft365", "acme")
    token = httpx.post(
        f"{graph}/{creds['tenant_id']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": creds["clients"][0]["client_id"],
            "client_secret": creds["clients"][0]["client_secret"],
            "scope": "https://graph.microsoft.com/.default",
        },
    ).json()["access_token"]
    users = httpx.get(
        f"{graph}/v1.0/users",
        params={"$select": "id,mail,accountEnabled,userType", "$top": 999},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["value"]
    by_email = {u["mail"]: u for u in users}
    for planned in wf.plan_for("microsoft365"):
        user = by_email[planned.email]
        assert user["accountEnabled"] is (planned.status == "active")
        assert user["userType"] == ("Guest" if planned.guest else "Member")


def test_an_okta_advance_changes_admins_and_the_oracle_sees_it(server):
    wf = workforce(ORG)
    okta = server.personality("okta", "acme")
    instances = {("okta", "acme"): "okta-main"}
    before = {("okta", "acme"): okta.ground_truth()}
    promoted, demoted = wf.person("promoted").email, wf.person("okta_admin").email
    response = httpx.post(
        f"{server.url}/_admin/tenants/okta/acme/advance",
        json={"admins_granted": [promoted], "admins_revoked": [demoted]},
    )
    assert response.status_code == 200, response.text
    summary = response.json()
    after = {("okta", "acme"): okta.ground_truth()}
    ids = {u["profile"]["email"]: u["id"] for u in after[("okta", "acme")]["users"]}
    assert summary["admins_granted"] == [ids[promoted]] and summary["admins_revoked"] == [ids[demoted]]
    events = {e["eventType"] for e in after[("okta", "acme")]["log_events"]}
    assert {"user.account.privilege.grant", "user.account.privilege.revoke"} <= events
    result = expected_findings(after, instances, datetime.now(UTC), previous_truths=before)
    assert result["privilege_changes"] == {
        ("okta", "okta-main", ids[promoted], "added"),
        ("okta", "okta-main", ids[demoted], "removed"),
    }
    bad = httpx.post(f"{server.url}/_admin/tenants/okta/acme/advance", json={"admins_revoked": ["nobody@x.com"]})
    assert bad.status_code == 400 and "nobody@x.com" in bad.text


def test_github_audit_times_are_milliseconds_and_slack_times_seconds():
    github = {
        "users": [],
        "audit_events": [
            {
                "action": "org.recovery_code_failed",
                "@timestamp": 1_764_000_000_123,
                "actor": "ana",
                "actor_ip": "1.2.3.4",
            }
        ],
    }
    slack = {
        "users": [],
        "audit_logs": [
            {
                "action": "user_login_failed",
                "date_create": 1_764_000_000,
                "entity": {"type": "user", "user": {"id": "W1", "email": "ana@acme.example.com"}},
                "context": {"ip_address": "1.2.3.4"},
            }
        ],
    }
    facts = collect_facts({("github", "a"): github, ("slack", "a"): slack}, {("github", "a"): "g", ("slack", "a"): "s"})
    moments = {f.app: f.occurred_at for f in facts.failures}
    assert moments["github"] == datetime(2025, 11, 24, 16, 0, 0, 123000, tzinfo=UTC)
    assert moments["slack"] == datetime(2025, 11, 24, 16, 0, 0, tzinfo=UTC)
    assert {(f.app, f.subject, f.ip) for f in facts.failures} == {
        ("github", "ana", "1.2.3.4"),
        ("slack", "ana@acme.example.com", "1.2.3.4"),
    }
