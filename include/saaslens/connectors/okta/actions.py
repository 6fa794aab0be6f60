"""The control the Okta Management API offers over what the stages collect: plan, apply and verify.

Each action names the OAuth 2.0 scope its write operation requires in the Management API's OpenAPI
description (okta/okta-sdk-python openapi/management.yaml: suspendUser, unsuspendUser, expirePassword,
revokeUserSessions, revokeUserGrant and deactivateUser need okta.users.manage, unassignRoleFromUser
okta.roles.manage); an API token (SSWS) acts with its admin's roles instead.

What Okta documents, and this module relies on (Okta Management API reference, and the former Users
API reference in okta/okta-developer-docs, docs/reference/api/users/index.md):
- suspend: "This operation can only be performed on users with an ACTIVE status"; another status
  answers 400 E0000001, so suspending a suspended user is an error, not a no-op: plan reads the status
  first and sends nothing when the user is SUSPENDED already.
- unsuspend: only SUSPENDED users, back to ACTIVE; otherwise 400 E0000001.
- expire password: the user becomes PASSWORD_EXPIRED and must set a new password at the next sign-in.
- clear sessions (DELETE /api/v1/users/{id}/sessions?oauthTokens=true): 204; the Management API lists
  no user's sessions, so the change is proven by its System Log event (user.session.clear).
- revoke a grant / unassign a role: 204, then 404 E0000007 for the same id.
System Log event types (https://developer.okta.com/docs/reference/api/event-types/): user.lifecycle.
suspend, user.lifecycle.unsuspend, user.account.expire_password, user.session.clear,
app.oauth2.as.consent.revoke, and for admin roles user.account.privilege.revoke (the user holds no admin
role any more) or user.account.privilege.grant (the user's admin privileges changed).

Lake ids (transform.py): account_id is the Okta user id, privilege_id the role assignment id from
GET /api/v1/users/{id}/roles, grant_id the consent grant id (its user is the row's account_id).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from saaslens.connectors.kit import (
    Action,
    ActionOutcome,
    ActionPlan,
    PlannedRequest,
    Target,
    Verification,
    send_plan,
)
from saaslens.connectors.okta.connector import OktaConnector
from saaslens.http.client import api_path
from saaslens.http.errors import ApiError, NotFoundError, PermissionDeniedError
from saaslens.transform_utils import iso_z
from saaslens.vocabulary import Remedy, TargetKind

_REFERENCE = "https://developer.okta.com/docs/api/openapi/okta-management/management"
USERS = "/api/v1/users"
USERS_MANAGE = "okta.users.manage"
ROLES_MANAGE = "okta.roles.manage"
# Statuses whose users Okta lets expire a password (they carry the expirePassword lifecycle link).
_EXPIRABLE = frozenset({"ACTIVE", "RECOVERY", "LOCKED_OUT", "PASSWORD_EXPIRED"})


# -- reading the target ---------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A provider value kept only if it is a string: a hostile answer's objects never reach a plan."""
    return value if isinstance(value, str) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _object(payload: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise ApiError(f"Okta answered {type(payload).__name__} where {what} object was expected")
    return payload


def _user(connector: OktaConnector, user_id: str) -> Mapping[str, Any]:
    """GET /api/v1/users/{id}: 404 E0000007 (NotFoundError) when the user is gone."""
    return _object(connector.client.get_json(api_path(USERS, user_id)), "a User")


def _user_state(user: Mapping[str, Any]) -> dict[str, Any]:
    profile = _mapping(user.get("profile"))
    return {
        "id": _text(user.get("id")),
        "login": _text(profile.get("login")),
        "status": _text(user.get("status")),
        "statusChanged": _text(user.get("statusChanged")),
        "lastUpdated": _text(user.get("lastUpdated")),
    }


def _super_admin(connector: OktaConnector, user_id: str) -> str | None:
    """Why the user is protected: a SUPER_ADMIN role (direct or through a group), or roles that cannot
    be read (then the target is treated as an admin rather than guessed ordinary)."""
    try:
        roles = connector.client.get_json(api_path(USERS, user_id, "roles"))
    except PermissionDeniedError:
        return "its admin roles cannot be read with the action credentials (okta.roles.read): treated as an admin"
    if not isinstance(roles, list):
        raise ApiError(f"Okta answered {type(roles).__name__} where the user's role list was expected")
    if any(isinstance(r, Mapping) and r.get("type") == "SUPER_ADMIN" for r in roles):
        return "Okta super administrator (SUPER_ADMIN)"
    return None


def _account_id(target: Target) -> str:
    return str(target.keys["account_id"])


# -- applying and verifying, shared --------------------------------------------------------------------


def _audit_event(
    connector: OktaConnector, event_types: Iterable[str], target_id: str, since: datetime | None
) -> tuple[str | None, str]:
    """The uuid of the System Log event recording the change (one of `event_types`, naming
    `target_id` among its targets, published from a minute before `since`), and how the search went.
    One bounded query; events may take a little while to be queryable, so absence is reported, not raised."""
    start = (since or datetime.now(UTC)) - timedelta(minutes=1)
    expression = " or ".join(f'eventType eq "{event_type}"' for event_type in event_types)
    params = {
        "since": iso_z(start),
        "until": iso_z(datetime.now(UTC) + timedelta(seconds=1)),
        "filter": expression,
        "sortOrder": "ASCENDING",
        "limit": 1000,
    }
    try:
        events = connector.client.get_json("/api/v1/logs", params)
    except ApiError as exc:
        return None, f"System Log not read ({exc.provider_code or exc.status}: {exc.detail})"
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, Mapping):
            continue
        targets = event.get("target")
        if isinstance(targets, list) and any(isinstance(t, Mapping) and t.get("id") == target_id for t in targets):
            return _text(event.get("uuid")), f"System Log event {_text(event.get('eventType'))}"
    return None, "no System Log event for it yet"


