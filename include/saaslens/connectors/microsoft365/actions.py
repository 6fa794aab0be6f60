"""The control Microsoft Graph v1.0 offers over what the stages collect: plan, apply and verify.

Each action names, as `permission`, the application permission (a value of the access token's
``roles`` claim) its write endpoint's Microsoft Learn page lists as least privileged, so
`Microsoft365Connector.authenticate` can say yes or no per action from the token alone. Pages relied on
(microsoftgraph/microsoft-graph-docs-contrib ``api-reference/v1.0/api/*.md``, published on
https://learn.microsoft.com/graph/api/<page>):

- user-get / user-update (``PATCH /users/{id}``, 204 No Content; ``accountEnabled`` needs
  User.EnableDisableAccount.All, ``passwordProfile`` User-PasswordProfile.ReadWrite.All; for a user holding
  a privileged administrator role an app-only caller must itself hold a higher privileged role, else 403
  ``Authorization_RequestDenied``, "Who can perform sensitive actions"). resources/user.md:
  ``signInSessionsValidFromDateTime`` and ``passwordProfile`` are returned only on ``$select``.
- user-revokesigninsessions (``POST /users/{id}/revokeSignInSessions``, 200 ``{"value": true}``; resets
  signInSessionsValidFromDateTime to now; User.RevokeSessions.All).
- oauth2permissiongrant-get / oauth2permissiongrant-delete (``DELETE /oauth2PermissionGrants/{id}``, 204;
  DelegatedPermissionGrant.ReadWrite.All).
- serviceprincipal-list-approleassignments / serviceprincipal-delete-approleassignments (``DELETE
  /servicePrincipals/{id}/appRoleAssignments/{id}``, 204; AppRoleAssignment.ReadWrite.All).
- directoryrole-list-members / directoryrole-delete-member (``DELETE /directoryRoles/{role-id}/members/{id}/$ref``,
  204; RoleManagement.ReadWrite.Directory).
- driveitem-get / permission-get / permission-delete
  (``DELETE /drives/{drive-id}/items/{item-id}/permissions/{perm-id}``,
  204; Files.ReadWrite.All; only permissions not inherited can be deleted).

Graph errors are ``{"error": {"code", "message"}}`` (https://learn.microsoft.com/graph/errors); the
connector's error policy turns 403 into PermissionDeniedError and 404 into NotFoundError with that code.
Every id in a path goes through `api_path`. App-only tokens have no user of their own
(`Microsoft365Connector.acting_account` is None), so the engine's self-protection rests on `protected`:
privileged administrators and the credentials' own service principal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from saaslens.connectors.kit import Action, ActionOutcome, ActionPlan, PlannedRequest, Target, Verification, send_plan
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.connector import Microsoft365Connector
from saaslens.connectors.microsoft365.files import drives
from saaslens.http import ApiError, NotFoundError, api_path
from saaslens.transform_utils import parse_time
from saaslens.vocabulary import Remedy, TargetKind

C = Microsoft365Connector
USER_STATE_FIELDS = ("id", "userPrincipalName", "accountEnabled", "userType")
# Built-in roles whose holders Microsoft lists as privileged administrators (roleTemplateId -> name):
# "Microsoft Entra built-in roles" (privileged roles are labelled PRIVILEGED) and "Who can perform
# sensitive actions" (user-update.md). A holder is a protected target; the engine asks for
# allow_admin_targets before touching one.
PRIVILEGED_ROLE_TEMPLATES = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
}


# -- shared reads ---------------------------------------------------------------------------------


def _object(value: Any, what: str) -> dict[str, Any]:
    """A provider answer that must be a JSON object; anything else is a malformed answer."""
    if not isinstance(value, dict):
        raise ApiError(f"Graph answered {what} with {type(value).__name__}, not an object")
    return value


def _user(connector: C, user_id: str, *extra: str) -> dict[str, Any]:
    params = {"$select": ",".join((*USER_STATE_FIELDS, *extra))}
    return _object(connector.client.get_json(api_path("/v1.0/users", user_id), params), "a user")


def _admin_roles(connector: C, user_id: str) -> list[str]:
    """The privileged roles the user holds, directly or through a role-assignable group."""
    names = set()
    for role, member, _via in connector.role_holders():
        if member.get("id") == user_id and role.get("roleTemplateId") in PRIVILEGED_ROLE_TEMPLATES:
            names.add(str(role.get("displayName") or PRIVILEGED_ROLE_TEMPLATES[role["roleTemplateId"]]))
    return sorted(names)


def _protected_user(connector: C, user_id: str) -> str | None:
    roles = _admin_roles(connector, user_id)
    return f"holds privileged directory roles: {', '.join(roles)}" if roles else None


def _raw(row: Mapping[str, Any]) -> dict[str, Any]:
    raw = row.get("raw")
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return dict(raw) if isinstance(raw, Mapping) else {}


# -- accounts: block / unblock sign-in, force a password change -----------------------------------


def _set_enabled(enabled: bool) -> Callable[[C, Target], ActionPlan]:
    name = "unblock_sign_in" if enabled else "block_sign_in"

    def plan(connector: C, target: Target) -> ActionPlan:
        user_id = target.keys["account_id"]
        user = _user(connector, user_id)
        before = {k: user.get(k) for k in USER_STATE_FIELDS}
        path = api_path("/v1.0/users", user_id)
        undo = ActionPlan(
            action="block_sign_in" if enabled else "unblock_sign_in",
            target=target,
            requests=(PlannedRequest("PATCH", path, {"accountEnabled": not enabled}),),
            before={**before, "accountEnabled": enabled},
        )
        return ActionPlan(
            action=name,
            target=target,
            requests=(PlannedRequest("PATCH", path, {"accountEnabled": enabled}),),
            before=before,
            noop=user.get("accountEnabled") is enabled,
            protected=None if enabled else _protected_user(connector, user_id),
            undo=undo,
        )

    return plan


def _apply_patch(connector: C, plan: ActionPlan) -> ActionOutcome:
    # PATCH sets a value: repeating it leaves the same state (user-update.md, 204 No Content).
    return send_plan(connector.client, plan, idempotent=True)


def _verify_enabled(connector: C, outcome: ActionOutcome) -> Verification:
    wanted = outcome.plan.requests[0].body or {}
    user = _user(connector, outcome.plan.target.keys["account_id"])
    after = {k: user.get(k) for k in USER_STATE_FIELDS}
    holds = user.get("accountEnabled") is wanted.get("accountEnabled")
    return Verification(holds=holds, after=after, detail=f"accountEnabled is {user.get('accountEnabled')}")


def _force_change(user: Mapping[str, Any]) -> bool | None:
    profile = user.get("passwordProfile")
    return profile.get("forceChangePasswordNextSignIn") if isinstance(profile, dict) else None


def _plan_password_change(connector: C, target: Target) -> ActionPlan:
    user_id = target.keys["account_id"]
    user = _user(connector, user_id, "passwordProfile")
    before = {**{k: user.get(k) for k in USER_STATE_FIELDS}, "forceChangePasswordNextSignIn": _force_change(user)}
    body = {"passwordProfile": {"forceChangePasswordNextSignIn": True}}
    return ActionPlan(
        action="force_password_change",
        target=target,
        requests=(PlannedRequest("PATCH", api_path("/v1.0/users", user_id), body),),
        before=before,
        noop=_force_change(user) is True,
        protected=_protected_user(connector, user_id),
    )


def _verify_password_change(connector: C, outcome: ActionOutcome) -> Verification:
    user = _user(connector, outcome.plan.target.keys["account_id"], "passwordProfile")
    flag = _force_change(user)
    after = {**{k: user.get(k) for k in USER_STATE_FIELDS}, "forceChangePasswordNextSignIn": flag}
    return Verification(holds=flag is True, after=after, detail=f"forceChangePasswordNextSignIn is {flag}")


# -- sessions -------------------------------------------------------------------------------------


def _plan_revoke_sessions(connector: C, target: Target) -> ActionPlan:
    """Never a no-op: every call moves the cut-off to now, so there is no "already revoked" state."""
    user_id = target.keys["account_id"]
    user = _user(connector, user_id, "signInSessionsValidFromDateTime")
    before = {
        **{k: user.get(k) for k in USER_STATE_FIELDS},
        "signInSessionsValidFromDateTime": user.get("signInSessionsValidFromDateTime"),
    }
    return ActionPlan(
        action="revoke_sign_in_sessions",
        target=target,
        requests=(PlannedRequest("POST", api_path("/v1.0/users", user_id, "revokeSignInSessions")),),
        before=before,
        protected=_protected_user(connector, user_id),
    )


def _apply_revoke_sessions(connector: C, plan: ActionPlan) -> ActionOutcome:
    # An action, not a state: not documented as safe to repeat, so a timeout is not retried blindly.
    return send_plan(connector.client, plan, idempotent=False)


def _verify_revoke_sessions(connector: C, outcome: ActionOutcome) -> Verification:
    user = _user(connector, outcome.plan.target.keys["account_id"], "signInSessionsValidFromDateTime")
    before = parse_time(outcome.plan.before.get("signInSessionsValidFromDateTime"))
    after_time = parse_time(user.get("signInSessionsValidFromDateTime"))
    holds = after_time is not None and (before is None or after_time > before)
    after = {
        **{k: user.get(k) for k in USER_STATE_FIELDS},
        "signInSessionsValidFromDateTime": user.get("signInSessionsValidFromDateTime"),
    }
    return Verification(holds=holds, after=after, detail=f"sessions valid from {after_time}")


# -- app grants -----------------------------------------------------------------------------------


def _grant_state(grant: Mapping[str, Any]) -> dict[str, Any]:
    return {k: grant.get(k) for k in ("id", "clientId", "consentType", "principalId", "resourceId", "scope")}


def _plan_delegated(connector: C, target: Target) -> ActionPlan:
    grant_id = target.keys["grant_id"]
    path = api_path("/v1.0/oauth2PermissionGrants", grant_id)
    grant = _object(connector.client.get_json(path), "a delegated permission grant")
    state = _grant_state(grant)
    recreate = {k: v for k, v in state.items() if k != "id"}
    undo = ActionPlan(
        action="create_delegated_grant",
        target=target,
        requests=(PlannedRequest("POST", "/v1.0/oauth2PermissionGrants", recreate),),
    )
    return ActionPlan(
        action="revoke_delegated_grant",
        target=target,
        requests=(PlannedRequest("DELETE", path),),
        before=state,
        protected=_own_client(connector, grant.get("clientId")),
        undo=undo,
    )


def _own_client(connector: C, service_principal_id: Any) -> str | None:
    """The credentials' own service principal (the token's oid) keeps its grants unless opted in:
    revoking them would cut saaslens off the tenant."""
    if service_principal_id and service_principal_id == connector.service_principal_id():
        return "the grant belongs to the service principal these credentials act as"
    return None


def _apply_delete(connector: C, plan: ActionPlan) -> ActionOutcome:
    # A repeated DELETE answers 404: not retried blindly after a timeout; verify tells what happened.
    return send_plan(connector.client, plan, idempotent=False)


def _verify_delegated(connector: C, outcome: ActionOutcome) -> Verification:
    path = api_path("/v1.0/oauth2PermissionGrants", outcome.plan.target.keys["grant_id"])
    try:
        grant = _object(connector.client.get_json(path), "a delegated permission grant")
    except NotFoundError as exc:
        return Verification(holds=True, after={}, detail=f"the grant is gone ({exc.status} {exc.provider_code})")
    return Verification(holds=False, after=_grant_state(grant), detail="the grant is still there")


def _assignment_owner(connector: C, target: Target) -> str:
    """The object id of the client service principal holding an application permission. The lake row
    names the client by appId (client_id); Graph addresses an appRoleAssignment only below its
    service principal, so the principal is found among the service principals (the grants stage's
    own listing, serviceprincipal-list.md)."""
    app_id = target.row.get("client_id")
    if not app_id:
        raise ApiError(f"grant {target.keys['grant_id']} names no client application")
    params = {"$select": "id,appId", "$top": connector.page_size(999)}
    for sp in connector.items("/v1.0/servicePrincipals", params):
        if isinstance(sp, dict) and sp.get("appId") == app_id and isinstance(sp.get("id"), str):
            return str(sp["id"])
    raise NotFoundError(
        f"no service principal of application {app_id}", status=404, provider_code="Request_ResourceNotFound"
    )


def _find_assignment(connector: C, principal: str, assignment_id: str) -> dict[str, Any] | None:
    path = api_path("/v1.0/servicePrincipals", principal, "appRoleAssignments")
    for assignment in connector.items(path, {"$top": connector.page_size(999)}):
        if isinstance(assignment, dict) and assignment.get("id") == assignment_id:
            return assignment
    return None


def _assignment_state(assignment: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("id", "appRoleId", "principalId", "principalDisplayName", "resourceId", "resourceDisplayName")
    return {k: assignment.get(k) for k in keys}


def _plan_app_role(connector: C, target: Target) -> ActionPlan:
    principal, assignment_id = _assignment_owner(connector, target), target.keys["grant_id"]
    assignment = _find_assignment(connector, principal, assignment_id)  # 404 when the principal is gone
    if assignment is None:
        raise NotFoundError(
            f"service principal {principal} has no app role assignment {assignment_id}",
            status=404,
            provider_code="Request_ResourceNotFound",
        )
    state = _assignment_state(assignment)
    undo_body = {k: state[k] for k in ("principalId", "resourceId", "appRoleId")}
    base = api_path("/v1.0/servicePrincipals", principal, "appRoleAssignments")
    return ActionPlan(
        action="revoke_app_role_assignment",
        target=target,
        requests=(PlannedRequest("DELETE", api_path(base, assignment_id)),),
        before=state,
        protected=_own_client(connector, principal),
        undo=ActionPlan(
            action="create_app_role_assignment", target=target, requests=(PlannedRequest("POST", base, undo_body),)
        ),
    )


def _verify_app_role(connector: C, outcome: ActionOutcome) -> Verification:
    target = outcome.plan.target
    try:
        assignment = _find_assignment(connector, _assignment_owner(connector, target), target.keys["grant_id"])
    except NotFoundError as exc:
        return Verification(holds=True, after={}, detail=f"the service principal is gone ({exc.provider_code})")
    if assignment is None:
        return Verification(holds=True, after={}, detail="the assignment is no longer listed")
    return Verification(holds=False, after=_assignment_state(assignment), detail="the assignment is still listed")


# -- privileges: directory role membership --------------------------------------------------------


def _role_members(connector: C, role_id: str) -> list[dict[str, Any]]:
    params = {"$select": "id,displayName,userPrincipalName"}
    members = connector.items(api_path("/v1.0/directoryRoles", role_id, "members"), params)
    return [m for m in members if isinstance(m, dict)]


def _plan_role_member(connector: C, target: Target) -> ActionPlan:
    user_id, role_id = target.keys["account_id"], target.keys["privilege_id"]
    roles = {r.get("id"): r for r in connector.items("/v1.0/directoryRoles") if isinstance(r, dict)}
    role = roles.get(role_id)
    if role is None:
        raise NotFoundError(
            f"directory role {role_id} is not activated in the tenant",
            status=404,
            provider_code="Request_ResourceNotFound",
        )
    members = _role_members(connector, role_id)
    direct = any(m.get("id") == user_id for m in members)
    groups = [m.get("id") for m in members if m.get("@odata.type") == transform.GROUP_ODATA_TYPE]
    held_via = [g for g in groups if g and any(u.get("id") == user_id for u in connector.group_member_objects(g))]
    before = {
        "role_id": role_id,
        "role": role.get("displayName"),
        "roleTemplateId": role.get("roleTemplateId"),
        "direct_member": direct,
        "via_groups": held_via,
    }
    if not direct and held_via:
        raise ApiError(
            f"{target.label or user_id} holds {role.get('displayName')} only through role-assignable groups "
            f"{', '.join(held_via)}; remove the group membership instead"
        )
    if not direct:
        # Nothing to remove: Graph's DELETE answers 404 for someone not a member; after an earlier
        # run of this action the engine records that as already applied.
        raise NotFoundError(
            f"{target.label or user_id} is not a member of {role.get('displayName')}",
            status=404,
            provider_code="Request_ResourceNotFound",
        )
    template = role.get("roleTemplateId")
    protected = f"removes {PRIVILEGED_ROLE_TEMPLATES[template]}" if template in PRIVILEGED_ROLE_TEMPLATES else None
    path = api_path("/v1.0/directoryRoles", role_id, "members", user_id) + "/$ref"
    add_ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user_id}"}
    return ActionPlan(
        action="remove_role_member",
        target=target,
        requests=(PlannedRequest("DELETE", path),),
        before=before,
        protected=protected,
        undo=ActionPlan(
            action="add_role_member",
            target=target,
            requests=(PlannedRequest("POST", api_path("/v1.0/directoryRoles", role_id, "members") + "/$ref", add_ref),),
        ),
    )


def _verify_role_member(connector: C, outcome: ActionOutcome) -> Verification:
    user_id, role_id = outcome.plan.target.keys["account_id"], outcome.plan.target.keys["privilege_id"]
    direct = any(m.get("id") == user_id for m in _role_members(connector, role_id))
    return Verification(
        holds=not direct,
        after={"role_id": role_id, "direct_member": direct},
        detail="still a direct member" if direct else "no longer a direct member",
    )


# -- file shares ----------------------------------------------------------------------------------


def _drive_of(connector: C, target: Target) -> str:
    """The drive holding the item: from the scanned file's raw driveItem (parentReference.driveId),
    which the engine passes with a share's row; else found among the drives the files stage scans."""
    row = target.row
    if isinstance(row.get("drive_id"), str) and row["drive_id"]:
        return str(row["drive_id"])
    file_row = row.get("file")
    for scanned in (row, file_row if isinstance(file_row, Mapping) else {}):
        parent = _raw(scanned).get("parentReference")
        if isinstance(parent, dict) and isinstance(parent.get("driveId"), str) and parent["driveId"]:
            return str(parent["driveId"])
    item_id = target.keys["file_id"]

    def holds_item(drive: dict[str, Any]) -> str | None:
        try:
            connector.client.get_json(api_path("/v1.0/drives", drive["id"], "items", item_id), {"$select": "id"})
        except NotFoundError:
            return None
        return str(drive["id"])

    for found in connector.fan_out(drives(connector), holds_item):
        if found:
            return found
    raise NotFoundError(f"no drive holds item {item_id}", status=404, provider_code="itemNotFound")


