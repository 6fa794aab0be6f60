"""Box objects to canonical rows. Pure functions, tested on JSON shaped like Box's documented samples.

Field names follow Box's OpenAPI description (box/box-openapi, `User--Full`, `Group--Full`,
`GroupMembership`, `Event`) and the enterprise events guide
(https://developer.box.com/guides/events/enterprise-events/for-enterprise/).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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


# -- files and their shares --------------------------------------------------------------------
# Item fields follow File--Full / Folder--Full and Collaboration in box/box-openapi; shared link
# access levels from https://developer.box.com/guides/shared-links/create-or-update/ : `open` (anyone
# with the link), `company` (people in the enterprise), `collaborators` (only those with access
# already). `effective_access` is the level enterprise settings leave in force (it may be narrower
# than `access`), so it decides the exposure where Box sends it.
LINK_VISIBILITY = {"open": "public", "company": "internal", "collaborators": "private"}
LINK_PRINCIPAL = {"open": "anyone", "company": "domain", "collaborators": "link"}
_EXPOSURE = ("private", "internal", "external", "public")  # narrowest first
SHARED_LINK = "shared_link"  # the share id of an item's own shared link (one per item at Box)


@dataclass(frozen=True)
class Directory:
    """Who is inside the enterprise: its users' ids and the domains of their logins (App Users and
    Service Accounts, @boxdevedition.com, excepted). A collaborator is external when Box names
    someone outside both: a user of another enterprise, or an email invitation to another domain."""

    user_ids: frozenset[str]
    domains: frozenset[str]

    @classmethod
    def of(cls, users: Iterable[dict[str, Any]]) -> Directory:
        ids, domains = set(), set()
        for user in users:
            ids.add(str(user["id"]))
            login = str(user.get("login") or "").lower()
            if "@" in login and not login.endswith(PLATFORM_DOMAIN):
                domains.add(login.rsplit("@", 1)[1])
        return cls(frozenset(ids), frozenset(domains))

    def is_external(self, collaboration: dict[str, Any]) -> bool:
        grantee = collaboration.get("accessible_by") or {}
        if grantee.get("type") == "group":
            return False  # groups are the enterprise's own (managed groups)
        if grantee.get("id") is not None and str(grantee["id"]) in self.user_ids:
            return False
        address = str(grantee.get("login") or collaboration.get("invite_email") or "").lower()
        return "@" not in address or address.rsplit("@", 1)[1] not in self.domains


def link_access(link: dict[str, Any] | None) -> str | None:
    if not link:
        return None
    access = link.get("effective_access") or link.get("access")
    return str(access) if access else None


def widest(levels: Iterable[str]) -> str:
    return max(levels, key=_EXPOSURE.index, default="private")


def item_path(item: dict[str, Any]) -> str:
    """The item's place as Box shows it, below All Files (path_collection's first entry)."""
    entries = (item.get("path_collection") or {}).get("entries") or []
    names = [str(e.get("name") or e.get("id")) for e in entries if str(e.get("id")) != "0"]
    return "/" + "/".join([*names, str(item.get("name") or item.get("id"))])


def share_rows(
    item: dict[str, Any], collaborations: list[dict[str, Any]], directory: Directory, *, file_id: str | None = None
) -> list[dict[str, Any]]:
    """The file_shares rows of one item: its shared link and its collaborations (users, groups,
    pending email invitations; rejected ones grant nothing). With `file_id`, `item` is a folder above
    that file and the rows are the file's by inheritance (a folder's collaborators reach all it holds,
    https://developer.box.com/guides/collaborations/ ; Box lists them on the folder only), marked with
    `inherited_from` in `raw`."""
    target = file_id or str(item["id"])
    inherited = target != str(item["id"])
    via = {"inherited_from": {"type": "folder", "id": str(item["id"]), "name": item.get("name")}} if inherited else {}
    rows = []
    access = link_access(item.get("shared_link"))
    if access is not None:
        link = item.get("shared_link") or {}
        permissions = link.get("permissions") or {}
        rows.append(
            {
                "file_id": target,
                "share_id": f"{SHARED_LINK}:{item['id']}" if inherited else SHARED_LINK,
                "principal_type": LINK_PRINCIPAL.get(access, "link"),
                "principal_id": None,
                "principal_email": None,
                "role": "writer" if permissions.get("can_edit") else "reader",
                "is_external": access == "open",
                "raw": raw_json({**link, **via}),
            }
        )
    for collaboration in collaborations:
        if collaboration.get("status") == "rejected":
            continue
        grantee = collaboration.get("accessible_by") or {}
        rows.append(
            {
                "file_id": target,
                "share_id": str(collaboration["id"]),
                "principal_type": "group" if grantee.get("type") == "group" else "user",
                "principal_id": str(grantee["id"]) if grantee.get("id") is not None else None,
                "principal_email": lower(grantee.get("login") or collaboration.get("invite_email")),
                "role": collaboration.get("role"),
                "is_external": directory.is_external(collaboration),
                "raw": raw_json({**collaboration, **via}),
            }
        )
    return rows


def share_visibility(share: dict[str, Any]) -> str:
    if share["principal_type"] == "anyone":
        return "public"
    if share["is_external"]:
        return "external"
    return "internal" if share["principal_type"] == "domain" else "private"


def file_row(file: dict[str, Any], shares: list[dict[str, Any]]) -> dict[str, Any]:
    """One file with its widest exposure over `shares` (its own and those it inherits). Box gives no
    MIME type: the content scan reads the format from the bytes and the name. The version is the
    file_version id, new with each upload of content."""
    owner = file.get("owned_by") or {}
    version = (file.get("file_version") or {}).get("id") or file.get("sha1")
    return {
        "file_id": str(file["id"]),
        "name": file.get("name"),
        "path": item_path(file),
        "owner_id": str(owner["id"]) if owner.get("id") is not None else None,
        "owner_email": lower(owner.get("login")),
        "mime_type": None,
        "size_bytes": file.get("size"),
        "created_at": parse_time(file.get("created_at")),
        "modified_at": parse_time(file.get("content_modified_at") or file.get("modified_at")),
        "visibility": widest(share_visibility(s) for s in shares),
        "content_version": str(version) if version else None,
        "trashed": file.get("item_status") == "trashed",
        "sensitivity_label": None,
        "sensitivity_label_id": None,
        "raw": raw_json(file),
    }
