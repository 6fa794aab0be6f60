"""Microsoft 365 transforms and Graph conventions on recorded payloads (shapes from the Graph v1.0
API reference examples in microsoftgraph/microsoft-graph-docs-contrib)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from saaslens.connections import ConnectionInvalidError
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.connector import (
    GraphErrorPolicy,
    graph_bucket,
    graph_scope,
    thumbprint_header,
)
from saaslens.http import FeatureUnavailableError, PermissionDeniedError, ThrottledError, TransientError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "microsoft365"
DOMAINS = {"contoso.com", "contoso.onmicrosoft.com"}


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def test_account_rows_map_status_type_admin_and_last_sign_in():
    adele, zoe, brian = (transform.account_row(u, {"87d349ed-44d7-43e1-9a83-5f2406dee5bd"}) for u in load("users.json"))
    assert (adele["status"], adele["provider_status"], adele["account_type"]) == ("active", "enabled", "member")
    assert adele["is_admin"] is True and brian["is_admin"] is False
    assert adele["email"] == "adelev@contoso.com" and adele["login"] == "AdeleV@contoso.com"
    # lastSuccessfulSignInDateTime wins over the last (possibly failed) interactive attempt
    assert adele["last_login_at"] == datetime(2024, 8, 15, 1, 2, 3, tzinfo=UTC)
    assert (zoe["status"], zoe["provider_status"], zoe["account_type"]) == ("pending", "PendingAcceptance", "guest")
    assert zoe["last_login_at"] is None and zoe["display_name"] == "Zoë Müller"
    assert (brian["status"], brian["provider_status"]) == ("suspended", "disabled")
    # Only an attempt on record (lastSignInDateTime, "successful or not"): no login, but the attempt is kept.
    assert brian["last_login_at"] is None
    assert brian["last_login_attempt_at"] == datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert brian["email"] is None
    assert json.loads(adele["raw"])["id"] == adele["account_id"]
    assert transform.account_row(load("users.json")[0], None)["is_admin"] is None  # roles unreadable: unknown


def test_group_rows_name_the_four_kinds_of_group():
    rows = [transform.group_row(g) for g in load("groups.json")]
    assert [r["group_type"] for r in rows] == ["Microsoft 365", "Security", "Distribution", "Mail-enabled security"]
    assert rows[0]["created_at"] == datetime(2017, 7, 31, 18, 56, 16, tzinfo=UTC)


def test_only_user_members_become_memberships():
    members = load("members.json")["value"]
    users = [m for m in members if transform.is_user(m)]
    assert [m["id"] for m in users] == ["87d349ed-44d7-43e1-9a83-5f2406dee5bd"]
    assert transform.member_row("g1", users[0]) == {
        "group_id": "g1",
        "account_id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
        "member_role": "member",
        "raw": None,
    }


def test_privilege_rows_direct_and_through_a_group():
    role = {
        "id": "r1",
        "displayName": "Helpdesk Administrator",
        "roleTemplateId": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    }
    direct = transform.privilege_row("u1", role, {"id": "u1"}, None)
    inherited = transform.privilege_row("u2", role, {"id": "u2"}, "g1")
    assert (direct["assignment_type"], direct["via_group_id"], direct["scope"]) == ("direct", None, "/")
    assert (inherited["assignment_type"], inherited["via_group_id"]) == ("group", "g1")
    assert inherited["privilege_name"] == "Helpdesk Administrator"


def test_delegated_grants_resolve_the_client_app():
    sps = {sp["id"]: sp for sp in load("service_principals.json")}
    everyone, adele = (transform.delegated_grant_row(g, sps) for g in load("oauth2_permission_grants.json")["value"])
    assert everyone["client_id"] == "4b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d" and everyone["client_name"] == "Zoom"
    assert (everyone["account_id"], everyone["source"]) == (None, "admin")
    assert everyone["scopes"] == ["User.Read", "openid", "profile"]  # Graph's leading space is not a scope
    assert (adele["account_id"], adele["source"]) == ("87d349ed-44d7-43e1-9a83-5f2406dee5bd", "user")
    assert adele["scopes"] == ["Mail.Read", "offline_access"]
    unknown = transform.delegated_grant_row({"id": "x", "clientId": "gone", "consentType": "Principal"}, {})
    assert unknown["client_id"] == "gone" and unknown["client_name"] is None


def test_application_permissions_name_the_app_role():
    sps = {sp["id"]: sp for sp in load("service_principals.json")}
    read_all, default = (transform.application_grant_row(a, sps) for a in load("app_role_assignments.json")["value"])
    assert read_all["scopes"] == ["User.Read.All"] and read_all["source"] == "admin"
    assert read_all["client_id"] == "3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" and read_all["account_id"] is None
    assert read_all["created_at"] == datetime(2021, 2, 15, 16, 39, 38, 297502, tzinfo=UTC)
    assert default["scopes"] == []  # the default access role grants no named permission


def test_sign_in_rows():
    ok, failed = (transform.sign_in_row(s) for s in load("sign_ins.json"))
    assert (ok["category"], ok["action"], ok["outcome"], ok["outcome_reason"]) == ("logon", "signIn", "success", None)
    assert ok["actor_login"] == "AdeleV@contoso.com" and ok["target_name"] == "Graph Explorer"
    assert (ok["ip"], ok["country"]) == ("131.107.159.37", "US") and ok["user_agent"].startswith("Mozilla/5.0")
    assert ok["occurred_at"] == datetime(2024, 6, 24, 18, 49, 33, tzinfo=UTC)
    assert failed["outcome"] == "failure"
    assert failed["outcome_reason"].startswith("50126: Error validating credentials")
    assert failed["country"] == "NG"


def test_directory_audit_rows_are_categorized():
    group_add, self_service, consent, by_app = (transform.directory_audit_row(a) for a in load("directory_audits.json"))
    assert (group_add["category"], group_add["outcome"], group_add["action"]) == (
        "admin",
        "success",
        "Add member to group",
    )
    assert (group_add["actor_login"], group_add["actor_type"], group_add["ip"]) == (
        "admin@contoso.com",
        "User",
        "131.107.159.37",
    )
    assert (group_add["target_name"], group_add["target_type"]) == ("AdeleV@contoso.com", "User")
    assert group_add["user_agent"].startswith("Mozilla/5.0")
    assert group_add["occurred_at"] == datetime(2024, 1, 31, 17, 8, 24, 963354, tzinfo=UTC)
    assert self_service["category"] == "user" and self_service["ip"] is None  # "" means not recorded
    assert (consent["category"], consent["outcome"]) == ("app", "failure")
    assert consent["outcome_reason"] == "Microsoft.Online.Security.UserConsentBlockedForRiskyAppsException"
    assert (by_app["actor_type"], by_app["actor_login"], by_app["category"]) == (
        "ServicePrincipal",
        "Contoso HR Sync",
        "admin",
    )
    assert by_app["outcome"] == "unknown"  # result "timeout"


def test_share_rows_and_visibility():
    rows = [transform.share_row("f1", p, DOMAINS) for p in load("permissions.json")["value"]]
    owner, org_link, anonymous, guest, people_link, site_group = rows
    assert (owner["principal_type"], owner["role"], owner["is_external"]) == ("user", "owner", False)
    assert (org_link["principal_type"], org_link["role"], org_link["is_external"]) == ("domain", "writer", False)
    assert org_link["principal_email"] in DOMAINS
    assert (anonymous["principal_type"], anonymous["is_external"], anonymous["principal_email"]) == (
        "anyone",
        True,
        None,
    )
    assert (guest["principal_type"], guest["principal_email"], guest["is_external"]) == (
        "user",
        "partner@fabrikam.com",
        True,
    )
    assert (people_link["principal_type"], people_link["principal_id"], people_link["is_external"]) == (
        "link",
        "d4957c9d-869e-4364-830c-d0c95be72738",
        False,
    )
    assert (site_group["principal_type"], site_group["is_external"]) == ("group", False)
    assert transform.visibility(rows) == "public"
    assert transform.visibility([owner, guest]) == "external"
    assert transform.visibility([owner, org_link]) == "internal"
    assert transform.visibility([owner]) == "private"
    assert transform.share_row("f1", load("permissions.json")["value"][3], None)["is_external"] is None


def test_file_rows_build_paths_from_parent_ids():
    items = load("delta.json")["value"]
    drive = load("drive.json")
    paths = transform.folder_paths(items)
    assert paths[items[2]["id"]] == "/Projects/Q3 Report.docx" and paths[items[0]["id"]] == ""
    row = transform.file_row(items[2], drive, paths[items[2]["id"]], [])
    assert (
        row["path"] == "https://contoso-my.sharepoint.com/personal/adelev_contoso_com/Documents/Projects/Q3 Report.docx"
    )
    assert (row["owner_id"], row["owner_email"]) == ("87d349ed-44d7-43e1-9a83-5f2406dee5bd", "adelev@contoso.com")
    assert row["mime_type"].endswith("wordprocessingml.document") and row["size_bytes"] == 1048576
    assert row["visibility"] == "private"


def _response(status: int, body: dict, headers: dict | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://graph.microsoft.com/v1.0/auditLogs/signIns")
    return httpx.Response(status, json=body, headers=headers, request=request)


def graph_error(code: str, message: str) -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": "2024-09-02T14:32:39", "request-id": "2501535b", "client-request-id": "2501535b"},
        }
    }


def test_error_policy_tells_licence_from_permission_and_honours_retry_after():
    policy = GraphErrorPolicy()
    licence = policy.error_for(
        _response(
            403,
            graph_error(
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "Neither tenant is B2C or tenant doesn't have premium license",
            ),
        )
    )
    assert isinstance(licence, FeatureUnavailableError) and "request-id 2501535b" in licence.detail
    denied = policy.error_for(
        _response(403, graph_error("Authorization_RequestDenied", "Insufficient privileges to complete the operation."))
    )
    assert isinstance(denied, PermissionDeniedError) and not isinstance(denied, FeatureUnavailableError)
    assert denied.provider_code == "Authorization_RequestDenied"
    throttled = policy.error_for(_response(429, graph_error("TooManyRequests", "slow down"), {"Retry-After": "7"}))
    assert isinstance(throttled, ThrottledError) and throttled.retry_after == 7
    busy = policy.error_for(_response(503, graph_error("serviceNotAvailable", "busy"), {"Retry-After": "2"}))
    assert isinstance(busy, ThrottledError) and busy.retry_after == 2
    plain = policy.error_for(_response(503, graph_error("serviceNotAvailable", "busy")))
    assert isinstance(plain, TransientError) and not isinstance(plain, ThrottledError)


@pytest.mark.parametrize(
    ("thumbprint", "header", "algorithm"),
    [
        ("84E05C1D98BCE3A5421D225B140B36E86A3D5534", "x5t", "RS256"),
        ("84:e0:5c:1d:98:bc:e3:a5:42:1d:22:5b:14:0b:36:e8:6a:3d:55:34", "x5t", "RS256"),
        ("ab" * 32, "x5t#S256", "PS256"),
    ],
)
def test_certificate_thumbprints_become_assertion_headers(thumbprint, header, algorithm):
    headers, alg = thumbprint_header(thumbprint)
    assert alg == algorithm and list(headers) == [header]
    digits = thumbprint.replace(":", "")
    assert base64.urlsafe_b64decode(headers[header] + "=" * (-len(headers[header]) % 4)) == bytes.fromhex(digits)


def test_documented_x5t_example_and_bad_thumbprints():
    # Microsoft's example: hex 84E05C1D98BCE3A5421D225B140B36E86A3D5534 is x5t hOBcHZi846VCHSJbFAs26Go9VTQ
    assert thumbprint_header("84E05C1D98BCE3A5421D225B140B36E86A3D5534")[0] == {"x5t": "hOBcHZi846VCHSJbFAs26Go9VTQ"}
    for bad in ("not-hex", "abcd"):
        with pytest.raises(ConnectionInvalidError):
            thumbprint_header(bad)


def test_buckets_and_scopes():
    assert graph_bucket("/v1.0/auditLogs/signIns") == "reports"
    assert graph_bucket("/v1.0/drives/b!x/root/delta") == "files"
    assert graph_bucket("/v1.0/users/u1/drive") == "files"
    assert graph_bucket("/v1.0/groups/g1/members") == "directory"
    assert graph_scope("https://graph.microsoft.com") == "https://graph.microsoft.com/.default"
    assert graph_scope("https://graph.microsoft.us") == "https://graph.microsoft.us/.default"
    assert graph_scope("http://127.0.0.1:8765/microsoft365/contoso") == "https://graph.microsoft.com/.default"
