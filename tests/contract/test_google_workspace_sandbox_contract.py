"""What the Google Workspace sandbox serves, validated against Google's own discovery documents.

The documents ship in the `google-api-python-client` package
(googleapiclient/discovery_cache/documents/): admin.directory_v1.json, admin.reports_v1.json and
drive.v3.json. Each discovery schema is converted to JSON Schema strictly: property types and
formats as declared, and no property the schema does not name.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from importlib import util
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from saaslens_sandbox.core import SandboxServer, TenantSpec

jsonschema = pytest.importorskip("jsonschema")
if util.find_spec("googleapiclient") is None:
    pytest.skip(
        "google-api-python-client is not installed (pip install google-api-python-client==2.202.0): it ships "
        "the discovery documents this test validates against",
        allow_module_level=True,
    )

DOCUMENTS = Path(util.find_spec("googleapiclient").origin).parent / "discovery_cache" / "documents"
INT64 = r"^-?[0-9]+$"
DATE_TIME = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"
ANCHOR = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)


def discovery(name: str) -> dict[str, Any]:
    return json.loads((DOCUMENTS / name).read_text())


def to_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """One discovery schema (or inline property) as strict JSON Schema."""
    if "$ref" in schema:
        return {"$ref": f"#/definitions/{schema['$ref']}"}
    kind = schema.get("type")
    out: dict[str, Any] = {}
    if kind == "any" or kind is None:
        return out
    out["type"] = kind
    if kind == "string":
        if schema.get("format") in ("int64", "uint64"):
            out["pattern"] = INT64
        elif schema.get("format") == "date-time":
            out["pattern"] = DATE_TIME
        if "enum" in schema:
            out["enum"] = schema["enum"]
    elif kind == "array":
        out["items"] = to_json_schema(schema.get("items", {}))
    elif kind == "object":
        properties = schema.get("properties") or {}
        out["properties"] = {name: to_json_schema(prop) for name, prop in properties.items()}
        extra = schema.get("additionalProperties")
        out["additionalProperties"] = to_json_schema(extra) if extra else not properties
    return out


def validator(document: str, root: str) -> Any:
    doc = discovery(document)
    definitions = {name: to_json_schema(s) for name, s in doc["schemas"].items()}
    schema = {"$ref": f"#/definitions/{root}", "definitions": definitions}
    cls = jsonschema.Draft7Validator
    cls.check_schema(schema)
    return cls(schema)


def assert_valid(document: str, root: str, payload: Any) -> None:
    errors = sorted(validator(document, root).iter_errors(payload), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


@pytest.fixture(scope="module")
def tenant():
    spec = TenantSpec(
        app="google_workspace",
        name="contract",
        seed=5,
        users=120,
        options={
            "anchor": ANCHOR.isoformat(),
            "events": 800,
            "report_delays": dict.fromkeys(("login", "admin", "token", "drive"), 0),
        },
    )
    with SandboxServer([spec]) as server:
        truth = server.personality("google_workspace", "contract").ground_truth()
        base = server.tenant_url("google_workspace", "contract")
        with httpx.Client(base_url=base, timeout=30) as http:
            yield http, truth


def bearer(
    http: httpx.Client, truth: dict[str, Any], scopes: list[str], subject: str | None = None, account: str = "scanner"
) -> dict[str, str]:
    credentials = truth["credentials"]
    key_file = credentials["service_accounts"][account]["key_file"]
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": key_file["client_email"],
        "sub": subject or credentials["subject"],
        "scope": " ".join(scopes),
        "aud": key_file["token_uri"],
        "iat": now,
        "exp": now + 3600,
    }
    assertion = jwt.encode(
        claims, key_file["private_key"], algorithm="RS256", headers={"kid": key_file["private_key_id"]}
    )
    response = http.post(
        key_file["token_uri"],
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


S = "https://www.googleapis.com/auth/"


def test_users_list(tenant):
    http, truth = tenant
    headers = bearer(http, truth, [S + "admin.directory.user.readonly"])
    page = http.get("/admin/directory/v1/users", params={"customer": "my_customer", "maxResults": 500}, headers=headers)
    assert page.status_code == 200
    assert_valid("admin.directory_v1.json", "Users", page.json())
    assert len(page.json()["users"]) == 120


def test_groups_members_roles_and_assignments(tenant):
    http, truth = tenant
    headers = bearer(http, truth, [S + "admin.directory.group.readonly", S + "admin.directory.rolemanagement.readonly"])
    groups = http.get("/admin/directory/v1/groups", params={"customer": "my_customer"}, headers=headers).json()
    assert_valid("admin.directory_v1.json", "Groups", groups)
    for group in groups["groups"][:10]:
        members = http.get(f"/admin/directory/v1/groups/{group['id']}/members", headers=headers).json()
        assert_valid("admin.directory_v1.json", "Members", members)
    roles = http.get("/admin/directory/v1/customer/my_customer/roles", headers=headers).json()
    assert_valid("admin.directory_v1.json", "Roles", roles)
    assignments = http.get("/admin/directory/v1/customer/my_customer/roleassignments", headers=headers).json()
    assert_valid("admin.directory_v1.json", "RoleAssignments", assignments)
    assert {a["assigneeType"] for a in assignments["items"]} == {"user", "group"}


def test_tokens(tenant):
    http, truth = tenant
    headers = bearer(http, truth, [S + "admin.directory.user.security"])
    with_tokens = next(iter(truth["tokens"]))
    payload = http.get(f"/admin/directory/v1/users/{with_tokens}/tokens", headers=headers).json()
    assert_valid("admin.directory_v1.json", "Tokens", payload)
    assert payload["items"]


@pytest.mark.parametrize("application", ["login", "admin", "token", "drive"])
def test_activities(tenant, application):
    http, truth = tenant
    headers = bearer(http, truth, [S + "admin.reports.audit.readonly"])
    path = f"/admin/reports/v1/activity/users/all/applications/{application}"
    payload = http.get(path, params={"maxResults": 1000}, headers=headers).json()
    assert_valid("admin.reports_v1.json", "Activities", payload)
    assert len(payload["items"]) == len(truth["activities"][application])


def test_files_with_every_field_and_permissions(tenant):
    http, truth = tenant
    owner = next(f["owners"][0]["emailAddress"] for f in truth["files"] if len(f["permissions"]) > 1)
    headers = bearer(http, truth, [S + "drive.metadata.readonly"], subject=owner)
    payload = http.get("/drive/v3/files", params={"fields": "*", "q": "'me' in owners"}, headers=headers).json()
    assert_valid("drive.v3.json", "FileList", payload)
    assert any(len(f["permissions"]) > 1 for f in payload["files"])
    default = http.get("/drive/v3/files", headers=headers).json()
    assert_valid("drive.v3.json", "FileList", default)
    assert set(default["files"][0]) == {"kind", "id", "name", "mimeType"}  # Drive's default partial response


def test_write_methods_answer_as_documented(tenant):
    """users.get/update, users.signOut, tokens.get/delete, files.get and permissions.get/delete (the
    governance actions' methods) answer the discovery documents' shapes, and Google's empty body
    where the method returns none; what they change shows in the Reports API as valid activities.
    It changes the module's tenant, so it comes after the tests that count what the tenant holds."""
    http, truth = tenant
    user = next(u for u in truth["users"] if not u["isAdmin"] and not u["suspended"])
    admin = bearer(http, truth, [S + "admin.directory.user"], account="actions")
    got = http.get(f"/admin/directory/v1/users/{user['id']}", headers=admin)
    assert got.status_code == 200
    assert_valid("admin.directory_v1.json", "User", got.json())
    for method in ("PUT", "PATCH"):
        changed = http.request(
            method,
            f"/admin/directory/v1/users/{user['primaryEmail']}",
            json={"suspended": method == "PUT"},
            headers=admin,
        )
        assert changed.status_code == 200
        assert_valid("admin.directory_v1.json", "User", changed.json())
        assert changed.json()["suspended"] is (method == "PUT")
    security = bearer(http, truth, [S + "admin.directory.user.security"], account="actions")
    signed_out = http.post(f"/admin/directory/v1/users/{user['id']}/signOut", headers=security)
    assert (signed_out.status_code, signed_out.content) == (204, b"")
    holder, tokens = next(iter(truth["tokens"].items()))
    token = http.get(f"/admin/directory/v1/users/{holder}/tokens/{tokens[0]['clientId']}", headers=security)
    assert_valid("admin.directory_v1.json", "Token", token.json())
    deleted = http.delete(f"/admin/directory/v1/users/{holder}/tokens/{tokens[0]['clientId']}", headers=security)
    assert (deleted.status_code, deleted.content) == (204, b"")
    again = http.delete(f"/admin/directory/v1/users/{holder}/tokens/{tokens[0]['clientId']}", headers=security)
    assert again.status_code == 404 and again.json()["error"]["errors"][0]["reason"] == "notFound"

    roles = bearer(http, truth, [S + "admin.directory.rolemanagement"], account="actions")
    assignment = next(a for a in truth["role_assignments"] if a["assigneeType"] == "user")
    base = "/admin/directory/v1/customer/my_customer"
    got_assignment = http.get(f"{base}/roleassignments/{assignment['roleAssignmentId']}", headers=roles)
    assert_valid("admin.directory_v1.json", "RoleAssignment", got_assignment.json())
    assert_valid(
        "admin.directory_v1.json", "Role", http.get(f"{base}/roles/{assignment['roleId']}", headers=roles).json()
    )
    unassigned = http.delete(f"{base}/roleassignments/{assignment['roleAssignmentId']}", headers=roles)
    assert (unassigned.status_code, unassigned.content) == (204, b"")

    item = next(f for f in truth["files"] if len(f["permissions"]) > 1 and not f["trashed"])
    owner = item["owners"][0]["emailAddress"]
    drive = bearer(http, truth, [S + "drive"], subject=owner, account="actions")
    got_file = http.get(f"/drive/v3/files/{item['id']}", params={"fields": "*"}, headers=drive)
    assert_valid("drive.v3.json", "File", got_file.json())
    shared = item["permissions"][1]["id"]
    permission = http.get(f"/drive/v3/files/{item['id']}/permissions/{shared}", params={"fields": "*"}, headers=drive)
    assert_valid("drive.v3.json", "Permission", permission.json())
    removed = http.delete(f"/drive/v3/files/{item['id']}/permissions/{shared}?supportsAllDrives=true", headers=drive)
    assert (removed.status_code, removed.content) == (204, b"")
    gone = http.get(f"/drive/v3/files/{item['id']}/permissions/{shared}", headers=drive)
    assert gone.status_code == 404 and gone.json()["error"]["errors"][0]["reason"] == "notFound"

    audit = bearer(http, truth, [S + "admin.reports.audit.readonly"])
    events = (("admin", "SUSPEND_USER"), ("admin", "REVOKE_3LO_TOKEN"), ("admin", "UNASSIGN_ROLE"), ("drive", None))
    for application, event in events:
        params = {"eventName": event} if event else {}
        payload = http.get(
            f"/admin/reports/v1/activity/users/all/applications/{application}", params=params, headers=audit
        )
        assert_valid("admin.reports_v1.json", "Activities", payload.json())


def test_policies_list_pages_and_refuses_as_documented(tenant):
    """Cloud Identity policies.list (cloudidentity.v1.json ListPoliciesResponse): pageSize capped at
    100, the filter's setting.type clause, a super admin's token with a policies scope only."""
    http, truth = tenant
    headers = bearer(http, truth, [S + "cloud-identity.policies.readonly"])
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"pageSize": 5}
    while True:
        page = http.get("/v1/policies", params=params, headers=headers)
        assert page.status_code == 200, page.text
        assert_valid("cloudidentity.v1.json", "ListPoliciesResponse", page.json())
        seen += page.json()["policies"]
        if "nextPageToken" not in page.json():
            break
        params = {"pageSize": 5, "pageToken": page.json()["nextPageToken"]}
    assert sorted(p["name"] for p in seen) == sorted(p["name"] for p in truth["settings"]["policies"])
    assert {p["type"] for p in seen} == {"ADMIN", "SYSTEM"}
    capped = http.get("/v1/policies", params={"pageSize": 500}, headers=headers).json()
    assert len(capped["policies"]) == min(100, len(seen))
    passwords = http.get(
        "/v1/policies", params={"filter": "setting.type.matches('^settings/security\\.password$')"}, headers=headers
    ).json()["policies"]
    assert passwords and {p["setting"]["type"] for p in passwords} == {"settings/security.password"}
    # Another scope: the Cloud APIs' error model with an ErrorInfo reason.
    users_only = bearer(http, truth, [S + "admin.directory.user.readonly"])
    refused = http.get("/v1/policies", headers=users_only)
    assert refused.status_code == 403
    assert refused.json()["error"]["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    # Not a super admin: only super admins may use the Policy API.
    ordinary = next(u["primaryEmail"] for u in truth["users"] if not u["isAdmin"] and not u["suspended"])
    as_user = bearer(http, truth, [S + "cloud-identity.policies.readonly"], subject=ordinary)
    denied = http.get("/v1/policies", headers=as_user)
    assert denied.status_code == 403 and denied.json()["error"]["status"] == "PERMISSION_DENIED"
    bad = http.get("/v1/policies", params={"filter": "name == 'x'"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_every_route_is_a_documented_method():
    from saaslens_sandbox.google_workspace.api import GoogleWorkspacePersonality

    paths = set()
    for name in (
        "admin.directory_v1.json",
        "admin.reports_v1.json",
        "drive.v3.json",
        "drivelabels.v2.json",
        "cloudidentity.v1.json",
    ):
        doc = discovery(name)
        stack = list(doc["resources"].values())
        while stack:
            resource = stack.pop()
            stack += list((resource.get("resources") or {}).values())
            for method in (resource.get("methods") or {}).values():
                paths.add(re.sub(r"\{[^}]+\}", "{}", doc["servicePath"] + method["path"]))
                for protocol in ((method.get("mediaUpload") or {}).get("protocols") or {}).values():
                    paths.add(re.sub(r"\{[^}]+\}", "{}", protocol["path"].lstrip("/")))
    personality = GoogleWorkspacePersonality(TenantSpec(app="google_workspace", name="routes", users=1), "/x")
    served = {re.sub(r"\{[^}]+\}", "{}", route.path.lstrip("/")) for route in personality.routes()}
    assert served - {"token"} <= paths


def test_the_converted_schemas_are_strict():
    users = validator("admin.directory_v1.json", "Users")
    bad_user = {"users": [{"id": "1", "isAdmin": "yes", "creationTime": "yesterday", "unknownField": 1}]}
    messages = " ".join(e.message for e in users.iter_errors(bad_user))
    assert "'yes' is not of type 'boolean'" in messages and "unknownField" in messages and "yesterday" in messages
    files = validator("drive.v3.json", "FileList")
    assert any("12a" in e.message for e in files.iter_errors({"files": [{"size": "12a"}]}))
