"""The Okta Management API's write endpoints the governance actions use, on a generated tenant.

Each function changes the tenant the way Okta documents the operation, so the next listing shows it,
and writes the System Log event Okta records for it, with the calling admin as the actor. Okta's
documentation, per operation (Okta Management API, okta/okta-sdk-python openapi/management.yaml, and
the former Users API reference, okta/okta-developer-docs
packages/@okta/vuepress-site/docs/reference/api/users/index.md):

* suspendUser, ``POST /api/v1/users/{id}/lifecycle/suspend``: "This operation can only be performed on
  users with an ACTIVE status"; 200 with an empty object; "Passing an id that is not in the ACTIVE state
  returns a 400 Bad Request status code with error code E0000001"; an unknown id 404 E0000007.
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/suspendUser
* unsuspendUser, ``POST .../lifecycle/unsuspend``: only SUSPENDED users, back to ACTIVE; otherwise 400
  E0000001. .../tag/UserLifecycle/#tag/UserLifecycle/operation/unsuspendUser
* expirePassword, ``POST .../lifecycle/expire_password``: "transitions the user status to
  PASSWORD_EXPIRED", answers the User. Okta documents no error for a user already PASSWORD_EXPIRED (the
  user keeps its expirePassword link, so it is answered again); the statuses without that link (STAGED,
  PROVISIONED, SUSPENDED, DEPROVISIONED) get 403 E0000038 "This operation is not allowed in the user's
  current status." (error-codes.json). .../tag/UserCred/#tag/UserCred/operation/expirePassword
* revokeUserSessions, ``DELETE /api/v1/users/{userId}/sessions[?oauthTokens=true]``: 204, every time
  (the sandbox keeps no sessions: the change is the System Log event).
  .../tag/UserSessions/#tag/UserSessions/operation/revokeUserSessions
* revokeUserGrant, ``DELETE /api/v1/users/{userId}/grants/{grantId}``: 204; a grant the user does not
  (or no longer) have: 404 E0000007. .../tag/UserGrant/#tag/UserGrant/operation/revokeUserGrant
* unassignRoleFromUser, ``DELETE /api/v1/users/{userId}/roles/{roleId}``: 204; a role assignment not
  assigned to this user directly: 404 E0000007.
  .../tag/RoleAssignmentAUser/#tag/RoleAssignmentAUser/operation/unassignRoleFromUser

System Log event types (Okta's catalog, okta/okta-developer-docs data/event-types.json, shown at
https://developer.okta.com/docs/reference/api/event-types/): user.lifecycle.suspend ("Suspend Okta
user"), user.lifecycle.unsuspend ("Unsuspend Okta user"), user.account.expire_password ("Fired when
the user's Okta password is expired"), user.session.clear ("Clear user session"),
app.oauth2.as.consent.revoke ("Consent revoked"); for admin roles, user.account.privilege.revoke
"indicates the user has no more admin privileges" while user.account.privilege.grant says "a User's
admin privileges changed" and lists the current ones, so removing one role of several writes the
latter and removing the last one the former.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from saaslens_sandbox.okta import live
from saaslens_sandbox.okta.generator import (
    K_CONSENT_REVOKE,
    K_EXPIRE_PASSWORD,
    K_PRIV,
    K_PRIV_REVOKE,
    K_SESSION_CLEAR,
    K_SUSPEND,
    K_UNSUSPEND,
)

if TYPE_CHECKING:
    from saaslens_sandbox.okta.generator import OktaTenant

# Statuses whose users carry the expirePassword lifecycle link (the User object's _links).
EXPIRABLE = frozenset({"ACTIVE", "RECOVERY", "LOCKED_OUT", "PASSWORD_EXPIRED"})


class Refused(Exception):
    """An Okta error answer: (status, errorCode, errorSummary)."""

    def __init__(self, status: int, code: str, summary: str):
        super().__init__(summary)
        self.status, self.code, self.summary = status, code, summary


def _record(t: OktaTenant, kind: int, actor: int, target: int, now_ms: int, touched: set[int] | None = None) -> str:
    """Append one System Log event at now (published and visible at once, like every event the
    sandbox writes in real time) and refresh the documents of `touched` users; returns its uuid."""
    advancer = live.Advancer(t, live.AdvanceChange(), now_ms, now_ms)
    ts = now_ms
    k = bisect.bisect_left(t.ev_ts, ts)
    while k < len(t.ev_ts) and t.ev_ts[k] == ts:  # an older event's millisecond: move on, so the
        ts, k = ts + 1, bisect.bisect_left(t.ev_ts, ts + 1)  # `after` cursors handed out keep their place
    advancer.rows.add(ts, (kind,), actor, target, ts)
    advancer.touched_users = touched or set()
    advancer._merge(len(advancer.rows.rows))
    advancer._refresh_documents()
    return advancer._uuids[advancer._new_seqs[0]]


def _set_status(t: OktaTenant, ui: int, status: str, now_ms: int) -> None:
    u = t.urecs[ui]
    u.status = status
    u.status_changed = u.last_updated = now_ms
    t.user_status[ui] = status


def suspend(t: OktaTenant, ui: int, actor: int, now_ms: int) -> str:
    if t.user_status[ui] != "ACTIVE":
        raise Refused(400, "E0000001", "Api validation failed: Cannot suspend a user that is not active")
    _set_status(t, ui, "SUSPENDED", now_ms)
    return _record(t, K_SUSPEND, actor, ui, now_ms, {ui})


def unsuspend(t: OktaTenant, ui: int, actor: int, now_ms: int) -> str:
    if t.user_status[ui] != "SUSPENDED":
        raise Refused(400, "E0000001", "Api validation failed: Cannot unsuspend a user that is not suspended")
    _set_status(t, ui, "ACTIVE", now_ms)
    return _record(t, K_UNSUSPEND, actor, ui, now_ms, {ui})


def expire_password(t: OktaTenant, ui: int, actor: int, now_ms: int) -> str:
    if t.user_status[ui] not in EXPIRABLE:
        raise Refused(403, "E0000038", "This operation is not allowed in the user's current status.")
    if t.user_status[ui] != "PASSWORD_EXPIRED":
        _set_status(t, ui, "PASSWORD_EXPIRED", now_ms)
    return _record(t, K_EXPIRE_PASSWORD, actor, ui, now_ms, {ui})


def clear_sessions(t: OktaTenant, ui: int, actor: int, now_ms: int) -> str:
    return _record(t, K_SESSION_CLEAR, actor, ui, now_ms)


def grant_of(t: OktaTenant, ui: int, grant_id: str) -> int:
    for gi in t.user_grants[ui]:
        if t.grants[gi]["id"] == grant_id:
            return gi
    raise Refused(404, "E0000007", f"Not found: Resource not found: {grant_id} (OAuth2ScopeConsentGrant)")


def revoke_grant(t: OktaTenant, ui: int, grant_id: str, actor: int, now_ms: int) -> str:
    gi = grant_of(t, ui, grant_id)
    t.user_grants[ui].remove(gi)
    t.revoked_grants.add(gi)
    return _record(t, K_CONSENT_REVOKE, actor, gi, now_ms)


def role_of(t: OktaTenant, ui: int, role_id: str, *, direct: bool) -> int:
    for ri in t.user_roles[ui]:
        ra = t.roles[ri]
        if ra["id"] == role_id and (not direct or (ra["assignmentType"] == "USER" and ra["who"] == ui)):
            return ri
    raise Refused(404, "E0000007", f"Not found: Resource not found: {role_id} (Role)")


def _refresh_admins(t: OktaTenant) -> None:
    t.role_holders = [u for u, roles in enumerate(t.user_roles) if roles and u not in t.deleted]
    t.active_admins = [u for u in t.role_holders if t.urecs[u].status == "ACTIVE"]


def unassign_role(t: OktaTenant, ui: int, role_id: str, actor: int, now_ms: int) -> str:
    ri = role_of(t, ui, role_id, direct=True)
    t.user_roles[ui] = [r for r in t.user_roles[ui] if r != ri]
    _refresh_admins(t)
    # The event names the assignment removed; which type depends on what the user still holds.
    return _record(t, K_PRIV if t.user_roles[ui] else K_PRIV_REVOKE, actor, ri, now_ms)


# -- forget: objects removed behind saaslens' back (core.Personality.forget) ---------------------------


def forget_user(t: OktaTenant, ui: int) -> None:
    """Delete a user outright, as an admin deleting a DEPROVISIONED user would (gone from every listing)."""
    u = t.urecs[ui]
    for gi in list(t.user_groups[ui]):
        members = t.members[gi]
        members.remove(ui)
        t.user_groups[ui].remove(gi)
    t.revoked_grants.update(t.user_grants[ui])
    t.user_grants[ui] = []
    t.user_roles[ui] = []
    t.deleted.add(ui)
    t.user_index.pop(u.id, None)
    t.login_index.pop(u.login.lower(), None)
    _refresh_admins(t)


def forget_grant(t: OktaTenant, ui: int, grant_id: str) -> None:
    gi = grant_of(t, ui, grant_id)
    t.user_grants[ui].remove(gi)
    t.revoked_grants.add(gi)


def forget_role(t: OktaTenant, ui: int, role_id: str) -> None:
    ri = role_of(t, ui, role_id, direct=True)
    t.user_roles[ui] = [r for r in t.user_roles[ui] if r != ri]
    _refresh_admins(t)


def summary(t: OktaTenant, ui: int) -> dict[str, Any]:
    return {"id": t.user_ids[ui], "status": t.user_status[ui]}
