"""The Google Workspace personality's write methods (and the reads they pair with), and what they
leave in the Reports API.

Built from Google's reference pages and discovery documents (``admin.directory_v1.json``,
``drive.v3.json``):

* users.get / users.update (PUT, also PATCH: "supports patch semantics, meaning that you only need
  to include the fields you wish to update"), scope ``admin.directory.user`` (users.get also the
  read-only one), answered with the User:
  https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/update
* users.signOut (POST, empty body, empty response), scope ``admin.directory.user.security``:
  https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/signOut
* tokens.get / tokens.delete ("Deletes all access tokens issued by a user for an application"),
  scope ``admin.directory.user.security``:
  https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/delete
* roles.get, roleAssignments.get / roleAssignments.delete (scope ``admin.directory.rolemanagement``,
  the read-only one for the reads):
  https://developers.google.com/workspace/admin/directory/reference/rest/v1/roleAssignments/delete
* Drive files.get, permissions.get and permissions.delete (``supportsAllDrives``; scopes ``drive`` or
  ``drive.file``, the latter only for files the app created or opened; permissions are listed only
  to users who can share the file; "File not found: {id}." for a file the user cannot open):
  https://developers.google.com/workspace/drive/api/reference/rest/v3/permissions/delete and
  https://developers.google.com/workspace/drive/api/guides/handle-errors
* The audit events, Admin log type USER_SETTINGS: SUSPEND_USER / UNSUSPEND_USER ("{USER_EMAIL}
  suspended"), CHANGE_PASSWORD_ON_NEXT_LOGIN (USER_EMAIL, OLD_VALUE, NEW_VALUE),
  RESET_SIGNIN_COOKIES ("Cookies reset for {USER_EMAIL} and forced re-login"), REVOKE_3LO_TOKEN
  (USER_EMAIL, APP_ID); type DELEGATED_ADMIN_SETTINGS: UNASSIGN_ROLE (ROLE_NAME, USER_EMAIL):
  https://developers.google.com/workspace/admin/reports/v1/appendix/activity/admin-user-settings ;
  Drive log type acl_change: change_user_access (target_user, old_value, new_value,
  old_visibility, visibility) and change_document_access_scope with its sibling
  change_document_visibility for link and domain sharing:
  https://developers.google.com/workspace/admin/reports/v1/appendix/activity/drive

Approximations (not confirmed from Google's pages): deleting a token or a permission that is not
there answers 404 notFound; removing a file's owner permission answers 403 cannotRemoveOwner;
users.update applies only ``suspended``, ``changePasswordAtNextLogin`` and ``archived`` and keeps
every other field; an unchanged field writes no audit event. Every handler runs on the server's
event loop without awaiting between its read and its write, so no request sees half a change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from saaslens_sandbox.core import json_response
from saaslens_sandbox.google_workspace.generator import etag

if TYPE_CHECKING:
    from saaslens_sandbox.google_workspace.api import GoogleWorkspacePersonality

S = "https://www.googleapis.com/auth/"
USER_READ = frozenset({S + "admin.directory.user.readonly", S + "admin.directory.user"})
USER_WRITE = frozenset({S + "admin.directory.user"})
SECURITY = frozenset({S + "admin.directory.user.security"})
DRIVE_FULL = frozenset({S + "drive"})
DRIVE_READ = frozenset(
    {S + "drive", S + "drive.file", S + "drive.readonly", S + "drive.metadata", S + "drive.metadata.readonly"}
)
WRITABLE_USER_FIELDS = ("suspended", "changePasswordAtNextLogin", "archived")
DRIVE_ROLE_VALUES = {"reader": "can_view", "commenter": "can_comment", "writer": "can_edit", "owner": "owner"}


def _errors() -> Any:
    from saaslens_sandbox.google_workspace import api

    return api


def _no_content() -> Response:
    return Response(status_code=204)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "127.0.0.1"


def _record(p: GoogleWorkspacePersonality, application: str, actor: int, request: Request, events: list[Any]) -> None:
    p.tenant.record_activity(application, int(p.now() * 1000), actor, _client_ip(request), events)


def _user_event(type_: str, name: str, email: str, **extra: str) -> dict[str, Any]:
    parameters = [{"name": "USER_EMAIL", "value": email}]
    parameters += [{"name": key, "value": value} for key, value in extra.items()]
    return {"type": type_, "name": name, "parameters": parameters}


# -- Directory users ---------------------------------------------------------------------------------


async def user(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """users.get (GET), users.update (PUT) and users.patch (PATCH)."""
    api = _errors()
    if request.method == "GET":
        p._grant(request, USER_READ)
        return json_response(p.tenant.users[p._user_index(request.path_params["user_key"])])
    grant = p._grant(request, USER_WRITE)
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        raise api.GoogleError(400, "Invalid JSON payload received.", "parseError") from None
    if not isinstance(body, dict):
        raise api.GoogleError(400, "Invalid JSON payload received. Unknown name: root object", "invalid")
    for name in WRITABLE_USER_FIELDS:
        if name in body and not isinstance(body[name], bool):
            raise api._invalid(name, f"Invalid value for: {name}")
    with p._lock:
        index = p._user_index(request.path_params["user_key"])
        target = p.tenant.users[index]
        email = target["primaryEmail"]
        events: list[dict[str, Any]] = []
        if "suspended" in body and body["suspended"] is not target["suspended"]:
            target["suspended"] = body["suspended"]
            if body["suspended"]:
                target["suspensionReason"] = "ADMIN"
            else:
                target.pop("suspensionReason", None)
            status = "SUSPENDED" if body["suspended"] else "ACTIVE"
            for members in p.tenant.members:
                for member in members:
                    if member["id"] == target["id"]:
                        member["status"] = status
            events.append(
                _user_event("USER_SETTINGS", "SUSPEND_USER" if body["suspended"] else "UNSUSPEND_USER", email)
            )
        if "changePasswordAtNextLogin" in body and body["changePasswordAtNextLogin"] is not target.get(
            "changePasswordAtNextLogin"
        ):
            old = str(bool(target.get("changePasswordAtNextLogin"))).lower()
            target["changePasswordAtNextLogin"] = body["changePasswordAtNextLogin"]
            new = str(body["changePasswordAtNextLogin"]).lower()
            events.append(
                _user_event("USER_SETTINGS", "CHANGE_PASSWORD_ON_NEXT_LOGIN", email, OLD_VALUE=old, NEW_VALUE=new)
            )
        if "archived" in body and body["archived"] is not target["archived"]:
            target["archived"] = body["archived"]
            events.append(_user_event("USER_SETTINGS", "ARCHIVE_USER" if body["archived"] else "UNARCHIVE_USER", email))
        if events:
            target["etag"] = etag("user", target["id"], target["suspended"], target["changePasswordAtNextLogin"])
            assert grant.subject is not None  # _grant requires an admin subject
            _record(p, "admin", grant.subject, request, events)
        return json_response(target)


async def sign_out(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """users.signOut: the user's sessions end (the sandbox keeps none) and the Admin log says so."""
    grant = p._grant(request, SECURITY)
    with p._lock:
        target = p.tenant.users[p._user_index(request.path_params["user_key"])]
        assert grant.subject is not None
        _record(
            p,
            "admin",
            grant.subject,
            request,
            [_user_event("USER_SETTINGS", "RESET_SIGNIN_COOKIES", target["primaryEmail"])],
        )
    return _no_content()


