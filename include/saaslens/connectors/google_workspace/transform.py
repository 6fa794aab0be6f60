"""Google Workspace objects to canonical rows. Pure functions, tested on recorded payloads.

Field names follow Google's discovery documents: Directory ``User``, ``Group``, ``Member``,
``Role``, ``RoleAssignment``, ``Token`` (admin.directory_v1.json), Reports ``Activity``
(admin.reports_v1.json) and Drive ``File`` / ``Permission`` (drive.v3.json).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from saaslens.transform_utils import lower, parse_time, raw_json

# Reports applications onto canonical activity categories.
CATEGORY_BY_APPLICATION = {
    "login": "logon",
    "saml": "logon",
    "admin": "admin",
    "groups_enterprise": "admin",
    "token": "app",
    "drive": "file",
}

_LOGIN_FAILURES = {"login_failure"}
_CHALLENGE_EVENTS = {"login_challenge", "login_verification"}


def account_row(user: Mapping[str, Any]) -> dict[str, Any]:
    name = user.get("name") or {}
    return {
        "account_id": user["id"],
        "login": user.get("primaryEmail"),
        "email": lower(user.get("primaryEmail")),
        "display_name": name.get("fullName") or name.get("displayName") or None,
        "status": account_status(user),
        "provider_status": provider_status(user),
        "account_type": "guest" if user.get("isGuestUser") else "member",
        "is_admin": bool(user.get("isAdmin") or user.get("isDelegatedAdmin")),
        "mfa_enabled": user.get("isEnrolledIn2Sv"),
        "created_at": parse_time(user.get("creationTime")),
        # A user who never signed in has lastLoginTime 1970-01-01T00:00:00.000Z: parse_time makes it null.
        "last_login_at": parse_time(user.get("lastLoginTime")),
        "last_login_attempt_at": None,  # the Directory API reports logins, not attempts
        "updated_at": None,  # the Directory API does not say when a user was last changed
        "raw": raw_json(user),
    }


def provider_status(user: Mapping[str, Any]) -> str:
    if user.get("suspended"):
        return "SUSPENDED"
    if user.get("archived"):
        return "ARCHIVED"
    return "ACTIVE"


def account_status(user: Mapping[str, Any]) -> str:
    # An archived user (Archived User licence) is a former employee kept for data retention:
    # they cannot sign in, and nobody will bring them back the way a suspension is lifted.
    return {"SUSPENDED": "suspended", "ARCHIVED": "deprovisioned"}.get(provider_status(user), "active")


def group_row(group: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "group_id": group["id"],
        "name": group.get("name") or group.get("email") or group["id"],
        "description": group.get("description") or None,
        "group_type": "admin_created" if group.get("adminCreated") else "user_created",
        "created_at": None,
        "updated_at": None,
        "raw": raw_json(group),
    }


def member_row(group_id: str, member: Mapping[str, Any]) -> dict[str, Any]:
    # Members of type GROUP (nested groups) and CUSTOMER (everyone in the domain) are kept too;
    # raw.type tells them apart from users.
    return {
        "group_id": group_id,
        "account_id": member.get("id") or member.get("email"),
        "member_role": (member.get("role") or "MEMBER").lower(),
        "raw": raw_json(member),
    }


def privilege_row(
    account_id: str,
    assignment: Mapping[str, Any],
    role: Mapping[str, Any] | None,
    via_group_id: str | None = None,
) -> dict[str, Any]:
    scope_type = assignment.get("scopeType") or "CUSTOMER"
    scope = "customer" if scope_type == "CUSTOMER" else f"org_unit:{assignment.get('orgUnitId')}"
    return {
        "account_id": account_id,
        "privilege_id": assignment["roleAssignmentId"],
        "privilege_name": (role or {}).get("roleName") or assignment.get("roleId") or "unknown",
        "scope": scope,
        "assignment_type": "group" if via_group_id else "direct",
        "via_group_id": via_group_id,
        "raw": raw_json(assignment),
    }


def grant_row(token: Mapping[str, Any]) -> dict[str, Any]:
    # A user holds at most one token per OAuth client, so (user, client) identifies the grant.
    return {
        "grant_id": f"{token['userKey']}:{token['clientId']}",
        "account_id": token.get("userKey"),
        "client_id": token["clientId"],
        "client_name": token.get("displayText"),
        "scopes": list(token.get("scopes") or []),
        "status": "ACTIVE",
        "source": "anonymous" if token.get("anonymous") else ("native_app" if token.get("nativeApp") else "user"),
        "created_at": None,
        "raw": raw_json(token),
    }


# -------------------------------------------------------------------------------------------
# Reports activities
# -------------------------------------------------------------------------------------------


def parameters(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event's parameters as name -> value, whichever typed value field carries it."""
    out: dict[str, Any] = {}
    for parameter in event.get("parameters") or []:
        for field in ("value", "boolValue", "intValue", "multiValue", "multiIntValue", "multiBoolValue"):
            if field in parameter:
                out[parameter["name"]] = parameter[field]
                break
    return out


def event_id(activity: Mapping[str, Any], index: int) -> str:
    """Reports activities have no single id: (application, time, uniqueQualifier) identifies the
    activity, and the event's position tells apart the events one activity carries."""
    ident = activity["id"]
    return f"{ident['applicationName']}:{ident['time']}:{ident['uniqueQualifier']}:{index}"


