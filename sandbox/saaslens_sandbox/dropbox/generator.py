"""A Dropbox team generated from a seed: members, groups, admin roles, linked apps, shared links and
the team's audit log, in the shapes Dropbox's Stone definitions give them (dropbox/dropbox-api-spec:
team.stone, team_common.stone, team_log.stone, sharing.stone; the copies in shared/api-specs/dropbox).

Oddities taken from the definitions and Dropbox's reference pages, so a connector meets them here
first:

* a member's ``status`` is a union: ``active``, ``invited`` (no ``joined_on``, and often no
  ``account_id`` yet: the field is optional), ``suspended`` (with ``suspended_on``) and ``removed``,
  which members/list:2 lists only with ``include_removed`` (team.stone, TeamMemberStatus);
* ``roles`` holds the admin roles Dropbox names (Team admin, User management admin, Support admin,
  Billing admin, Content admin, Security admin, Compliance admin, Reports admin:
  https://help.dropbox.com/security/admin-roles); members without one have ``roles: []``;
* every team has the system-managed group "Everyone at <team>", whose ``member_count`` is absent
  (GroupSummary: ``member_count UInt32?``), beside company- and user-managed groups;
* a linked app's ``linked`` time is optional (ApiApp: "may be missing due to historical data gap"),
  and so is its ``publisher``;
* audit events have no id, arrive unsorted within a page ("events are not guaranteed to be sorted
  by their timestamp value", GetTeamEventsResult), carry ``actor`` unions of every kind (``user``,
  ``admin``, ``app``, ``dropbox``, ``anonymous``), and ``origin`` only where it is known.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

GIVEN = ("Ada", "Grace", "Linus", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Niklaus")
SURNAMES = ("Lovelace", "Hopper", "Torvalds", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Ritchie")
# https://help.dropbox.com/security/admin-roles: the admin roles a team member may hold.
ADMIN_ROLES = (
    ("pid_dbtmr:team_admin", "Team admin", "Full access to all team admin settings and actions"),
    ("pid_dbtmr:user_management_admin", "User management admin", "Manage team members and groups"),
    ("pid_dbtmr:support_admin", "Support admin", "Reset passwords and help members"),
    ("pid_dbtmr:billing_admin", "Billing admin", "Manage billing and licences"),
    ("pid_dbtmr:content_admin", "Content admin", "Manage team folders and content"),
    ("pid_dbtmr:security_admin", "Security admin", "Manage security settings and activity"),
    ("pid_dbtmr:compliance_admin", "Compliance admin", "Manage legal holds and data governance"),
    ("pid_dbtmr:reports_admin", "Reports admin", "View team activity and reports"),
)
APP_NAMES = (
    ("Zapier", "Zapier Inc.", "https://zapier.com", False),
    ("HelloSign", "Dropbox", "https://hellosign.com", False),
    ("Backup Tool", None, None, True),
    ("Slack for Dropbox", "Slack Technologies", "https://slack.com", False),
    ("Photo Sync", "Acme Apps", None, True),
)
# (event_type tag, event category, details struct fields) for the audit events generated; the tags and
# categories are team_log.stone's EventType / EventCategory members.
EVENT_KINDS = ("login_success", "login_fail", "logout", "group_add_member", "shared_link_create", "app_link_user")


def ts(moment: datetime) -> str:
    """A common.DropboxTimestamp: ISO 8601 in UTC, whole seconds, with a Z (common.stone)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id(rng: random.Random, length: int = 24) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return "".join(rng.choice(alphabet) for _ in range(length))


@dataclass
class Team:
    team_id: str
    name: str
    domain: str
    members: list[dict[str, Any]] = field(default_factory=list)  # TeamMemberInfoV2
    groups: list[dict[str, Any]] = field(default_factory=list)  # GroupSummary
    group_members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # group id -> GroupMemberInfo
    linked_apps: list[dict[str, Any]] = field(default_factory=list)  # MemberLinkedApps
    shared_links: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # team member id -> links
    events: list[dict[str, Any]] = field(default_factory=list)  # TeamEvent, ascending time
    admin_id: str = ""


def member_profile(info: dict[str, Any]) -> dict[str, Any]:
    """The MemberProfile (without TeamMemberProfile's groups and folders) of a TeamMemberInfoV2."""
    profile = info["profile"]
    return {k: v for k, v in profile.items() if k not in ("groups", "member_folder_id", "root_folder_id")}


def user_log_info(info: dict[str, Any]) -> dict[str, Any]:
    profile = info["profile"]
    found = {
        ".tag": "team_member",
        "display_name": profile["name"]["display_name"],
        "email": profile["email"],
        "team_member_id": profile["team_member_id"],
    }
    if profile.get("account_id"):
        found["account_id"] = profile["account_id"]
    return found


