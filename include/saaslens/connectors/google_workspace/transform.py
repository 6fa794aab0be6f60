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


# label id -> (title, {choice id: display name}) of the customer's published Drive labels.
LabelCatalog = dict[str, tuple[str, dict[str, str]]]


def label_catalog(labels: Iterable[Any]) -> LabelCatalog:
    """The Labels API's labels (LABEL_VIEW_FULL) as id -> (title, choices of their selection fields)."""
    catalog: LabelCatalog = {}
    for label in labels:
        if not isinstance(label, Mapping) or not isinstance(label.get("id"), str) or not label["id"]:
            continue
        found = label.get("properties")
        properties: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        choices: dict[str, str] = {}
        for field in label.get("fields") or []:
            options = field.get("selectionOptions") if isinstance(field, Mapping) else None
            listed = options.get("choices") if isinstance(options, Mapping) else None
            for choice in listed if isinstance(listed, list) else []:
                if isinstance(choice, Mapping) and isinstance(choice.get("id"), str):
                    shown_in = choice.get("properties")
                    shown = shown_in.get("displayName") if isinstance(shown_in, Mapping) else None
                    choices[choice["id"]] = str(shown) if shown else choice["id"]
        catalog[label["id"]] = (str(properties.get("title") or label["id"]), choices)
    return catalog


def file_label(item: Mapping[str, Any], catalog: LabelCatalog | None) -> tuple[str | None, str | None]:
    """(label id, name) of a file's sensitivity label: a label whose selection field has a choice set
    (a classification label: "Title: Choice") before a plain one; ids not in the catalogue are ignored."""
    info = item.get("labelInfo")
    labels = info.get("labels") if isinstance(info, Mapping) else None
    if not catalog or not isinstance(labels, list):
        return None, None
    found: list[tuple[int, str, str]] = []
    for label in labels:
        label_id = label.get("id") if isinstance(label, Mapping) else None
        if not isinstance(label_id, str) or label_id not in catalog:
            continue
        title, choices = catalog[label_id]
        fields = label.get("fields") if isinstance(label.get("fields"), Mapping) else {}
        chosen = [
            choices[value]
            for field in fields.values()
            if isinstance(field, Mapping)
            for value in field.get("selection") or []
            if isinstance(value, str) and value in choices
        ]
        found.append((0, label_id, f"{title}: {chosen[0]}") if chosen else (1, label_id, title))
    if not found:
        return None, None
    _, label_id, name = min(found)
    return label_id, name


def content_version(item: Mapping[str, Any]) -> str | None:
    """md5Checksum for a blob (changes exactly with its bytes), else Drive's version."""
    checksum = item.get("md5Checksum")
    if isinstance(checksum, str) and checksum:
        return f"md5:{checksum}"
    version = item.get("version")
    return f"v{version}" if isinstance(version, str | int) and str(version) else None


def file_row(
    item: Mapping[str, Any], owner_id: str | None, domains: Iterable[str], labels: LabelCatalog | None = None
) -> dict[str, Any]:
    owners = item.get("owners") or []
    label_id, label_name = file_label(item, labels)
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
        "content_version": content_version(item),
        "trashed": item.get("trashed") is True,
        "sensitivity_label": label_name,
        "sensitivity_label_id": label_id,
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
