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
- The audit events they leave: Admin log USER_SETTINGS events SUSPEND_USER, UNSUSPEND_USER,
  CHANGE_PASSWORD_ON_NEXT_LOGIN, RESET_SIGNIN_COOKIES, REVOKE_3LO_TOKEN, DELEGATED_ADMIN_SETTINGS
  UNASSIGN_ROLE (https://developers.google.com/workspace/admin/reports/v1/appendix/activity/admin-user-settings) and
  Drive log acl_change events change_user_access / change_document_access_scope
  (https://developers.google.com/workspace/admin/reports/v1/appendix/activity/drive).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from saaslens.connectors.google_workspace.connector import (
    AUDIT_SCOPE,
    DIRECTORY,
    REPORTS,
    TOKEN_SCOPE,
    USER_SCOPE,
    GoogleWorkspaceConnector,
    S,
)
from saaslens.connectors.kit import Action, ActionOutcome, ActionPlan, PlannedRequest, Target, Verification, send_plan
from saaslens.http import ApiClient, PermissionDeniedError, api_path
from saaslens.http.errors import ApiError, AuthenticationError, MalformedResponseError, NotFoundError
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
    # Trash rules (owner only, restorable for 30 days): https://developers.google.com/workspace/drive/api/guides/delete
    Action(
        name="trash_file",
        target=TargetKind.FILE,
        permission=DRIVE_WRITE_SCOPE,
        reversible=True,
        description="Move a Drive file to the trash (files.update, PATCH /drive/v3/files/{fileId} with trashed "
        "true), sent as its owner; it can be restored for 30 days by setting trashed back to false, after which "
        "Drive deletes it for good",
        docs=f"{DRIVE_REFERENCE}/files/update",
    ),
)