async def token(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """tokens.get (GET) and tokens.delete (DELETE) for one user and OAuth client."""
    api = _errors()
    grant = p._grant(request, SECURITY)
    client_id = request.path_params["client_id"]
    with p._lock:
        index = p._user_index(request.path_params["user_key"])
        items = p.tenant.token_items(index)
        item = next((t for t in items if t["clientId"] == client_id), None)
        if item is None:
            raise api._not_found("clientId")
        if request.method == "GET":
            return json_response(item)
        position = items.index(item)
        p.tenant.tokens[index] = tuple(app for n, app in enumerate(p.tenant.tokens[index]) if n != position)
        email = p.tenant.users[index]["primaryEmail"]
        assert grant.subject is not None
        _record(
            p,
            "admin",
            grant.subject,
            request,
            [_user_event("USER_SETTINGS", "REVOKE_3LO_TOKEN", email, APP_ID=client_id)],
        )
    return _no_content()


# -- admin roles ---------------------------------------------------------------------------------------

ROLE_READ = frozenset({S + "admin.directory.rolemanagement.readonly", S + "admin.directory.rolemanagement"})
ROLE_WRITE = frozenset({S + "admin.directory.rolemanagement"})


async def role(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """roles.get: https://developers.google.com/workspace/admin/directory/reference/rest/v1/roles/get"""
    p._grant(request, ROLE_READ)
    p._customer(request.path_params["customer"])
    found = next((r for r in p.tenant.roles if r["roleId"] == request.path_params["role_id"]), None)
    if found is None:
        raise _errors()._not_found("roleId")
    return json_response(found)


async def role_assignment(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """roleAssignments.get (GET) and roleAssignments.delete (DELETE, empty response); a deletion
    writes the Admin log's DELEGATED_ADMIN_SETTINGS UNASSIGN_ROLE ("Unassigned role {ROLE_NAME} from
    user {USER_EMAIL}") and updates the assignee's isAdmin / isDelegatedAdmin:
    https://developers.google.com/workspace/admin/directory/reference/rest/v1/roleAssignments/delete"""
    grant = p._grant(request, ROLE_READ if request.method == "GET" else ROLE_WRITE)
    p._customer(request.path_params["customer"])
    wanted = request.path_params["assignment_id"]
    with p._lock:
        t = p.tenant
        found = next((a for a in t.role_assignments if a["roleAssignmentId"] == wanted), None)
        if found is None:
            raise _errors()._not_found("roleAssignmentId")
        if request.method == "GET":
            return json_response(found)
        t.role_assignments = [a for a in t.role_assignments if a is not found]
        role_name = next((r["roleName"] for r in t.roles if r["roleId"] == found["roleId"]), found["roleId"])
        if found["assigneeType"] == "user":
            index = t.user_index.get(found["assignedTo"])
            email = t.users[index]["primaryEmail"] if index is not None else found["assignedTo"]
            if index is not None:
                _refresh_admin_flags(p, index)
        else:
            group = t.group_index.get(found["assignedTo"])
            email = t.groups[group]["email"] if group is not None else found["assignedTo"]
        assert grant.subject is not None
        event = _user_event("DELEGATED_ADMIN_SETTINGS", "UNASSIGN_ROLE", email, ROLE_NAME=str(role_name))
        _record(p, "admin", grant.subject, request, [event])
    return _no_content()


def _refresh_admin_flags(p: GoogleWorkspacePersonality, index: int) -> None:
    t = p.tenant
    user = t.users[index]
    super_roles = {r["roleId"] for r in t.roles if r["isSuperAdminRole"]}
    mine = [a for a in t.role_assignments if a["assigneeType"] == "user" and a["assignedTo"] == user["id"]]
    user["isAdmin"] = any(a["roleId"] in super_roles for a in mine)
    groups = {a["assignedTo"] for a in t.role_assignments if a["assigneeType"] == "group"}
    via_group = any(
        any(m["id"] == user["id"] for m in t.members[t.group_index[g]]) for g in groups if g in t.group_index
    )
    user["isDelegatedAdmin"] = not user["isAdmin"] and (bool(mine) or via_group)


# -- Drive -------------------------------------------------------------------------------------------


def _file_not_found(file_id: str) -> Exception:
    return _errors().GoogleError(404, f"File not found: {file_id}.", "notFound", location="fileId")


def _insufficient() -> Exception:
    return _errors().GoogleError(
        403, "The user does not have sufficient permissions for this file.", "insufficientFilePermissions"
    )


def _member_emails(p: GoogleWorkspacePersonality, email: str) -> set[str]:
    """The groups (by email) a user belongs to directly."""
    return {
        group["email"]
        for group, members in zip(p.tenant.groups, p.tenant.members, strict=True)
        if any(m.get("email") == email for m in members)
    }


def can_open(p: GoogleWorkspacePersonality, index: int, subject: int | None) -> bool:
    """Whether the user may open a file: its owner, anyone it is shared with (directly, through a
    group, their domain), or anyone at all for a link ('anyone') permission."""
    if subject is None or index in p.tenant.deleted_files or p.tenant.file_owner[index] in p.tenant.deleted_users:
        return False
    if p.tenant.file_owner[index] == subject:
        return True
    email = p.tenant.users[subject]["primaryEmail"]
    groups = _member_emails(p, email)
    domain = email.rpartition("@")[2]
    for permission in p.tenant.files[index]["permissions"]:
        kind = permission["type"]
        if kind == "anyone" or (kind == "domain" and permission.get("domain") == domain):
            return True
        if kind == "user" and permission.get("emailAddress") == email:
            return True
        if kind == "group" and permission.get("emailAddress") in groups:
            return True
    return False


def can_share(p: GoogleWorkspacePersonality, index: int, subject: int | None) -> bool:
    if subject is None:
        return False
    if p.tenant.file_owner[index] == subject:
        return True
    email = p.tenant.users[subject]["primaryEmail"]
    return any(x.get("emailAddress") == email and x["role"] == "writer" for x in p.tenant.files[index]["permissions"])


def _open_file(p: GoogleWorkspacePersonality, request: Request, accepted: frozenset[str]) -> tuple[Any, int]:
    grant = p._grant(request, accepted, admin=False)
    file_id = request.path_params["file_id"]
    index = p.tenant.file_index.get(file_id)
    # drive.file reaches only files the app created or opened: none of the generated ones.
    full = bool(grant.scopes & (DRIVE_READ - {S + "drive.file"}))
    if index is None or not full or not can_open(p, index, grant.subject):
        raise _file_not_found(file_id)
    return grant, index


async def file(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """files.get (metadata; the ``fields`` selection as files.list understands it; ``alt=media`` for
    the content), files.update (PATCH) and files.delete (DELETE): drive_writes.py."""
    from saaslens_sandbox.google_workspace import drive_writes

    if request.method == "PATCH":
        return await drive_writes.update(p, request)
    if request.method == "DELETE":
        return await drive_writes.delete(p, request)
    if request.query_params.get("alt") == "media":
        return await drive_writes.download(p, request)
    api = _errors()
    grant, index = _open_file(p, request, DRIVE_READ)
    fields = api.parse_fields(request.query_params.get("fields") or "kind,id,name,mimeType")
    api.check_fields(fields, api.FILE_SCHEMA)
    wanted = p.included_labels(request.query_params)
    return json_response(api.apply_fields(p._render_file(index, grant.subject, wanted), fields))


def _permission(p: GoogleWorkspacePersonality, index: int, permission_id: str) -> dict[str, Any]:
    item = next((x for x in p.tenant.files[index]["permissions"] if x["id"] == permission_id), None)
    if item is None:
        raise _errors().GoogleError(404, f"Permission not found: {permission_id}.", "notFound", location="permissionId")
    return dict(item)


async def permission(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """permissions.get (GET) and permissions.delete (DELETE), as a user who can share the file."""
    api = _errors()
    accepted = DRIVE_READ if request.method == "GET" else DRIVE_FULL | {S + "drive.file"}
    with p._lock:
        grant, index = _open_file(p, request, accepted)
        if not can_share(p, index, grant.subject):
            raise _insufficient()
        found = _permission(p, index, request.path_params["permission_id"])
        if request.method == "GET":
            fields = api.parse_fields(request.query_params.get("fields") or "kind,id,type,role")
            api.check_fields(fields, api.FILE_SCHEMA["permissions"])
            return json_response(api.apply_fields(found, fields))
        if found["role"] == "owner":
            raise api.GoogleError(403, "The owner of a file cannot be removed.", "cannotRemoveOwner")
        _remove_permission(p, index, found["id"])
        assert grant.subject is not None
        _record(p, "drive", grant.subject, request, drive_events(p, index, found))
    return _no_content()


def _remove_permission(p: GoogleWorkspacePersonality, index: int, permission_id: str) -> dict[str, Any]:
    item = p.tenant.files[index]
    before = visibility(p, item["permissions"])
    removed = next(x for x in item["permissions"] if x["id"] == permission_id)
    item["permissions"] = [x for x in item["permissions"] if x["id"] != permission_id]
    item["permissionIds"] = [x["id"] for x in item["permissions"]]
    item["shared"] = len(item["permissions"]) > 1
    user = p.tenant.email_index.get(removed.get("emailAddress", ""))
    if removed["type"] == "user" and user is not None and index in p.tenant.files_shared_with.get(user, []):
        p.tenant.files_shared_with[user].remove(index)
    return {"removed": removed, "old_visibility": before}


def visibility(p: GoogleWorkspacePersonality, permissions: list[dict[str, Any]]) -> str:
    """A file's visibility as the Drive log names it (people_with_link, public_on_the_web, ...)."""
    shared = [x for x in permissions if x["role"] != "owner"]
    if any(x["type"] == "anyone" and x.get("allowFileDiscovery") for x in shared):
        return "public_on_the_web"
    if any(x["type"] == "anyone" for x in shared):
        return "people_with_link"
    domains = set(p.tenant.domains)
    if any(x["type"] == "domain" and x.get("domain") in domains for x in shared):
        return "people_within_domain_with_link"
    outside = [
        x
        for x in shared
        if (x.get("domain") if x["type"] == "domain" else x.get("emailAddress", "").rpartition("@")[2]) not in domains
    ]
    if outside:
        return "shared_externally"
    return "shared_internally" if shared else "private"


def drive_events(p: GoogleWorkspacePersonality, index: int, removed: dict[str, Any]) -> list[dict[str, Any]]:
    """What the Drive log records for a removed permission (called once it is gone)."""
    item = p.tenant.files[index]
    now = visibility(p, item["permissions"])
    was = visibility(p, [*item["permissions"], removed])
    doc_type = item["mimeType"].rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    common = [
        {"name": "doc_id", "value": item["id"]},
        {"name": "doc_type", "value": doc_type},
        {"name": "doc_title", "value": item["name"]},
        {"name": "owner", "value": item["owners"][0]["emailAddress"]},
        {"name": "owner_is_team_drive", "boolValue": False},
        {"name": "old_value", "multiValue": [DRIVE_ROLE_VALUES.get(removed["role"], removed["role"])]},
        {"name": "new_value", "multiValue": ["none"]},
        {"name": "old_visibility", "value": was},
        {"name": "visibility", "value": now},
    ]
    if removed["type"] in ("user", "group"):
        target = [{"name": "target_user", "value": removed.get("emailAddress", "")}]
        return [{"type": "acl_change", "name": "change_user_access", "parameters": [*common, *target]}]
    scope = [{"name": "target_domain", "value": removed.get("domain") or "all"}]
    events = [
        {
            "type": "acl_change",
            "name": "change_document_access_scope",
            "parameters": [{"name": "primary_event", "boolValue": True}, *common, *scope],
        }
    ]
    if was != now:
        events.append(
            {
                "type": "acl_change",
                "name": "change_document_visibility",
                "parameters": [{"name": "primary_event", "boolValue": False}, *common],
            }
        )
    return events


# -- forget: another admin deleted something ---------------------------------------------------------


def forget(p: GoogleWorkspacePersonality, kind: str, object_id: str) -> dict[str, Any]:
    """Delete an object behind saaslens' back, without an audit event: ``account`` (a user id or
    email), ``app_grant`` ("userId/clientId"), ``file`` (a file id), ``file_share``
    ("fileId/permissionId"), ``privilege`` (a role assignment id)."""
    t = p.tenant
    with p._lock:
        if kind == "account":
            index = t.user_index.get(object_id, t.email_index.get(object_id.lower()))
            if index is None or index in t.deleted_users:
                raise ValueError(f"no user {object_id!r}")
            t.deleted_users.add(index)
            return {"forgot": kind, "id": t.users[index]["id"]}
        if kind == "app_grant":
            user_id, _, client_id = object_id.partition("/")
            index = t.user_index.get(user_id)
            items = t.token_items(index) if index is not None and index not in t.deleted_users else []
            position = next((n for n, item in enumerate(items) if item["clientId"] == client_id), None)
            if index is None or position is None:
                raise ValueError(f"no token {object_id!r} (userId/clientId)")
            t.tokens[index] = tuple(app for n, app in enumerate(t.tokens[index]) if n != position)
            return {"forgot": kind, "id": object_id}
        if kind in ("file", "file_share"):
            file_id, _, permission_id = object_id.partition("/")
            index = t.file_index.get(file_id)
            if index is None or index in t.deleted_files:
                raise ValueError(f"no file {file_id!r}")
            if kind == "file":
                t.deleted_files.add(index)
                return {"forgot": kind, "id": file_id}
            if not any(x["id"] == permission_id for x in t.files[index]["permissions"]):
                raise ValueError(f"no permission {object_id!r} (fileId/permissionId)")
            _remove_permission(p, index, permission_id)
            return {"forgot": kind, "id": object_id}
        if kind == "privilege":
            kept = [a for a in t.role_assignments if a["roleAssignmentId"] != object_id]
            if len(kept) == len(t.role_assignments):
                raise ValueError(f"no role assignment {object_id!r}")
            t.role_assignments = kept
            return {"forgot": kind, "id": object_id}
    raise ValueError(f"the google_workspace personality cannot forget {kind!r} objects")