def _verify_user(connector: OktaConnector, outcome: ActionOutcome, wanted: str, event_type: str) -> Verification:
    user_id = _account_id(outcome.plan.target)
    after = _user_state(_user(connector, user_id))
    event, how = _audit_event(connector, (event_type,), user_id, outcome.applied_at)
    holds = after["status"] == wanted
    return Verification(holds=holds, after=after, audit_event_id=event, detail=f"status {after['status']}; {how}")


# -- suspend / unsuspend ------------------------------------------------------------------------------


def _lifecycle_plan(
    connector: OktaConnector, target: Target, action: str, transition: str, source: str, wanted: str
) -> ActionPlan:
    user_id = _account_id(target)
    user = _user(connector, user_id)
    before = _user_state(user)
    status = before["status"]
    path = api_path(USERS, user_id, "lifecycle", transition)
    noop = status == wanted
    if not noop and status != source:
        # Okta answers 400 E0000001 for any other status; nothing is sent for a change it would refuse.
        raise ApiError(f"Okta can {transition} only {source} users; this user is {status}")
    protected = _super_admin(connector, user_id) if action == "suspend_user" else None
    reverse, back = ("unsuspend_user", "unsuspend") if action == "suspend_user" else ("suspend_user", "suspend")
    undo = ActionPlan(reverse, target, (PlannedRequest("POST", api_path(USERS, user_id, "lifecycle", back)),))
    return ActionPlan(
        action, target, (PlannedRequest("POST", path),), before=before, noop=noop, protected=protected, undo=undo
    )


def plan_suspend(connector: OktaConnector, target: Target) -> ActionPlan:
    return _lifecycle_plan(connector, target, "suspend_user", "suspend", "ACTIVE", "SUSPENDED")


def plan_unsuspend(connector: OktaConnector, target: Target) -> ActionPlan:
    return _lifecycle_plan(connector, target, "unsuspend_user", "unsuspend", "SUSPENDED", "ACTIVE")