def _share_state(permission: Mapping[str, Any]) -> dict[str, Any]:
    link = permission.get("link") if isinstance(permission.get("link"), dict) else {}
    granted = permission.get("grantedToV2") if isinstance(permission.get("grantedToV2"), dict) else {}
    return {
        "id": permission.get("id"),
        "roles": permission.get("roles"),
        "link_scope": (link or {}).get("scope"),
        "link_type": (link or {}).get("type"),
        "granted_to": sorted((granted or {}).keys()),
        "inheritedFrom": permission.get("inheritedFrom"),
    }


def _plan_remove_share(connector: C, target: Target) -> ActionPlan:
    item_id, share_id = target.keys["file_id"], target.keys["share_id"]
    drive_id = _drive_of(connector, target)
    path = api_path("/v1.0/drives", drive_id, "items", item_id, "permissions", share_id)
    permission = _object(connector.client.get_json(path), "a permission")
    state = {**_share_state(permission), "drive_id": drive_id}
    if permission.get("inheritedFrom"):
        raise ApiError(
            f"permission {share_id} is inherited from {permission['inheritedFrom']}: only permissions that are "
            "not inherited can be deleted (permission-delete.md); remove it on the folder it comes from"
        )
    roles = [str(r).lower() for r in permission.get("roles") or []]
    return ActionPlan(
        action="remove_file_share",
        target=target,
        requests=(PlannedRequest("DELETE", path),),
        before=state,
        protected="the permission is the item's owner" if "owner" in roles else None,
    )