def generate(seed: int, users: int, events: int, anchor: datetime, tenant: str) -> Team:
    rng = random.Random(f"dropbox:{seed}")
    team = Team(team_id=f"dbtid:{_id(rng, 28)}", name=f"{tenant.title()} Inc.", domain=f"{tenant}.example.com")
    created = anchor - timedelta(days=900)
    for index in range(max(users, 2)):
        given, surname = rng.choice(GIVEN), rng.choice(SURNAMES)
        member_id = f"dbmid:{_id(rng, 36)}"
        draw = rng.random()
        # The first member is the team admin the sandbox's tokens were linked by; always active.
        status = "active" if index == 0 or draw < 0.8 else ("invited" if draw < 0.88 else "suspended")
        if index > 2 and rng.random() < 0.05:
            status = "removed"
        invited = created + timedelta(days=rng.randint(0, 800), seconds=rng.randint(0, 86399))
        profile: dict[str, Any] = {
            "team_member_id": member_id,
            "email": f"{given.lower()}.{surname.lower()}{index}@{team.domain}",
            "email_verified": status != "invited",
            "status": {".tag": status},
            "name": {
                "given_name": given,
                "surname": surname,
                "familiar_name": given,
                "display_name": f"{given} {surname}",
                "abbreviated_name": f"{given[0]}{surname[0]}",
            },
            "membership_type": {".tag": "full" if rng.random() < 0.95 else "limited"},
            "invited_on": ts(invited),
            "groups": [],
            "member_folder_id": str(rng.randint(10**9, 10**10)),
            "root_folder_id": str(rng.randint(10**9, 10**10)),
        }
        if status != "invited" or rng.random() < 0.3:
            profile["account_id"] = f"dbid:{_id(rng, 40)}"
        if status != "invited":
            profile["joined_on"] = ts(invited + timedelta(hours=rng.randint(1, 200)))
        if status == "suspended":
            profile["suspended_on"] = ts(anchor - timedelta(days=rng.randint(1, 60)))
        if status == "removed":
            profile["status"] = {".tag": "removed", "is_recoverable": rng.random() < 0.5, "is_disconnected": False}
        if rng.random() < 0.3:
            profile["external_id"] = f"ADSYNC S-1-5-21-{rng.randint(10**8, 10**9)}"
        if rng.random() < 0.2:
            profile["persistent_id"] = _id(rng, 16)
        roles: list[dict[str, Any]] = []
        if index == 0:
            roles = [_role(ADMIN_ROLES[0])]
        elif status in ("active", "suspended") and rng.random() < 0.12:
            roles = [_role(choice) for choice in rng.sample(ADMIN_ROLES, rng.choice((1, 1, 2)))]
        team.members.append({"profile": profile, "roles": roles})
    team.admin_id = team.members[0]["profile"]["team_member_id"]
    listed = [m for m in team.members if m["profile"]["status"][".tag"] != "removed"]

    # Groups: the system-managed "Everyone at" group (no member_count), company and user managed ones.
    everyone: dict[str, Any] = {
        "group_name": f"Everyone at {team.name}",
        "group_id": f"g:{_id(rng, 30)}",
        "group_management_type": {".tag": "system_managed"},
    }
    team.groups.append(everyone)
    team.group_members[everyone["group_id"]] = [
        {"profile": member_profile(m), "access_type": {".tag": "member"}}
        for m in listed
        if m["profile"]["status"][".tag"] == "active"
    ]
    for number in range(max(2, users // 12)):
        kind = "company_managed" if rng.random() < 0.5 else "user_managed"
        group: dict[str, Any] = {
            "group_name": f"{rng.choice(('Design', 'Legal', 'Sales', 'Finance', 'Ops', 'Eng'))} {number}",
            "group_id": f"g:{_id(rng, 30)}",
            "group_management_type": {".tag": kind},
        }
        if rng.random() < 0.4:
            group["group_external_id"] = f"ext-{number}"
        chosen = rng.sample(listed, min(len(listed), rng.randint(0, 9)))
        team.group_members[group["group_id"]] = [
            {"profile": member_profile(m), "access_type": {".tag": "owner" if rng.random() < 0.15 else "member"}}
            for m in chosen
        ]
        group["member_count"] = len(chosen)
        team.groups.append(group)
    for group in team.groups:
        for entry in team.group_members[group["group_id"]]:
            member = next(
                m for m in team.members if m["profile"]["team_member_id"] == entry["profile"]["team_member_id"]
            )
            member["profile"]["groups"].append(group["group_id"])
    # a group's member list shows the profile as it was listed: groups are refreshed after the fact
    for entries in team.group_members.values():
        for entry in entries:
            entry["profile"] = member_profile(_by_id(team, entry["profile"]["team_member_id"]))

    # Linked apps per member (team/linked_apps/list_members_linked_apps): only members with an app appear.
    for member in listed:
        if rng.random() < 0.35:
            apps = []
            for name, publisher, url, app_folder in rng.sample(APP_NAMES, rng.randint(1, 2)):
                app: dict[str, Any] = {
                    "app_id": "dbaid:" + hashlib.sha256(name.encode()).hexdigest()[:24],
                    "app_name": name,
                    "is_app_folder": app_folder,
                }
                if publisher:
                    app["publisher"] = publisher
                if url:
                    app["publisher_url"] = url
                if rng.random() < 0.8:  # "linked" may be missing due to a historical data gap
                    app["linked"] = ts(anchor - timedelta(days=rng.randint(1, 400)))
                apps.append(app)
            team.linked_apps.append({"team_member_id": member["profile"]["team_member_id"], "linked_api_apps": apps})

    # Shared links per member (sharing/list_shared_links with Dropbox-API-Select-User).
    for member in listed:
        if member["profile"]["status"][".tag"] != "active" or rng.random() > 0.4:
            continue
        links = []
        for number in range(rng.randint(1, 3)):
            links.append(_shared_link(rng, team, member, number, anchor))
        team.shared_links[member["profile"]["team_member_id"]] = links

    team.events = _events(rng, team, listed, events, anchor)
    return team


def _by_id(team: Team, member_id: str) -> dict[str, Any]:
    return next(m for m in team.members if m["profile"]["team_member_id"] == member_id)


def _role(role: tuple[str, str, str]) -> dict[str, str]:
    return {"role_id": role[0], "name": role[1], "description": role[2]}


def _shared_link(
    rng: random.Random, team: Team, member: dict[str, Any], number: int, anchor: datetime
) -> dict[str, Any]:
    """A FileLinkMetadata or FolderLinkMetadata (sharing.stone) as its owner lists it."""
    is_file = rng.random() < 0.7
    name = f"{rng.choice(('Budget', 'Roadmap', 'Contract', 'Photos', 'Notes'))} {number}" + (".pdf" if is_file else "")
    folder = rng.choice(("/projects", "/shared", "/clients"))
    visibility = rng.choice(("public", "public", "team_only", "password"))
    audience = {"public": "public", "team_only": "team", "password": "password"}[visibility]
    file_id = f"id:{_id(rng, 22)}"
    key = _id(rng, 15).lower()
    link: dict[str, Any] = {
        ".tag": "file" if is_file else "folder",
        "url": f"https://www.dropbox.com/scl/fi/{key}/{name.replace(' ', '%20')}?rlkey={_id(rng, 25).lower()}&dl=0",
        "id": file_id,
        "name": name,
        "path_lower": f"{folder}/{name}".lower(),
        "link_permissions": {
            "resolved_visibility": {".tag": visibility},
            "requested_visibility": {".tag": visibility},
            "can_revoke": True,
            "effective_audience": {".tag": audience},
            "link_access_level": {".tag": "viewer" if rng.random() < 0.8 else "editor"},
            "visibility_policies": [],
            "can_set_expiry": True,
            "can_remove_expiry": True,
            "allow_download": True,
            "can_allow_download": True,
            "can_disallow_download": True,
            "allow_comments": True,
            "team_restricts_comments": False,
        },
        "team_member_info": {
            "team_info": {"id": team.team_id, "name": team.name},
            "display_name": member["profile"]["name"]["display_name"],
            "member_id": member["profile"]["team_member_id"],
        },
    }
    if rng.random() < 0.25:
        link["expires"] = ts(anchor + timedelta(days=rng.randint(1, 90)))
    if is_file:
        modified = anchor - timedelta(days=rng.randint(1, 300), seconds=rng.randint(0, 86399))
        link.update(
            client_modified=ts(modified),
            server_modified=ts(modified + timedelta(seconds=rng.randint(1, 60))),
            rev=f"{rng.randint(10**8, 10**9):x}{rng.randint(10**8, 10**9):x}",
            size=rng.randint(1, 50_000_000),
        )
    return link


def _origin(rng: random.Random) -> dict[str, Any]:
    return {
        "geo_location": {
            "city": "Dublin",
            "region": "Leinster",
            "country": "IE",
            "ip_address": f"198.51.100.{rng.randint(1, 254)}",
        },
        "access_method": {
            ".tag": "end_user",
            "end_user": {".tag": "web", "session_id": f"dbwsid:{rng.randint(10**17, 10**18)}"},
        },
    }


def _events(
    rng: random.Random, team: Team, listed: list[dict[str, Any]], count: int, anchor: datetime
) -> list[dict[str, Any]]:
    """TeamEvents over the 30 days before ``anchor``, oldest first (the personality serves them unsorted
    within a page, as Dropbox documents it may)."""
    active = [m for m in listed if m["profile"]["status"][".tag"] == "active"] or listed
    found = []
    for _ in range(count):
        at = anchor - timedelta(seconds=rng.randint(60, 30 * 86400))
        member = rng.choice(active)
        kind = rng.choice(EVENT_KINDS)
        found.append(event(kind, at, member, rng=rng, team=team))
    found.sort(key=lambda e: e["timestamp"])
    return found


def event(
    kind: str,
    at: datetime,
    member: dict[str, Any],
    *,
    rng: random.Random,
    team: Team,
    admin: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One TeamEvent (team_log.stone) of the given EventType tag."""
    who = user_log_info(member)
    body: dict[str, Any] = {"timestamp": ts(at), "event_type": {".tag": kind}}
    if kind in ("login_success", "login_fail", "logout"):
        body["event_category"] = {".tag": "logins"}
        body["event_type"]["description"] = {
            "login_success": "Signed in",
            "login_fail": "Failed to sign in",
            "logout": "Signed out",
        }[kind]
        body["actor"] = {".tag": "user", "user": who}
        body["origin"] = _origin(rng)
        if kind == "login_success":
            body["details"] = {
                ".tag": "login_success_details",
                "is_emm_managed": False,
                "login_method": {".tag": "password"},
            }
        elif kind == "login_fail":
            body["details"] = {
                ".tag": "login_fail_details",
                "login_method": {".tag": "password"},
                "error_details": {
                    "user_friendly_message": "Incorrect password",
                    "technical_error_message": "invalid_password",
                },
            }
        else:
            body["details"] = {".tag": "logout_details"}
        body["context"] = {".tag": "team_member", **{k: v for k, v in who.items() if k != ".tag"}}
    elif kind == "group_add_member":
        group = rng.choice(team.groups)
        body["event_category"] = {".tag": "groups"}
        body["event_type"]["description"] = "Added team members to group"
        body["actor"] = {".tag": "admin", "admin": user_log_info(admin or _by_id(team, team.admin_id))}
        body["context"] = {".tag": "team"}
        body["participants"] = [
            {".tag": "group", "group_id": group["group_id"], "display_name": group["group_name"]},
            {".tag": "user", "user": who},
        ]
        body["details"] = {".tag": "group_add_member_details", "is_group_owner": False}
    elif kind == "shared_link_create":
        body["event_category"] = {".tag": "sharing"}
        body["event_type"]["description"] = "Created shared link"
        body["actor"] = {".tag": "user", "user": who}
        body["origin"] = _origin(rng)
        body["context"] = {".tag": "team_member", **{k: v for k, v in who.items() if k != ".tag"}}
        body["assets"] = [
            {
                ".tag": "file",
                "path": {
                    "contextual": "/projects/notes.txt",
                    "namespace_relative": {"ns_id": "1234", "relative_path": "/notes.txt"},
                },
                "display_name": "notes.txt",
                "file_id": f"id:{_id(rng, 22)}",
            }
        ]
        body["details"] = {".tag": "shared_link_create_details", "shared_link_access_level": {".tag": "reader"}}
    elif kind == "app_link_user":
        name, _, _, _ = rng.choice(APP_NAMES)
        body["event_category"] = {".tag": "apps"}
        body["event_type"]["description"] = "Linked app for member"
        body["actor"] = {".tag": "user", "user": who}
        body["context"] = {".tag": "team_member", **{k: v for k, v in who.items() if k != ".tag"}}
        body["details"] = {
            ".tag": "app_link_user_details",
            "app_info": {
                ".tag": "user_linked_app",
                "app_id": "dbaid:" + hashlib.sha256(name.encode()).hexdigest()[:24],
                "display_name": name,
            },
        }
    elif kind == "member_change_status":
        body["event_category"] = {".tag": "members"}
        body["event_type"]["description"] = "Changed member status (invited, joined, suspended, etc.)"
        body["actor"] = {".tag": "admin", "admin": user_log_info(admin or _by_id(team, team.admin_id))}
        body["context"] = {".tag": "team_member", **{k: v for k, v in who.items() if k != ".tag"}}
        body["details"] = {".tag": "member_change_status_details", **(details or {})}
    elif kind == "shared_link_remove_expiry" or kind == "shared_content_remove_link_password":
        raise ValueError(kind)
    elif kind == "shared_link_disable":
        body["event_category"] = {".tag": "sharing"}
        body["event_type"]["description"] = "Removed shared link"
        body["actor"] = {".tag": "user", "user": who}
        body["context"] = {".tag": "team_member", **{k: v for k, v in who.items() if k != ".tag"}}
        body["details"] = {".tag": "shared_link_disable_details", **(details or {})}
    else:
        raise ValueError(f"no generator for event type {kind!r}")
    body["involve_non_team_member"] = False
    return body
