"""The control Slack's APIs offer over what the stages collect: plan, apply and verify.

Each action names the scope its write method's page gives, exactly as Slack lists it in the
`x-oauth-scopes` header authenticate reads. The admin.* methods need a user token of an Enterprise
Grid org admin or owner with the admin.* scope; the SCIM API a token with `admin`
(https://docs.slack.dev/reference/scim-api/scim-api-1.1). Plans read with users.info
(users:read), files.info (files:read) and admin.apps.approved.list / restricted.list
(admin.apps:read), so an action connection needs those read scopes too.

Slack answers Web API errors with HTTP 200 and `ok: false`; SlackErrorPolicy raises them as the
typed errors (user_not_found / file_not_found / invalid_app_id: NotFoundError; missing_scope,
not_an_admin: PermissionDeniedError). Write methods are POSTed form-encoded (each page lists
application/x-www-form-urlencoded) and never retried after a timeout or a 5xx: Slack does not
document them as safe to repeat, and verify reads back whether they took effect.

Pages relied on (arguments, scopes, errors):
- admin.users.session.reset: https://docs.slack.dev/reference/methods/admin.users.session.reset
- SCIM DELETE /Users/<id> ("sets a Slack user to deactivated") and PATCH /Users/<id> active:
  https://docs.slack.dev/reference/scim-api/scim-api-1.1
- admin.users.setRegular (team_id: a workspace, or the organization for the org level):
  https://docs.slack.dev/reference/methods/admin.users.setRegular
- files.revokePublicURL / files.sharedPublicURL: https://docs.slack.dev/reference/methods/files.revokePublicURL
- files.delete (files:write; cant_delete_file, file_deleted "The file has already been deleted",
  file_not_found; files.info then answers file_deleted): https://docs.slack.dev/reference/methods/files.delete
- admin.apps.restrict (exactly one of team_id / enterprise_id; voids approvals, keeps installations) /
  admin.apps.approve: https://docs.slack.dev/reference/methods/admin.apps.restrict
- The audit actions they leave (user_session_reset_by_admin, user_deactivated, user_reactivated,
  role_change_to_user, file_public_link_revoked, app_restricted, file_deleted):
  https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from saaslens.connectors.kit import (
    Action,
    ActionOutcome,
    ActionPlan,
    PlannedRequest,
    Target,
    Verification,
    send_request,
)
from saaslens.connectors.slack.connector import SlackConnector
from saaslens.http import ApiClient, FeatureUnavailableError, PermissionDeniedError, api_path
from saaslens.http.errors import ApiError, MalformedResponseError, NotFoundError
from saaslens.http.pagination import BodyCursorPaginator
from saaslens.vocabulary import Remedy, TargetKind

METHODS = "https://docs.slack.dev/reference/methods"
SCIM_DOCS = "https://docs.slack.dev/reference/scim-api/scim-api-1.1"
SCIM_USER_SCHEMA = "urn:scim:schemas:core:1.0"
# Slack's built-in bot: in every users.list, never a SCIM user, never deactivated.
SLACKBOT = "USLACKBOT"
USER_FLAGS = ("is_admin", "is_owner", "is_primary_owner", "is_restricted", "is_ultra_restricted", "is_bot", "deleted")
# privilege_id (transform.privilege_rows) -> (flag on the user or on enterprise_user, org level)
PRIVILEGES = {
    "admin": ("is_admin", False),
    "owner": ("is_owner", False),
    "primary_owner": ("is_primary_owner", False),
    "org_admin": ("org_admin", True),
    "org_owner": ("org_owner", True),
}


# -- reading what Slack says, distrustfully ---------------------------------------------------------


def _object(payload: Any, key: str, client: ApiClient, method: str) -> dict[str, Any]:
    value = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(value, dict):
        raise MalformedResponseError(f"{method}'s answer has no {key} object", method="GET", url=client.url_for(method))
    return value


def read_user(connector: SlackConnector, user_id: str) -> dict[str, Any]:
    """users.info: the flags these actions change or that make a target protected. user_not_found
    (deleted since the scan) raises NotFoundError; an answer about another user is refused."""
    client = connector.client
    user = _object(client.get_json("users.info", {"user": user_id, **connector.team()}), "user", client, "users.info")
    if user.get("id") != user_id:
        raise MalformedResponseError(
            "users.info answered about another user", method="GET", url=client.url_for("users.info")
        )
    found = user.get("enterprise_user")
    enterprise: dict[str, Any] = found if isinstance(found, dict) else {}
    state: dict[str, Any] = {"id": user_id, "name": str(user.get("name") or "")}
    state.update({flag: user.get(flag) is True for flag in USER_FLAGS})
    state["org_admin"] = enterprise.get("is_admin") is True
    state["org_owner"] = enterprise.get("is_owner") is True
    state["team_id"] = str(user.get("team_id") or "") or None
    state["enterprise_id"] = str(enterprise.get("enterprise_id") or "") or None
    return state


def _protected(user: Mapping[str, Any]) -> str | None:
    for flag, what in (
        ("is_primary_owner", "the primary owner"),
        ("org_owner", "an org owner"),
        ("is_owner", "an owner"),
    ):
        if user.get(flag):
            return f"{user.get('name') or user.get('id')} is {what}"
    return None


def find_audit_event(connector: SlackConnector, action: str, entity_id: str, since: datetime | None) -> str | None:
    """The Audit Logs API entry recording an applied action, when the credentials may read the audit
    log (an org owner's token with auditlogs:read); None otherwise: the next activities scan stores it."""
    if since is None:
        return None
    params = {"action": action, "entity": entity_id, "oldest": int(since.timestamp()) - 5, "limit": 100}
    try:
        payload = connector.audit_client.get_json("logs", params)
    except (PermissionDeniedError, FeatureUnavailableError):
        return None
    entries = payload.get("entries") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("action") == action and isinstance(entry.get("id"), str):
            return str(entry["id"])
    return None


def _send(connector: SlackConnector, plan: ActionPlan) -> ActionOutcome:
    """Send exactly the plan's requests: Web API methods form-encoded to the Web API, SCIM requests
    (absolute URLs below the SCIM base) as JSON to the SCIM API."""
    answers = [
        send_request(connector.scim_client, request, idempotent=False, parse_json=False)
        if request.path.startswith(("http://", "https://"))
        else send_request(connector.client, request, idempotent=False, form=True)
        for request in plan.requests
    ]
    return ActionOutcome(plan=plan, applied=True, detail="; ".join(answers), applied_at=datetime.now(UTC))


def _apply(connector: SlackConnector, plan: ActionPlan) -> ActionOutcome:
    if plan.noop:
        return ActionOutcome(plan=plan, applied=False, detail="already in the wanted state; nothing sent")
    return _send(connector, plan)


# -- users: sessions, deactivate, reactivate ----------------------------------------------------------


def plan_reset_sessions(connector: SlackConnector, target: Target) -> ActionPlan:
    """Slack's Web API lists no sessions to read first (admin.users.session.list is not used), so a
    reset is known to be in place only for a deactivated member, whom Slack has signed out already."""
    user = read_user(connector, target.keys["account_id"])
    request = PlannedRequest("POST", "admin.users.session.reset", {"user_id": user["id"]})
    return ActionPlan(
        "reset_user_sessions", target, (request,), before=user, noop=user["deleted"], protected=_protected(user)
    )


def verify_reset_sessions(connector: SlackConnector, outcome: ActionOutcome) -> Verification:
    user = read_user(connector, outcome.plan.target.keys["account_id"])
    audit = find_audit_event(connector, "user_session_reset_by_admin", user["id"], outcome.applied_at)
    detail = "sessions are not listed by the Web API: the ok answer" + (
        " and the user_session_reset_by_admin audit entry confirm it" if audit else " confirms it"
    )
    return Verification(outcome.applied, user, audit, detail)


def _scim_user(connector: SlackConnector, user_id: str) -> str:
    return connector.scim_client.url_for(api_path("Users", user_id))


def _active_flag(
    action: str, undo_name: str, deleted: bool, event: str
) -> tuple[
    Callable[[SlackConnector, Target], ActionPlan],
    Callable[[SlackConnector, ActionOutcome], Verification],
]:
    """Deactivate (SCIM DELETE) or reactivate (SCIM PATCH active: true) a member; `deleted` is the
    users.info flag the action leaves."""

    def request_for(connector: SlackConnector, user_id: str, to_deleted: bool) -> PlannedRequest:
        url = _scim_user(connector, user_id)
        if to_deleted:
            return PlannedRequest("DELETE", url)
        return PlannedRequest("PATCH", url, {"schemas": [SCIM_USER_SCHEMA], "active": True})

    def plan(connector: SlackConnector, target: Target) -> ActionPlan:
        user = read_user(connector, target.keys["account_id"])
        if user["is_bot"] or user["id"] == SLACKBOT:
            # SCIM provisions people: a bot user (an app's) or Slackbot is no SCIM user, and the
            # DELETE would answer user_not_found after the plan said it would work. Said now, with
            # what does work: restricting or removing the app the bot belongs to.
            raise ApiError(
                f"{user['name'] or user['id']} is a bot user, which Slack's SCIM API does not manage; "
                "restrict or remove its app instead (restrict_app)",
                status=None,
            )
        undo = ActionPlan(undo_name, target, (request_for(connector, user["id"], not deleted),), before=user)
        return ActionPlan(
            action,
            target,
            (request_for(connector, user["id"], deleted),),
            before=user,
            noop=user["deleted"] is deleted,
            protected=_protected(user),
            undo=undo,
        )

    def verify(connector: SlackConnector, outcome: ActionOutcome) -> Verification:
        user = read_user(connector, outcome.plan.target.keys["account_id"])
        audit = find_audit_event(connector, event, user["id"], outcome.applied_at)
        return Verification(user["deleted"] is deleted, user, audit, f"deleted is {str(user['deleted']).lower()}")

    return plan, verify


plan_deactivate, verify_deactivate = _active_flag("deactivate_user", "reactivate_user", True, "user_deactivated")
plan_reactivate, verify_reactivate = _active_flag("reactivate_user", "deactivate_user", False, "user_reactivated")


# -- privileges: demote an admin -----------------------------------------------------------------------


def _holds(user: Mapping[str, Any], privilege: str) -> bool:
    return bool(user.get(PRIVILEGES[privilege][0]))


def plan_demote(connector: SlackConnector, target: Target) -> ActionPlan:
    """admin.users.setRegular: team_id the user's workspace for workspace roles, the organization for
    org roles ("use a user's org ID to convert the user at the org level"). Owners are protected;
    the primary owner cannot be modified at all (cannot_modify_primary_owner)."""
    privilege = target.keys["privilege_id"]
    if privilege not in PRIVILEGES:
        raise NotFoundError(f"Slack has no privilege {privilege!r} (roles: {', '.join(PRIVILEGES)})", status=None)
    user = read_user(connector, target.keys["account_id"])
    org_level = PRIVILEGES[privilege][1]
    team_id = user["enterprise_id"] if org_level else (user["team_id"] or connector.options.team_id)
    if not team_id:
        raise MalformedResponseError(f"users.info names no {'organization' if org_level else 'workspace'} for the user")
    body = {"team_id": team_id, "user_id": user["id"]}
    protected = _protected(user)
    if privilege == "primary_owner":
        protected = f"{user['name'] or user['id']} is the primary owner, whom Slack does not let anyone demote"
    undo = None
    if privilege in ("admin", "owner"):  # admin.users.setAdmin / setOwner restore the workspace role
        method = "admin.users.setAdmin" if privilege == "admin" else "admin.users.setOwner"
        undo = ActionPlan("restore_role", target, (PlannedRequest("POST", method, body),), before=user)
    return ActionPlan(
        "demote_admin",
        target,
        (PlannedRequest("POST", "admin.users.setRegular", body),),
        before=user,
        noop=not _holds(user, privilege),
        protected=protected,
        undo=undo,
    )


def verify_demote(connector: SlackConnector, outcome: ActionOutcome) -> Verification:
    target = outcome.plan.target
    user = read_user(connector, target.keys["account_id"])
    held = _holds(user, target.keys["privilege_id"])
    audit = find_audit_event(connector, "role_change_to_user", user["id"], outcome.applied_at)
    return Verification(
        not held, user, audit, f"{target.keys['privilege_id']} is {'still ' if held else 'no longer '}held"
    )


# -- files: the public link ----------------------------------------------------------------------------

PUBLIC_LINK = "public_url"  # the share_id transform.share_rows gives a file's public link


def read_file(connector: SlackConnector, file_id: str) -> dict[str, Any]:
    client = connector.client
    file = _object(client.get_json("files.info", {"file": file_id, "count": 1}), "file", client, "files.info")
    if file.get("id") != file_id:
        raise MalformedResponseError(
            "files.info answered about another file", method="GET", url=client.url_for("files.info")
        )
    return {
        "id": file_id,
        "name": str(file.get("name") or file.get("title") or ""),
        "user": str(file.get("user") or ""),
        "public_url_shared": file.get("public_url_shared") is True,
    }


def plan_revoke_link(connector: SlackConnector, target: Target) -> ActionPlan:
    if target.keys["share_id"] != PUBLIC_LINK:
        raise NotFoundError(
            f"revoke_public_link acts on a file's {PUBLIC_LINK} share, not on {target.keys['share_id']!r}", status=None
        )
    file = read_file(connector, target.keys["file_id"])
    body = {"file": file["id"]}
    undo = ActionPlan(
        "share_public_link", target, (PlannedRequest("POST", "files.sharedPublicURL", body),), before=file
    )
    return ActionPlan(
        "revoke_public_link",
        target,
        (PlannedRequest("POST", "files.revokePublicURL", body),),
        before=file,
        noop=not file["public_url_shared"],
        undo=undo,
    )


def verify_revoke_link(connector: SlackConnector, outcome: ActionOutcome) -> Verification:
    file = read_file(connector, outcome.plan.target.keys["file_id"])
    audit = find_audit_event(connector, "file_public_link_revoked", file["id"], outcome.applied_at)
    return Verification(
        not file["public_url_shared"], file, audit, f"public_url_shared is {str(file['public_url_shared']).lower()}"
    )


# -- files: delete ------------------------------------------------------------------------------------


def file_presence(connector: SlackConnector, file_id: str, *, gone_is_deleted: bool) -> dict[str, Any]:
    """files.info's view of whether a file still exists: files.info answers `file_deleted` ("The file
    has been deleted") for a file files.delete removed. `gone_is_deleted` also reads `file_not_found` as
    deleted (verify: the file is gone either way); a plan lets it raise (the lake's file is unknown)."""
    try:
        return {**read_file(connector, file_id), "deleted": False}
    except NotFoundError as exc:
        if exc.provider_code == "file_deleted" or (gone_is_deleted and exc.provider_code == "file_not_found"):
            return {"id": file_id, "deleted": True}
        raise


def plan_delete_file(connector: SlackConnector, target: Target) -> ActionPlan:
    """files.delete: removes the file from every conversation at once. Slack keeps no trash to restore it
    from, so there is no undo; a file already deleted plans nothing."""
    file = file_presence(connector, target.keys["file_id"], gone_is_deleted=False)
    request = PlannedRequest("POST", "files.delete", {"file": file["id"]})
    return ActionPlan("delete_file", target, (request,), before=file, noop=file["deleted"])


def verify_delete_file(connector: SlackConnector, outcome: ActionOutcome) -> Verification:
    file = file_presence(connector, outcome.plan.target.keys["file_id"], gone_is_deleted=True)
    audit = find_audit_event(connector, "file_deleted", file["id"], outcome.applied_at)
    detail = "files.info no longer finds the file" if file["deleted"] else "files.info still answers for the file"
    return Verification(file["deleted"], file, audit, detail)


# -- apps: restrict ------------------------------------------------------------------------------------


def _app_ids(connector: SlackConnector, method: str, items: str) -> Iterator[tuple[str, dict[str, Any]]]:
    params = {"limit": 1000, **connector.team()}
    for page in connector.client.paginate(method, BodyCursorPaginator(items), params):
        for entry in page.items:
            app = entry.get("app") if isinstance(entry, dict) else None
            if isinstance(app, dict) and isinstance(app.get("id"), str):
                yield app["id"], app


def read_app(connector: SlackConnector, grant_id: str) -> dict[str, Any]:
    """Whether the app is approved and whether restricted (admin.apps.approved.list and
    restricted.list, admin.apps:read). The lake's grant_id is "{team_id}:{app_id}" when the instance
    names its workspace, else the app id. Neither approved nor restricted: the grant the lake
    lists is gone (NotFoundError)."""
    context, _, app_id = grant_id.rpartition(":")
    approved = dict(_app_ids(connector, "admin.apps.approved.list", "approved_apps"))
    restricted = dict(_app_ids(connector, "admin.apps.restricted.list", "restricted_apps"))
    app = approved.get(app_id) or restricted.get(app_id)
    if app is None:
        raise NotFoundError(f"the organization neither approves nor restricts app {app_id}", status=None)
    return {
        "app_id": app_id,
        "team_id": context or connector.options.team_id,
        "name": str(app.get("name") or ""),
        "approved": app_id in approved,
        "restricted": app_id in restricted,
    }


def plan_restrict(connector: SlackConnector, target: Target) -> ActionPlan:
    app = read_app(connector, target.keys["grant_id"])
    team_id = app["team_id"]
    if not team_id:  # exactly one of team_id / enterprise_id: the workspace the token is for
        me = connector.client.get_json("auth.test")
        team_id = str(me.get("team_id") or "") if isinstance(me, dict) else ""
    body = {"app_id": app["app_id"], "team_id": team_id}
    undo = ActionPlan("approve_app", target, (PlannedRequest("POST", "admin.apps.approve", body),), before=app)
    return ActionPlan(
        "restrict_app",
        target,
        (PlannedRequest("POST", "admin.apps.restrict", body),),
        before=app,
        noop=app["restricted"] and not app["approved"],
        undo=undo,
    )


def verify_restrict(connector: SlackConnector, outcome: ActionOutcome) -> Verification:
    app = read_app(connector, outcome.plan.target.keys["grant_id"])
    audit = find_audit_event(connector, "app_restricted", app["app_id"], outcome.applied_at)
    holds = app["restricted"] and not app["approved"]
    return Verification(
        holds, app, audit, f"approved {str(app['approved']).lower()}, restricted {str(app['restricted']).lower()}"
    )


ACTIONS: tuple[Action[Any], ...] = (
    Action(
        name="deactivate_user",
        remedies=(Remedy.SUSPEND_ACCOUNT,),
        target=TargetKind.ACCOUNT,
        permission="admin",
        reversible=True,
        description="Deactivate a member across the organization (SCIM DELETE /Users/{id}: Slack keeps the user, "
        "deactivated, and signs them out); undone by reactivate_user. The documented way on Enterprise Grid and "
        "Business+; the primary owner cannot be deactivated",
        docs=SCIM_DOCS,
        plan=plan_deactivate,
        apply=_apply,
        verify=verify_deactivate,
    ),
    Action(
        name="reactivate_user",
        target=TargetKind.ACCOUNT,
        permission="admin",
        reversible=True,
        description="Reactivate a deactivated member (SCIM PATCH /Users/{id} with active: true)",
        docs=SCIM_DOCS,
        plan=plan_reactivate,
        apply=_apply,
        verify=verify_reactivate,
    ),
    Action(
        name="reset_user_sessions",
        remedies=(Remedy.END_SESSIONS,),
        target=TargetKind.SESSION,
        permission="admin.users:write",
        reversible=False,
        description="Wipe every session of a user on every device (admin.users.session.reset, Enterprise Grid), "
        "leaving them signed out; bots and, except by the primary owner, the primary owner cannot be reset",
        docs=f"{METHODS}/admin.users.session.reset",
        plan=plan_reset_sessions,
        apply=_apply,
        verify=verify_reset_sessions,
    ),
    Action(
        name="demote_admin",
        remedies=(Remedy.REMOVE_ADMIN_ROLE,),
        target=TargetKind.PRIVILEGE,
        permission="admin.users:write",
        reversible=True,
        description="Make an admin (or, opted in, an owner) a regular member (admin.users.setRegular, Enterprise "
        "Grid): at the workspace for admin / owner, at the organization for org_admin; undone by "
        "admin.users.setAdmin / setOwner",
        docs=f"{METHODS}/admin.users.setRegular",
        plan=plan_demote,
        apply=_apply,
        verify=verify_demote,
    ),
    Action(
        name="uninstall_app",
        target=TargetKind.APP_GRANT,
        permission="admin.apps:write",
        reversible=False,
        description="Uninstall an app from workspaces or the whole organization (admin.apps.uninstall, "
        "Enterprise Grid), revoking its tokens there; Slack says it cannot be undone: users must install the "
        "app again. Declared only: the lake lists approvals, not installations",
        docs=f"{METHODS}/admin.apps.uninstall",
    ),
    Action(
        name="restrict_app",
        remedies=(Remedy.REVOKE_GRANT,),
        target=TargetKind.APP_GRANT,
        permission="admin.apps:write",
        reversible=True,
        description="Restrict an approved app for the workspace (admin.apps.restrict, Enterprise Grid), voiding "
        "its approval; existing installations stay (uninstall_app removes them). Undone by approving it again "
        "(admin.apps.approve)",
        docs=f"{METHODS}/admin.apps.restrict",
        plan=plan_restrict,
        apply=_apply,
        verify=verify_restrict,
    ),
    Action(
        name="revoke_public_link",
        remedies=(Remedy.REMOVE_PUBLIC_LINK,),
        target=TargetKind.FILE_SHARE,
        permission="files:write",
        reversible=True,
        description="Disable a file's public/external link (files.revokePublicURL) - the file's public_url "
        "share; undone by enabling public sharing again (files.sharedPublicURL)",
        docs=f"{METHODS}/files.revokePublicURL",
        plan=plan_revoke_link,
        apply=_apply,
        verify=verify_revoke_link,
    ),
    Action(
        name="delete_file",
        # No remedy: the file-governance remedies (trash_file, quarantine_file ...) leave a file that can
        # be brought back, and files.delete is permanent (Slack has no trash). It is offered by name,
        # with approval, where revoke_public_link is not enough (docs/connectors/slack.md).
        target=TargetKind.FILE,
        permission="files:write",
        reversible=False,
        description="Delete a file (files.delete) from Slack and every conversation it was shared in, for good: "
        "Slack has no trash, so it cannot be undone. The file's owner or a workspace admin or owner may delete it "
        "(else cant_delete_file); the Audit Logs API records file_deleted",
        docs=f"{METHODS}/files.delete",
        plan=plan_delete_file,
        apply=_apply,
        verify=verify_delete_file,
    ),
)
