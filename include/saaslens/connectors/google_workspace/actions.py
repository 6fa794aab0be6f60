"""The control the Admin SDK Directory API and the Drive API offer over what the stages collect.

Each action names the OAuth scope its write method's reference page requires; with domain-wide
delegation the admin must delegate that scope to the service account as well, and the plan reads
the target with that same scope (every read method involved accepts it), so an action connection
needs only the scopes of the actions it runs. A scope the admin did not delegate is refused at the
token endpoint (401 ``unauthorized_client``), which the connector raises as PermissionDeniedError.

Pages relied on (methods, bodies, scopes; response codes as Google documents them):
- users.get / users.update (patch semantics: only the fields sent change):
  https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/update
- users.signOut (empty body, empty response):
  https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/signOut
- tokens.list / tokens.delete ("Deletes all access tokens issued by a user for an application"):
  https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/delete
- roleAssignments.get / roles.get / roleAssignments.delete:
  https://developers.google.com/workspace/admin/directory/reference/rest/v1/roleAssignments/delete
- files.get, permissions.get / permissions.delete (``supportsAllDrives``):
  https://developers.google.com/workspace/drive/api/reference/rest/v3/permissions/delete
- the file actions (trash_file, restrict_to_owner, quarantine_file, apply_sensitivity_label): files.update,
  permissions.list / create / delete, files.create (multipart upload), files.list, files.delete,
  files.modifyLabels and the Labels API; their pages are listed above those actions below
- The audit events they leave: Admin log USER_SETTINGS events SUSPEND_USER, UNSUSPEND_USER,
  CHANGE_PASSWORD_ON_NEXT_LOGIN, RESET_SIGNIN_COOKIES, REVOKE_3LO_TOKEN, DELEGATED_ADMIN_SETTINGS
  UNASSIGN_ROLE (https://developers.google.com/workspace/admin/reports/v1/appendix/activity/admin-user-settings) and
  Drive log acl_change events change_user_access / change_document_access_scope
  (https://developers.google.com/workspace/admin/reports/v1/appendix/activity/drive).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from saaslens.connectors.google_workspace.connector import (
    AUDIT_SCOPE,
    DIRECTORY,
    LABELS_SCOPE,
    REPORTS,
    TOKEN_SCOPE,
    USER_SCOPE,
    GoogleWorkspaceConnector,
    S,
)
from saaslens.connectors.kit import (
    Action,
    ActionOutcome,
    ActionPlan,
    PlannedRequest,
    Target,
    Verification,
    send_plan,
    send_request,
)
from saaslens.http import ApiClient, PermissionDeniedError, api_path
from saaslens.http.errors import ApiError, AuthenticationError, MalformedResponseError, NotFoundError
from saaslens.http.pagination import PageTokenPaginator
from saaslens.transform_utils import iso_z
from saaslens.vocabulary import Remedy, TargetKind

DIRECTORY_REFERENCE = "https://developers.google.com/workspace/admin/directory/reference/rest/v1"
DRIVE_REFERENCE = "https://developers.google.com/workspace/drive/api/reference/rest/v3"
USER_WRITE_SCOPE = S + "admin.directory.user"
SECURITY_SCOPE = TOKEN_SCOPE  # admin.directory.user.security: users.signOut, tokens.list/delete
# drive.file covers only files the app created or opened; acting on any user's sharing needs drive.
DRIVE_WRITE_SCOPE = S + "drive"
# What a plan shows of a user: the fields these actions change and what makes a target protected.
USER_FIELDS = (
    "id",
    "primaryEmail",
    "suspended",
    "suspensionReason",
    "archived",
    "changePasswordAtNextLogin",
    "isAdmin",
    "isDelegatedAdmin",
)
PERMISSION_FIELDS = "id,type,role,emailAddress,domain,allowFileDiscovery,deleted"


# None of Google's writes here is documented as safe to repeat: none is retried after a timeout or
# a 5xx (send_plan's idempotent=False); verify finds out whether it took effect.

# -- reading what the provider says, distrustfully --------------------------------------------------


def _object(payload: Any, what: str, client: ApiClient, path: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise MalformedResponseError(f"{what} is not a JSON object", method="GET", url=client.url_for(path))
    return payload


def read_user(client: ApiClient, account_id: str) -> dict[str, Any]:
    """users.get: the user's state as these actions need it. 404 (deleted since the scan) raises
    NotFoundError; an answer about another user is refused."""
    path = api_path(f"{DIRECTORY}/users", account_id)
    user = _object(client.get_json(path), "users.get's answer", client, path)
    if str(user.get("id")) != account_id and str(user.get("primaryEmail", "")).lower() != account_id.lower():
        raise MalformedResponseError("users.get answered about another user", method="GET", url=client.url_for(path))
    state: dict[str, Any] = {}
    for name in USER_FIELDS:
        value = user.get(name)
        if name in ("id", "primaryEmail", "suspensionReason"):
            state[name] = str(value) if value is not None else None
        else:
            state[name] = value is True
    return state


def read_user_as_reader(connector: GoogleWorkspaceConnector, account_id: str) -> dict[str, Any]:
    """users.get for an action whose own scope cannot read users (users.get accepts only
    admin.directory.user and its read-only twin, not admin.directory.user.security): with the first
    of the two the credentials hold."""
    denied: PermissionDeniedError | None = None
    for scope in (USER_SCOPE, USER_WRITE_SCOPE):
        try:
            return read_user(_directory(connector, scope), account_id)
        except PermissionDeniedError as exc:
            denied = exc
    assert denied is not None
    raise denied


def _protected(user: Mapping[str, Any]) -> str | None:
    if user.get("isAdmin"):
        return f"{user.get('primaryEmail')} is a super admin"
    return None


def _directory(connector: GoogleWorkspaceConnector, scope: str) -> ApiClient:
    return connector.api("directory", scope)


def find_audit_event(
    connector: GoogleWorkspaceConnector,
    application: str,
    event_name: str,
    since: datetime | None,
    matches: Callable[[Mapping[str, Any]], bool],
) -> str | None:
    """The Reports API activity recording an applied action, if the credentials may read the audit
    log and Google has published it yet (admin events take minutes, Drive events longer:
    https://support.google.com/a/answer/7061566). None otherwise: the next activities scan stores it."""
    if since is None:
        return None
    params: dict[str, Any] = {"eventName": event_name, "startTime": iso_z(since - timedelta(seconds=5))}
    if connector.customer != "my_customer":
        params["customerId"] = connector.customer
    path = api_path(f"{REPORTS}/activity/users/all/applications", application)
    try:
        payload = connector.api("reports", AUDIT_SCOPE).get_json(path, params)
    except (PermissionDeniedError, NotFoundError):
        return None
    items = payload.get("items") if isinstance(payload, dict) else None
    for activity in items if isinstance(items, list) else []:
        if not isinstance(activity, dict) or not isinstance(activity.get("id"), dict):
            continue
        for event in activity.get("events") or []:
            if not isinstance(event, dict) or event.get("name") != event_name:
                continue
            params_by_name = {
                str(p.get("name")): p.get("value", p.get("multiValue"))
                for p in event.get("parameters") or []
                if isinstance(p, dict)
            }
            if matches(params_by_name):
                ident = activity["id"]
                return f"{application}:{ident.get('time')}:{ident.get('uniqueQualifier')}"
    return None


# -- users: suspend, unsuspend, force a password change ------------------------------------------------


UserFlag = tuple[
    Callable[[GoogleWorkspaceConnector, Target], ActionPlan],
    Callable[[GoogleWorkspaceConnector, ActionPlan], ActionOutcome],
    Callable[[GoogleWorkspaceConnector, ActionOutcome], Verification],
]


def _user_flag(name: str, field: str, wanted: bool, undo_name: str | None, event: Callable[[bool], str]) -> UserFlag:
    """An action that sets one boolean field of a user with users.update (PUT with patch semantics:
    only `field` is sent, so nothing else about the user changes)."""

    def plan(connector: GoogleWorkspaceConnector, target: Target) -> ActionPlan:
        account_id = target.keys["account_id"]
        user = read_user(_directory(connector, USER_WRITE_SCOPE), account_id)
        path = api_path(f"{DIRECTORY}/users", account_id)
        undo = None
        if undo_name is not None:
            undo = ActionPlan(undo_name, target, (PlannedRequest("PUT", path, {field: not wanted}),), before=user)
        return ActionPlan(
            action=name,
            target=target,
            requests=(PlannedRequest("PUT", path, {field: wanted}),),
            before=user,
            noop=user[field] is wanted,
            protected=_protected(user),
            undo=undo,
        )

    def apply(connector: GoogleWorkspaceConnector, plan: ActionPlan) -> ActionOutcome:
        return send_plan(_directory(connector, USER_WRITE_SCOPE), plan, idempotent=False)

    def verify(connector: GoogleWorkspaceConnector, outcome: ActionOutcome) -> Verification:
        account_id = outcome.plan.target.keys["account_id"]
        user = read_user(_directory(connector, USER_WRITE_SCOPE), account_id)
        email = str(user.get("primaryEmail") or "").lower()

        def about_user(params: Mapping[str, Any]) -> bool:
            return str(params.get("USER_EMAIL", "")).lower() == email

        audit = find_audit_event(connector, "admin", event(wanted), outcome.applied_at, about_user)
        holds = user[field] is wanted
        return Verification(holds, user, audit, f"{field} is {str(user[field]).lower()}")

    return plan, apply, verify


def _suspend_event(suspended: bool) -> str:
    return "SUSPEND_USER" if suspended else "UNSUSPEND_USER"


# -- sessions: sign out ---------------------------------------------------------------------------


def plan_sign_out(connector: GoogleWorkspaceConnector, target: Target) -> ActionPlan:
    """users.signOut has no state to read first: the Directory API does not list a user's sessions,
    so a sign-out is never known to be already applied (a second one signs them out again). The user
    is read (with a users scope: see read_user_as_reader) to tell a super admin and a deleted user."""
    account_id = target.keys["account_id"]
    user = read_user_as_reader(connector, account_id)
    path = api_path(f"{DIRECTORY}/users", account_id, "signOut")
    return ActionPlan("sign_out_user", target, (PlannedRequest("POST", path),), before=user, protected=_protected(user))


def apply_sign_out(connector: GoogleWorkspaceConnector, plan: ActionPlan) -> ActionOutcome:
    return send_plan(_directory(connector, SECURITY_SCOPE), plan, idempotent=False)


def verify_sign_out(connector: GoogleWorkspaceConnector, outcome: ActionOutcome) -> Verification:
    """What can be read back: the user is still there and the sign-out was answered 2xx; the Admin
    log's RESET_SIGNIN_COOKIES event ("Cookies reset for {USER_EMAIL} and forced re-login") is the
    provider's own proof, found here once Google has published it."""
    user = read_user_as_reader(connector, outcome.plan.target.keys["account_id"])
    email = str(user.get("primaryEmail") or "").lower()
    audit = find_audit_event(
        connector,
        "admin",
        "RESET_SIGNIN_COOKIES",
        outcome.applied_at,
        lambda p: str(p.get("USER_EMAIL", "")).lower() == email,
    )
    detail = "sessions are not listed by the Directory API: signOut's answer" + (
        " and the RESET_SIGNIN_COOKIES audit event confirm it" if audit else " confirms it"
    )
    return Verification(outcome.applied, user, audit, detail)


# -- OAuth tokens -----------------------------------------------------------------------------------


def grant_keys(target: Target) -> tuple[str, str]:
    """The app_permissions stage's grant_id is "{userKey}:{clientId}" (a user holds at most one
    token per client); user ids hold no ':' while client ids may, so split at the first."""
    user_key, sep, client_id = target.keys["grant_id"].partition(":")
    if not sep or not user_key or not client_id:
        raise ValueError(f"grant_id {target.keys['grant_id']!r} is not userKey:clientId")
    return user_key, client_id


def read_token(client: ApiClient, user_key: str, client_id: str) -> dict[str, Any]:
    """tokens.get: the token the user issued to one client. 404 (no such token, or no such user)
    raises NotFoundError: the engine records it not-found, or already-applied after a run of its own
    deleted it."""
    path = api_path(f"{DIRECTORY}/users", user_key, "tokens", client_id)
    token = _object(client.get_json(path), "tokens.get's answer", client, path)
    if str(token.get("clientId")) != client_id:
        raise MalformedResponseError("tokens.get answered about another client", method="GET", url=client.url_for(path))
    scopes = token.get("scopes")
    return {
        "user_key": user_key,
        "client_id": client_id,
        "display_text": str(token.get("displayText") or ""),
        "scopes": [str(s) for s in scopes] if isinstance(scopes, list) else [],
    }


def plan_delete_token(connector: GoogleWorkspaceConnector, target: Target) -> ActionPlan:
    user_key, client_id = grant_keys(target)
    state = read_token(_directory(connector, SECURITY_SCOPE), user_key, client_id)
    path = api_path(f"{DIRECTORY}/users", user_key, "tokens", client_id)
    return ActionPlan("delete_oauth_token", target, (PlannedRequest("DELETE", path),), state)


def apply_delete_token(connector: GoogleWorkspaceConnector, plan: ActionPlan) -> ActionOutcome:
    return send_plan(_directory(connector, SECURITY_SCOPE), plan, idempotent=False)


def verify_delete_token(connector: GoogleWorkspaceConnector, outcome: ActionOutcome) -> Verification:
    """Gone is the wanted state: tokens.get's 404 is the proof."""
    user_key, client_id = grant_keys(outcome.plan.target)
    try:
        state: dict[str, Any] = read_token(_directory(connector, SECURITY_SCOPE), user_key, client_id)
    except NotFoundError:
        state = {"user_key": user_key, "client_id": client_id, "present": False}
    present = state.get("present", True)
    audit = find_audit_event(
        connector, "admin", "REVOKE_3LO_TOKEN", outcome.applied_at, lambda p: str(p.get("APP_ID", "")) == client_id
    )
    return Verification(not present, state, audit, "token present" if present else "token gone")


# -- admin roles --------------------------------------------------------------------------------------

ROLE_WRITE_SCOPE = S + "admin.directory.rolemanagement"


def read_assignment(connector: GoogleWorkspaceConnector, assignment_id: str) -> dict[str, Any]:
    """roleAssignments.get and the role it assigns (roles.get); 404 raises NotFoundError."""
    client = _directory(connector, ROLE_WRITE_SCOPE)
    base = api_path(f"{DIRECTORY}/customer", connector.customer)
    path = api_path(f"{base}/roleassignments", assignment_id)
    assignment = _object(client.get_json(path), "roleAssignments.get's answer", client, path)
    if str(assignment.get("roleAssignmentId")) != assignment_id or not assignment.get("roleId"):
        raise MalformedResponseError("roleAssignments.get answered about another assignment", method="GET", url=None)
    role_path = api_path(f"{base}/roles", str(assignment["roleId"]))
    role = _object(client.get_json(role_path), "roles.get's answer", client, role_path)
    return {
        "role_assignment_id": assignment_id,
        "role_id": str(assignment["roleId"]),
        "role_name": str(role.get("roleName") or assignment["roleId"]),
        "super_admin_role": role.get("isSuperAdminRole") is True,
        "assigned_to": str(assignment.get("assignedTo") or ""),
        "assignee_type": str(assignment.get("assigneeType") or "user"),
        "scope_type": str(assignment.get("scopeType") or "CUSTOMER"),
        "org_unit_id": str(assignment["orgUnitId"]) if assignment.get("orgUnitId") else None,
    }


def plan_remove_role(connector: GoogleWorkspaceConnector, target: Target) -> ActionPlan:
    """The privileges stage's privilege_id is the roleAssignmentId; an assignment to a group shows as
    one privilege per member, and deleting it takes the role from every member (protected)."""
    assignment = read_assignment(connector, target.keys["privilege_id"])
    protected = None
    if assignment["super_admin_role"]:
        protected = f"the super admin role ({assignment['role_name']})"
    elif assignment["assignee_type"] == "group":
        protected = f"assigned to group {assignment['assigned_to']}: removing it takes the role from every member"
    elif assignment["assigned_to"] != target.keys["account_id"]:
        raise MalformedResponseError("the role assignment belongs to another user", method="GET", url=None)
    base = api_path(f"{DIRECTORY}/customer", connector.customer, "roleassignments")
    body = {"roleId": assignment["role_id"], "assignedTo": assignment["assigned_to"]}
    body["scopeType"] = assignment["scope_type"]
    if assignment["org_unit_id"]:
        body["orgUnitId"] = assignment["org_unit_id"]
    undo = ActionPlan("assign_admin_role", target, (PlannedRequest("POST", base, body),), before=assignment)
    delete = PlannedRequest("DELETE", api_path(base, assignment["role_assignment_id"]))
    return ActionPlan("remove_admin_role_assignment", target, (delete,), assignment, protected=protected, undo=undo)


def apply_remove_role(connector: GoogleWorkspaceConnector, plan: ActionPlan) -> ActionOutcome:
    return send_plan(_directory(connector, ROLE_WRITE_SCOPE), plan, idempotent=False)


def verify_remove_role(connector: GoogleWorkspaceConnector, outcome: ActionOutcome) -> Verification:
    """Gone is the wanted state: roleAssignments.get's 404 is the proof."""
    try:
        after: dict[str, Any] = read_assignment(connector, outcome.plan.target.keys["privilege_id"])
    except NotFoundError:
        after = {"role_assignment_id": outcome.plan.target.keys["privilege_id"], "present": False}
    present = after.get("present", True)
    role_name = str(outcome.plan.before.get("role_name"))
    audit = find_audit_event(
        connector, "admin", "UNASSIGN_ROLE", outcome.applied_at, lambda p: str(p.get("ROLE_NAME")) == role_name
    )
    return Verification(not present, after, audit, "assignment present" if present else "assignment gone")


# -- Drive sharing ----------------------------------------------------------------------------------


def _drive(connector: GoogleWorkspaceConnector) -> ApiClient:
    return connector.api("drive", DRIVE_WRITE_SCOPE)


def read_file(connector: GoogleWorkspaceConnector, file_id: str, subject: str) -> dict[str, Any]:
    client = _drive(connector)
    path = api_path("drive/v3/files", file_id)
    params = {"supportsAllDrives": "true", "fields": "id,name,driveId,owners(emailAddress,permissionId)"}
    with connector.delegated(DRIVE_WRITE_SCOPE).acting_as(subject):
        item = _object(client.get_json(path, params), "files.get's answer", client, path)
    if str(item.get("id")) != file_id:
        raise MalformedResponseError("files.get answered about another file", method="GET", url=client.url_for(path))
    return item


def file_owner(connector: GoogleWorkspaceConnector, target: Target) -> tuple[dict[str, Any], str]:
    """The file and the user to act as: its owner (only an owner may remove any permission of a My
    Drive file; domain-wide delegation acts as them), or the admin for a shared drive's item, which
    has no owner. Drive shows a file only to those who can open it, so it is read as the owner the
    lake knows, else as the admin, else as the share's own internal principal."""
    file_id = target.keys["file_id"]
    row = target.row
    # The engine passes a share's file row (as scanned) under "file": its owner_email is who to act as.
    found_file = row.get("file")
    scanned_file: Mapping[str, Any] = found_file if isinstance(found_file, Mapping) else {}
    domain = connector.subject.rpartition("@")[2].lower()
    # Delegation can act only as users of the organization: an outside owner is not one to try.
    candidates = [
        str(found)
        for found in (row.get("owner_email"), scanned_file.get("owner_email"))
        if found and str(found).lower().endswith("@" + domain)
    ]
    candidates.append(connector.subject)
    principal = str(row.get("principal_email") or "")
    if row.get("principal_type") == "user" and principal.lower().endswith("@" + domain):
        candidates.append(principal)
    errors: dict[str, ApiError] = {}
    for subject in dict.fromkeys(candidates):
        try:
            item = read_file(connector, file_id, subject)
        except (NotFoundError, AuthenticationError) as exc:
            # Not found as this user, or not a user delegation may act as (deleted, suspended:
            # the token endpoint's invalid_grant): try the next one.
            errors[subject] = exc
            continue
        if item.get("driveId"):
            return item, connector.subject  # a shared drive's item: managed by the admin, owned by nobody
        owners = item.get("owners")
        owner = owners[0] if isinstance(owners, list) and owners and isinstance(owners[0], dict) else {}
        email = str(owner.get("emailAddress") or "")
        if not email:
            raise MalformedResponseError(f"files.get names no owner of {file_id}", method="GET", url=None)
        return item, email
    # What the admin was told speaks for the credentials (unauthorized_client: scopes not delegated).
    raise errors.get(connector.subject) or next(reversed(errors.values()))


def read_permission(connector: GoogleWorkspaceConnector, file_id: str, share_id: str, acting_as: str) -> dict[str, Any]:
    """permissions.get as `acting_as`; 404 (the permission is gone) raises NotFoundError."""
    client = _drive(connector)
    path = api_path("drive/v3/files", file_id, "permissions", share_id)
    params = {"supportsAllDrives": "true", "fields": PERMISSION_FIELDS}
    with connector.delegated(DRIVE_WRITE_SCOPE).acting_as(acting_as):
        permission = _object(client.get_json(path, params), "permissions.get's answer", client, path)
    if str(permission.get("id")) != share_id:
        raise MalformedResponseError("permissions.get answered about another permission", method="GET", url=None)
    return {key: permission[key] for key in PERMISSION_FIELDS.split(",") if key in permission}


def _recreate(permission: Mapping[str, Any]) -> dict[str, Any]:
    body = {key: permission[key] for key in ("type", "role") if key in permission}
    for key in ("emailAddress", "domain", "allowFileDiscovery"):
        if key in permission:
            body[key] = permission[key]
    return body


def plan_remove_permission(connector: GoogleWorkspaceConnector, target: Target) -> ActionPlan:
    """The file or the permission gone at Google raises NotFoundError (not-found, or already-applied
    after a run of saaslens' own removed it)."""
    file_id, share_id = target.keys["file_id"], target.keys["share_id"]
    item, acting_as = file_owner(connector, target)
    permission = read_permission(connector, file_id, share_id, acting_as)
    before = {
        "file_id": file_id,
        "file_name": str(item.get("name") or ""),
        "shared_drive": str(item["driveId"]) if item.get("driveId") else None,
        "acting_as": acting_as,
        "permission": permission,
    }
    base = api_path("drive/v3/files", file_id, "permissions")
    path = api_path(base, share_id) + "?supportsAllDrives=true"
    protected = None
    if permission.get("role") == "owner":
        protected = "the owner's own permission (Drive refuses to remove it; transfer ownership instead)"
    notify = "&sendNotificationEmail=false" if permission.get("type") in ("user", "group") else ""
    recreate = PlannedRequest("POST", base + "?supportsAllDrives=true" + notify, _recreate(permission))
    undo = ActionPlan("restore_drive_permission", target, (recreate,), before=before)
    return ActionPlan(
        "remove_drive_permission",
        target,
        (PlannedRequest("DELETE", path),),
        before=before,
        protected=protected,
        undo=undo,
    )


def apply_remove_permission(connector: GoogleWorkspaceConnector, plan: ActionPlan) -> ActionOutcome:
    with connector.delegated(DRIVE_WRITE_SCOPE).acting_as(str(plan.before["acting_as"])):
        return send_plan(_drive(connector), plan, idempotent=False)


def verify_remove_permission(connector: GoogleWorkspaceConnector, outcome: ActionOutcome) -> Verification:
    target = outcome.plan.target
    file_id, share_id = target.keys["file_id"], target.keys["share_id"]
    acting_as = str(outcome.plan.before["acting_as"])
    permission: dict[str, Any] | None
    try:
        permission = read_permission(connector, file_id, share_id, acting_as)
    except NotFoundError:
        permission = None  # gone is the wanted state
    after = {"file_id": file_id, "acting_as": acting_as, "permission": permission}
    removed = outcome.plan.before.get("permission") or {}
    event = "change_user_access" if removed.get("type") in ("user", "group") else "change_document_access_scope"
    audit = find_audit_event(connector, "drive", event, outcome.applied_at, lambda p: p.get("doc_id") == file_id)
    return Verification(permission is None, after, audit, "permission gone" if permission is None else "still there")


# -- Drive files: trash, restrict to the owner, quarantine, label ----------------------------------------
#
# Pages relied on:
# - files.update (PATCH, patch semantics; ``trashed``; ``addParents`` / ``removeParents``; ``supportsAllDrives``):
#   https://developers.google.com/workspace/drive/api/reference/rest/v3/files/update
# - trash: "Only the file owner can trash a file", else insufficientFilePermissions; restorable within 30 days
#   (https://developers.google.com/workspace/drive/api/guides/delete). Which shared drive roles may trash an
#   item is in the roles table (https://developers.google.com/workspace/drive/api/guides/ref-roles), whose
#   marks the stored copy does not show: not confirmed here.
# - permissions.list / permissions.create / permissions.delete; "Inherited permissions can't be removed from a
#   file or folder in a shared drive", and a folder's permissions propagate to what is moved into it
#   (https://developers.google.com/workspace/drive/api/guides/manage-sharing); a user's permissionId is
#   "the user's ID as visible in Permission resources" (User, drive.v3 discovery document; Drive v2's
#   permissions.getIdForEmail: "An ID for a user or group as seen in Permission items")
# - moving needs "Add items to the folder" on the destination, writer or above
#   (https://developers.google.com/workspace/drive/api/guides/ref-roles); a file has one parent ("Adding
#   files to multiple folders is no longer supported", parents.insert in Drive v2); a folder is a file of
#   mimeType application/vnd.google-apps.folder (https://developers.google.com/workspace/drive/api/guides/folder)
# - files.modifyLabels (labelModifications: labelId, fieldModifications setSelectionValues / unsetValues,
#   removeLabel; atomic; scopes drive, drive.file, drive.metadata):
#   https://developers.google.com/workspace/drive/api/reference/rest/v3/files/modifyLabels and the Labels API
#   labels.list: https://developers.google.com/workspace/drive/labels/reference/rest/v2/labels/list
# - Drive log events trash / untrash / move / upload / change_user_access / change_document_access_scope:
#   https://developers.google.com/workspace/admin/reports/v1/appendix/activity/drive

FILES = "drive/v3/files"
FOLDER_MIME = "application/vnd.google-apps.folder"
ITEM_FIELDS = "id,name,mimeType,driveId,trashed,parents,owners(emailAddress,permissionId)"
LIST_PERMISSION_FIELDS = (
    "nextPageToken,permissions(id,type,role,emailAddress,domain,allowFileDiscovery,deleted,permissionDetails)"
)
ALL_DRIVES = "supportsAllDrives=true"


def _option(connector: GoogleWorkspaceConnector, name: str) -> str:
    value = getattr(connector.options, name)
    if not value:
        raise ApiError(
            f"the instance option {name} is not set: set it in include/connected_apps.yaml (options.{name}) "
            "before planning this action"
        )
    return str(value)


def _read_item(
    connector: GoogleWorkspaceConnector, file_id: str, subject: str, params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """files.get as `subject`: what these actions need of a file (404 raises NotFoundError)."""
    client = _drive(connector)
    path = api_path(FILES, file_id)
    query = {"supportsAllDrives": "true", "fields": ITEM_FIELDS, **(params or {})}
    with connector.delegated(DRIVE_WRITE_SCOPE).acting_as(subject):
        item = _object(client.get_json(path, query), "files.get's answer", client, path)
    if str(item.get("id")) != file_id:
        raise MalformedResponseError("files.get answered about another file", method="GET", url=client.url_for(path))
    return item


def _permissions(connector: GoogleWorkspaceConnector, file_id: str, subject: str) -> list[dict[str, Any]]:
    """permissions.list as `subject` (who must be able to share the file), every page."""
    client = _drive(connector)
    path = api_path(FILES, file_id, "permissions")
    params = {"supportsAllDrives": "true", "pageSize": 100, "fields": LIST_PERMISSION_FIELDS}
    with connector.delegated(DRIVE_WRITE_SCOPE).acting_as(subject):
        found = list(client.iter_items(path, PageTokenPaginator("permissions"), params))
    return [p for p in found if isinstance(p, dict) and isinstance(p.get("id"), str) and p["id"]]


def _inherited(permission: Mapping[str, Any]) -> bool:
    """A shared drive item's permission that comes only from the drive or a folder above it
    (permissionDetails[].inherited): Drive does not let it be removed on the item."""
    details = permission.get("permissionDetails")
    return (
        isinstance(details, list)
        and bool(details)
        and all(isinstance(d, dict) and d.get("inherited") is True for d in details)
    )


def _removable(permission: Mapping[str, Any]) -> bool:
    return permission.get("role") not in ("owner", "organizer") and not _inherited(permission)


def _permission_state(permission: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("id", "type", "role", "emailAddress", "domain", "allowFileDiscovery", "deleted")
    state = {key: permission[key] for key in keys if key in permission}
    state["inherited"] = _inherited(permission)
    return state


def _create_permission(file_id: str, permission: Mapping[str, Any]) -> PlannedRequest | None:
    """permissions.create giving a removed permission back (same type, role, email address or domain,
    link discoverability), under the grantee's id again for a user or group; None for a deleted
    account's, which Drive cannot grant to."""
    if permission.get("deleted") is True or permission.get("type") not in ("user", "group", "domain", "anyone"):
        return None
    notify = "&sendNotificationEmail=false" if permission.get("type") in ("user", "group") else ""
    path = api_path(FILES, file_id, "permissions") + f"?{ALL_DRIVES}{notify}"
    return PlannedRequest("POST", path, _recreate(permission))


def _file_and_actor(connector: GoogleWorkspaceConnector, target: Target) -> tuple[dict[str, Any], str]:
    """The file as its owner sees it (the admin for a shared drive's item) and whom to act as."""
    found, acting_as = file_owner(connector, target)
    return _read_item(connector, str(found["id"]), acting_as), acting_as


def _item_state(item: Mapping[str, Any], acting_as: str) -> dict[str, Any]:
    parents = item.get("parents")
    return {
        "file_id": str(item.get("id")),
        "file_name": str(item.get("name") or ""),
        "shared_drive": str(item["driveId"]) if item.get("driveId") else None,
        "trashed": item.get("trashed") is True,
        "parents": [str(x) for x in parents] if isinstance(parents, list) else [],
        "acting_as": acting_as,
    }


def apply_drive_plan(connector: GoogleWorkspaceConnector, plan: ActionPlan) -> ActionOutcome:
    """Send a plan's requests (or its undo's), each as the user the plan names for it in
    ``before["send_as"]``: the owner for their file, the admin for the quarantine folder. None is
    documented as safe to repeat (a repeated permissions.create or delete is not the same request),
    so none is retried after a timeout; verify finds out what took effect."""
    if plan.noop:
        return ActionOutcome(plan=plan, applied=False, detail="already in the wanted state; nothing sent")
    send_as = plan.before.get("send_as")
    if not isinstance(send_as, list) or len(send_as) != len(plan.requests):
        raise ValueError(f"{plan.action}: the plan does not say whom each request is sent as")
    client = _drive(connector)
    answers = []
    for request, subject in zip(plan.requests, send_as, strict=True):
        with connector.delegated(DRIVE_WRITE_SCOPE).acting_as(str(subject)):
            if request.path.startswith(UPLOAD + "?"):
                answers.append(_upload_notice(client, request))
            elif request.method == "DELETE" and request.path.startswith(NOTICE_PATH):
                answers.append(_delete_notice(client, request))
            else:
                answers.append(send_request(client, request, idempotent=False))
    return ActionOutcome(plan=plan, applied=True, detail="; ".join(answers), applied_at=datetime.now(UTC))


def _drive_audit(connector: GoogleWorkspaceConnector, outcome: ActionOutcome, event: str, file_id: str) -> str | None:
    return find_audit_event(connector, "drive", event, outcome.applied_at, lambda p: p.get("doc_id") == file_id)


# trash ------------------------------------------------------------------------------------------------


def plan_trash(connector: GoogleWorkspaceConnector, target: Target) -> ActionPlan:
    """files.update with trashed true, as the owner (only the owner may trash a My Drive file; the
    admin for a shared drive's item, who must hold a role there that may trash it). A file in the
    trash is already-applied; undone by trashed false while Google keeps it (30 days)."""
    item, acting_as = _file_and_actor(connector, target)
    path = api_path(FILES, str(item["id"])) + f"?{ALL_DRIVES}"
    state = _item_state(item, acting_as)
    undo = ActionPlan(
        "untrash_file", target, (PlannedRequest("PATCH", path, {"trashed": False}),), {**state, "send_as": [acting_as]}
    )
    return ActionPlan(
        "trash_file",
        target,
        (PlannedRequest("PATCH", path, {"trashed": True}),),
        before={**state, "send_as": [acting_as]},
        noop=state["trashed"],
        undo=undo,
    )


def verify_trash(connector: GoogleWorkspaceConnector, outcome: ActionOutcome) -> Verification:
    file_id = outcome.plan.target.keys["file_id"]
    item = _read_item(connector, file_id, str(outcome.plan.before["acting_as"]))
    after = _item_state(item, str(outcome.plan.before["acting_as"]))
    audit = _drive_audit(connector, outcome, "trash", file_id)
    return Verification(after["trashed"], after, audit, "in the trash" if after["trashed"] else "not in the trash")


# restrict to the owner ---------------------------------------------------------------------------------


def _restrict_requests(
    file_id: str, permissions: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], tuple[PlannedRequest, ...], tuple[PlannedRequest, ...]]:
    removable = [p for p in permissions if _removable(p)]
    deletes = tuple(
        PlannedRequest("DELETE", api_path(FILES, file_id, "permissions", p["id"]) + f"?{ALL_DRIVES}") for p in removable
    )
    recreate = tuple(r for r in (_create_permission(file_id, p) for p in removable) if r is not None)
    return removable, deletes, recreate


def plan_restrict(connector: GoogleWorkspaceConnector, target: Target) -> ActionPlan:
    """permissions.delete of every permission but the owner's (for a shared drive's item: every one
    not inherited from the drive or a folder, which Drive does not let an item drop), as the owner.
    Owner-only already is already-applied. Undone by creating each again (permissions.create, no
    notification e-mail): a link or domain permission comes back with the same role and
    discoverability; an expiry is not restored."""
    item, acting_as = _file_and_actor(connector, target)
    file_id = str(item["id"])
    permissions = _permissions(connector, file_id, acting_as)
    removable, deletes, recreate = _restrict_requests(file_id, permissions)
    state = {**_item_state(item, acting_as), "permissions": [_permission_state(p) for p in permissions]}
    undo = None
    if recreate:
        undo = ActionPlan("restore_file_sharing", target, recreate, {**state, "send_as": [acting_as] * len(recreate)})
    return ActionPlan(
        "restrict_to_owner",
        target,
        deletes,
        before={**state, "send_as": [acting_as] * len(deletes)},
        noop=not removable,
        undo=undo,
    )


def verify_restrict(connector: GoogleWorkspaceConnector, outcome: ActionOutcome) -> Verification:
    file_id = outcome.plan.target.keys["file_id"]
    acting_as = str(outcome.plan.before["acting_as"])
    permissions = _permissions(connector, file_id, acting_as)
    left = [p for p in permissions if _removable(p)]
    after = {"file_id": file_id, "permissions": [_permission_state(p) for p in permissions]}
    removed = [p for p in outcome.plan.before.get("permissions") or [] if isinstance(p, dict) and _removable(p)]
    event = (
        "change_user_access"
        if all(p.get("type") in ("user", "group") for p in removed)
        else ("change_document_access_scope")
    )
    audit = _drive_audit(connector, outcome, event, file_id)
    detail = f"{len(left)} sharing permission(s) still there" if left else "only the owner's and inherited access"
    return Verification(not left, after, audit, detail)


# quarantine ---------------------------------------------------------------------------------------------
#
# The notice left in the folder a quarantined file came from. Pages relied on:
# - files.create with uploadType=multipart: POST /upload/drive/v3/files, a multipart/related body of the
#   JSON metadata then the media (https://developers.google.com/workspace/drive/api/guides/manage-uploads)
# - appProperties, "private properties" only the app that set them reads, at most 124 bytes per key and value
#   (https://developers.google.com/workspace/drive/api/guides/properties); found again with files.list
#   q "appProperties has { key='...' and value='...' }"
#   (https://developers.google.com/workspace/drive/api/guides/search-files, search query terms)
# - files.delete: "Permanently deletes a file owned by the user without moving it to the trash"
#   (https://developers.google.com/workspace/drive/api/reference/rest/v3/files/delete)

UPLOAD = "upload/drive/v3/files"
NOTICE_SUFFIX = " (quarantined).txt"
# The appProperty tying a notice to the file it stands for (its value: that file's id).
NOTICE_PROPERTY = "saaslensQuarantineNoticeFor"
# Where the undo's deletion of the notice points: the notice's id is Drive's, given when it is uploaded,
# so the undo names the notice by its appProperty and apply finds its id then (_delete_notice).
NOTICE_PATH = f"{FILES}/{{notice_id}}"
NOTICE_LIST_FIELDS = "nextPageToken,files(id,name,parents,appProperties,ownedByMe,trashed)"


def _query_literal(value: str) -> str:
    """A string in a Drive query: quoted, with ' and \\ escaped as search-files says."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _notice_query(file_id: str) -> str:
    key, value = _query_literal(NOTICE_PROPERTY), _query_literal(file_id)
    return f"appProperties has {{ key={key} and value={value} }} and trashed = false"


def _notice_requests(
    connector: GoogleWorkspaceConnector, file_id: str, file_name: str, parent: str
) -> tuple[PlannedRequest, PlannedRequest, dict[str, Any]]:
    """The notice's upload (files.create, multipart: its metadata and its text) and the undo's
    deletion of it, named by what tells it apart: its appProperty, name and folder."""
    name = f"{file_name}{NOTICE_SUFFIX}"
    text = f"{connector.options.quarantine_notice}\n\nFile: {file_name}\n"
    app_properties = {NOTICE_PROPERTY: file_id}
    metadata = {"name": name, "mimeType": "text/plain", "parents": [parent], "appProperties": app_properties}
    upload = PlannedRequest(
        "POST", f"{UPLOAD}?uploadType=multipart&{ALL_DRIVES}", {"metadata": metadata, "media": {"text/plain": text}}
    )
    found_by = {"q": _notice_query(file_id), "name": name, "parents": [parent], "appProperties": app_properties}
    delete = PlannedRequest("DELETE", f"{NOTICE_PATH}?{ALL_DRIVES}", {"find": found_by})
    return upload, delete, found_by


def _upload_notice(client: ApiClient, request: PlannedRequest) -> str:
    """files.create with uploadType=multipart: the plan's metadata as JSON, then its text."""
    body = request.body or {}
    metadata, media = body.get("metadata"), body.get("media")
    if not isinstance(metadata, Mapping) or not isinstance(media, Mapping) or "text/plain" not in media:
        raise ValueError("the notice upload holds no metadata and text")
    text = str(media["text/plain"]).encode()
    encoded = json.dumps(dict(metadata)).encode()
    # A boundary that occurs in neither part: a fresh random token, drawn again in the unlikely case it does.
    boundary = "saaslens_" + secrets.token_hex(16)
    while boundary.encode() in encoded + text:
        boundary = "saaslens_" + secrets.token_hex(16)
    parts = [
        f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
        encoded,
        f"\r\n--{boundary}\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n".encode(),
        text,
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    response, _ = client.request(
        "POST",
        request.path,
        content=b"".join(parts),
        headers={"Content-Type": f"multipart/related; boundary={boundary}"},
        idempotent=False,
    )
    return f"POST {request.path}: HTTP {response.status_code}"


def _find_notices(client: ApiClient, found_by: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The notices files.list finds with the plan's query, as the caller (the file's owner), kept
    only when every mark saaslens gave them is there: the appProperty, the name, the folder and
    the caller's ownership. Anything else the query might match is never touched."""
    params = {"q": str(found_by["q"]), "fields": NOTICE_LIST_FIELDS, "pageSize": 100, "spaces": "drive"}
    wanted_properties = dict(found_by.get("appProperties") or {})
    found = client.iter_items(FILES, PageTokenPaginator("files"), params)
    return [
        item
        for item in found
        if isinstance(item, dict)
        and isinstance(item.get("id"), str)
        and item["id"]
        and item.get("name") == found_by.get("name")
        and item.get("parents") == list(found_by.get("parents") or [])
        and item.get("ownedByMe") is True
        and item.get("trashed") is not True
        and wanted_properties
        and isinstance(item.get("appProperties"), dict)
        and all(item["appProperties"].get(k) == v for k, v in wanted_properties.items())
    ]


def _delete_notice(client: ApiClient, request: PlannedRequest) -> str:
    """The undo's deletion of the notice: files.list finds it by its appProperty, then files.delete
    (only its owner may, which the caller is). None found (its owner deleted it) sends nothing."""
    found_by = (request.body or {}).get("find")
    if not isinstance(found_by, Mapping) or not found_by.get("q") or not found_by.get("appProperties"):
        raise ValueError("the notice deletion does not say how to find the notice")
    notices = _find_notices(client, found_by)
    if not notices:
        return "no quarantine notice left to delete"
    answers = []
    for notice in notices:
        path = api_path(FILES, notice["id"]) + f"?{ALL_DRIVES}"
        answers.append(send_request(client, PlannedRequest("DELETE", path), idempotent=False, parse_json=False))
    return "; ".join(answers)


def plan_quarantine(connector: GoogleWorkspaceConnector, target: Target) -> ActionPlan:
    """Move a My Drive file into the quarantine folder (option quarantine_folder_id, a folder the
    admin the connection acts as owns) and take its sharing away, so only its owner and the
    folder's owner reach it.

    Drive moves an item with files.update addParents / removeParents, sent by someone who can add
    items to the destination (writer or above) and remove the item from where it is (its owner).
    The folder must not be shared with the domain: a folder's permissions propagate to what it
    holds, so a quarantine folder writable by everyone would share every quarantined file with
    everyone. The move is therefore sent as the owner, who is given writer on the folder just for
    it (permissions.create as the admin, no e-mail) and loses it right after (permissions.delete of
    the owner's permission id, which Drive names after the grantee). Shared drive items are
    refused: Drive moves them out of their drive only for a drive organizer, and their inherited
    access cannot be removed on the item.

    After the move the owner, who could write there, leaves a short text notice (option
    quarantine_notice) in the folder the file came from: "<name> (quarantined).txt", uploaded with
    files.create (multipart) and carrying the appProperty saaslensQuarantineNoticeFor = the file's
    id. Drive gives the notice its id only when it is created, and the engine sends only the
    requests the approver saw and re-plans right before applying, so the plan cannot name that id
    (an id reserved with files.generateIds in the dry run would differ on the re-plan). The undo
    names the notice instead by what saaslens gave it: apply finds it with files.list q
    "appProperties has { key='saaslensQuarantineNoticeFor' and value='<file id>' } and trashed =
    false" as the owner, and deletes (files.delete) only what also has the notice's name, sits in
    that folder and is the owner's; nothing else the query could match is touched. appProperties
    are private to the app (the Cloud project) that set them, so the undo must run with the action
    connection that quarantined the file. A file with no parent folder, or with several (legacy),
    gets no notice."""
    folder_id = _option(connector, "quarantine_folder_id")
    item, owner = _file_and_actor(connector, target)
    file_id = str(item["id"])
    if item.get("driveId"):
        raise ApiError(
            f"{item.get('name')!r} is in a shared drive: quarantine_file moves My Drive files only (a shared drive's "
            "inherited access cannot be removed on the item); use restrict_to_owner or trash_file"
        )
    if file_id == folder_id:
        raise ApiError("the target is the quarantine folder itself")
    admin = connector.subject
    try:
        folder = _read_item(connector, folder_id, admin)
    except NotFoundError:
        raise ApiError(
            f"quarantine_folder_id {folder_id} is not a folder {admin} can open (the folder must be in the "
            "admin's My Drive)"
        ) from None
    if folder.get("mimeType") != FOLDER_MIME or folder.get("driveId"):
        raise ApiError(f"quarantine_folder_id {folder_id} is not a My Drive folder")
    owners = item.get("owners")
    owner_entry = owners[0] if isinstance(owners, list) and owners and isinstance(owners[0], dict) else {}
    owner_permission = str(owner_entry.get("permissionId") or "")
    if not owner_permission:
        raise MalformedResponseError(f"files.get names no owner permission id of {file_id}", method="GET", url=None)
    state = {**_item_state(item, owner), "quarantine_folder_id": folder_id}
    parents = state["parents"]
    permissions = _permissions(connector, file_id, owner)
    removable, deletes, recreate = _restrict_requests(file_id, permissions)
    state["permissions"] = [_permission_state(p) for p in permissions]
    in_folder = parents == [folder_id]

    grant: tuple[PlannedRequest, ...] = ()
    revoke: tuple[PlannedRequest, ...] = ()
    if owner.lower() != admin.lower():
        folder_permissions = _permissions(connector, folder_id, admin)
        if not any(p["id"] == owner_permission for p in folder_permissions):
            base = api_path(FILES, folder_id, "permissions")
            body = {"type": "user", "role": "writer", "emailAddress": owner}
            grant = (PlannedRequest("POST", f"{base}?{ALL_DRIVES}&sendNotificationEmail=false", body),)
            revoke = (PlannedRequest("DELETE", api_path(base, owner_permission) + f"?{ALL_DRIVES}"),)

    def ids(values: list[str]) -> str:
        # A comma-separated list (files.update); each id is encoded on its own, so none can add another.
        return ",".join(quote(value, safe="") for value in values)

    def move(add: list[str], remove: list[str]) -> PlannedRequest:
        query = f"?addParents={ids(add)}&{ALL_DRIVES}"
        if remove:
            query += f"&removeParents={ids(remove)}"
        return PlannedRequest("PATCH", api_path(FILES, file_id) + query, {})

    requests: list[PlannedRequest] = list(deletes)
    send_as: list[str] = [owner] * len(deletes)
    notice: tuple[PlannedRequest, ...] = ()
    remove_notice: tuple[PlannedRequest, ...] = ()
    if not in_folder and len(parents) == 1:
        upload, delete, state["notice"] = _notice_requests(connector, file_id, state["file_name"], parents[0])
        notice, remove_notice = (upload,), (delete,)
    if not in_folder:
        requests += [*grant, move([folder_id], parents), *revoke, *notice]
        send_as += [admin] * len(grant) + [owner] + [admin] * len(revoke) + [owner] * len(notice)
    undo = None
    if not in_folder and parents:
        undo_requests = (*grant, move(parents, [folder_id]), *revoke, *recreate, *remove_notice)
        undo_as = [admin] * len(grant) + [owner] + [admin] * len(revoke) + [owner] * len(recreate)
        undo_as += [owner] * len(remove_notice)
        undo = ActionPlan("release_from_quarantine", target, undo_requests, {**state, "send_as": undo_as})
    return ActionPlan(
        "quarantine_file",
        target,
        tuple(requests),
        before={**state, "send_as": send_as},
        noop=in_folder and not removable,
        undo=undo,
    )


def verify_quarantine(connector: GoogleWorkspaceConnector, outcome: ActionOutcome) -> Verification:
    before = outcome.plan.before
    file_id = outcome.plan.target.keys["file_id"]
    owner = str(before["acting_as"])
    item = _read_item(connector, file_id, owner)
    permissions = _permissions(connector, file_id, owner)
    after = {**_item_state(item, owner), "permissions": [_permission_state(p) for p in permissions]}
    in_folder = after["parents"] == [before["quarantine_folder_id"]]
    shared = [p for p in permissions if _removable(p)]
    audit = _drive_audit(connector, outcome, "move", file_id)
    found_by = before.get("notice")
    noticed = True
    if isinstance(found_by, Mapping):
        # The notice the plan left in the folder the file came from: found as its owner, as the undo will.
        with connector.delegated(DRIVE_WRITE_SCOPE).acting_as(owner):
            notices = _find_notices(_drive(connector), found_by)
        after["notice_ids"] = [str(n["id"]) for n in notices]
        noticed = bool(notices)
    holds = in_folder and not shared and noticed
    detail = (
        "in the quarantine folder, owner-only" + (", notice left" if found_by else "")
        if holds
        else (
            f"in the quarantine folder: {in_folder}; sharing permissions left: {len(shared)}; "
            f"notice in the former folder: {noticed}"
        )
    )
    return Verification(holds, after, audit, detail)


# sensitivity label ----------------------------------------------------------------------------------------


def _label_field(connector: GoogleWorkspaceConnector, label_id: str, choice_id: str | None) -> str | None:
    """The selection field of the label holding `choice_id` (Labels API labels.list as the admin,
    LABEL_VIEW_FULL); None without a choice. A customer without Drive labels, or a connection without
    the labels scope, is refused by Google: raised as PermissionDeniedError with Google's message."""
    client = connector.api("labels", LABELS_SCOPE)
    params = {"useAdminAccess": "true", "view": "LABEL_VIEW_FULL", "publishedOnly": "true", "pageSize": 200}
    labels = list(client.iter_items("v2/labels", PageTokenPaginator("labels"), params))
    label = next((x for x in labels if isinstance(x, dict) and x.get("id") == label_id), None)
    if label is None:
        raise ApiError(f"sensitivity_label_id {label_id} is not a published Drive label of the customer")
    if choice_id is None:
        return None
    for field in label.get("fields") or []:
        options = field.get("selectionOptions") if isinstance(field, dict) else None
        choices = options.get("choices") if isinstance(options, dict) else None
        found = any(isinstance(c, dict) and c.get("id") == choice_id for c in choices or [])
        if found and isinstance(field.get("id"), str) and field["id"]:
            return str(field["id"])
    raise ApiError(f"sensitivity_label_choice_id {choice_id} is not a choice of a selection field of {label_id}")


def _applied_label(item: Mapping[str, Any], label_id: str) -> dict[str, list[str]] | None:
    """The label's selection values on the file (labelInfo with includeLabels), None when absent."""
    info = item.get("labelInfo")
    for label in (info.get("labels") if isinstance(info, dict) else None) or []:
        if isinstance(label, dict) and label.get("id") == label_id:
            fields = label.get("fields") if isinstance(label.get("fields"), dict) else {}
            return {
                str(k): [str(v) for v in (f.get("selection") or [])]
                for k, f in (fields or {}).items()
                if isinstance(f, dict)
            }
    return None


def plan_label(connector: GoogleWorkspaceConnector, target: Target) -> ActionPlan:
    """files.modifyLabels applying the option sensitivity_label_id (with sensitivity_label_choice_id
    set on the label's selection field), as the owner. Already carrying that label (and choice) is
    already-applied. Undone by removing the label, or by setting the previous choice back."""
    label_id = _option(connector, "sensitivity_label_id")
    choice = connector.options.sensitivity_label_choice_id
    field_id = _label_field(connector, label_id, choice)
    found, acting_as = file_owner(connector, target)
    file_id = str(found["id"])
    item = _read_item(connector, file_id, acting_as, {"includeLabels": label_id, "fields": ITEM_FIELDS + ",labelInfo"})
    current = _applied_label(item, label_id)
    path = api_path(FILES, file_id, "modifyLabels")
    wanted: dict[str, Any] = {"labelId": label_id}
    if field_id is not None:
        wanted["fieldModifications"] = [{"fieldId": field_id, "setSelectionValues": [choice]}]
    if current is None:
        previous: dict[str, Any] = {"labelId": label_id, "removeLabel": True}
    elif field_id is not None and current.get(field_id):
        previous = {
            "labelId": label_id,
            "fieldModifications": [{"fieldId": field_id, "setSelectionValues": current[field_id]}],
        }
    elif field_id is not None:
        previous = {"labelId": label_id, "fieldModifications": [{"fieldId": field_id, "unsetValues": True}]}
    else:
        previous = {"labelId": label_id}
    noop = current is not None and (field_id is None or current.get(field_id) == [choice])
    state = {**_item_state(item, acting_as), "label_id": label_id, "field_id": field_id, "label": current}
    undo = ActionPlan(
        "restore_label",
        target,
        (PlannedRequest("POST", path, {"labelModifications": [previous]}),),
        {**state, "send_as": [acting_as]},
    )
    return ActionPlan(
        "apply_sensitivity_label",
        target,
        (PlannedRequest("POST", path, {"labelModifications": [wanted]}),),
        before={**state, "send_as": [acting_as]},
        noop=noop,
        undo=undo,
    )


def verify_label(connector: GoogleWorkspaceConnector, outcome: ActionOutcome) -> Verification:
    before = outcome.plan.before
    label_id, field_id = str(before["label_id"]), before.get("field_id")
    params = {"includeLabels": label_id, "fields": ITEM_FIELDS + ",labelInfo"}
    item = _read_item(connector, outcome.plan.target.keys["file_id"], str(before["acting_as"]), params)
    current = _applied_label(item, label_id)
    choice = connector.options.sensitivity_label_choice_id
    holds = current is not None and (field_id is None or current.get(str(field_id)) == [choice])
    return Verification(holds, {"label_id": label_id, "label": current}, None, f"label {label_id}: {current}")


# -- the declarations ----------------------------------------------------------------------------------

_suspend = _user_flag("suspend_user", "suspended", True, "unsuspend_user", _suspend_event)
_unsuspend = _user_flag("unsuspend_user", "suspended", False, "suspend_user", _suspend_event)
_force_password = _user_flag(
    "force_password_change",
    "changePasswordAtNextLogin",
    True,
    None,
    lambda _: "CHANGE_PASSWORD_ON_NEXT_LOGIN",
)


ACTIONS: tuple[Action[Any], ...] = (
    Action(
        name="suspend_user",
        remedies=(Remedy.SUSPEND_ACCOUNT,),
        target=TargetKind.ACCOUNT,
        permission=USER_WRITE_SCOPE,
        reversible=True,
        description="Suspend the user (users.update, PUT /admin/directory/v1/users/{userKey} with suspended true; "
        "patch semantics, other fields kept): they can no longer sign in; undone by setting suspended back to false. "
        "Admin log event SUSPEND_USER",
        docs=f"{DIRECTORY_REFERENCE}/users/update",
        plan=_suspend[0],
        apply=_suspend[1],
        verify=_suspend[2],
    ),
    Action(
        name="unsuspend_user",
        target=TargetKind.ACCOUNT,
        permission=USER_WRITE_SCOPE,
        reversible=True,
        description="Lift a suspension (users.update, PUT /admin/directory/v1/users/{userKey} with suspended false): "
        "the user can sign in again; undone by suspending them. Admin log event UNSUSPEND_USER",
        docs=f"{DIRECTORY_REFERENCE}/users/update",
        plan=_unsuspend[0],
        apply=_unsuspend[1],
        verify=_unsuspend[2],
    ),
    Action(
        name="sign_out_user",
        remedies=(Remedy.END_SESSIONS,),
        target=TargetKind.SESSION,
        permission=SECURITY_SCOPE,
        reversible=False,
        description="Sign the user out of all web and device sessions and reset their sign-in cookies "
        "(users.signOut, POST /admin/directory/v1/users/{userKey}/signOut); they must authenticate again. "
        "Admin log event RESET_SIGNIN_COOKIES",
        docs=f"{DIRECTORY_REFERENCE}/users/signOut",
        plan=plan_sign_out,
        apply=apply_sign_out,
        verify=verify_sign_out,
    ),
    Action(
        name="force_password_change",
        remedies=(Remedy.FORCE_PASSWORD_CHANGE,),
        target=TargetKind.ACCOUNT,
        permission=USER_WRITE_SCOPE,
        # Setting the flag back to false is possible, but cannot undo a password the user already changed.
        reversible=False,
        description="Make the user change their password at next sign-in (users.update, PUT "
        "/admin/directory/v1/users/{userKey} with changePasswordAtNextLogin true). Admin log event "
        "CHANGE_PASSWORD_ON_NEXT_LOGIN",
        docs=f"{DIRECTORY_REFERENCE}/users/update",
        plan=_force_password[0],
        apply=_force_password[1],
        verify=_force_password[2],
    ),
    Action(
        name="remove_admin_role_assignment",
        target=TargetKind.PRIVILEGE,
        permission=ROLE_WRITE_SCOPE,
        reversible=True,
        description="Delete an admin role assignment (roleAssignments.delete, DELETE "
        "/admin/directory/v1/customer/{customer}/roleassignments/{roleAssignmentId}); undone by inserting an "
        "assignment of the same role to the same assignee and scope (roleAssignments.insert), under a new id. "
        "The super admin role and assignments to a group are protected targets. Admin log event UNASSIGN_ROLE",
        docs=f"{DIRECTORY_REFERENCE}/roleAssignments/delete",
        plan=plan_remove_role,
        apply=apply_remove_role,
        verify=verify_remove_role,
    ),
    Action(
        name="delete_oauth_token",
        remedies=(Remedy.REVOKE_GRANT,),
        target=TargetKind.APP_GRANT,
        permission=SECURITY_SCOPE,
        reversible=False,
        description="Delete every access token a user issued to one app (tokens.delete, DELETE "
        "/admin/directory/v1/users/{userKey}/tokens/{clientId}): the app loses its access until the user grants "
        "it again, which the admin cannot do for them. Admin log event REVOKE_3LO_TOKEN",
        docs=f"{DIRECTORY_REFERENCE}/tokens/delete",
        plan=plan_delete_token,
        apply=apply_delete_token,
        verify=verify_delete_token,
    ),
    Action(
        name="remove_drive_permission",
        remedies=(
            Remedy.REMOVE_PUBLIC_LINK,
            Remedy.REMOVE_EXTERNAL_SHARE,
        ),
        target=TargetKind.FILE_SHARE,
        permission=DRIVE_WRITE_SCOPE,
        reversible=True,
        description="Remove a sharing permission from a Drive file, a user's or a group's, a domain's or the "
        "link ('anyone') one, which turns link sharing off (permissions.delete, DELETE "
        "/drive/v3/files/{fileId}/permissions/{permissionId}?supportsAllDrives=true), sent as the file's owner "
        "through domain-wide delegation (as the admin for a shared drive's item); undone by creating a permission "
        "with the same type, role and email address or domain (permissions.create), under a new id. Concurrent "
        "permission changes on one file are not supported: only the last applies. Drive log event "
        "change_user_access or change_document_access_scope",
        docs=f"{DRIVE_REFERENCE}/permissions/delete",
        plan=plan_remove_permission,
        apply=apply_remove_permission,
        verify=verify_remove_permission,
    ),
    Action(
        name="trash_file",
        remedies=(Remedy.TRASH_FILE,),
        target=TargetKind.FILE,
        permission=DRIVE_WRITE_SCOPE,
        reversible=True,
        description="Move a Drive file to the trash (files.update, PATCH "
        "/drive/v3/files/{fileId}?supportsAllDrives=true "
        "with trashed true), sent as its owner through domain-wide delegation (only the owner may trash a My "
        "Drive file; a shared drive's item as the admin, who must hold a role there that may trash it). It "
        "keeps its sharing until purged and can be restored for 30 days (trashed false), after which Drive "
        "deletes it for good. Drive log event trash",
        docs=f"{DRIVE_REFERENCE}/files/update",
        plan=plan_trash,
        apply=apply_drive_plan,
        verify=verify_trash,
    ),
    Action(
        name="restrict_to_owner",
        remedies=(Remedy.RESTRICT_TO_OWNER,),
        target=TargetKind.FILE,
        permission=DRIVE_WRITE_SCOPE,
        reversible=True,
        description="Remove every sharing permission of a Drive file but its owner's (permissions.delete for each, "
        "as the owner): users, groups, domains and the link. In a shared drive, access inherited from the drive or "
        "a folder cannot be removed on the item (Drive refuses) and is kept. Undone by creating each permission "
        "again with the same type, role, address or domain and link discoverability, without notification "
        "e-mails; an expiry is not restored and a deleted account's cannot be. Drive log events "
        "change_user_access / change_document_access_scope",
        docs=f"{DRIVE_REFERENCE}/permissions/delete",
        plan=plan_restrict,
        apply=apply_drive_plan,
        verify=verify_restrict,
    ),
    Action(
        name="quarantine_file",
        remedies=(Remedy.QUARANTINE_FILE,),
        target=TargetKind.FILE,
        permission=DRIVE_WRITE_SCOPE,
        reversible=True,
        description="Take a My Drive file's sharing away (as restrict_to_owner) and move it into the admin's "
        "quarantine folder (option quarantine_folder_id; files.update addParents / removeParents as the owner). "
        "Drive lets only someone who can add to the folder move an item there and a folder's sharing propagates "
        "to what it holds, so the folder stays private: the owner is given writer on it for the move "
        "(permissions.create as the admin, no e-mail) and loses it right after. The owner then leaves a text notice "
        "(option quarantine_notice) in the folder the file came from (files.create multipart upload, with an "
        "appProperty naming the file). Shared drive items are refused. Undone by moving it back, sharing it again "
        "and deleting the notice (found by its appProperty with files.list). Drive log events move, upload",
        docs=f"{DRIVE_REFERENCE}/files/update",
        plan=plan_quarantine,
        apply=apply_drive_plan,
        verify=verify_quarantine,
    ),
    Action(
        name="apply_sensitivity_label",
        remedies=(Remedy.APPLY_SENSITIVITY_LABEL,),
        target=TargetKind.FILE,
        permission=DRIVE_WRITE_SCOPE,
        reversible=True,
        description="Apply the Drive label of option sensitivity_label_id to a file (files.modifyLabels, POST "
        "/drive/v3/files/{fileId}/modifyLabels, as the owner), setting option sensitivity_label_choice_id on the "
        "label's selection field for a classification label; the label and field are read from the Labels API "
        "(labels.list as the admin, scope drive.admin.labels.readonly). Without Drive labels (Business Standard "
        "and above) Google refuses and the run is recorded as denied with its message. Undone by removing the "
        "label or setting the previous choice back",
        docs=f"{DRIVE_REFERENCE}/files/modifyLabels",
        plan=plan_label,
        apply=apply_drive_plan,
        verify=verify_label,
    ),
)
