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
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

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
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.connector import Microsoft365Connector
from saaslens.connectors.microsoft365.files import LABEL_EXTENSIONS, drives
from saaslens.http import ApiError, NotFoundError, PermissionDeniedError, api_path
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


# -- files: trash, restrict to the owner, quarantine, label ---------------------------------------------

ITEM_STATE_FIELDS = ("id", "name", "webUrl", "size", "cTag", "eTag")
NOTICE_SUFFIX = " - QUARANTINED.txt"


def _item(connector: C, drive_id: str, item_id: str) -> dict[str, Any]:
    return _object(connector.client.get_json(api_path("/v1.0/drives", drive_id, "items", item_id)), "a driveItem")


def _item_state(item: Mapping[str, Any], drive_id: str) -> dict[str, Any]:
    parent = item.get("parentReference") if isinstance(item.get("parentReference"), dict) else {}
    return {
        **{k: item.get(k) for k in ITEM_STATE_FIELDS},
        "drive_id": drive_id,
        "parent_id": (parent or {}).get("id"),
        "parent_path": (parent or {}).get("path"),
    }


def _option(connector: C, name: str) -> str:
    value = getattr(connector.options, name)
    if not value:
        raise ApiError(
            f"the instance option {name} is not set: set it in include/connected_apps.yaml (options.{name}) before "
            "planning this action"
        )
    return str(value)


def _plan_trash(connector: C, target: Target) -> ActionPlan:
    """DELETE moves the item to the site's recycle bin (driveitem-delete.md); a file already deleted is
    404 itemNotFound, which the engine records as already applied after an earlier run."""
    drive_id = _drive_of(connector, target)
    item = _item(connector, drive_id, target.keys["file_id"])
    if "root" in item:
        raise ApiError("the item is the drive's root folder, which cannot be deleted")
    return ActionPlan(
        action="delete_file",
        target=target,
        requests=(PlannedRequest("DELETE", api_path("/v1.0/drives", drive_id, "items", item["id"])),),
        before=_item_state(item, drive_id),
    )


def _verify_gone(connector: C, outcome: ActionOutcome) -> Verification:
    state = outcome.plan.before
    try:
        item = _item(connector, str(state["drive_id"]), outcome.plan.target.keys["file_id"])
    except NotFoundError as exc:
        return Verification(holds=True, after={}, detail=f"the item is gone from the drive ({exc.provider_code})")
    return Verification(holds=False, after=_item_state(item, str(state["drive_id"])), detail="the item is still there")


def _removable(permission: Mapping[str, Any]) -> bool:
    """A sharing the owner can take back: not the owner's own, not inherited from a folder (only those
    can be deleted, permission-delete.md), not the site's own members group (the library's access)."""
    roles = [str(r).lower() for r in permission.get("roles") or []]
    granted = permission.get("grantedToV2") if isinstance(permission.get("grantedToV2"), dict) else {}
    return "owner" not in roles and not permission.get("inheritedFrom") and "siteGroup" not in (granted or {})


def _identities(permission: Mapping[str, Any]) -> list[str]:
    """The email addresses a permission names (a direct grant, an invitation, a specific-people link)."""
    found: list[str] = []
    granted = permission.get("grantedToV2") if isinstance(permission.get("grantedToV2"), dict) else {}
    user = (granted or {}).get("user") if isinstance((granted or {}).get("user"), dict) else None
    invitation = permission.get("invitation") if isinstance(permission.get("invitation"), dict) else None
    link = permission.get("link") if isinstance(permission.get("link"), dict) else {}
    for identity in [
        user,
        *(permission.get("grantedToIdentitiesV2") or []),
        *((link or {}).get("grantedToIdentitiesV2") or []),
    ]:
        who = (
            identity.get("user") if isinstance(identity, dict) and isinstance(identity.get("user"), dict) else identity
        )
        if isinstance(who, dict) and isinstance(who.get("email"), str) and "@" in who["email"]:
            found.append(who["email"])
    if invitation and isinstance(invitation.get("email"), str) and "@" in invitation["email"]:
        found.append(invitation["email"])
    return sorted(set(found))