def _verify_remove_share(connector: C, outcome: ActionOutcome) -> Verification:
    path = outcome.plan.requests[0].path
    try:
        permission = _object(connector.client.get_json(path), "a permission")
    except NotFoundError as exc:
        return Verification(holds=True, after={}, detail=f"the permission is gone ({exc.provider_code})")
    return Verification(holds=False, after=_share_state(permission), detail="the permission is still there")


ACTIONS: tuple[Action[Any], ...] = (
    Action(
        name="block_sign_in",
        remedies=(Remedy.SUSPEND_ACCOUNT,),
        target=TargetKind.ACCOUNT,
        permission="User.EnableDisableAccount.All",
        reversible=True,
        description="Block the user from signing in (PATCH /users/{id} with accountEnabled false); undone by "
        "unblock_sign_in. Sessions already open last until revoked or expired. A privileged administrator can "
        "only be blocked by an app that itself holds a higher privileged role",
        docs="https://learn.microsoft.com/graph/api/user-update",
        plan=_set_enabled(False),
        apply=_apply_patch,
        verify=_verify_enabled,
    ),
    Action(
        name="unblock_sign_in",
        target=TargetKind.ACCOUNT,
        permission="User.EnableDisableAccount.All",
        reversible=True,
        description="Let a blocked user sign in again (PATCH /users/{id} with accountEnabled true); undone by "
        "block_sign_in",
        docs="https://learn.microsoft.com/graph/api/user-update",
        plan=_set_enabled(True),
        apply=_apply_patch,
        verify=_verify_enabled,
    ),
    Action(
        name="revoke_sign_in_sessions",
        remedies=(Remedy.END_SESSIONS,),
        target=TargetKind.SESSION,
        permission="User.RevokeSessions.All",
        reversible=False,
        description="Invalidate the user's refresh tokens and browser session cookies (POST "
        "/users/{id}/revokeSignInSessions, which resets signInSessionsValidFromDateTime to now), so every app "
        "asks them to sign in again; access tokens already issued stay valid until they expire, and external "
        "users (who sign in at home) are not affected. Never already applied: each call moves the cut-off",
        docs="https://learn.microsoft.com/graph/api/user-revokesigninsessions",
        plan=_plan_revoke_sessions,
        apply=_apply_revoke_sessions,
        verify=_verify_revoke_sessions,
    ),
    Action(
        name="force_password_change",
        remedies=(Remedy.FORCE_PASSWORD_CHANGE,),
        target=TargetKind.ACCOUNT,
        permission="User-PasswordProfile.ReadWrite.All",
        reversible=False,
        description="Make the user change their password at the next sign-in (PATCH /users/{id} with "
        "passwordProfile.forceChangePasswordNextSignIn true); the current password keeps working until then",
        docs="https://learn.microsoft.com/graph/api/user-update",
        plan=_plan_password_change,
        apply=_apply_patch,
        verify=_verify_password_change,
    ),
    Action(
        name="revoke_delegated_grant",
        remedies=(Remedy.REVOKE_GRANT,),
        target=TargetKind.APP_GRANT,
        permission="DelegatedPermissionGrant.ReadWrite.All",
        reversible=True,
        description="Revoke an app's delegated permissions (DELETE /oauth2PermissionGrants/{id}); undone by "
        "creating a grant with the same client, consent type, principal, resource and scopes. Access tokens "
        "already issued stay valid for their lifetime",
        docs="https://learn.microsoft.com/graph/api/oauth2permissiongrant-delete",
        plan=_plan_delegated,
        apply=_apply_delete,
        verify=_verify_delegated,
    ),
    Action(
        name="revoke_app_role_assignment",
        target=TargetKind.APP_GRANT,
        permission="AppRoleAssignment.ReadWrite.All",
        reversible=True,
        description="Revoke an application permission a service principal holds (DELETE "
        "/servicePrincipals/{id}/appRoleAssignments/{assignment-id}); undone by assigning the same app role again",
        docs="https://learn.microsoft.com/graph/api/serviceprincipal-delete-approleassignments",
        plan=_plan_app_role,
        apply=_apply_delete,
        verify=_verify_app_role,
    ),
    Action(
        name="remove_role_member",
        remedies=(Remedy.REMOVE_ADMIN_ROLE,),
        target=TargetKind.PRIVILEGE,
        permission="RoleManagement.ReadWrite.Directory",
        reversible=True,
        description="Remove a user's direct membership of a directory role (DELETE "
        "/directoryRoles/{role-id}/members/{id}/$ref); undone by adding the member back (POST .../members/$ref). "
        "A role held through a role-assignable group is removed by changing the group instead",
        docs="https://learn.microsoft.com/graph/api/directoryrole-delete-member",
        plan=_plan_role_member,
        apply=_apply_delete,
        verify=_verify_role_member,
    ),
    Action(
        name="remove_file_share",
        remedies=(
            Remedy.REMOVE_PUBLIC_LINK,
            Remedy.REMOVE_EXTERNAL_SHARE,
        ),
        target=TargetKind.FILE_SHARE,
        permission="Files.ReadWrite.All",
        reversible=False,
        description="Remove a sharing permission from a OneDrive or SharePoint item (DELETE "
        "/drives/{drive-id}/items/{item-id}/permissions/{perm-id}); only permissions not inherited from a "
        "folder can be removed, and a removed sharing link cannot be recreated with the same URL",
        docs="https://learn.microsoft.com/graph/api/permission-delete",
        plan=_plan_remove_share,
        apply=_apply_delete,
        verify=_verify_remove_share,
    ),
    Action(
        name="delete_file",
        target=TargetKind.FILE,
        permission="Files.ReadWrite.All",
        reversible=False,
        description="Delete a OneDrive or SharePoint item (DELETE /drives/{drive-id}/items/{item-id}): it moves to "
        "the site's recycle bin, where a site admin can restore it; Graph v1.0 restores only OneDrive Personal items",
        docs="https://learn.microsoft.com/graph/api/driveitem-delete",
    ),
)
