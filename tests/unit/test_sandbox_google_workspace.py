"""The Google Workspace sandbox: determinism, paging, auth failures, quotas and late events."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec
from saaslens_sandbox.google_workspace.api import GoogleError, apply_fields, parse_drive_query, parse_fields
from saaslens_sandbox.google_workspace.generator import GoogleWorkspaceOptions, GoogleWorkspaceTenant

APP = "google_workspace"
S = "https://www.googleapis.com/auth/"
ANCHOR = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
APPLICATIONS = ("login", "admin", "token", "drive")


def tenant(seed: int = 1, users: int = 50, **options: Any) -> GoogleWorkspaceTenant:
    return GoogleWorkspaceTenant(
        name="acme", seed=seed, users=users, options=GoogleWorkspaceOptions(**options), anchor=ANCHOR
    )


def test_same_seed_same_tenant_other_seed_other_tenant():
    assert tenant(seed=7).ground_truth() == tenant(seed=7).ground_truth()
    assert tenant(seed=7).ground_truth()["users"] != tenant(seed=8).ground_truth()["users"]


def test_event_count_window_and_shapes():
    truth = tenant(events=777, history_days=3).ground_truth()
    activities = [a for app in APPLICATIONS for a in truth["activities"][app]]
    assert sum(len(a["events"]) for a in activities) == 777
    assert any(len(a["events"]) == 2 for a in activities)  # e.g. a login with its 2-step verification
    times = [datetime.fromisoformat(a["id"]["time"].replace("Z", "+00:00")) for a in activities]
    assert ANCHOR - timedelta(days=3) <= min(times) and max(times) <= ANCHOR
    keys = [(a["id"]["applicationName"], a["id"]["time"], a["id"]["uniqueQualifier"]) for a in activities]
    assert len(keys) == len(set(keys))
    default = tenant(users=30).ground_truth()
    assert sum(len(a["events"]) for app in APPLICATIONS for a in default["activities"][app]) == 300


def test_directory_consistency():
    truth = tenant(users=200).ground_truth()
    super_admins = {u["id"] for u in truth["users"] if u["isAdmin"]}
    seed_role = next(r["roleId"] for r in truth["roles"] if r["isSuperAdminRole"])
    assert super_admins == {a["assignedTo"] for a in truth["role_assignments"] if a["roleId"] == seed_role}
    assert any(a["assigneeType"] == "group" for a in truth["role_assignments"])
    assert truth["admin_email"] in {u["primaryEmail"] for u in truth["users"] if u["isAdmin"]}
    for group in truth["groups"]:
        assert group["directMembersCount"] == str(len(truth["members"][group["id"]]))
    assert {p["type"] for f in truth["files"] for p in f["permissions"]} == {"user", "group", "domain", "anyone"}


def test_ten_thousand_users_and_two_hundred_thousand_events_generate_fast():
    started = time.perf_counter()
    big = tenant(users=10_000, events=200_000)
    elapsed = time.perf_counter() - started
    assert elapsed < 15, f"generation took {elapsed:.1f}s"
    assert len(big.users) == 10_000
    events = sum(len(kinds) for log in big.activities.values() for kinds in log.kinds)
    assert events == 200_000


def test_fields_selection():
    tree = parse_fields("nextPageToken,files(id,owners(emailAddress)),files/name")
    body = {
        "kind": "x",
        "nextPageToken": "t",
        "files": [{"id": "1", "name": "n", "size": "3", "owners": [{"emailAddress": "a", "me": True}]}],
    }
    assert apply_fields(body, tree) == {
        "nextPageToken": "t",
        "files": [{"id": "1", "name": "n", "owners": [{"emailAddress": "a"}]}],
    }


def test_drive_query_app_properties_terms():
    def matches(q: str, item: dict[str, Any]) -> bool:
        return all(test(item, "me@x.test") for test in parse_drive_query(q))

    noted = {"trashed": False, "appProperties": {"k": "v1", "q": "it's"}, "properties": {"k": "public"}}
    plain = {"trashed": False}
    q = "appProperties has { key='k' and value='v1' } and trashed = false"
    assert matches(q, noted) and not matches(q, plain)
    assert not matches("appProperties has { key='k' and value='v2' }", noted)
    assert matches("appProperties has {key='q' and value='it\\'s'}", noted)  # an escaped quote
    assert matches("properties has { key='k' and value='public' }", noted)
    assert not matches("properties has { key='k' and value='v1' }", noted)  # public and private kept apart
    assert matches("trashed = false and appProperties has { key='k' and value='v1' }", noted)
    for bad in (
        "appProperties has { key='k' }",
        "appProperties has { key='k' and value='v1' ",
        "appProperties has key='k' and value='v1' }",
        "appProperties has { key='k and value='v1' }",
        "appProperties contains { key='k' and value='v1' }",
    ):
        with pytest.raises(GoogleError) as raised:
            parse_drive_query(bad)
        assert (raised.value.code, raised.value.reason, raised.value.location) == (400, "invalid", "q"), bad


# -- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    delays = {"login": 3600, "admin": 0, "token": 0, "drive": 0}
    anchor = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    specs = [
        TenantSpec(
            app=APP,
            name="acme",
            seed=3,
            users=40,
            # Anchored when the tenant starts, not when the module is imported: under the full suite
            # the tests run long after collection, and the login delay must still hide the last hour.
            options={"anchor": anchor.isoformat(), "report_delays": delays, "history_days": 1},
        ),
        TenantSpec(
            app=APP,
            name="tight",
            seed=4,
            users=5,
            rate_limits=RateLimitConfig(scale=0.001),  # 2 Directory requests a minute
        ),
    ]
    with SandboxServer(specs) as running:
        yield running


def credentials(server, name: str = "acme") -> dict[str, Any]:
    return server.personality(APP, name).ground_truth()["credentials"]


def assertion(key_file: dict[str, Any], scopes: list[str], subject: str | None, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": key_file["client_email"],
        "scope": " ".join(scopes),
        "aud": key_file["token_uri"],
        "iat": now,
        "exp": now + 3600,
    }
    if subject:
        payload["sub"] = subject
    payload.update(claims)
    return jwt.encode(payload, key_file["private_key"], algorithm="RS256")


def token_response(
    server, scopes: list[str], *, account: str = "scanner", subject: str | None = "", name: str = "acme", **claims: Any
) -> httpx.Response:
    creds = credentials(server, name)
    key_file = creds["service_accounts"][account]["key_file"]
    sub = creds["subject"] if subject == "" else subject
    return httpx.post(
        key_file["token_uri"],
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": assertion(key_file, scopes, sub, **claims),
        },
    )


def api(
    server, scopes: list[str], name: str = "acme", subject: str | None = "", account: str = "scanner"
) -> httpx.Client:
    response = token_response(server, scopes, subject=subject, name=name, account=account)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"} and body["token_type"] == "Bearer"
    return httpx.Client(
        base_url=server.tenant_url(APP, name), headers={"Authorization": f"Bearer {body['access_token']}"}
    )


def test_users_page_in_email_order_and_reject_foreign_page_tokens(server):
    with api(server, [S + "admin.directory.user.readonly"]) as http:
        emails, token, pages = [], None, 0
        while True:
            params = {"customer": "my_customer", "maxResults": 7, **({"pageToken": token} if token else {})}
            body = http.get("/admin/directory/v1/users", params=params).json()
            emails += [u["primaryEmail"] for u in body["users"]]
            pages += 1
            token = body.get("nextPageToken")
            if not token:
                break
        assert pages == 6 and len(emails) == 40 and emails == sorted(set(emails))
        other = http.get("/admin/directory/v1/users", params={"domain": "acme.example.com", "pageToken": "abc"})
        assert other.status_code == 400 and other.json()["error"]["errors"][0]["reason"] == "invalid"
        too_big = http.get("/admin/directory/v1/users", params={"customer": "my_customer", "maxResults": 501})
        assert "Values must be within the range: [1, 500]" in too_big.json()["error"]["message"]
        missing = http.get("/admin/directory/v1/users")
        assert missing.status_code == 400 and missing.json()["error"]["errors"][0]["reason"] == "badRequest"


def read_activities(http: httpx.Client, application: str) -> list[dict[str, Any]]:
    items, token = [], None
    while True:
        params = {"maxResults": 25, **({"pageToken": token} if token else {})}
        body = http.get(f"/admin/reports/v1/activity/users/all/applications/{application}", params=params).json()
        items += body.get("items", [])
        token = body.get("nextPageToken")
        if not token:
            return items


def test_reports_page_newest_first_and_hold_back_late_events(server):
    personality = server.personality(APP, "acme")
    truth = personality.ground_truth()
    audit = [S + "admin.reports.audit.readonly"]
    with api(server, audit) as http:
        admin = read_activities(http, "admin")
        keys = [(a["id"]["time"], int(a["id"]["uniqueQualifier"])) for a in admin]
        assert keys == sorted(keys, reverse=True) and len(admin) == len(truth["activities"]["admin"])
        # Login events take an hour to appear; the last hour of this tenant's history is hidden.
        visible = read_activities(http, "login")
        assert 0 < len(visible) < len(truth["activities"]["login"])
        bad = http.get("/admin/reports/v1/activity/users/all/applications/admin", params={"startTime": "yesterday"})
        assert bad.status_code == 400
        future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        params = {"startTime": future}
        assert http.get("/admin/reports/v1/activity/users/all/applications/admin", params=params).status_code == 400
    personality.advance_clock(3600)
    try:
        with api(server, audit) as http:  # the first token expired with the hour
            assert len(read_activities(http, "login")) == len(truth["activities"]["login"])
    finally:
        personality.advance_clock(-3600)


def test_token_endpoint_errors(server):
    creds = credentials(server)
    bad_grant = httpx.post(creds["token_uri"], data={"grant_type": "client_credentials"})
    assert bad_grant.json()["error"] == "unsupported_grant_type"
    assert token_response(server, [S + "admin.reports.audit.readonly"], account="no-audit").json() == {
        "error": "unauthorized_client",
        "error_description": "Client is unauthorized to retrieve access tokens using this method, or client not "
        "authorized for any of the scopes requested.",
    }
    assert token_response(server, [S + "admin.reports.audit.readonly"], account="no-audit").status_code == 401
    assert token_response(server, [], subject=None).json()["error"] == "invalid_scope"
    stranger = token_response(server, [S + "admin.directory.user.readonly"], subject="ghost@acme.example.com")
    assert (stranger.status_code, stranger.json()["error_description"]) == (400, "Invalid email or User ID")
    stale = token_response(
        server, [S + "admin.directory.user.readonly"], iat=int(time.time()) - 7200, exp=int(time.time()) - 3600
    )
    assert "short-lived" in stale.json()["error_description"]
    foreign = token_response(server, [S + "admin.directory.user.readonly"], aud="https://example.com/token")
    assert foreign.json() == {"error": "invalid_grant", "error_description": "Invalid JWT: Failed audience check."}
    key_file = creds["service_accounts"]["scanner"]["key_file"]
    forged = assertion(key_file, [S + "admin.directory.user.readonly"], creds["subject"])[:-4] + "AAAA"
    response = httpx.post(
        creds["token_uri"], data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": forged}
    )
    assert response.json()["error_description"] == "Invalid JWT Signature."


def test_api_auth_errors(server):
    base = server.tenant_url(APP, "acme")
    missing = httpx.get(f"{base}/admin/directory/v1/users", params={"customer": "my_customer"})
    assert missing.status_code == 401 and "WWW-Authenticate" in missing.headers
    assert missing.json()["error"]["errors"][0]["reason"] == "required"
    garbage = httpx.get(
        f"{base}/admin/directory/v1/users",
        headers={"Authorization": "Bearer ya29.nope"},
        params={"customer": "my_customer"},
    )
    assert garbage.json()["error"]["errors"][0]["reason"] == "authError"
    with api(server, [S + "admin.directory.user.readonly"]) as http:
        wrong_scope = http.get("/admin/reports/v1/activity/users/all/applications/login")
        assert wrong_scope.status_code == 403
        assert wrong_scope.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"
    user = next(u for u in server.personality(APP, "acme").ground_truth()["users"] if not u["isAdmin"])
    with api(server, [S + "admin.directory.user.readonly"], subject=user["primaryEmail"]) as http:
        forbidden = http.get("/admin/directory/v1/users", params={"customer": "my_customer"})
        assert forbidden.status_code == 403 and forbidden.json()["error"]["errors"][0]["reason"] == "forbidden"
    personality = server.personality(APP, "acme")
    with api(server, [S + "admin.directory.user.readonly"]) as http:
        personality.advance_clock(3600)
        try:
            assert http.get("/admin/directory/v1/users", params={"customer": "my_customer"}).status_code == 401
        finally:
            personality.advance_clock(-3600)


def test_quota_answers_are_403_user_rate_limit_or_429_without_headers(server):
    with api(server, [S + "admin.directory.user.readonly"], name="tight") as http:
        server.personality(APP, "tight").reset_rate_limits()
        responses = [http.get("/admin/directory/v1/users", params={"customer": "my_customer"}) for _ in range(4)]
    assert [r.status_code for r in responses[:2]] == [200, 200]
    throttled = responses[2:]
    assert sorted(r.status_code for r in throttled) == [403, 429]
    assert {r.json()["error"]["errors"][0]["reason"] for r in throttled} == {
        "userRateLimitExceeded",
        "rateLimitExceeded",
    }
    assert {r.json()["error"]["errors"][0]["domain"] for r in throttled} == {"usageLimits"}
    for response in responses:
        assert not any(h.lower().startswith(("x-ratelimit", "x-rate-limit", "retry-after")) for h in response.headers)


def test_drive_lists_as_the_user_with_partial_responses(server):
    truth = server.personality(APP, "acme").ground_truth()
    owner = next(
        f["owners"][0]["emailAddress"]
        for f in truth["files"]
        if any(p["role"] == "reader" and p["type"] == "user" for p in f["permissions"])
    )
    with api(server, [S + "drive.metadata.readonly"], subject=owner) as http:
        default = http.get("/drive/v3/files").json()
        assert set(default) <= {"kind", "incompleteSearch", "files", "nextPageToken"}
        assert all(set(f) == {"kind", "id", "name", "mimeType"} for f in default["files"])
        owned = http.get(
            "/drive/v3/files", params={"q": "'me' in owners", "fields": "files(id,ownedByMe,permissions(id))"}
        ).json()
        expected = {f["id"] for f in truth["files"] if f["owners"][0]["emailAddress"] == owner}
        assert {f["id"] for f in owned["files"]} == expected and all(f["ownedByMe"] for f in owned["files"])
        assert all(f["permissions"] for f in owned["files"])
        invalid = http.get("/drive/v3/files", params={"fields": "files(id,colour)"})
        assert invalid.status_code == 400 and invalid.json()["error"]["errors"][0]["reason"] == "invalidParameter"
        assert http.get("/drive/v3/files", params={"q": "fullText contains 'x'"}).status_code == 400
    reader_file = next(
        f for f in truth["files"] if any(p["role"] == "reader" and p["type"] == "user" for p in f["permissions"])
    )
    reader = next(
        p["emailAddress"] for p in reader_file["permissions"] if p["role"] == "reader" and p["type"] == "user"
    )
    with api(server, [S + "drive.metadata.readonly"], subject=reader) as http:
        shared = http.get("/drive/v3/files", params={"fields": "files(id,permissions(id))"}).json()["files"]
        seen = next(f for f in shared if f["id"] == reader_file["id"])
        assert "permissions" not in seen  # only those who may share a file see its permissions


def test_drive_upload_keeps_app_properties_files_list_finds_them_and_only_the_owner_deletes(server):
    truth = server.personality(APP, "acme").ground_truth()
    owned = next(
        f for f in truth["files"] if any(p["role"] == "writer" and p["type"] == "user" for p in f["permissions"])
    )
    owner = owned["owners"][0]["emailAddress"]
    writer = next(p["emailAddress"] for p in owned["permissions"] if p["role"] == "writer" and p["type"] == "user")
    boundary = "b0undary"
    metadata = {"name": "n.txt", "parents": owned["parents"], "appProperties": {"noteFor": owned["id"]}}
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(metadata)}\r\n"
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    )
    query = {"q": f"appProperties has {{ key='noteFor' and value='{owned['id']}' }} and trashed = false"}
    with api(server, [S + "drive"], subject=owner, account="actions") as http:
        created = http.post(
            "/upload/drive/v3/files",
            params={"uploadType": "multipart", "fields": "id,name,appProperties"},
            content=body.encode(),
            headers={"Content-Type": f"multipart/related; boundary={boundary}"},
        )
        assert created.status_code == 200, created.text
        note = created.json()
        assert note == {"id": note["id"], "name": "n.txt", "appProperties": {"noteFor": owned["id"]}}
        found = http.get("/drive/v3/files", params={**query, "fields": "files(id,parents,appProperties)"}).json()
        assert found["files"] == [
            {"id": note["id"], "parents": owned["parents"], "appProperties": metadata["appProperties"]}
        ]
        bad = http.get("/drive/v3/files", params={"q": "appProperties has { key='noteFor' }"})
        assert bad.status_code == 400
        error = bad.json()["error"]
        assert (error["code"], error["status"], error["message"]) == (400, "INVALID_ARGUMENT", "Invalid Value")
        assert error["errors"] == [
            {
                "message": "Invalid Value",
                "domain": "global",
                "reason": "invalid",
                "location": "q",
                "locationType": "parameter",
            }
        ]
    # Shared with a writer, the note stays the owner's to delete (files.delete: "a file owned by the user").
    with api(server, [S + "drive"], subject=owner, account="actions") as http:
        shared = http.post(
            f"/drive/v3/files/{note['id']}/permissions", json={"type": "user", "role": "writer", "emailAddress": writer}
        )
        assert shared.status_code == 200, shared.text
    with api(server, [S + "drive"], subject=writer, account="actions") as http:
        refused = http.delete(f"/drive/v3/files/{note['id']}")
        assert refused.status_code == 403
        assert refused.json()["error"]["errors"][0]["reason"] == "insufficientFilePermissions"
    with api(server, [S + "drive"], subject=owner, account="actions") as http:
        assert http.delete(f"/drive/v3/files/{note['id']}").status_code == 204
        assert http.get("/drive/v3/files", params=query).json()["files"] == []
        assert http.get(f"/drive/v3/files/{note['id']}").status_code == 404
    events = server.personality(APP, "acme").ground_truth()["activities"]["drive"]
    names = [
        e["name"] for a in events for e in a["events"] if {"name": "doc_id", "value": note["id"]} in e["parameters"]
    ]
    assert "upload" in names and "delete" in names