def _reshare(drive_id: str, item_id: str, permission: Mapping[str, Any]) -> PlannedRequest | None:
    """The request that gives a removed sharing back, as far as Graph allows: a link of the same type and
    scope (a new URL: the old one stays dead, driveitem-createlink.md), or an invitation of the same
    people with the same roles (driveitem-invite.md; no invitation e-mail is sent)."""
    roles = [str(r) for r in permission.get("roles") or [] if str(r) in ("read", "write")] or ["read"]
    link = permission.get("link") if isinstance(permission.get("link"), dict) else None
    if link and link.get("scope") in ("anonymous", "organization") and link.get("type") in ("view", "edit"):
        body: dict[str, Any] = {"type": link["type"], "scope": link["scope"]}
        if isinstance(permission.get("expirationDateTime"), str):
            body["expirationDateTime"] = permission["expirationDateTime"]
        return PlannedRequest("POST", api_path("/v1.0/drives", drive_id, "items", item_id, "createLink"), body)
    people = _identities(permission)
    if not people:
        return None
    body = {
        "recipients": [{"email": email} for email in people],
        "roles": roles,
        "requireSignIn": True,
        "sendInvitation": False,
    }
    return PlannedRequest("POST", api_path("/v1.0/drives", drive_id, "items", item_id, "invite"), body)


def _permissions(connector: C, drive_id: str, item_id: str) -> list[dict[str, Any]]:
    path = api_path("/v1.0/drives", drive_id, "items", item_id, "permissions")
    return [p for p in connector.items(path) if isinstance(p, dict)]


def _plan_restrict(connector: C, target: Target) -> ActionPlan:
    drive_id = _drive_of(connector, target)
    item = _item(connector, drive_id, target.keys["file_id"])
    permissions = _permissions(connector, drive_id, item["id"])
    removable = [p for p in permissions if _removable(p) and isinstance(p.get("id"), str)]
    base = api_path("/v1.0/drives", drive_id, "items", item["id"], "permissions")
    undo = [r for r in (_reshare(drive_id, item["id"], p) for p in removable) if r is not None]
    return ActionPlan(
        action="restrict_to_owner",
        target=target,
        requests=tuple(PlannedRequest("DELETE", api_path(base, p["id"])) for p in removable),
        before={**_item_state(item, drive_id), "shares": [_share_state(p) for p in permissions]},
        noop=not removable,
        undo=ActionPlan(action="reshare_file", target=target, requests=tuple(undo)) if undo else None,
    )


def _verify_restrict(connector: C, outcome: ActionOutcome) -> Verification:
    state = outcome.plan.before
    permissions = _permissions(connector, str(state["drive_id"]), outcome.plan.target.keys["file_id"])
    left = [p for p in permissions if _removable(p)]
    after = {"shares": [_share_state(p) for p in permissions]}
    if left:
        return Verification(holds=False, after=after, detail=f"{len(left)} sharing permission(s) still there")
    return Verification(holds=True, after=after, detail="only the owner's and inherited access remain")


def _notice_path(drive_id: str, parent_id: str, name: str) -> str:
    """Path-relative addressing below a folder (/drives/{drive-id}/items/{parent-id}:/{file-name}), as
    driveitem-put-content.md uploads by name; the name is one encoded segment."""
    return api_path("/v1.0/drives", drive_id, "items") + "/" + api_path("", parent_id)[1:] + ":" + api_path("", name)


def _plan_quarantine(connector: C, target: Target) -> ActionPlan:
    """PATCH the item's parentReference to the quarantine folder (driveitem-move.md: 200; not between
    drives), then PUT a notice into the folder it came from (driveitem-put-content.md: 201)."""
    quarantine_drive = _option(connector, "quarantine_drive_id")
    folder_id = _option(connector, "quarantine_folder_id")
    drive_id = _drive_of(connector, target)
    if drive_id != quarantine_drive:
        raise ApiError(
            f"the file is in drive {drive_id}, not in quarantine_drive_id {quarantine_drive}: Graph moves items only "
            "within a drive (driveitem-move.md); restrict_to_owner or delete_file instead"
        )
    item = _item(connector, drive_id, target.keys["file_id"])
    try:
        folder = _item(connector, drive_id, folder_id)
    except NotFoundError:
        raise ApiError(f"quarantine_folder_id {folder_id} is not an item of drive {drive_id}") from None
    if "folder" not in folder:
        raise ApiError(f"quarantine_folder_id {folder_id} is not a folder")
    state = _item_state(item, drive_id)
    parent_id = str(state["parent_id"] or "")
    path = api_path("/v1.0/drives", drive_id, "items", item["id"])
    if parent_id == folder_id:
        return ActionPlan(action="quarantine_file", target=target, requests=(), before=state, noop=True)
    notice = f"{item.get('name')}{NOTICE_SUFFIX}"
    notice_path = _notice_path(drive_id, parent_id, notice)
    text = f"{connector.options.quarantine_notice}\n\nFile: {item.get('name')}\n"
    return ActionPlan(
        action="quarantine_file",
        target=target,
        requests=(
            PlannedRequest("PATCH", path, {"parentReference": {"id": folder_id}}),
            PlannedRequest("PUT", notice_path + ":/content", {"text/plain": text}),
        ),
        before={**state, "quarantine_folder_id": folder_id, "notice": notice},
        undo=ActionPlan(
            action="release_from_quarantine",
            target=target,
            requests=(
                PlannedRequest("PATCH", path, {"parentReference": {"id": parent_id}}),
                PlannedRequest("DELETE", notice_path),
            ),
        ),
    )


