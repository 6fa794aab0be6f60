"""Dropbox objects to canonical rows. Pure functions, tested on payloads shaped like Dropbox's samples.

Field names follow Dropbox's Stone definitions (dropbox/dropbox-api-spec): team.stone's
TeamMemberInfoV2 / TeamMemberProfile / TeamMemberRole, team_common.stone's GroupSummary, team.stone's
GroupMemberInfo and ApiApp, team_log.stone's TeamEvent, sharing.stone's SharedLinkMetadata. Unions
are JSON objects whose `.tag` names the member (a Void member may also be sent as a bare string:
https://www.dropbox.com/developers/documentation/http/documentation, "Request and response formats").
"""

from __future__ import annotations

import hashlib
from typing import Any

from saaslens.transform_utils import lower, parse_time, raw_json

# Roles whose holder administers the whole team (https://help.dropbox.com/security/admin-roles): every
# admin role counts as privileged; "Team admin" is the one that can change every other admin.
SUPER_ADMIN_ROLE = "Team admin"

# TeamMemberStatus -> the canonical status. A removed member is listed only with include_removed.
_STATUS = {"active": "active", "invited": "pending", "suspended": "suspended", "removed": "deprovisioned"}

# EventCategory members (team_log.stone) -> the canonical activity category.
_CATEGORY = {
    "logins": "logon",
    "passwords": "logon",
    "tfa": "logon",
    "apps": "app",
    "file_operations": "file",
    "file_requests": "file",
    "sharing": "file",
    "showcase": "file",
    "paper": "file",
    "comments": "file",
    "members": "admin",
    "groups": "admin",
    "team_admin_actions": "admin",
    "team_policies": "admin",
    "team_profile": "admin",
    "domains": "admin",
    "devices": "user",
    "sso": "admin",
    "trusted_teams": "admin",
    "legal_holds": "admin",
    "data_governance": "admin",
    "reports": "admin",
    "admin_alerting": "admin",
}
FAILURE_EVENTS = frozenset({"login_fail", "sign_in_as_session_start_fail", "sso_error", "emm_error"})


def tag(value: Any) -> str | None:
    """The member a union value names: its `.tag`, or the value itself for a Void member sent bare."""
    if isinstance(value, dict):
        found = value.get(".tag")
        return str(found) if found is not None else None
    return str(value) if isinstance(value, str) else None


# -- accounts and privileges ----------------------------------------------------------------


def account_row(member: dict[str, Any]) -> dict[str, Any]:
    """One TeamMemberInfoV2 (team/members/list_v2). An invited member may have no account_id yet and
    never joined_on; a limited (`membership_type` limited) member is still a member."""
    profile = member["profile"]
    status = tag(profile.get("status")) or "active"
    roles = member.get("roles") or []
    name = profile.get("name") or {}
    return {
        "account_id": profile["team_member_id"],
        "login": profile.get("email"),
        "email": lower(profile.get("email")),
        "display_name": name.get("display_name") or None,
        "status": _STATUS.get(status, "active"),
        "provider_status": status,
        "account_type": "member",
        "is_admin": bool(roles),
        "mfa_enabled": None,  # members/list_v2 does not say; the audit log's tfa events do
        "created_at": parse_time(profile.get("invited_on")),
        "last_login_at": None,  # not in the member listing (login_success events are activities)
        "last_login_attempt_at": None,
        "updated_at": None,
        "raw": raw_json(member),
    }


