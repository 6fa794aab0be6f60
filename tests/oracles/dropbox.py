"""Dropbox's ground truth as the rows saaslens must store: accounts, admin roles, groups and their
members, linked apps and the team audit log, computed in plain Python from the provider objects the
sandbox serves (``DropboxPersonality.ground_truth()``), not from the connector's transforms.

How each object reads follows Dropbox's Stone definitions (dropbox/dropbox-api-spec, copies in
/work/shared/api-specs/dropbox) and reference pages:

* TeamMemberStatus (team.stone): ``active``; ``invited`` has not joined yet (pending); ``suspended``
  "is no longer a member of the team, but the account can be un-suspended"; ``removed`` is listed by
  team/members/list_v2 only with ``include_removed``
  (https://www.dropbox.com/developers/documentation/http/teams#team-members-list).
* A member's ``roles`` are its admin roles (TeamMemberRole, https://help.dropbox.com/security/admin-roles):
  any of them makes the member an admin.
* team/linked_apps/list_members_linked_apps lists per member the apps they linked (ApiApp); an app
  confined to its app folder (``is_app_folder``) reaches less than one with the whole Dropbox.
* TeamEvent (team_log.stone) has no id: an event is its content.

Not in ``workforce.ORACLES``: the Dropbox personality plants no workforce (no ``workforce`` option).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from tests.oracles.facts import lower, parse_time

_STATUS = {"active": "active", "invited": "pending", "suspended": "suspended", "removed": "deprovisioned"}


def listed_members(truth: Mapping[str, Any], *, include_removed: bool = False) -> list[dict[str, Any]]:
    """The members team/members/list_v2 answers (removed ones only with include_removed)."""
    return [m for m in truth["members"] if include_removed or m["profile"]["status"][".tag"] != "removed"]


def accounts(truth: Mapping[str, Any], *, include_removed: bool = False) -> dict[str, dict[str, Any]]:
    """account_id -> the columns of its accounts row that the ground truth decides."""
    found = {}
    for member in listed_members(truth, include_removed=include_removed):
        profile = member["profile"]
        tag = profile["status"][".tag"]
        found[profile["team_member_id"]] = {
            "email": lower(profile["email"]),
            "status": _STATUS[tag],
            "provider_status": tag,
            "is_admin": bool(member["roles"]),
            "display_name": profile["name"]["display_name"],
            "created_at": parse_time(profile["invited_on"]),
        }
    return found


def privileges(truth: Mapping[str, Any], *, include_removed: bool = False) -> set[tuple[str, str, str]]:
    """(account_id, role_id, role name) for every admin role a listed member holds."""
    return {
        (member["profile"]["team_member_id"], role["role_id"], role["name"])
        for member in listed_members(truth, include_removed=include_removed)
        for role in member["roles"]
    }


def groups(truth: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """group_id -> (name, who manages it: system_managed, company_managed, user_managed)."""
    return {g["group_id"]: (g["group_name"], g["group_management_type"][".tag"]) for g in truth["groups"]}


def memberships(truth: Mapping[str, Any]) -> set[tuple[str, str, str]]:
    """(group_id, account_id, owner / member)."""
    return {
        (group_id, entry["profile"]["team_member_id"], entry["access_type"][".tag"])
        for group_id, entries in truth["group_members"].items()
        for entry in entries
    }


def grants(truth: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(account_id, app_id) -> what the grant reaches, the app's name and when it was linked (None
    where Dropbox's history has no link time)."""
    return {
        (linked["team_member_id"], app["app_id"]): {
            "scopes": ["app_folder" if app["is_app_folder"] else "full_dropbox"],
            "client_name": app["app_name"],
            "created_at": parse_time(app.get("linked")),
        }
        for linked in truth["linked_apps"]
        for app in linked["linked_api_apps"]
    }


def events(truth: Mapping[str, Any], since: datetime | None = None) -> Counter[bytes]:
    """The audit events (at or after ``since``), each as its canonical JSON: Dropbox gives them no id."""
    return Counter(
        orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
        for event in truth["events"]
        if since is None or parse_time(event["timestamp"]) >= since  # type: ignore[operator]
    )


def failed_sign_ins(truth: Mapping[str, Any]) -> set[tuple[str, datetime | None]]:
    """(email, time) of each login_fail event (EventType login_fail, its actor the user)."""
    return {
        (event["actor"]["user"]["email"], parse_time(event["timestamp"]))
        for event in truth["events"]
        if event["event_type"][".tag"] == "login_fail"
    }