def apply_lifecycle(connector: OktaConnector, plan: ActionPlan) -> ActionOutcome:
    # A repeat is an error at Okta (400 E0000001): never retried blindly after a timeout or 5xx.
    return send_plan(connector.client, plan, idempotent=False)


def verify_suspend(connector: OktaConnector, outcome: ActionOutcome) -> Verification:
    return _verify_user(connector, outcome, "SUSPENDED", "user.lifecycle.suspend")


def verify_unsuspend(connector: OktaConnector, outcome: ActionOutcome) -> Verification:
    return _verify_user(connector, outcome, "ACTIVE", "user.lifecycle.unsuspend")


# -- expire password ------------------------------------------------------------------------------------


def plan_expire_password(connector: OktaConnector, target: Target) -> ActionPlan:
    user_id = _account_id(target)
    user = _user(connector, user_id)
    before = _user_state(user)
    status = before["status"]
    provider = _mapping(_mapping(user.get("credentials")).get("provider"))
    before["credential_provider"] = _text(provider.get("type"))
    noop = status == "PASSWORD_EXPIRED"
    if not noop and status not in _EXPIRABLE:
        raise ApiError(f"Okta expires the password of ACTIVE, RECOVERY or LOCKED_OUT users; this user is {status}")
    if not noop and before["credential_provider"] == "FEDERATION":
        raise ApiError("a federated user has no Okta password to expire (credentials.provider FEDERATION)")
    path = api_path(USERS, user_id, "lifecycle", "expire_password")
    return ActionPlan(
        "expire_password",
        target,
        (PlannedRequest("POST", path),),
        before=before,
        noop=noop,
        protected=_super_admin(connector, user_id),
    )


def apply_expire_password(connector: OktaConnector, plan: ActionPlan) -> ActionOutcome:
    return send_plan(connector.client, plan, idempotent=False)


def verify_expire_password(connector: OktaConnector, outcome: ActionOutcome) -> Verification:
    return _verify_user(connector, outcome, "PASSWORD_EXPIRED", "user.account.expire_password")


# -- clear sessions -------------------------------------------------------------------------------------


def plan_clear_sessions(connector: OktaConnector, target: Target) -> ActionPlan:
    """Never a no-op: the Management API lists no user's sessions, so whether some remain is unknown."""
    user_id = _account_id(target)
    before = _user_state(_user(connector, user_id))
    path = api_path(USERS, user_id, "sessions") + "?oauthTokens=true"
    return ActionPlan(
        "clear_user_sessions",
        target,
        (PlannedRequest("DELETE", path),),
        before=before,
        protected=_super_admin(connector, user_id),
    )


def apply_clear_sessions(connector: OktaConnector, plan: ActionPlan) -> ActionOutcome:
    return send_plan(connector.client, plan, idempotent=True)  # 204 every time: safe to repeat


def verify_clear_sessions(connector: OktaConnector, outcome: ActionOutcome) -> Verification:
    """The proof is Okta's own record of it: a user.session.clear event for the user since apply."""
    user_id = _account_id(outcome.plan.target)
    after = _user_state(_user(connector, user_id))
    event, how = _audit_event(connector, ("user.session.clear",), user_id, outcome.applied_at)
    return Verification(holds=event is not None, after=after, audit_event_id=event, detail=how)


# -- revoke a user's grant ------------------------------------------------------------------------------


def _grant_path(target: Target) -> tuple[str, str, str]:
    grant_id = str(target.keys["grant_id"])
    user_id = target.row.get("account_id")
    if not isinstance(user_id, str) or not user_id:
        raise ApiError(f"grant {grant_id}: the lake row names no user (account_id), which Okta's path needs")
    return user_id, grant_id, api_path(USERS, user_id, "grants", grant_id)


def _grant_state(grant: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _text(grant.get(key)) for key in ("id", "status", "clientId", "scopeId", "source", "userId")}