def privilege_rows(member: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per admin role (TeamMemberRole) the member holds, keyed by the role's id."""
    profile = member["profile"]
    return [
        {
            "account_id": profile["team_member_id"],
            "privilege_id": role["role_id"],
            "privilege_name": role.get("name") or role["role_id"],
            "scope": "team",
            "assignment_type": "direct",
            "via_group_id": None,
            "raw": raw_json(role),
        }
        for role in member.get("roles") or []
    ]


# -- groups ---------------------------------------------------------------------------------


def group_row(group: dict[str, Any]) -> dict[str, Any]:
    """A GroupSummary (team/groups/list). `group_management_type` says who manages it: the team's
    "Everyone at" group is system_managed."""
    return {
        "group_id": group["group_id"],
        "name": group.get("group_name") or group["group_id"],
        "description": None,  # Dropbox groups have no description
        "group_type": tag(group.get("group_management_type")) or "user_managed",
        "created_at": None,
        "updated_at": None,
        "raw": raw_json(group),
    }


def member_row(group_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A GroupMemberInfo (team/groups/members/list): the member's profile and owner / member."""
    return {
        "group_id": group_id,
        "account_id": entry["profile"]["team_member_id"],
        "member_role": tag(entry.get("access_type")) or "member",
        "raw": None,
    }


# -- app permissions ------------------------------------------------------------------------


def app_access(app: dict[str, Any]) -> str:
    """What a linked app may reach: its own app folder, or the member's whole Dropbox."""
    return "app_folder" if app.get("is_app_folder") else "full_dropbox"


def app_grant_rows(linked: dict[str, Any]) -> list[dict[str, Any]]:
    """A MemberLinkedApps (team/linked_apps/list_members_linked_apps): one grant per app the member
    linked. Dropbox names no OAuth scopes here; the grant's reach is its access type."""
    member_id = linked["team_member_id"]
    return [
        {
            "grant_id": f"{member_id}:{app['app_id']}",
            "account_id": member_id,
            "client_id": app["app_id"],
            "client_name": app.get("app_name"),
            "scopes": [app_access(app)],
            "status": "linked",
            "source": "user",
            "created_at": parse_time(app.get("linked")),  # may be missing ("historical data gap")
            "raw": raw_json(app),
        }
        for app in linked.get("linked_api_apps") or []
    ]


# -- activities -----------------------------------------------------------------------------


def event_id(event: dict[str, Any]) -> str:
    """Dropbox's audit events carry no id: the event's own content is its identity (the same event
    read again in an overlapping window hashes the same)."""
    return "dropbox-" + hashlib.sha256(raw_json(event).encode()).hexdigest()[:40]


def _user(info: Any) -> dict[str, Any]:
    return info if isinstance(info, dict) else {}


def _actor(event: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(id, login, type) of an ActorLogInfo: a user or admin (UserLogInfo), an app, or Dropbox itself."""
    actor = event.get("actor")
    kind = tag(actor)
    if not isinstance(actor, dict) or kind is None:
        return None, None, None
    if kind in ("user", "admin"):
        user = _user(actor.get(kind))
        return user.get("team_member_id") or user.get("account_id"), user.get("email"), kind
    if kind == "app":
        app = _user(actor.get("app"))
        return app.get("app_id"), app.get("display_name"), "app"
    return None, None, kind  # dropbox, anonymous, reseller


def _target(event: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """The first participant (a user or group), else the first asset, else the member in context."""
    for participant in event.get("participants") or []:
        kind = tag(participant)
        if kind == "user":
            user = _user(participant.get("user"))
            return user.get("team_member_id") or user.get("account_id"), user.get("email"), "user"
        if kind == "group":
            return participant.get("group_id"), participant.get("display_name"), "group"
    for asset in event.get("assets") or []:
        kind = tag(asset)
        if isinstance(asset, dict):
            path = asset.get("path") or {}
            return asset.get("file_id") or asset.get("id"), asset.get("display_name") or path.get("contextual"), kind
    context = event.get("context")
    if tag(context) == "team_member" and isinstance(context, dict):
        return context.get("team_member_id"), context.get("email"), "user"
    return None, None, None


def audit_row(event: dict[str, Any]) -> dict[str, Any]:
    action = tag(event.get("event_type")) or "unknown"
    actor_id, actor_login, actor_type = _actor(event)
    target_id, target_name, target_type = _target(event)
    origin = event.get("origin") or {}
    geo = origin.get("geo_location") or {}
    details = event.get("details") or {}
    failed = action in FAILURE_EVENTS
    reason = None
    if failed:
        error = details.get("error_details") or {}
        reason = error.get("technical_error_message") or error.get("user_friendly_message")
    return {
        "event_id": event_id(event),
        "occurred_at": parse_time(event["timestamp"]),
        "category": _CATEGORY.get(tag(event.get("event_category")) or "", "user"),
        "action": action,
        "outcome": "failure" if failed else "success",
        "outcome_reason": reason,
        "actor_id": actor_id,
        "actor_login": actor_login,
        "actor_type": actor_type,
        "target_id": target_id,
        "target_name": target_name,
        "target_type": target_type,
        "ip": geo.get("ip_address") or None,
        "user_agent": None,  # the audit log records the session, not the user agent
        "country": geo.get("country") or None,
        "raw": raw_json(event),
    }
