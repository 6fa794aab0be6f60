"""Slack objects to canonical rows. Pure functions, tested on recorded payloads.

Field names follow the Slack Web API description (slackapi/slack-api-specs, web-api/
slack_web_openapi_v2.json: `objs_user`, `objs_user_profile`, `objs_subteam`, `objs_file`, the
`team.accessLogs` login object) and the Audit Logs API's audit event (actor / action / entity /
context, https://docs.slack.dev/admins/audit-logs-api).
"""

from __future__ import annotations

import hashlib
from typing import Any

from saaslens.transform_utils import lower, parse_time, raw_json

# Slackbot is a built-in bot, but users.list reports it with is_bot false.
SLACKBOT_ID = "USLACKBOT"

# Audit Logs API actions (https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference)
# by canonical category. Exact names first; then prefixes, most specific first.
LOGON_ACTIONS = frozenset(
    {
        "user_login",
        "user_logout",
        "user_login_failed",
        "user_session_invalidated",
        "user_session_reset_by_admin",
    }
)
FAILURE_ACTIONS = frozenset({"user_login_failed", "file_downloaded_blocked", "file_upload_blocked"})
_ADMIN_PREFIXES = (
    "user_created",
    "user_deactivated",
    "user_reactivated",
    "user_email_updated",
    "role_change_",
    "guest_",
    "pref.",  # workspace and org settings: pref.sso_setting_changed, pref.two_factor_auth_changed
    "pref_",
    "app_approved",
    "app_restricted",
    "app_removed_from_whitelist",
    "app_resolved",
    "bot_token_",
    "custom_tos_",
    "information_barrier_",
    "organization_",
    "workspace_",
    "channel_retention_",
    "manual_export_",
    "scheduled_export_",
    "corporate_exports_",
    "subteam_",
    "usergroup_",
    "role_assigned",
    "role_removed",
    "account_type_role_",
)
_APP_PREFIXES = ("app_", "bot_", "workflow_", "slack_cli_", "function_")
_FILE_PREFIXES = ("file_", "canvas_")


def audit_category(action: str) -> str:
    """logon / admin / app / file / user for an Audit Logs API action."""
    if action in LOGON_ACTIONS:
        return "logon"
    if action.startswith(_ADMIN_PREFIXES):
        return "admin"
    if action.startswith(_APP_PREFIXES):
        return "app"
    if action.startswith(_FILE_PREFIXES):
        return "file"
    return "user"


# -- accounts and privileges ----------------------------------------------------------------


def account_type(user: dict[str, Any]) -> str:
    if user.get("is_bot") or user.get("id") == SLACKBOT_ID:
        return "bot"
    if user.get("is_restricted") or user.get("is_ultra_restricted"):
        return "guest"  # multi-channel and single-channel guests
    if user.get("is_stranger") or user.get("is_external"):
        return "external"  # Slack Connect members of another organization
    return "member"


def provider_status(user: dict[str, Any]) -> str:
    """Slack has no status field, only flags: deleted (deactivated) and is_invited_user."""
    if user.get("deleted"):
        return "deleted"
    if user.get("is_invited_user"):
        return "invited"
    return "active"


_STATUS = {"deleted": "deprovisioned", "invited": "pending", "active": "active"}


def _display_name(user: dict[str, Any]) -> str | None:
    profile = user.get("profile") or {}
    return profile.get("real_name") or user.get("real_name") or profile.get("display_name") or None


def _enterprise_flag(user: dict[str, Any], flag: str) -> bool:
    return bool((user.get("enterprise_user") or {}).get(flag))


def is_admin(user: dict[str, Any]) -> bool:
    """Workspace admins and owners, and Enterprise Grid org admins and owners."""
    return any(user.get(flag) for flag in ("is_admin", "is_owner", "is_primary_owner")) or any(
        _enterprise_flag(user, flag) for flag in ("is_admin", "is_owner")
    )


def account_row(user: dict[str, Any]) -> dict[str, Any]:
    status = provider_status(user)
    profile = user.get("profile") or {}
    # has_2fa is only returned to admins and owners; absent means unknown, not disabled.
    has_2fa = user.get("has_2fa")
    return {
        "account_id": user["id"],
        "login": user.get("name"),
        "email": lower(profile.get("email")),
        "display_name": _display_name(user),
        "status": _STATUS[status],
        "provider_status": status,
        "account_type": account_type(user),
        "is_admin": is_admin(user),
        "mfa_enabled": None if has_2fa is None else bool(has_2fa),
        "created_at": None,  # users.list does not say when an account was created
        "last_login_at": None,  # nor when it last signed in (team.accessLogs does, as events)
        "last_login_attempt_at": None,
        "updated_at": parse_time(user.get("updated")),  # Slackbot's "updated": 0 is unknown, not 1970
        "raw": raw_json(user),
    }