def outcome(application: str, name: str, params: Mapping[str, Any]) -> tuple[str, str | None]:
    if application == "login":
        if name in _LOGIN_FAILURES:
            return "failure", params.get("login_failure_type")
        if name in _CHALLENGE_EVENTS:
            status = params.get("login_challenge_status")
            if status is None:
                return "unknown", None
            return ("success" if status == "Challenge Passed" else "failure"), status
        return "success", None
    if application in ("admin", "token", "drive", "groups_enterprise"):
        return "success", None  # these logs record actions that took place
    return "unknown", None


def target(application: str, params: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(id, name, type) of the event's main target."""
    if application == "drive" and params.get("doc_id"):
        return params["doc_id"], params.get("doc_title"), "file"
    if application == "token" and params.get("client_id"):
        return params["client_id"], params.get("app_name"), "app"
    if params.get("USER_EMAIL"):
        return None, lower(params["USER_EMAIL"]), "user"
    if params.get("GROUP_EMAIL"):
        return None, lower(params["GROUP_EMAIL"]), "group"
    return None, None, None


def activity_rows(activity: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per event: an activity can carry several (a login and its 2-step verification)."""
    ident = activity["id"]
    application = ident.get("applicationName") or "unknown"
    actor = activity.get("actor") or {}
    occurred = parse_time(ident["time"])
    raw = raw_json(activity)
    rows = []
    for index, event in enumerate(activity.get("events") or []):
        name = event.get("name") or event.get("type") or "unknown"
        params = parameters(event)
        result, reason = outcome(application, name, params)
        target_id, target_name, target_type = target(application, params)
        rows.append(
            {
                "event_id": event_id(activity, index),
                "occurred_at": occurred,
                "category": CATEGORY_BY_APPLICATION.get(application, "user"),
                "action": f"{application}.{name}",
                "outcome": result,
                "outcome_reason": reason,
                "actor_id": actor.get("profileId") or actor.get("key"),
                "actor_login": lower(actor.get("email")),
                "actor_type": actor.get("callerType"),
                "target_id": target_id,
                "target_name": target_name,
                "target_type": target_type,
                "ip": activity.get("ipAddress"),
                "user_agent": None,  # the Reports API does not record user agents
                "country": (activity.get("networkInfo") or {}).get("regionCode"),
                "raw": raw,
            }
        )
    return rows


# -------------------------------------------------------------------------------------------
# Drive
# -------------------------------------------------------------------------------------------

_EXPOSURE = ("private", "internal", "external", "public")


def email_domain(address: str | None) -> str | None:
    return address.rsplit("@", 1)[1].lower() if address and "@" in address else None


def is_external(permission: Mapping[str, Any], domains: Iterable[str]) -> bool:
    kind = permission.get("type")
    if kind == "anyone":
        return True
    domain = (
        (permission.get("domain") or "").lower() if kind == "domain" else email_domain(permission.get("emailAddress"))
    )
    return domain not in {d.lower() for d in domains}


def principal_type(permission: Mapping[str, Any]) -> str:
    if permission.get("type") == "anyone":
        # Without file discovery it is "anyone with the link"; with it, findable by search.
        return "anyone" if permission.get("allowFileDiscovery") else "link"
    return str(permission.get("type") or "unknown")


def visibility(permissions: Iterable[Mapping[str, Any]], domains: Iterable[str]) -> str:
    """The widest exposure among a file's permissions (the owner's own does not count)."""
    domains = list(domains)
    level = 0
    for permission in permissions:
        if permission.get("role") == "owner":
            continue
        if permission.get("type") == "anyone":
            return "public"
        level = max(level, 2 if is_external(permission, domains) else 1)
    return _EXPOSURE[level]


def file_row(item: Mapping[str, Any], owner_id: str | None, domains: Iterable[str]) -> dict[str, Any]:
    owners = item.get("owners") or []
    size = item.get("size")
    # The permissions are stored once, in file_shares.raw, not again with the file.
    raw = {k: v for k, v in item.items() if k != "permissions"}
    return {
        "file_id": item["id"],
        "name": item.get("name"),
        "path": None,
        "owner_id": owner_id,
        "owner_email": lower(owners[0].get("emailAddress")) if owners else None,
        "mime_type": item.get("mimeType"),
        "size_bytes": int(size) if size not in (None, "") else None,
        "created_at": parse_time(item.get("createdTime")),
        "modified_at": parse_time(item.get("modifiedTime")),
        "visibility": visibility(item.get("permissions") or [], domains),
        "raw": raw_json(raw),
    }


def share_rows(item: Mapping[str, Any], domains: Iterable[str]) -> list[dict[str, Any]]:
    domains = list(domains)
    rows = []
    for permission in item.get("permissions") or []:
        kind = permission.get("type")
        rows.append(
            {
                "file_id": item["id"],
                "share_id": permission["id"],
                "principal_type": principal_type(permission),
                "principal_id": permission["id"] if kind in ("user", "group") else None,
                "principal_email": lower(permission.get("emailAddress") or permission.get("domain")),
                "role": permission.get("role"),
                "is_external": is_external(permission, domains),
                "raw": raw_json(permission),
            }
        )
    return rows
