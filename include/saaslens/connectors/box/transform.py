"""Box objects to canonical rows. Pure functions, tested on JSON shaped like Box's documented samples.

Field names follow Box's OpenAPI description (box/box-openapi, `User--Full`, `Group--Full`,
`GroupMembership`, `Event`) and the enterprise events guide
(https://developer.box.com/guides/events/enterprise-events/for-enterprise/).
"""

from __future__ import annotations

from typing import Any

from saaslens.transform_utils import lower, parse_time, raw_json

# User statuses (User--Full `status`, https://developer.box.com/reference/resources/user--full/).
# cannot_delete_edit(_upload) restrict what the user may do with content; the user still signs in.
_STATUS = {
    "active": "active",
    "inactive": "suspended",
    "cannot_delete_edit": "active",
    "cannot_delete_edit_upload": "active",
}
ADMIN_ROLES = ("admin", "coadmin")
# App Users and Service Accounts sign in nowhere: their logins end in this domain
# (https://developer.box.com/guides/getting-started/user-types/).
PLATFORM_DOMAIN = "@boxdevedition.com"
# Box attributes events by someone not signed in to the unknown user (Event `created_by`).
UNKNOWN_USER_ID = "2"
# Box writes this where it cannot tell the client's address (enterprise events samples).
UNKNOWN_IP = "Unknown IP"

LOGON_EVENTS = frozenset(
    {
        "LOGIN",
        "FAILED_LOGIN",
        "ADMIN_LOGIN",
        "USER_AUTHENTICATE_OAUTH2_ACCESS_TOKEN_CREATE",
        "ADD_LOGIN_ACTIVITY_DEVICE",
    }
)
FAILURE_EVENTS = frozenset(
    {"FAILED_LOGIN", "DEVICE_TRUST_CHECK_FAILED", "BOX_AI_USER_FAILED_REQUEST", "SHIELD_SHARED_LINK_ACCESS_BLOCKED"}
)
USER_EVENTS = frozenset(
    {"NEW_USER", "EDIT_USER", "DELETE_USER", "GROUP_ADD_USER", "GROUP_REMOVE_USER", "EMAIL_ALIAS_CONFIRM"}
)
ADMIN_EVENTS = frozenset(
    {
        "CHANGE_ADMIN_ROLE",
        "ENABLE_TWO_FACTOR_AUTH",
        "DISABLE_MULTI_FACTOR_AUTH",
        "ENABLE_MULTI_FACTOR_AUTH",
        "APPLICATION_CREATED",
        "APPLICATION_PUBLIC_KEY_ADDED",
        "APPLICATION_PUBLIC_KEY_DELETED",
        "ACCESS_GRANTED",
        "ACCESS_REVOKED",
        "DATA_RETENTION_CREATE_RETENTION",
        "DATA_RETENTION_REMOVE_RETENTION",
        "CONTENT_WORKFLOW_POLICY_ADD",
    }
)


def account_type(user: dict[str, Any]) -> str:
    if user.get("is_platform_access_only") or str(user.get("login") or "").lower().endswith(PLATFORM_DOMAIN):
        return "service"
    return "member"


def account_row(user: dict[str, Any]) -> dict[str, Any]:
    status = user.get("status") or "active"
    role = user.get("role")
    return {
        "account_id": user["id"],
        "login": user.get("login"),
        "email": lower(user.get("login")),  # a Box login is the user's primary email address
        "display_name": user.get("name"),
        "status": _STATUS.get(status, "active"),
        "provider_status": status,
        "account_type": account_type(user),
        # role is not a standard field: without it (fields not asked for) admin is unknown
        "is_admin": None if role is None else role in ADMIN_ROLES,
        # Box lists an exemption from login verification, not whether the user enrolled in it.
        "mfa_enabled": None,
        "created_at": parse_time(user.get("created_at")),
        "last_login_at": None,  # not in the user object; LOGIN events carry it
        "last_login_attempt_at": None,
        "updated_at": parse_time(user.get("modified_at")),
        "raw": raw_json(user),
    }


def privilege_rows(user: dict[str, Any]) -> list[dict[str, Any]]:
    """The enterprise role: admin (the primary admin) or coadmin. Box has no id for the assignment,
    so the role is the privilege id (one per account)."""
    role = user.get("role")
    if role not in ADMIN_ROLES:
        return []
    enterprise = (user.get("enterprise") or {}).get("id")
    return [
        {
            "account_id": user["id"],
            "privilege_id": f"enterprise_role:{role}",
            "privilege_name": "Primary Admin" if role == "admin" else "Co-Admin",
            "scope": f"enterprise:{enterprise}" if enterprise else "enterprise",
            "assignment_type": "direct",
            "via_group_id": None,
            "raw": raw_json({"user_id": user["id"], "role": role, "enterprise_id": enterprise}),
        }
    ]


def group_row(group: dict[str, Any]) -> dict[str, Any]:
    return {
        "group_id": group["id"],
        "name": group.get("name") or group["id"],
        "description": group.get("description") or None,
        "group_type": group.get("group_type") or "managed_group",
        "created_at": parse_time(group.get("created_at")),
        "updated_at": parse_time(group.get("modified_at")),
        "raw": raw_json(group),
    }


def member_row(membership: dict[str, Any]) -> dict[str, Any]:
    return {
        "group_id": (membership.get("group") or {}).get("id"),
        "account_id": (membership.get("user") or {}).get("id"),
        "member_role": membership.get("role") or "member",
        "raw": raw_json(membership),
    }


def event_category(event_type: str) -> str:
    if event_type in LOGON_EVENTS:
        return "logon"
    if event_type in USER_EVENTS:
        return "user"
    if event_type in ADMIN_EVENTS:
        return "admin"
    return "file"  # the rest of Box's admin log is content: uploads, shares, collaborations


def _source_target(source: dict[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """(id, name, type) of an event's source: a user, group, folder or an item of the admin log
    (`item_type` / `item_id` / `item_name`)."""
    if not source:
        return None, None, None
    if source.get("item_id") is not None:
        return str(source["item_id"]), source.get("item_name"), source.get("item_type") or "item"
    kind = source.get("type")
    name = source.get("login") if kind == "user" else source.get("name")
    return (str(source["id"]) if source.get("id") is not None else None), name or source.get("name"), kind


def activity_row(event: dict[str, Any]) -> dict[str, Any]:
    event_type = event.get("event_type") or "unknown"
    actor = event.get("created_by") or {}
    found = event.get("additional_details")
    details: dict[str, Any] = found if isinstance(found, dict) else {}
    target_id, target_name, target_type = _source_target(event.get("source"))
    ip = event.get("ip_address")
    failed = event_type in FAILURE_EVENTS
    anonymous = str(actor.get("id")) == UNKNOWN_USER_ID
    return {
        "event_id": event["event_id"],
        "occurred_at": parse_time(event.get("created_at")),
        "category": event_category(event_type),
        "action": event_type,
        "outcome": "failure" if failed else "success",
        "outcome_reason": (details.get("failure_reason") or None) if failed else None,
        "actor_id": None if anonymous else actor.get("id"),
        "actor_login": None if anonymous else (actor.get("login") or actor.get("name") or None),
        "actor_type": "anonymous" if anonymous else (actor.get("type") or None),
        "target_id": target_id,
        "target_name": target_name,
        "target_type": target_type,
        "ip": None if not ip or ip == UNKNOWN_IP else ip,
        "user_agent": None,  # Box's admin log has no user agent
        "country": None,
        "raw": raw_json(event),
    }