def plan_revoke_grant(connector: OktaConnector, target: Target) -> ActionPlan:
    _, _, path = _grant_path(target)
    grant = _grant_state(_object(connector.client.get_json(path), "an OAuth2ScopeConsentGrant"))
    return ActionPlan(
        "revoke_user_grant", target, (PlannedRequest("DELETE", path),), before=grant, noop=grant["status"] == "REVOKED"
    )


def apply_revoke_grant(connector: OktaConnector, plan: ActionPlan) -> ActionOutcome:
    # A repeat answers 404: not retried blindly, or a revoked grant would read as lost.
    return send_plan(connector.client, plan, idempotent=False)


def verify_revoke_grant(connector: OktaConnector, outcome: ActionOutcome) -> Verification:
    user_id, grant_id, path = _grant_path(outcome.plan.target)
    try:
        after: dict[str, Any] = _grant_state(_object(connector.client.get_json(path), "an OAuth2ScopeConsentGrant"))
    except NotFoundError:
        after = {"id": grant_id, "status": None, "gone": True}
    event, how = _audit_event(connector, ("app.oauth2.as.consent.revoke",), user_id, outcome.applied_at)
    holds = bool(after.get("gone")) or after.get("status") == "REVOKED"
    return Verification(holds=holds, after=after, audit_event_id=event, detail=how)


# -- unassign an admin role -----------------------------------------------------------------------------


def _role_state(role: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _text(role.get(key)) for key in ("id", "type", "label", "assignmentType", "status")}


def plan_remove_role(connector: OktaConnector, target: Target) -> ActionPlan:
    user_id, role_id = _account_id(target), str(target.keys["privilege_id"])
    path = api_path(USERS, user_id, "roles", role_id)
    role = _role_state(_object(connector.client.get_json(path), "a Role"))
    if role["assignmentType"] == "GROUP":
        raise ApiError(
            f"role assignment {role_id} ({role['type']}) comes from a group: unassign it from the group, or remove "
            "the user from the group; DELETE on the user answers 404"
        )
    undo = None
    if role["type"] and role["type"] != "CUSTOM":  # a custom role needs its resource set to assign again
        undo = ActionPlan(
            "assign_admin_role",
            target,
            (PlannedRequest("POST", api_path(USERS, user_id, "roles"), {"type": role["type"]}),),
        )
    protected = "SUPER_ADMIN role assignment" if role["type"] == "SUPER_ADMIN" else None
    return ActionPlan(
        "remove_admin_role", target, (PlannedRequest("DELETE", path),), before=role, protected=protected, undo=undo
    )


def apply_remove_role(connector: OktaConnector, plan: ActionPlan) -> ActionOutcome:
    return send_plan(connector.client, plan, idempotent=False)  # a repeat answers 404


def verify_remove_role(connector: OktaConnector, outcome: ActionOutcome) -> Verification:
    target = outcome.plan.target
    user_id, role_id = _account_id(target), str(target.keys["privilege_id"])
    try:
        after: dict[str, Any] = _role_state(
            _object(connector.client.get_json(api_path(USERS, user_id, "roles", role_id)), "a Role")
        )
    except NotFoundError:
        after = {"id": role_id, "gone": True}
    event, how = _audit_event(
        connector, ("user.account.privilege.revoke", "user.account.privilege.grant"), user_id, outcome.applied_at
    )
    return Verification(holds=bool(after.get("gone")), after=after, audit_event_id=event, detail=how)


