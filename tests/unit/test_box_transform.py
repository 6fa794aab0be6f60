"""Box transforms on JSON shaped like Box's documented samples (the OpenAPI description's examples for
User--Full, Group--Full, GroupMembership and Event, and the enterprise events guide), plus the
connector's error policy and the events paginator's handling of stream positions above 2^53."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from saaslens.connectors.box import transform
from saaslens.connectors.box.connector import BoxErrorPolicy, StreamPositionPaginator, exact_stream_position
from saaslens.http import ApiClient, AuthenticationError, PermissionDeniedError, RetryPolicy, ThrottledError
from saaslens.http.pagination import PageRequest

# User--Full as the spec's examples give it (values from the spec, role asked for in `fields`).
USER = {
    "id": "11446498",
    "type": "user",
    "name": "Aaron Levie",
    "login": "Ceo@Example.com",
    "created_at": "2012-12-12T10:53:43-08:00",
    "modified_at": "2012-12-12T10:53:43-08:00",
    "status": "active",
    "role": "admin",
    "job_title": "CEO",
    "is_platform_access_only": False,
    "enterprise": {"id": "11446498", "type": "enterprise", "name": "Acme Inc."},
}


def test_account_row_reads_the_documented_user():
    row = transform.account_row(USER)
    assert row["account_id"] == "11446498"
    assert row["email"] == "ceo@example.com"  # the login is the primary email, lowercased
    assert row["login"] == "Ceo@Example.com"
    assert row["status"] == "active" and row["provider_status"] == "active"
    assert row["is_admin"] is True
    assert row["account_type"] == "member"
    # Box's Pacific offsets become UTC instants
    assert row["created_at"] == datetime(2012, 12, 12, 18, 53, 43, tzinfo=UTC)
    assert row["mfa_enabled"] is None and row["last_login_at"] is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", "active"),
        ("inactive", "suspended"),
        ("cannot_delete_edit", "active"),
        ("cannot_delete_edit_upload", "active"),
    ],
)
def test_every_documented_status_is_normalized(status: str, expected: str):
    row = transform.account_row({**USER, "status": status})
    assert (row["status"], row["provider_status"]) == (expected, status)


def test_app_users_and_service_accounts_are_service_accounts():
    app_user = {**USER, "login": "AppUser_1234_abcd@boxdevedition.com", "is_platform_access_only": True}
    service = {**USER, "login": "AutomationUser_5678_efgh@boxdevedition.com", "is_platform_access_only": False}
    assert transform.account_row(app_user)["account_type"] == "service"
    assert transform.account_row(service)["account_type"] == "service"


def test_role_not_asked_for_leaves_admin_unknown_and_no_privilege():
    user = {k: v for k, v in USER.items() if k != "role"}
    assert transform.account_row(user)["is_admin"] is None
    assert transform.privilege_rows(user) == []


def test_privileges_are_the_enterprise_roles():
    assert [r["privilege_id"] for r in transform.privilege_rows(USER)] == ["enterprise_role:admin"]
    coadmin = transform.privilege_rows({**USER, "role": "coadmin"})[0]
    assert coadmin["privilege_name"] == "Co-Admin" and coadmin["scope"] == "enterprise:11446498"
    assert transform.privilege_rows({**USER, "role": "user"}) == []


def test_group_and_membership_rows():
    group = {
        "id": "11446498",
        "type": "group",
        "name": "Support",
        "group_type": "managed_group",
        "created_at": "2012-12-12T10:53:43-08:00",
        "modified_at": "2012-12-12T10:53:43-08:00",
        "provenance": "Active Directory",
        "description": "Support Group - as imported from Active Directory",
    }
    row = transform.group_row(group)
    assert (row["group_id"], row["name"], row["group_type"]) == ("11446498", "Support", "managed_group")
    membership = {
        "id": "11446498",
        "type": "group_membership",
        "user": {"id": "11446498", "type": "user", "name": "Aaron Levie", "login": "ceo@example.com"},
        "group": {"id": "11446498", "type": "group", "name": "Support", "group_type": "managed_group"},
        "role": "admin",
    }
    assert transform.member_row(membership) | {"raw": None} == {
        "group_id": "11446498",
        "account_id": "11446498",
        "member_role": "admin",
        "raw": None,
    }


def event(**overrides):
    base = {
        "type": "event",
        "event_id": "f82c3ba03e41f7e8a7608363cc6c0390183c3f83",
        "created_at": "2012-12-12T10:53:43-08:00",
        "recorded_at": "2012-12-12T10:54:43-08:00",
        "created_by": {"type": "user", "id": "11446498", "name": "Aaron Levie", "login": "ceo@example.com"},
        "event_type": "LOGIN",
        "session_id": None,
        "source": {"type": "user", "id": "11446498", "name": "Aaron Levie", "login": "ceo@example.com"},
        "ip_address": "10.0.0.1",
        "additional_details": None,
    }
    return {**base, **overrides}


def test_login_event():
    row = transform.activity_row(event())
    assert row["category"] == "logon" and row["outcome"] == "success"
    assert row["occurred_at"] == datetime(2012, 12, 12, 18, 53, 43, tzinfo=UTC)
    assert (row["actor_id"], row["actor_login"]) == ("11446498", "ceo@example.com")
    assert (row["target_id"], row["target_name"], row["target_type"]) == ("11446498", "ceo@example.com", "user")
    assert row["ip"] == "10.0.0.1"


def test_failed_login_unknown_ip_and_reason():
    row = transform.activity_row(
        event(
            event_type="FAILED_LOGIN",
            ip_address="Unknown IP",
            additional_details={"failure_reason": "Invalid password"},
        )
    )
    assert row["outcome"] == "failure" and row["outcome_reason"] == "Invalid password"
    assert row["ip"] is None  # Box's "Unknown IP" is no address


def test_anonymous_download_of_an_item():
    row = transform.activity_row(
        event(
            event_type="DOWNLOAD",
            created_by={"type": "user", "id": "2", "name": "Unknown User", "login": ""},
            source={"item_type": "file", "item_id": "12345", "item_name": "Contract.pdf", "parent": {"id": "0"}},
        )
    )
    assert row["category"] == "file"
    assert row["actor_id"] is None and row["actor_type"] == "anonymous"
    assert (row["target_id"], row["target_name"], row["target_type"]) == ("12345", "Contract.pdf", "file")


def test_admin_and_user_events_are_categorized():
    assert transform.activity_row(event(event_type="CHANGE_ADMIN_ROLE"))["category"] == "admin"
    assert transform.activity_row(event(event_type="GROUP_ADD_USER"))["category"] == "user"
    assert transform.activity_row(event(event_type="EDIT_USER", source=None))["target_id"] is None


# -- stream positions -----------------------------------------------------------------------------

BIG = 1152922976252290886  # Box's example position: not representable as a double


def response(content: bytes) -> httpx.Response:
    return httpx.Response(200, content=content, request=httpx.Request("GET", "https://api.box.com/2.0/events"))


def test_a_stream_position_keeps_every_digit_as_number_or_string():
    assert float(BIG) != BIG  # why it matters
    number = response(b'{"chunk_size":1,"next_stream_position":1152922976252290886,"entries":[{}]}')
    assert exact_stream_position(number, {"next_stream_position": BIG}) == str(BIG)
    text = response(b'{"next_stream_position":"1152922976252290886"}')
    assert exact_stream_position(text, {"next_stream_position": str(BIG)}) == str(BIG)


def test_a_position_a_parser_made_a_float_is_read_again_from_the_body():
    huge = 123456789012345678901234567890  # beyond 64 bits: orjson gives a float
    raw = response(b'{"next_stream_position":123456789012345678901234567890,"entries":[]}')
    assert exact_stream_position(raw, {"next_stream_position": float(huge)}) == str(huge)


def test_the_events_paginator_sends_the_exact_position_and_stops_on_an_empty_chunk():
    paginator = StreamPositionPaginator("entries")
    first = PageRequest("https://api.box.com/2.0/events", {"stream_type": "admin_logs"})
    answer = response(b'{"chunk_size":1,"next_stream_position":1152922976252290887,"entries":[{"event_id":"a"}]}')
    following = paginator.next_request(first, answer, {"next_stream_position": BIG + 1}, [{"event_id": "a"}])
    assert following is not None and following.params["stream_position"] == str(BIG + 1)
    empty = response(b'{"chunk_size":0,"next_stream_position":1152922976252290887,"entries":[]}')
    assert paginator.next_request(following, empty, {"next_stream_position": BIG + 1}, []) is None


def test_a_non_integer_position_is_refused():
    with pytest.raises(Exception, match="not an integer"):
        exact_stream_position(response(b"{}"), {"next_stream_position": "12ab"})


# -- errors ---------------------------------------------------------------------------------------


def client_answering(status: int, body: bytes, headers: dict[str, str] | None = None) -> ApiClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers or {})

    return ApiClient(
        "https://api.box.com/2.0/",
        error_policy=BoxErrorPolicy(),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=1),
    )


def test_client_error_bodies_map_to_typed_errors():
    forbidden = (
        b'{"type":"error","status":403,"code":"insufficient_scope",'
        b'"message":"The request requires higher privileges than provided by the access token.","request_id":"abc"}'
    )
    with pytest.raises(PermissionDeniedError) as denied:
        client_answering(403, forbidden).get_json("events")
    assert denied.value.provider_code == "insufficient_scope" and "request_id abc" in denied.value.detail
    with pytest.raises(AuthenticationError):
        client_answering(401, b"", {"WWW-Authenticate": 'Bearer realm="Service", error="invalid_token"'}).get_json(
            "users"
        )
    limited = b'{"type":"error","status":429,"code":"rate_limit_exceeded","message":"Request rate limit exceeded"}'
    with pytest.raises(ThrottledError) as throttled:
        client_answering(429, limited, {"retry-after": "7"}).get_json("users")
    assert throttled.value.retry_after == 7


# File--Full and Collaboration as the spec's examples give them (ids, names, timestamps, shared link).
FILE = {
    "id": "12345",
    "type": "file",
    "etag": "1",
    "name": "Contract.pdf",
    "size": 629644,
    "sha1": "85136C79CBF9FE36BB9D05D0639C70C265C18D37",
    "file_version": {"type": "file_version", "id": "12345", "sha1": "134b65991ed521fcfe4724b7d814ab8ded5185dc"},
    "created_at": "2012-12-12T10:53:43-08:00",
    "modified_at": "2012-12-12T10:53:43-08:00",
    "owned_by": {"type": "user", "id": "11446498", "name": "Aaron Levie", "login": "ceo@example.com"},
    "path_collection": {"total_count": 2, "entries": [{"id": "0", "name": "All Files"}, {"id": "7", "name": "Legal"}]},
    "shared_link": {
        "url": "https://www.box.com/s/vspke7y05sb214wjokpk",
        "access": "open",
        "effective_access": "company",
        "permissions": {"can_download": True, "can_preview": True, "can_edit": False},
    },
    "item_status": "active",
}
FOLDER = {"id": "7", "type": "folder", "name": "Legal", "shared_link": None}
DIRECTORY = transform.Directory.of([USER, {"id": "2", "login": "AppUser_1_x@boxdevedition.com"}])


def collaboration(cid: str, grantee: dict | None, *, status: str = "accepted", email: str | None = None) -> dict:
    found = {"id": cid, "type": "collaboration", "role": "editor", "status": status, "invite_email": email}
    return {**found, "accessible_by": grantee} if grantee else found


def test_a_link_counts_at_its_effective_access_and_collaborators_by_domain():
    partner = collaboration("c1", {"type": "user", "id": "99", "login": "john@partner.example.org"})
    colleague = collaboration("c2", {"type": "user", "id": "11446498", "login": "ceo@example.com"})
    group = collaboration("c3", {"type": "group", "id": "g1", "name": "Legal"})
    invite = collaboration("c4", None, status="pending", email="Someone@Example.com")
    rejected = collaboration("c5", {"type": "user", "id": "98", "login": "x@other.example"}, status="rejected")
    shares = transform.share_rows(FILE, [partner, colleague, group, invite, rejected], DIRECTORY)
    got = {s["share_id"]: (s["principal_type"], s["principal_email"], s["is_external"]) for s in shares}
    # enterprise settings narrowed the open link to company: internal, not public
    assert got == {
        "shared_link": ("domain", None, False),
        "c1": ("user", "john@partner.example.org", True),
        "c2": ("user", "ceo@example.com", False),
        "c3": ("group", None, False),
        "c4": ("user", "someone@example.com", False),  # pending, no Box account: the invited address
    }
    row = transform.file_row(FILE, shares)
    assert row["visibility"] == "external" and row["content_version"] == "12345"
    assert row["path"] == "/Legal/Contract.pdf" and row["owner_email"] == "ceo@example.com" and row["mime_type"] is None


def test_a_file_inherits_its_folders_collaborations_and_link():
    folder = {**FOLDER, "shared_link": {"access": "open", "permissions": {"can_edit": True}}}
    inherited = transform.share_rows(folder, [collaboration("c9", None, email="a@gmail.com")], DIRECTORY, file_id="1")
    assert {(s["file_id"], s["share_id"], s["principal_type"], s["role"]) for s in inherited} == {
        ("1", "shared_link:7", "anyone", "writer"),
        ("1", "c9", "user", "editor"),
    }
    assert all('"inherited_from"' in s["raw"] for s in inherited)
    alone = {**FILE, "shared_link": None}
    assert transform.file_row(alone, [])["visibility"] == "private"
    assert transform.file_row(alone, inherited)["visibility"] == "public"
