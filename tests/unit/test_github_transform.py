"""GitHub transforms, error policy and app auth on recorded payloads.

Fixtures: the examples of GitHub's OpenAPI description for Enterprise Cloud (simple-user-items,
team-items, team-member-items, installation-paginated, credential-authorization-items,
minimal-repository-items, audit-log) and audit events shaped after GitHub's per-action field lists
and the events recorded in elastic/integrations' GitHub audit fixtures.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from saaslens.connectors.github import transform
from saaslens.connectors.github.connector import (
    GitHubAppInstallationProvider,
    GitHubErrorPolicy,
    audit_phrase,
    github_bucket,
)
from saaslens.connectors.kit import ActivityWindow
from saaslens.http import (
    AuthenticationError,
    FeatureUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def test_account_rows_for_owners_members_and_outside_collaborators():
    octocat, hubot = load("members.json")
    owner = transform.account_row(octocat, "admin", mfa_enabled=True)
    assert owner["account_id"] == "1" and owner["login"] == "octocat"
    assert (owner["is_admin"], owner["account_type"], owner["status"]) == (True, "member", "active")
    assert owner["provider_status"] == "admin" and owner["mfa_enabled"] is True
    assert owner["display_name"] is None and owner["email"] is None  # lists carry no profile
    member = transform.account_row(hubot, "member", mfa_enabled=False)
    assert member["email"] == "hubot@example.com" and member["display_name"] == "Hubot Robot"
    assert (member["is_admin"], member["mfa_enabled"]) == (False, False)
    outsider = transform.account_row(hubot, "outside_collaborator", mfa_enabled=None)
    assert (outsider["account_type"], outsider["provider_status"]) == ("external", "outside_collaborator")
    assert outsider["mfa_enabled"] is None  # the token may not use filter=2fa_disabled
    assert json.loads(owner["raw"])["node_id"] == "MDQ6VXNlcjE="
    assert transform.account_row({**octocat, "type": "Bot"}, "member", None)["account_type"] == "bot"


def test_owner_privilege_row():
    (octocat, _) = load("members.json")
    row = transform.privilege_row(octocat, "octo-corp")
    assert row == {
        "account_id": "1",
        "privilege_id": "org:owner",
        "privilege_name": "Organization owner",
        "scope": "organization octo-corp",
        "assignment_type": "direct",
        "via_group_id": None,
        "raw": row["raw"],
    }


def test_team_and_member_rows():
    (team,) = load("teams.json")
    row = transform.group_row(team)
    assert (row["group_id"], row["name"], row["description"]) == ("1", "Justice League", "A great team.")
    assert row["group_type"] is None  # the documented example predates the type field
    assert transform.group_row({**team, "type": "enterprise", "description": ""})["description"] is None
    (member,) = load("team_members.json")
    assert transform.is_direct_member(member) and transform.is_direct_member({"id": 3})
    assert not transform.is_direct_member({**member, "inherited": True})
    assert transform.member_row("1", member, member["role"]) == {
        "group_id": "1",
        "account_id": "1",
        "member_role": "member",
        "raw": None,
    }


def test_installation_rows():
    (installation,) = load("installations.json")["installations"]
    row = transform.installation_row(installation)
    assert row["grant_id"] == "installation:25381" and row["account_id"] is None
    assert (row["client_id"], row["client_name"]) == ("2218", "github-actions")  # no client_id in the example
    assert row["scopes"] == ["deployments:write", "metadata:read", "pull_requests:read", "statuses:read"]
    assert (row["status"], row["source"]) == ("active", "admin")
    assert row["created_at"] == datetime(2017, 5, 16, 15, 47, 9, tzinfo=UTC)
    suspended = transform.installation_row(
        {**installation, "client_id": "Iv1.x", "suspended_at": "2024-01-01T00:00:00Z"}
    )
    assert (suspended["status"], suspended["client_id"]) == ("suspended", "Iv1.x")


def test_credential_authorization_rows():
    authorizations = load("credential_authorizations.json")
    ids = {"octocat": "1", "hubot": "2"}
    rows = [transform.credential_row(a, ids, datetime(2019, 4, 1, tzinfo=UTC)) for a in authorizations]
    pat, hubot_pat, oauth, app_token, ssh = rows
    assert pat["grant_id"] == "credential-authorization:161195" and pat["account_id"] == "1"
    assert (pat["client_id"], pat["scopes"], pat["status"]) == ("personal-access-token", ["user", "repo"], "expired")
    assert (hubot_pat["account_id"], hubot_pat["status"]) == ("2", "active")  # expires 2019-04-28
    assert oauth["client_id"] == "oauth-app-token" and oauth["scopes"] == ["repo", "read:org"]
    assert app_token["client_id"] == "github-app-token" and app_token["scopes"] == []
    assert (ssh["client_id"], ssh["client_name"], ssh["status"]) == ("ssh-key", "my ssh key", "active")
    assert pat["created_at"] == datetime(2011, 1, 26, 19, 6, 43, tzinfo=UTC) and pat["source"] == "user"
    unknown = transform.credential_row({**authorizations[0], "login": "ghost"}, ids, datetime(2019, 4, 1, tzinfo=UTC))
    assert unknown["account_id"] is None


def test_documented_audit_log_examples():
    team_add, org_create, repo_destroy = (transform.activity_row(e) for e in load("audit_log_documented.json"))
    assert team_add["event_id"] == "xJJFlFOhQ6b-5vaAFy9Rjw"
    assert team_add["occurred_at"] == datetime(2020, 12, 2, 17, 24, 34, 512000, tzinfo=UTC)
    assert (team_add["category"], team_add["outcome"]) == ("admin", "success")
    assert (team_add["target_name"], team_add["target_type"]) == ("monalisa", "user")
    assert (team_add["actor_login"], team_add["actor_type"]) == ("octocat", "user")
    assert (org_create["category"], org_create["target_type"], org_create["target_name"]) == (
        "admin",
        "organization",
        "octocat-test-org",
    )
    assert (repo_destroy["target_name"], repo_destroy["target_type"]) == ("mona-org/mona-test-repo", "repository")


def test_recorded_audit_events():
    rows = {row["action"]: row for row in map(transform.activity_row, load("audit_log_events.json"))}
    sso = rows["org.sso_response"]
    assert (sso["category"], sso["outcome"]) == ("logon", "unknown")  # GitHub records no result for it
    assert (sso["ip"], sso["country"], sso["actor_id"]) == ("203.0.113.9", "DE", "583231")
    assert sso["user_agent"].startswith("Mozilla/5.0 (X11")
    clone = rows["git.clone"]
    assert (clone["category"], clone["target_type"], clone["target_id"]) == ("file", "repository", "1296269")
    assert clone["ip"] == "198.51.100.23" and clone["user_agent"] == "git/2.45.2"
    promote = rows["org.update_member"]
    assert (promote["category"], promote["target_id"], promote["target_name"]) == ("admin", "583231", "monalisa")
    legacy = rows["team.create"]  # an older shape: no @timestamp, the team under data
    assert legacy["occurred_at"] == datetime(2021, 1, 25, 23, 44, 26, 125000, tzinfo=UTC)
    assert (legacy["target_name"], legacy["target_type"], legacy["actor_id"]) == ("Example-Org/authors", "team", None)
    bot = rows["pull_request.create"]
    assert (bot["actor_type"], bot["category"], bot["ip"]) == ("bot", "user", None)
    rejected = rows["protected_branch.rejected_ref_update"]
    assert (rejected["category"], rejected["outcome"], rejected["country"]) == ("file", "failure", "Canada")
    recovery = rows["org.recovery_code_failed"]
    assert (recovery["category"], recovery["outcome"], recovery["outcome_reason"]) == (
        "logon",
        "failure",
        "invalid recovery code",
    )
    assert rows["org_credential_authorization.grant"]["category"] == "app"
    install = rows["integration_installation.create"]
    assert (install["category"], install["target_type"], install["target_id"]) == ("admin", "integration", "25381")
    assert rows["personal_access_token.access_granted"]["category"] == "admin"
    assert rows["oauth_authorization.create"]["category"] == "user"
    assert all(json.loads(row["raw"])["_document_id"] == row["event_id"] for row in rows.values())


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("org.sso_response", "logon"),
        ("business.sso_response", "logon"),
        ("user.login", "logon"),
        ("org.recovery_code_used", "logon"),
        ("git.push", "file"),
        ("repo.download_zip", "file"),
        ("org_credential_authorization.deauthorize", "app"),
        ("integration_installation_request.create", "app"),
        ("org.add_member", "admin"),
        ("org.update_member", "admin"),
        ("org.oauth_app_access_approved", "admin"),
        ("team.promote_maintainer", "admin"),
        ("repo.access", "admin"),
        ("integration_installation.suspend", "admin"),
        ("protected_branch.create", "admin"),
        ("ip_allow_list_entry.create", "admin"),
        ("personal_access_token.request_denied", "admin"),
        ("personal_access_token.request_created", "user"),
        ("oauth_authorization.destroy", "user"),
        ("pull_request.merge", "user"),
        ("workflows.completed_workflow_run", "user"),
    ],
)
def test_category_mapping(action, expected):
    assert transform.category(action) == expected


@pytest.mark.parametrize(
    ("action", "event", "expected"),
    [
        ("repo.create", {}, "success"),
        ("public_key.verification_failure", {}, "failure"),
        ("user.failed_login", {}, "failure"),
        ("org.sso_response", {}, "unknown"),
        ("org.sso_response", {"outcome": "failure"}, "failure"),
    ],
)
def test_outcome(action, event, expected):
    assert transform.outcome(action, event) == expected


def test_repository_inventory_row():
    (repo,) = load("repos.json")
    row = transform.repository_row(repo)
    assert (row["repo_id"], row["full_name"], row["visibility"]) == ("1296269", "octocat/Hello-World", "public")
    assert row["pushed_at"] == datetime(2011, 1, 26, 19, 6, 43, tzinfo=UTC)
    assert transform.repository_row({"id": 1, "private": True})["visibility"] == "private"


# -- error policy ---------------------------------------------------------------------------


def _response(status: int, body: dict, path: str = "/orgs/octo-corp/members", **headers: str) -> httpx.Response:
    request = httpx.Request("GET", f"https://api.github.com{path}")
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_bad_credentials_are_authentication_errors_with_githubs_message():
    error = GitHubErrorPolicy().error_for(
        _response(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
    )
    assert isinstance(error, AuthenticationError) and error.provider_code == "Bad credentials"
    assert "https://docs.github.com/rest" in str(error)


def test_primary_and_secondary_limits_are_throttles():
    policy = GitHubErrorPolicy()
    primary = policy.error_for(
        _response(403, {"message": "API rate limit exceeded for user ID 1."}, **{
            "x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000", "x-ratelimit-reset": "4102444800"})
    )  # fmt: skip
    assert isinstance(primary, ThrottledError) and primary.retry_after > 3600  # waits for the reset
    secondary = policy.error_for(_response(429, {"message": "You have exceeded a secondary rate limit."}, **{
        "retry-after": "7"}))  # fmt: skip
    assert isinstance(secondary, ThrottledError) and secondary.retry_after == 7
    silent = policy.error_for(_response(403, {"message": "You have exceeded a secondary rate limit."}))
    assert isinstance(silent, ThrottledError) and silent.retry_after == 60  # "wait for at least one minute"
    denied = policy.error_for(
        _response(403, {"message": "Resource not accessible by integration"}, **{"x-ratelimit-remaining": "4999"})
    )
    assert (
        isinstance(denied, PermissionDeniedError) and denied.provider_code == "Resource not accessible by integration"
    )


def test_enterprise_cloud_endpoints_answering_404_are_unavailable_features():
    policy = GitHubErrorPolicy()
    audit = policy.error_for(_response(404, {"message": "Not Found"}, "/orgs/octo-corp/audit-log"))
    assert isinstance(audit, FeatureUnavailableError) and "Enterprise Cloud" in str(audit)
    sso = policy.error_for(_response(404, {"message": "Not Found"}, "/orgs/octo-corp/credential-authorizations"))
    assert isinstance(sso, FeatureUnavailableError) and "SAML" in str(sso)
    team = policy.error_for(_response(404, {"message": "Not Found"}, "/orgs/octo-corp/teams/x/members"))
    assert type(team) is NotFoundError


def test_validation_errors_name_the_field():
    error = GitHubErrorPolicy().error_for(
        _response(
            422,
            {
                "message": "Validation Failed",
                "errors": [{"resource": "Search", "field": "q", "code": "invalid"}],
                "documentation_url": "https://docs.github.com/rest",
            },
        )
    )
    assert error.provider_code == "Validation Failed" and "Search: q: invalid" in str(error)


def test_audit_phrase_and_buckets():
    window = ActivityWindow(
        datetime(2024, 5, 1, 10, 0, 0, 999_000, tzinfo=UTC), datetime(2024, 5, 2, 9, 30, 15, 5_000, tzinfo=UTC)
    )
    assert audit_phrase(window) == "created:2024-05-01T10:00:00+00:00..2024-05-02T09:30:15+00:00"
    assert github_bucket("/orgs/x/audit-log") == "audit_log"
    assert github_bucket("/organizations/1/audit-log") == "audit_log"
    assert github_bucket("/orgs/x/members") == "core"


# -- GitHub App installation tokens ---------------------------------------------------------


@pytest.fixture(scope="module")
def app_key() -> tuple[str, object]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private, key.public_key()


def test_app_jwt_claims(app_key):
    private, public = app_key
    provider = GitHubAppInstallationProvider("https://api.github.com", "Iv23liExample", "77", private)
    claims = jwt.decode(provider.app_jwt(), public, algorithms=["RS256"])
    now = datetime.now(UTC).timestamp()
    assert claims["iss"] == "Iv23liExample"
    assert now - 70 <= claims["iat"] <= now - 50  # backdated against clock drift
    assert claims["exp"] - now <= 600  # GitHub's ten-minute maximum
    assert provider.token_url == "https://api.github.com/app/installations/77/access_tokens"


def test_installation_token_exchange_retries_throttles_and_reports_permissions(app_key):
    private, public = app_key
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        assert jwt.decode(request.headers["authorization"].split()[1], public, algorithms=["RS256"])["iss"] == "12"
        if len(calls) == 1:
            return httpx.Response(429, json={"message": "secondary rate limit"}, headers={"retry-after": "0"})
        body = {"token": "ghs_exampleinstallationtoken0000000000", "expires_at": "2030-01-01T00:00:00Z",
                "permissions": {"members": "read", "organization_administration": "read"}}  # fmt: skip
        return httpx.Response(201, json=body)

    provider = GitHubAppInstallationProvider("https://api.github.com", "12", "77", private)
    token = provider.fetch(httpx.Client(transport=httpx.MockTransport(handler)))
    assert len(calls) == 2 and calls[-1].method == "POST"
    assert token.value.startswith("ghs_") and token.expires_at == datetime(2030, 1, 1, tzinfo=UTC).timestamp()
    assert token.scopes == ("members:read", "organization_administration:read")
    assert calls[-1].headers["x-github-api-version"] == "2022-11-28"


def test_rejected_app_credentials_are_not_retried(app_key):
    private, _ = app_key
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(401, json={"message": "A JSON web token could not be decoded"})

    provider = GitHubAppInstallationProvider("https://api.github.com", "12", "77", private)
    with pytest.raises(AuthenticationError, match="JSON web token") as info:
        provider.fetch(httpx.Client(transport=httpx.MockTransport(handler)))
    assert len(calls) == 1 and info.value.provider_code == "A JSON web token could not be decoded"
    with pytest.raises(AuthenticationError, match="cannot sign"):
        GitHubAppInstallationProvider("https://api.github.com", "12", "77", "not a key").app_jwt()