def _apply_quarantine(connector: C, plan: ActionPlan) -> ActionOutcome:
    """The move, then the notice: the notice's body is the plain text the plan shows, sent as text."""
    if plan.noop:
        return ActionOutcome(plan=plan, applied=False, detail="already in the quarantine folder; nothing sent")
    move, upload = plan.requests
    answers = [send_request(connector.client, move, idempotent=True)]
    text = str((upload.body or {}).get("text/plain", ""))
    response, _ = connector.client.request(
        "PUT", upload.path, content=text.encode(), headers={"Content-Type": "text/plain"}, idempotent=True
    )
    answers.append(f"PUT {upload.path}: HTTP {response.status_code}")
    return ActionOutcome(plan=plan, applied=True, detail="; ".join(answers), applied_at=datetime.now(UTC))


def _verify_quarantine(connector: C, outcome: ActionOutcome) -> Verification:
    state = outcome.plan.before
    item = _item(connector, str(state["drive_id"]), outcome.plan.target.keys["file_id"])
    after = _item_state(item, str(state["drive_id"]))
    holds = after["parent_id"] == state.get("quarantine_folder_id")
    return Verification(
        holds=holds, after=after, detail="in the quarantine folder" if holds else "not in the quarantine folder"
    )


def _label_of(connector: C, drive_id: str, item_id: str) -> str | None:
    path = api_path("/v1.0/drives", drive_id, "items", item_id, "extractSensitivityLabels")
    _, payload = connector.client.request("POST", path)  # a read (driveitem-extractsensitivitylabels.md)
    result = payload.get("value", payload) if isinstance(payload, dict) else None
    labels = result.get("labels") if isinstance(result, dict) else None
    for label in labels or []:
        if isinstance(label, dict) and isinstance(label.get("sensitivityLabelId"), str) and label["sensitivityLabelId"]:
            return str(label["sensitivityLabelId"])
    return None


def _plan_label(connector: C, target: Target) -> ActionPlan:
    wanted = _option(connector, "sensitivity_label_id")
    drive_id = _drive_of(connector, target)
    item = _item(connector, drive_id, target.keys["file_id"])
    name = str(item.get("name") or "").lower()
    if "file" not in item or not name.endswith(LABEL_EXTENSIONS):
        raise ApiError(
            f"{item.get('name')!r}: SharePoint applies sensitivity labels only to Office (Word, Excel, PowerPoint) "
            "and PDF files"
        )
    current = _label_of(connector, drive_id, item["id"])
    path = api_path("/v1.0/drives", drive_id, "items", item["id"], "assignSensitivityLabel")
    justification = connector.options.label_justification

    def assign(label_id: str) -> PlannedRequest:
        body = {"sensitivityLabelId": label_id, "assignmentMethod": "privileged", "justificationText": justification}
        return PlannedRequest("POST", path, body)

    return ActionPlan(
        action="apply_sensitivity_label",
        target=target,
        requests=(assign(wanted),),
        before={**_item_state(item, drive_id), "sensitivity_label_id": current},
        noop=current == wanted,
        # An empty id removes the label (driveitem-assignsensitivitylabel.md).
        undo=ActionPlan(action="apply_sensitivity_label", target=target, requests=(assign(current or ""),)),
    )