ACTIONS: tuple[Action[Any], ...] = (
    Action(
        name="suspend_user",
        remedies=(Remedy.SUSPEND_ACCOUNT,),
        target=TargetKind.ACCOUNT,
        permission=USERS_MANAGE,
        reversible=True,
        description="Suspend an ACTIVE user (POST /api/v1/users/{id}/lifecycle/suspend): they can no longer sign "
        "in, while their app assignments and profile stay; undone by unsuspend_user",
        docs=f"{_REFERENCE}/tag/UserLifecycle/#tag/UserLifecycle/operation/suspendUser",
        plan=plan_suspend,
        apply=apply_lifecycle,
        verify=verify_suspend,
    ),
    Action(
        name="unsuspend_user",
        target=TargetKind.ACCOUNT,
        permission=USERS_MANAGE,
        reversible=True,
        description="Return a SUSPENDED user to ACTIVE (POST /api/v1/users/{id}/lifecycle/unsuspend); undone by "
        "suspend_user",
        docs=f"{_REFERENCE}/tag/UserLifecycle/#tag/UserLifecycle/operation/unsuspendUser",
        plan=plan_unsuspend,
        apply=apply_lifecycle,
        verify=verify_unsuspend,
    ),
    Action(
        name="expire_password",
        remedies=(Remedy.FORCE_PASSWORD_CHANGE,),
        target=TargetKind.ACCOUNT,
        permission=USERS_MANAGE,
        reversible=False,
        description="Expire a user's Okta password (POST /api/v1/users/{id}/lifecycle/expire_password, status "
        "PASSWORD_EXPIRED): they must set a new one at their next sign-in",
        docs=f"{_REFERENCE}/tag/UserCred/#tag/UserCred/operation/expirePassword",
        plan=plan_expire_password,
        apply=apply_expire_password,
        verify=verify_expire_password,
    ),
    Action(
        name="deactivate_user",
        target=TargetKind.ACCOUNT,
        permission=USERS_MANAGE,
        reversible=False,
        description="Deactivate a user (POST /api/v1/users/{id}/lifecycle/deactivate, status DEPROVISIONED): they "
        "are deprovisioned from every assigned app, which may destroy their data there. Okta calls this "
        "unrecoverable: activating the user again does not bring that data back",
        docs=f"{_REFERENCE}/tag/UserLifecycle/#tag/UserLifecycle/operation/deactivateUser",
    ),
    Action(
        name="clear_user_sessions",
        remedies=(Remedy.END_SESSIONS,),
        target=TargetKind.SESSION,
        permission=USERS_MANAGE,
        reversible=False,
        description="Revoke every identity provider session of the user and the OpenID Connect and OAuth access "
        "and refresh tokens issued to them (DELETE /api/v1/users/{id}/sessions?oauthTokens=true), so they must "
        "sign in again",
        docs=f"{_REFERENCE}/tag/UserSessions/#tag/UserSessions/operation/revokeUserSessions",
        plan=plan_clear_sessions,
        apply=apply_clear_sessions,
        verify=verify_clear_sessions,
    ),
    Action(
        name="revoke_user_grant",
        remedies=(Remedy.REVOKE_GRANT,),
        target=TargetKind.APP_GRANT,
        permission=USERS_MANAGE,
        reversible=False,
        description="Revoke one OAuth 2.0 scope consent grant a user gave an app (DELETE "
        "/api/v1/users/{userId}/grants/{grantId}); only the user can consent again",
        docs=f"{_REFERENCE}/tag/UserGrant/#tag/UserGrant/operation/revokeUserGrant",
        plan=plan_revoke_grant,
        apply=apply_revoke_grant,
        verify=verify_revoke_grant,
    ),
    Action(
        name="remove_admin_role",
        remedies=(Remedy.REMOVE_ADMIN_ROLE,),
        target=TargetKind.PRIVILEGE,
        permission=ROLES_MANAGE,
        reversible=True,
        description="Unassign an admin role assigned to a user directly (DELETE "
        "/api/v1/users/{userId}/roles/{roleAssignmentId}); undone by assigning the same standard role again "
        "(POST /api/v1/users/{userId}/roles) and, for roles limited to groups or apps, their targets. A role the "
        "user holds through a group is the group's to lose",
        docs=f"{_REFERENCE}/tag/RoleAssignmentAUser/#tag/RoleAssignmentAUser/operation/unassignRoleFromUser",
        plan=plan_remove_role,
        apply=apply_remove_role,
        verify=verify_remove_role,
    ),
)
