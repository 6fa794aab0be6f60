"""Box's control actions: user status (suspend and its undo) and a file's shared link.

- PUT /users/{id} with `{"status": "inactive"}` ("Manage users"; admin or co-admin): the user can no
  longer sign in, their content stays; `{"status": "active"}` undoes it
  (https://developer.box.com/reference/put-users-id/, User--Full `status`). A PUT: setting the status
  it already has changes nothing, so a repeat is safe.
- PUT /files/{id} with `{"shared_link": null}` removes the file's shared link ("Read and write all
  files and folders stored in Box"), https://developer.box.com/guides/shared-links/remove/ : a new
  link would have another URL, so removal cannot be undone by the API (declared, not built here:
  no files stage lists shares yet, so the lake has no target to plan it for).
"""

from __future__ import annotations

from typing import Any

from saaslens.connectors.box.connector import MANAGE_USERS, WRITE_ALL, BoxConnector
from saaslens.connectors.kit import (
    Action,
    ActionOutcome,
    ActionPlan,
    PlannedRequest,
    Target,
    Verification,
    send_plan,
)
from saaslens.http import ApiError, api_path
from saaslens.vocabulary import Remedy, TargetKind

USER_FIELDS = "id,name,login,status,role"


def _user(connector: BoxConnector, user_id: str) -> dict[str, Any]:
    user = connector.client.get_json(api_path("users", user_id), {"fields": USER_FIELDS})
    if not isinstance(user, dict):
        raise ApiError(f"GET /users/{user_id} answered no user object")
    return user


def _status_plan(connector: BoxConnector, target: Target, action: str, wanted: str, undo_action: str) -> ActionPlan:
    user_id = target.keys["account_id"]
    user = _user(connector, user_id)
    before = {"status": user.get("status"), "role": user.get("role")}
    path = api_path("users", user_id)
    # Undoing restores the status the user had (cannot_delete_edit stays cannot_delete_edit).
    previous = str(user.get("status") or "active")
    undo_status = previous if previous != wanted else ("active" if wanted == "inactive" else "inactive")
    undo = ActionPlan(undo_action, target, (PlannedRequest("PUT", path, {"status": undo_status}),))
    role = user.get("role")
    return ActionPlan(
        action,
        target,
        (PlannedRequest("PUT", path, {"status": wanted}),),
        before=before,
        noop=user.get("status") == wanted,
        protected=f"enterprise role {role}" if role in ("admin", "coadmin") else None,
        undo=undo,
    )


def plan_suspend(connector: BoxConnector, target: Target) -> ActionPlan:
    return _status_plan(connector, target, "suspend_user", "inactive", "unsuspend_user")


def plan_unsuspend(connector: BoxConnector, target: Target) -> ActionPlan:
    return _status_plan(connector, target, "unsuspend_user", "active", "suspend_user")


def apply_status(connector: BoxConnector, plan: ActionPlan) -> ActionOutcome:
    # A PUT of the status: repeating it leaves the same state, so retries after a timeout are safe.
    return send_plan(connector.client, plan, idempotent=True)


def _verify(connector: BoxConnector, outcome: ActionOutcome, wanted: str) -> Verification:
    user = _user(connector, outcome.plan.target.keys["account_id"])
    status = user.get("status")
    return Verification(holds=status == wanted, after={"status": status})


def verify_suspend(connector: BoxConnector, outcome: ActionOutcome) -> Verification:
    return _verify(connector, outcome, "inactive")


def verify_unsuspend(connector: BoxConnector, outcome: ActionOutcome) -> Verification:
    return _verify(connector, outcome, "active")


_REFERENCE = "https://developer.box.com/reference"

ACTIONS: tuple[Action[Any], ...] = (
    Action(
        name="suspend_user",
        remedies=(Remedy.SUSPEND_ACCOUNT,),
        target=TargetKind.ACCOUNT,
        permission=MANAGE_USERS,
        reversible=True,
        description="Make a user inactive (PUT /users/{id} status inactive): they can no longer sign in, their "
        "content and collaborations stay; undone by unsuspend_user",
        docs=f"{_REFERENCE}/put-users-id/",
        plan=plan_suspend,
        apply=apply_status,
        verify=verify_suspend,
    ),
    Action(
        name="unsuspend_user",
        target=TargetKind.ACCOUNT,
        permission=MANAGE_USERS,
        reversible=True,
        description="Make an inactive user active again (PUT /users/{id} status active); undone by suspend_user",
        docs=f"{_REFERENCE}/put-users-id/",
        plan=plan_unsuspend,
        apply=apply_status,
        verify=verify_unsuspend,
    ),
    Action(
        name="remove_shared_link",
        remedies=(Remedy.REMOVE_PUBLIC_LINK,),
        target=TargetKind.FILE_SHARE,
        permission=WRITE_ALL,
        reversible=False,
        description="Remove a file's shared link (PUT /files/{id} shared_link null); a new link would have another "
        "URL. Declared, not built: the files stage (folders listed per user with As-User) is not built yet",
        docs=f"{_REFERENCE}/put-files-id--remove-shared-link/",
    ),
)