def _apply_label(connector: C, plan: ActionPlan) -> ActionOutcome:
    """202 Accepted with an empty body; a metered API: without metered billing for the app Graph answers
    402 paymentRequired, recorded as denied with that code (the app lacks what the call needs)."""
    try:
        return send_plan(connector.client, plan, idempotent=True, parse_json=False)
    except ApiError as exc:
        if exc.status == 402:
            raise PermissionDeniedError(
                f"{exc.detail} (assignSensitivityLabel is a metered API: enable metered APIs and services for "
                "the app registration, https://learn.microsoft.com/graph/metered-api-setup)",
                **exc.context,
            ) from None
        raise


def _verify_label(connector: C, outcome: ActionOutcome) -> Verification:
    """The assignment is asynchronous (a monitor URL on SharePoint): the label is read back a few times."""
    state = outcome.plan.before
    wanted = (outcome.plan.requests[0].body or {}).get("sensitivityLabelId") or None
    found = None
    for attempt in range(LABEL_VERIFY_ATTEMPTS):
        found = _label_of(connector, str(state["drive_id"]), outcome.plan.target.keys["file_id"])
        if found == wanted:
            break
        time.sleep(LABEL_VERIFY_WAIT_SECONDS * (attempt + 1))
    return Verification(
        holds=found == wanted, after={"sensitivity_label_id": found}, detail=f"sensitivity label {found or 'none'}"
    )


LABEL_VERIFY_ATTEMPTS = 4
LABEL_VERIFY_WAIT_SECONDS = 1.0


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
        remedies=(Remedy.TRASH_FILE,),
        target=TargetKind.FILE,
        permission="Files.ReadWrite.All",
        reversible=False,
        description="Delete a OneDrive or SharePoint item (DELETE /drives/{drive-id}/items/{item-id}): it moves to "
        "the site's recycle bin, where a site admin can restore it while it is kept there; Graph v1.0 "
        "restores only OneDrive Personal items (driveitem-restore), so saaslens cannot undo it",
        docs="https://learn.microsoft.com/graph/api/driveitem-delete",
        plan=_plan_trash,
        apply=_apply_delete,
        verify=_verify_gone,
    ),
    Action(
        name="restrict_to_owner",
        remedies=(Remedy.RESTRICT_TO_OWNER,),
        target=TargetKind.FILE,
        permission="Files.ReadWrite.All",
        reversible=True,
        description="Remove every sharing of a file that is not its owner's own, not inherited from a folder and "
        "not the site's members group (DELETE .../permissions/{perm-id} for each). Undone as far as Graph allows: "
        "anyone and organization links are created again with the same type and scope but a new URL (the old one "
        "stays dead), people (direct grants, invitations and specific-people links) are invited again with the "
        "same roles without an e-mail; a link's password and blocked download are not restored",
        docs="https://learn.microsoft.com/graph/api/permission-delete",
        plan=_plan_restrict,
        apply=_apply_delete,
        verify=_verify_restrict,
    ),
    Action(
        name="quarantine_file",
        remedies=(Remedy.QUARANTINE_FILE,),
        target=TargetKind.FILE,
        permission="Files.ReadWrite.All",
        reversible=True,
        description="Move a file into the quarantine folder (PATCH /drives/{drive-id}/items/{item-id} with the "
        "folder as parentReference; options quarantine_drive_id and quarantine_folder_id) and leave a text notice "
        "in the folder it came from (PUT .../items/{parent-id}:/{name} - QUARANTINED.txt:/content). Graph moves "
        "items only within a drive: a file elsewhere is refused. The file keeps its own sharing permissions: "
        "restrict_to_owner removes them. Undone by moving it back and deleting the notice",
        docs="https://learn.microsoft.com/graph/api/driveitem-move",
        plan=_plan_quarantine,
        apply=_apply_quarantine,
        verify=_verify_quarantine,
    ),
    Action(
        name="apply_sensitivity_label",
        remedies=(Remedy.APPLY_SENSITIVITY_LABEL,),
        target=TargetKind.FILE,
        permission="Files.ReadWrite.All",
        reversible=True,
        description="Assign the Purview sensitivity label of option sensitivity_label_id to an Office or PDF file "
        "(POST .../assignSensitivityLabel, asynchronous: 202 and a monitor URL; the label is read back with "
        "extractSensitivityLabels). A metered, protected API: the app registration needs metered billing set up, "
        "else Graph answers 402 paymentRequired and the run is recorded as denied with that code. Undone by "
        "assigning the previous label (or removing it), with option label_justification",
        docs="https://learn.microsoft.com/graph/api/driveitem-assignsensitivitylabel",
        plan=_plan_label,
        apply=_apply_label,
        verify=_verify_label,
    ),
)
