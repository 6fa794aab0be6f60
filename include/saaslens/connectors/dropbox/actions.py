"""The control actions Dropbox's team API offers (https://www.dropbox.com/developers/documentation/http/teams).

Implemented: suspend and unsuspend a member (team/members/suspend, team/members/unsuspend,
members.write), read back with team/members/get_info_v2 and proven by the member_change_status event
Dropbox writes. A suspended member "is no longer a member of the team, but the account can be
un-suspended" (TeamMemberStatus, team.stone). `wipe_data` is sent false: suspending must not erase
the member's linked devices, or the action would not be reversible.

Declared only: revoke a shared link (sharing/revoke_shared_link as the link's owner, through
Dropbox-API-Select-User): it needs the file_shares rows of a files stage, which this connector does
not have yet; revoke a linked app (team/linked_apps/revoke_linked_app); end a member's web sessions
(team/devices/revoke_device_session).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from saaslens.connectors.dropbox import transform
from saaslens.connectors.dropbox.connector import DropboxConnector
from saaslens.connectors.kit import (
    Action,
    ActionOutcome,
    ActionPlan,
    PlannedRequest,
    Target,
    Verification,
    send_plan,
)
from saaslens.http import ApiError, NotFoundError
from saaslens.vocabulary import Remedy, TargetKind

_TEAMS = "https://www.dropbox.com/developers/documentation/http/teams"
MEMBERS_WRITE = "members.write"


def _member(connector: DropboxConnector, member_id: str) -> dict[str, Any]:
    """The member as team/members/get_info_v2 reports it; NotFoundError for an id Dropbox no longer has."""
    answer = connector.rpc(
        "team/members/get_info_v2", {"members": [{".tag": "team_member_id", "team_member_id": member_id}]}
    )
    items = (answer or {}).get("members_info") or []
    item = items[0] if items else {}
    if transform.tag(item) != "member_info":
        raise NotFoundError(f"team member {member_id} is not on the team (get_info_v2: id_not_found)")
    return item


def _state(member: dict[str, Any]) -> dict[str, Any]:
    profile = member.get("profile") or {}
    return {
        "status": transform.tag(profile.get("status")),
        "roles": [role.get("name") for role in member.get("roles") or []],
        "email": profile.get("email"),
    }


def _lifecycle_plan(connector: DropboxConnector, target: Target, action: str, source: str, wanted: str) -> ActionPlan:
    member_id = target.keys["account_id"]
    before = _state(_member(connector, member_id))
    status = before["status"]
    noop = status == wanted
    if not noop and status != source:
        # Dropbox answers 409 suspend_inactive_user / unsuspend_non_suspended_member: nothing is sent.
        raise ApiError(f"Dropbox can {action.split('_')[0]} only {source} members; this member is {status}")
    user = {".tag": "team_member_id", "team_member_id": member_id}
    suspend = PlannedRequest("POST", "2/team/members/suspend", {"user": user, "wipe_data": False})
    unsuspend = PlannedRequest("POST", "2/team/members/unsuspend", {"user": user})
    protected = "holds the Team admin role" if transform.SUPER_ADMIN_ROLE in before["roles"] else None
    if action == "suspend_user":
        undo = ActionPlan("unsuspend_user", target, (unsuspend,))
        return ActionPlan(action, target, (suspend,), before=before, noop=noop, protected=protected, undo=undo)
    undo = ActionPlan("suspend_user", target, (suspend,))
    return ActionPlan(action, target, (unsuspend,), before=before, noop=noop, undo=undo)


def plan_suspend(connector: DropboxConnector, target: Target) -> ActionPlan:
    return _lifecycle_plan(connector, target, "suspend_user", "active", "suspended")


def plan_unsuspend(connector: DropboxConnector, target: Target) -> ActionPlan:
    return _lifecycle_plan(connector, target, "unsuspend_user", "suspended", "active")


def apply_lifecycle(connector: DropboxConnector, plan: ActionPlan) -> ActionOutcome:
    # A repeat is a 409 at Dropbox (suspend_inactive_user): never retried blindly after a timeout or 5xx.
    return send_plan(connector.client, plan, idempotent=False)


def _status_event(connector: DropboxConnector, member_id: str, wanted: str, since: datetime | None) -> str | None:
    """The member_change_status event that records the change, read from the audit log."""
    start = (since or datetime.now(UTC)).replace(microsecond=0)
    args = {
        "limit": 1000,
        "category": {".tag": "members"},
        "time": {"start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ")},
    }
    try:
        pages = connector.listing("team_log/get_events", "team_log/get_events/continue", "events", args)
        for page in pages:
            for event in page.items:
                context = event.get("context") or {}
                details = event.get("details") or {}
                if (
                    transform.tag(event.get("event_type")) == "member_change_status"
                    and context.get("team_member_id") == member_id
                    and transform.tag(details.get("new_value")) == wanted
                ):
                    return transform.event_id(event)
    except ApiError:
        return None  # a token without events.read: the state read back still proves the change
    return None


def _verify(connector: DropboxConnector, outcome: ActionOutcome, wanted: str) -> Verification:
    member_id = outcome.plan.target.keys["account_id"]
    after = _state(_member(connector, member_id))
    event = _status_event(connector, member_id, wanted, outcome.applied_at)
    detail = f"status {after['status']}; " + ("audit event member_change_status" if event else "no audit event yet")
    return Verification(holds=after["status"] == wanted, after=after, audit_event_id=event, detail=detail)


def verify_suspend(connector: DropboxConnector, outcome: ActionOutcome) -> Verification:
    return _verify(connector, outcome, "suspended")


def verify_unsuspend(connector: DropboxConnector, outcome: ActionOutcome) -> Verification:
    return _verify(connector, outcome, "active")


ACTIONS: tuple[Action[Any], ...] = (
    Action(
        name="suspend_user",
        remedies=(Remedy.SUSPEND_ACCOUNT,),
        target=TargetKind.ACCOUNT,
        permission=MEMBERS_WRITE,
        reversible=True,
        description="Suspend an active team member (team/members/suspend, wipe_data false): they can no longer "
        "sign in, their files stay; undone by unsuspend_user",
        docs=f"{_TEAMS}#team-members-suspend",
        plan=plan_suspend,
        apply=apply_lifecycle,
        verify=verify_suspend,
    ),
    Action(
        name="unsuspend_user",
        target=TargetKind.ACCOUNT,
        permission=MEMBERS_WRITE,
        reversible=True,
        description="Return a suspended team member to active (team/members/unsuspend); undone by suspend_user",
        docs=f"{_TEAMS}#team-members-unsuspend",
        plan=plan_unsuspend,
        apply=apply_lifecycle,
        verify=verify_unsuspend,
    ),
    Action(
        name="revoke_shared_link",
        remedies=(Remedy.REMOVE_PUBLIC_LINK,),
        target=TargetKind.FILE_SHARE,
        permission="sharing.write",
        reversible=False,
        description="Revoke a shared link as its owner (sharing/revoke_shared_link with Dropbox-API-Select-User); "
        "not built: it acts on file_shares rows, and the Dropbox connector has no files stage yet",
        docs="https://www.dropbox.com/developers/documentation/http/documentation#sharing-revoke_shared_link",
    ),
    Action(
        name="revoke_linked_app",
        remedies=(Remedy.REVOKE_GRANT,),
        target=TargetKind.APP_GRANT,
        permission="sessions.modify",
        reversible=False,
        description="Unlink an app a member linked (team/linked_apps/revoke_linked_app); not built yet",
        docs=f"{_TEAMS}#team-linked_apps-revoke_linked_app",
    ),
)

__all__ = ["ACTIONS"]
