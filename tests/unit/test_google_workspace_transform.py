"""Google Workspace transforms, error policy and connection handling on recorded payloads
(shapes from the Directory, Reports and Drive API references and their discovery documents)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import tenacity
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo, ConnectionInvalidError
from saaslens.connectors.base import HttpContext
from saaslens.connectors.google_workspace import APP, transform
from saaslens.connectors.google_workspace import files as drive
from saaslens.connectors.google_workspace.connector import (
    AUDIT_SCOPE,
    DelegatedJwtProvider,
    GoogleErrorPolicy,
    GoogleWorkspaceConnector,
    load_service_account,
)
from saaslens.http import AuthenticationError, PermissionDeniedError
from saaslens.http.errors import MalformedResponseError, ThrottledError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "google_workspace"
DOMAINS = {"example.com"}


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def test_account_rows():
    liz, zoe, former = (transform.account_row(u) for u in load("users.json")["users"])
    assert (liz["account_id"], liz["email"], liz["login"]) == (
        "114360591372198263813",
        "liz@example.com",
        "Liz@Example.com",
    )
    assert liz["is_admin"] is True and liz["mfa_enabled"] is True and liz["status"] == "active"
    assert liz["last_login_at"] == datetime(2026, 11, 26, 9, 15, 2, tzinfo=UTC)
    assert zoe["display_name"] == "Zoë Ångström"
    assert (zoe["status"], zoe["provider_status"]) == ("suspended", "SUSPENDED")
    assert zoe["is_admin"] is True  # a delegated admin holds an admin role too
    assert zoe["last_login_at"] is None  # 1970-01-01 means never signed in
    assert (former["status"], former["provider_status"]) == ("deprovisioned", "ARCHIVED")
    assert former["is_admin"] is False and former["account_type"] == "member"
    assert json.loads(liz["raw"])["id"] == liz["account_id"]


def test_group_and_member_rows():
    payload = load("groups.json")
    group = transform.group_row(payload["group"])
    assert (group["group_id"], group["name"], group["group_type"]) == ("01ksv4uv2d2noaq", "Sales", "admin_created")
    owner, nested, external = (transform.member_row(group["group_id"], m) for m in payload["members"]["members"])
    assert (owner["account_id"], owner["member_role"]) == ("114360591372198263813", "owner")
    assert json.loads(nested["raw"])["type"] == "GROUP" and nested["member_role"] == "member"
    assert external["member_role"] == "manager"


def test_privilege_rows_direct_org_unit_and_group():
    payload = load("roles.json")
    roles = {r["roleId"]: r for r in payload["roles"]["items"]}
    seed, help_desk, via_group = payload["assignments"]["items"]
    row = transform.privilege_row(seed["assignedTo"], seed, roles[seed["roleId"]])
    assert (row["privilege_id"], row["privilege_name"], row["scope"]) == (
        "3894208461013211",
        "_SEED_ADMIN_ROLE",
        "customer",
    )
    assert row["assignment_type"] == "direct" and row["via_group_id"] is None
    scoped = transform.privilege_row(help_desk["assignedTo"], help_desk, roles[help_desk["roleId"]])
    assert scoped["scope"] == "org_unit:03ph8a2z1enx5q0"
    inherited = transform.privilege_row("114360591372198263813", via_group, None, via_group_id="01ksv4uv2d2noaq")
    assert (inherited["assignment_type"], inherited["via_group_id"]) == ("group", "01ksv4uv2d2noaq")
    assert inherited["privilege_name"] == via_group["roleId"]  # role list unreadable: the id stands in


def test_grant_rows():
    slack, chrome = (transform.grant_row(t) for t in load("tokens.json")["items"])
    assert slack["grant_id"] == "114360591372198263813:1073741824-slack.apps.googleusercontent.com"
    assert (slack["client_name"], slack["scopes"], slack["source"]) == ("Slack", ["openid", "email", "profile"], "user")
    assert chrome["source"] == "native_app" and chrome["account_id"] == "114360591372198263813"


def test_activity_rows_one_per_event_with_stable_ids():
    failure, challenge_and_success, admin, token, drive = (transform.activity_rows(a) for a in load("activities.json"))
    (row,) = failure
    assert row["event_id"] == "login:2026-11-26T10:04:05.123Z:-4871267519263561983:0"
    assert (row["category"], row["action"], row["outcome"]) == ("logon", "login.login_failure", "failure")
    assert row["outcome_reason"] == "login_failure_invalid_password"
    assert (row["actor_login"], row["actor_id"], row["actor_type"]) == (
        "liz@example.com",
        "114360591372198263813",
        "USER",
    )
    assert (row["ip"], row["country"], row["user_agent"]) == ("203.0.113.7", "PT", None)
    assert row["occurred_at"] == datetime(2026, 11, 26, 10, 4, 5, 123000, tzinfo=UTC)
    verification, success = challenge_and_success
    assert [verification["event_id"][-2:], success["event_id"][-2:]] == [":0", ":1"]
    assert (verification["outcome"], verification["outcome_reason"]) == ("success", "Challenge Passed")
    assert success["outcome"] == "success" and verification["raw"] == success["raw"]
    (added,) = admin
    assert (added["category"], added["target_name"], added["target_type"]) == (
        "admin",
        "zoe.angstrom@example.com",
        "user",
    )
    (authorized,) = token
    assert (authorized["category"], authorized["target_id"], authorized["target_name"]) == (
        "app",
        "1073741824-slack.apps.googleusercontent.com",
        "Slack",
    )
    assert authorized["ip"] == "2001:db8::1"
    (shared,) = drive
    assert (shared["category"], shared["target_type"], shared["target_name"]) == ("file", "file", "Q4 forecast")
    assert shared["action"] == "drive.change_document_visibility"


@pytest.mark.parametrize(
    ("application", "name", "params", "expected"),
    [
        ("login", "logout", {}, "success"),
        ("login", "login_challenge", {"login_challenge_status": "Challenge Failed"}, "failure"),
        ("login", "login_challenge", {}, "unknown"),
        ("admin", "SUSPEND_USER", {}, "success"),
        ("calendar", "create_event", {}, "unknown"),
    ],
)
def test_outcomes(application, name, params, expected):
    assert transform.outcome(application, name, params)[0] == expected


def test_file_rows_visibility_and_shares():
    files = load("files.json")["files"]
    link, contract, notes, diary = (transform.file_row(f, "owner-id", DOMAINS) for f in files)
    assert link["visibility"] == "public"  # anyone with the link
    assert contract["visibility"] == "external" and contract["size_bytes"] == 184233
    assert notes["visibility"] == "internal" and notes["size_bytes"] is None
    assert diary["visibility"] == "private"
    assert link["owner_email"] == "zoe.angstrom@example.com" and link["owner_id"] == "owner-id"
    assert link["modified_at"] == datetime(2026, 11, 25, 16, 45, 12, 345000, tzinfo=UTC)
    assert "permissions" not in json.loads(link["raw"])  # stored once, with the shares
    shares = {s["share_id"]: s for s in transform.share_rows(files[1], DOMAINS)}
    assert shares["13310512939823910934"]["role"] == "owner" and not shares["13310512939823910934"]["is_external"]
    domain = shares["02950298017495010584k"]
    assert (domain["principal_type"], domain["principal_email"], domain["principal_id"]) == (
        "domain",
        "example.com",
        None,
    )
    assert domain["is_external"] is False
    partner = shares["09876543210987654321"]
    assert partner["is_external"] is True and partner["principal_email"] == "agent@partner-agency.com"
    (_, anyone) = transform.share_rows(files[0], DOMAINS)
    assert (anyone["principal_type"], anyone["is_external"]) == ("link", True)
    public = {"id": "anyone", "type": "anyone", "role": "reader", "allowFileDiscovery": True}
    assert transform.principal_type(public) == "anyone"


# -- error policy ------------------------------------------------------------------------------


def _response(status: int, body: dict) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", "https://admin.googleapis.com/x"))


@pytest.mark.parametrize(
    ("name", "throttle"),
    [
        ("rate_limited_403", True),
        ("quota_403", True),
        ("rate_limited_429", True),
        ("daily_limit_403", False),
        ("not_authorized_403", False),
        ("insufficient_scopes_403", False),
    ],
)
def test_google_throttles_are_recognized(name, throttle):
    body = load("errors.json")[name]
    error = GoogleErrorPolicy().error_for(_response(body["error"]["code"], body))
    assert isinstance(error, ThrottledError) is throttle
    assert error.provider_code == body["error"]["errors"][0]["reason"]
    if not throttle:
        assert isinstance(error, PermissionDeniedError)


def test_invalid_credentials_are_authentication_errors():
    body = load("errors.json")["invalid_credentials_401"]
    error = GoogleErrorPolicy().error_for(_response(401, body))
    assert isinstance(error, AuthenticationError) and error.provider_code == "authError"


def _private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def private_key() -> str:
    return _private_key()


def _token_endpoint(status: int, body: dict | bytes) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/token"
        form = dict(httpx.QueryParams(request.content.decode()))
        assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content)

    return httpx.Client(transport=httpx.MockTransport(handler))


def _provider(private_key: str) -> DelegatedJwtProvider:
    return DelegatedJwtProvider(
        token_url="https://oauth2.googleapis.com/token",
        issuer="scanner@project.iam.gserviceaccount.com",
        private_key=private_key,
        scopes=(AUDIT_SCOPE,),
        subject="admin@example.com",
    )


def test_scope_not_delegated_is_a_missing_permission(private_key):
    body = load("errors.json")["token_unauthorized_client"]
    with pytest.raises(PermissionDeniedError) as info:
        _provider(private_key).fetch(_token_endpoint(401, body))
    assert info.value.provider_code == "unauthorized_client" and AUDIT_SCOPE in str(info.value)


def test_bad_signature_is_rejected_credentials(private_key):
    with pytest.raises(AuthenticationError) as info:
        _provider(private_key).fetch(_token_endpoint(400, load("errors.json")["token_invalid_grant"]))
    assert not isinstance(info.value, PermissionDeniedError) and info.value.provider_code == "invalid_grant"


def test_throttled_or_garbled_token_responses_are_transient(private_key, monkeypatch):
    waits: list[float] = []  # retried with backoff (recorded here instead of slept)
    monkeypatch.setattr(tenacity.nap.time, "sleep", waits.append)
    with pytest.raises(ThrottledError):
        _provider(private_key).fetch(_token_endpoint(429, {"error": "rate_limit_exceeded"}))
    with pytest.raises(MalformedResponseError):
        _provider(private_key).fetch(_token_endpoint(200, b'{"access_tok'))
    assert len(waits) == 2 * 4 and all(w > 0 for w in waits)  # five attempts each


def test_successful_token(private_key):
    token = _provider(private_key).fetch(_token_endpoint(200, {"access_token": "ya29.abc", "expires_in": 3599}))
    assert token.value == "ya29.abc" and token.scopes == (AUDIT_SCOPE,)


# -- connection --------------------------------------------------------------------------------


def _connector(host: str | None = None, **extra) -> GoogleWorkspaceConnector:
    instance = InstanceConfig(app="google_workspace", name="acme", conn_id="gws")
    return GoogleWorkspaceConnector(instance.options, ConnectionInfo(conn_id="gws", host=host, extra=extra))


def test_api_roots_default_to_googles_hosts_and_one_host_replaces_them():
    real = _connector()
    assert real.api_root("directory") == "https://admin.googleapis.com"
    assert real.api_root("drive") == "https://www.googleapis.com"
    sandbox = _connector("http://127.0.0.1:8765/google_workspace/acme")
    assert {sandbox.api_root(a) for a in ("directory", "reports", "drive")} == {
        "http://127.0.0.1:8765/google_workspace/acme"
    }
    mixed = _connector("https://www.googleapis.com", api_roots={"directory": "https://admin.googleapis.com/"})
    assert (mixed.api_root("directory"), mixed.api_root("reports")) == (
        "https://admin.googleapis.com",
        "https://www.googleapis.com",
    )


def test_key_file_parsing(private_key):
    key_file = {"client_email": "a@b.iam.gserviceaccount.com", "private_key": private_key, "private_key_id": "k1"}
    key = load_service_account("gws", json.dumps(key_file), None)
    assert (key.token_uri, key.private_key_id) == ("https://oauth2.googleapis.com/token", "k1")
    key = load_service_account("gws", key_file, "http://127.0.0.1:9/google_workspace/acme/token")
    assert key.token_uri.endswith("/acme/token")
    with pytest.raises(ConnectionInvalidError, match="not valid JSON"):
        load_service_account("gws", "{not json", None)
    with pytest.raises(ConnectionInvalidError, match="client_email"):
        load_service_account("gws", {"private_key": private_key}, None)
    with pytest.raises(ValueError, match="https"):
        load_service_account("gws", {**key_file, "token_uri": "http://oauth2.example.com/token"}, None)


def test_per_stream_lookback_covers_googles_lag():
    connector = _connector()
    assert connector.lookback_seconds("admin") >= 120  # "a couple of minutes"
    assert connector.lookback_seconds("login") >= 3 * 3600  # up to a few hours
    activities = APP.activity_stage()
    assert activities is not None and activities.streams == ("login", "admin", "token", "drive")
    overridden = GoogleWorkspaceConnector(
        InstanceConfig(
            app="google_workspace",
            name="acme",
            conn_id="gws",
            options={"stream_lookback_seconds": {"login": 86400}, "activities_lag_seconds": 0},
        ).options,
        ConnectionInfo(conn_id="gws"),
    )
    assert overridden.lookback_seconds("login") == 86400 and overridden.lag_seconds("drive") == 0


def test_a_user_google_will_not_impersonate_is_skipped_not_fatal(private_key):
    import jwt

    files = load("files.json")["files"][3:]  # one private file

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            claims = jwt.decode(
                dict(httpx.QueryParams(request.content.decode()))["assertion"], options={"verify_signature": False}
            )
            if claims["sub"] == "gone@example.com":
                return httpx.Response(400, json=load("errors.json")["token_invalid_grant"])
            return httpx.Response(200, json={"access_token": f"ya29.{claims['sub']}", "expires_in": 3599})
        if request.url.path == "/admin/directory/v1/users":
            users = [{"id": "1", "primaryEmail": "liz@example.com"}, {"id": "2", "primaryEmail": "gone@example.com"}]
            return httpx.Response(200, json={"users": users})
        if request.url.path == "/v2/labels":  # the Drive Labels API: this customer has defined none
            return httpx.Response(200, json={"labels": []})
        assert request.url.path == "/drive/v3/files"
        me = request.headers["Authorization"].removeprefix("Bearer ya29.")
        return httpx.Response(200, json={"files": files if me == "liz@example.com" else []})

    key_file = {
        "client_email": "scanner@p.iam.gserviceaccount.com",
        "private_key": private_key,
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    connection = ConnectionInfo(
        conn_id="gws",
        host="https://www.googleapis.com",
        password=json.dumps(key_file),
        extra={"subject": "liz@example.com"},
    )
    instance = InstanceConfig(app="google_workspace", name="acme", conn_id="gws", options={"max_workers": 1})
    connector = GoogleWorkspaceConnector(
        instance.options, connection, HttpContext(transport=httpx.MockTransport(handler))
    )
    try:
        batches = list(drive.scan_files(connector, None))
    finally:
        connector.close()
    assert [(batch.table, [r["file_id"] for r in batch.rows]) for batch in batches] == [
        ("files", ["1PrivatePrivatePrivatePrivate0001"]),
        ("file_shares", ["1PrivatePrivatePrivatePrivate0001"]),
    ]