# (flag on the user, flag on enterprise_user, privilege name, scope kind)
_ROLES = (
    ("is_primary_owner", None, "primary_owner", "workspace"),
    ("is_owner", None, "owner", "workspace"),
    ("is_admin", None, "admin", "workspace"),
    (None, "is_owner", "org_owner", "enterprise"),
    (None, "is_admin", "org_admin", "enterprise"),
)


def privilege_rows(user: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per administrative role the user holds. Slack has no id for a role assignment,
    so the role name is the privilege id (unique per account)."""
    enterprise = user.get("enterprise_user") or {}
    team = user.get("team_id") or user.get("team")
    rows = []
    for user_flag, enterprise_flag, name, scope_kind in _ROLES:
        held = user.get(user_flag) if user_flag else enterprise.get(enterprise_flag)
        if not held:
            continue
        scope_id = team if scope_kind == "workspace" else enterprise.get("enterprise_id")
        rows.append(
            {
                "account_id": user["id"],
                "privilege_id": name,
                "privilege_name": name,
                "scope": f"{scope_kind}:{scope_id}" if scope_id else scope_kind,
                "assignment_type": "direct",
                "via_group_id": None,
                "raw": raw_json({"user_id": user["id"], "role": name, "flag": user_flag or enterprise_flag}),
            }
        )
    return rows


# -- user groups ----------------------------------------------------------------------------


def group_row(usergroup: dict[str, Any]) -> dict[str, Any]:
    # The member list is stored as group_members rows; keeping it in raw too would double it.
    raw = {key: value for key, value in usergroup.items() if key != "users"}
    return {
        "group_id": usergroup["id"],
        "name": usergroup.get("name") or usergroup.get("handle") or usergroup["id"],
        "description": usergroup.get("description") or None,
        # auto_type marks Slack's built-in "admins" and "owners" groups; others are plain user groups.
        "group_type": usergroup.get("auto_type") or "usergroup",
        "created_at": parse_time(usergroup.get("date_create")),  # 0 means unknown: parse_time's sentinels
        "updated_at": parse_time(usergroup.get("date_update")),
        "raw": raw_json(raw),
    }


def member_row(group_id: str, user_id: str) -> dict[str, Any]:
    return {"group_id": group_id, "account_id": user_id, "member_role": "member", "raw": None}


# -- app permissions ------------------------------------------------------------------------


def app_grant_row(approved: dict[str, Any], context_id: str | None) -> dict[str, Any]:
    """An app an admin approved for the workspace or org (admin.apps.approved.list), with the
    scopes it holds there: an org-wide grant, so no single account."""
    app = approved.get("app") or {}
    app_id = app.get("id") or "unknown"
    return {
        "grant_id": f"{context_id}:{app_id}" if context_id else app_id,
        "account_id": None,
        "client_id": app_id,
        "client_name": app.get("name"),
        "scopes": [scope["name"] for scope in approved.get("scopes") or [] if scope.get("name")],
        "status": "approved",
        "source": "admin",
        "created_at": parse_time(approved.get("date_updated")),
        "raw": raw_json(approved),
    }


# -- activities -----------------------------------------------------------------------------


def access_log_event_id(login: dict[str, Any]) -> str:
    """team.accessLogs entries aggregate a user's logins from one IP and user agent and carry no
    id. The identity of the row we store is that aggregate as of its latest login."""
    key = "\x1f".join(str(login.get(part) or "") for part in ("user_id", "ip", "user_agent", "date_first", "date_last"))
    return "slack-access-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def access_log_row(login: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": access_log_event_id(login),
        "occurred_at": parse_time(login["date_last"]),
        "category": "logon",
        "action": "access_log_login",
        "outcome": "success",  # the access log records only successful logins
        "outcome_reason": None,
        "actor_id": login.get("user_id"),
        "actor_login": login.get("username"),
        "actor_type": "user",
        "target_id": None,
        "target_name": None,
        "target_type": None,
        "ip": login.get("ip"),
        "user_agent": login.get("user_agent") or None,
        "country": login.get("country"),
        "raw": raw_json(login),
    }


def _entity_target(entity: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    kind = entity.get("type")
    detail = entity.get(kind) if isinstance(kind, str) else None
    if not isinstance(detail, dict):
        return None, None, kind
    name = detail.get("email") if kind == "user" else None
    return detail.get("id"), name or detail.get("name") or detail.get("title"), kind


def audit_row(entry: dict[str, Any]) -> dict[str, Any]:
    action = entry.get("action") or "unknown"
    actor = entry.get("actor") or {}
    actor_user = actor.get("user") or {}
    context = entry.get("context") or {}
    details = entry.get("details") or {}
    target_id, target_name, target_type = _entity_target(entry.get("entity") or {})
    failed = action in FAILURE_ACTIONS
    return {
        "event_id": entry["id"],
        "occurred_at": parse_time(entry["date_create"]),
        "category": audit_category(action),
        "action": action,
        "outcome": "failure" if failed else "success",
        "outcome_reason": (details.get("reason") or None) if failed else None,
        "actor_id": actor_user.get("id"),
        "actor_login": actor_user.get("email") or actor_user.get("name"),
        "actor_type": actor.get("type"),
        "target_id": target_id,
        "target_name": target_name,
        "target_type": target_type,
        "ip": context.get("ip_address") or None,
        "user_agent": context.get("ua") or None,
        "country": None,  # the Audit Logs API has no geolocation
        "raw": raw_json(entry),
    }


# -- files ----------------------------------------------------------------------------------


def visibility(file: dict[str, Any]) -> str:
    """Widest exposure: a public link is public; a share to a Slack Connect workspace external;
    a share in a public channel internal; otherwise private channels, DMs or unshared."""
    if file.get("public_url_shared"):
        return "public"
    if any(share["is_external"] for share in share_rows(file)):
        return "external"
    if file.get("is_public"):
        return "internal"
    return "private"


def content_version(file: dict[str, Any]) -> str | None:
    """The version of a file's content a rescan compares (https://api.slack.com/types/file): a Post's
    `updated` ("when the Post was last edited"; the field is documented for Posts only), an editable
    snippet's `edit_timestamp` when Slack sends it (undocumented on the object's page, present in
    responses, e.g. the Slack SDKs' generated FilesInfoResponse types), else `created`: an uploaded
    file's bytes never change (the Web API has no method that replaces them; an upload is a new file),
    so `updated`, which the sandbox and some responses also move on metadata changes, is not used."""
    if file.get("mode") == "post" and isinstance(file.get("updated"), int) and file["updated"] > 0:
        return str(file["updated"])
    for field in ("edit_timestamp", "created"):
        value = file.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return str(value)
    return None


def file_row(file: dict[str, Any]) -> dict[str, Any]:
    """One file object. trashed is False: Slack has no trash for files (files.delete removes a file at
    once and files.list no longer lists it); no sensitivity labels: Slack has none."""
    return {
        "file_id": file["id"],
        "name": file.get("name") or file.get("title"),
        "path": None,  # Slack files live in channels (file_shares), not in folders
        "owner_id": file.get("user"),
        "owner_email": None,
        "mime_type": file.get("mimetype") or None,
        "size_bytes": file.get("size"),
        "created_at": parse_time(file.get("created")),
        "modified_at": parse_time(file.get("updated") or file.get("timestamp") or file.get("created")),
        "visibility": visibility(file),
        "content_version": content_version(file),
        "trashed": False,
        "sensitivity_label": None,
        "sensitivity_label_id": None,
        "raw": raw_json(file),
    }


def _conversation_type(conversation_id: str) -> str:
    # D... is a direct message with one person; C... and G... are channels and group DMs.
    return "user" if conversation_id.startswith("D") else "group"


def share_rows(file: dict[str, Any]) -> list[dict[str, Any]]:
    """Where a file is shared: each conversation in `shares` (public and private), falling back
    to the `channels` / `groups` / `ims` lists, plus the public link when it is on."""
    owner_team = file.get("user_team") or file.get("source_team")
    shares = file.get("shares") or {}
    found: dict[str, dict[str, Any]] = {}
    for privacy in ("public", "private"):
        for conversation_id, entries in (shares.get(privacy) or {}).items():
            teams = {entry.get("team_id") for entry in entries or [] if isinstance(entry, dict)} - {None}
            external = bool(owner_team) and any(team != owner_team for team in teams)
            found[conversation_id] = {"privacy": privacy, "is_external": external, "entries": entries}
    for key, privacy in (("channels", "public"), ("groups", "private"), ("ims", "private")):
        for conversation_id in file.get(key) or []:
            found.setdefault(conversation_id, {"privacy": privacy, "is_external": False, "entries": None})
    rows = [
        {
            "file_id": file["id"],
            "share_id": conversation_id,
            "principal_type": _conversation_type(conversation_id),
            "principal_id": conversation_id,
            "principal_email": None,
            "role": "reader",
            "is_external": share["is_external"],
            "raw": raw_json({"conversation": conversation_id, **share}),
        }
        for conversation_id, share in found.items()
    ]
    if file.get("public_url_shared"):
        rows.append(
            {
                "file_id": file["id"],
                "share_id": "public_url",
                "principal_type": "anyone",
                "principal_id": None,
                "principal_email": None,
                "role": "reader",
                "is_external": True,
                "raw": raw_json({"permalink_public": file.get("permalink_public")}),
            }
        )
    return rows
