"""OCSF classes and activities for the catalog's activities_normalized view.

Each app declares how its provider actions map (its folder's ocsf.csv, read by kit.read_ocsf and carried
by its AppSpec as `ocsf`); this module holds only OCSF's own vocabulary those mappings are checked against.
Each provider action maps to an Open Cybersecurity Schema Framework event class and activity, so the
activity table can be exported to security data lakes that speak OCSF (Amazon Security Lake,
Splunk, Chronicle ...). Ids and captions are OCSF's own, from the schema's class definitions
(github.com/ocsf/ocsf-schema, events/iam/*.json and events/application/*.json; browsable at
https://schema.ocsf.io/1.3.0/classes/authentication and its sibling pages):

- Authentication (3002, events/iam/authentication.json): 1 Logon, 2 Logoff.
- Account Change (3001, events/iam/account_change.json): 1 Create, 2 Enable, 3 Password Change,
  4 Password Reset, 5 Disable, 6 Delete, 7 Attach Policy, 8 Detach Policy, 9 Lock,
  10 MFA Factor Enable, 11 MFA Factor Disable.
- User Access Management (3005, events/iam/user_access.json): 1 Assign Privileges,
  2 Revoke Privileges, 3 Assign Role, 4 Remove Role. (OCSF 1.9 deprecates it for User Management;
  3005 is what today's OCSF consumers read.)
- Group Management (3006, events/iam/group_management.json): 1 Assign Privileges,
  2 Revoke Privileges, 3 Add User, 4 Remove User.
- API Activity (6003, events/application/api_activity.json): 1 Create, 2 Read, 3 Update, 4 Delete.
- File Hosting Activity (6006, events/application/file_hosting.json): the class OCSF defines for
  "file sharing servers like Sharepoint and services such as Box, MS OneDrive, or Google Drive";
  file events from SaaS apps are that, not File System Activity (1001), which is an endpoint's
  local file system.

Every class also has 0 Unknown and 99 Other ("the event activity is not mapped; see activity_name,
which contains a data source specific value"): an action its app does not map falls back on its
category's class with activity 99, and activity_name then carries the provider's action.
severity_id follows OCSF's base event: 1 Informational, 2 Low, 3 Medium, 4 High; status_id
0 Unknown, 1 Success, 2 Failure.
"""

from __future__ import annotations

from collections.abc import Iterable

from saaslens.connectors.kit import OcsfMapping

OTHER = 99

# class_uid -> (class_name, category_uid, category_name)
CLASSES: dict[int, tuple[str, int, str]] = {
    3001: ("Account Change", 3, "Identity & Access Management"),
    3002: ("Authentication", 3, "Identity & Access Management"),
    3005: ("User Access Management", 3, "Identity & Access Management"),
    3006: ("Group Management", 3, "Identity & Access Management"),
    6003: ("API Activity", 6, "Application Activity"),
    6006: ("File Hosting Activity", 6, "Application Activity"),
}

_COMMON = {0: "Unknown", OTHER: "Other"}
ACTIVITIES: dict[int, dict[int, str]] = {
    3001: {
        1: "Create",
        2: "Enable",
        3: "Password Change",
        4: "Password Reset",
        5: "Disable",
        6: "Delete",
        7: "Attach Policy",
        8: "Detach Policy",
        9: "Lock",
        10: "MFA Factor Enable",
        11: "MFA Factor Disable",
        **_COMMON,
    },
    3002: {1: "Logon", 2: "Logoff", **_COMMON},
    3005: {1: "Assign Privileges", 2: "Revoke Privileges", 3: "Assign Role", 4: "Remove Role", **_COMMON},
    3006: {1: "Assign Privileges", 2: "Revoke Privileges", 3: "Add User", 4: "Remove User", **_COMMON},
    6003: {1: "Create", 2: "Read", 3: "Update", 4: "Delete", **_COMMON},
    6006: {
        1: "Upload",
        2: "Download",
        3: "Update",
        4: "Delete",
        5: "Rename",
        6: "Copy",
        7: "Move",
        8: "Restore",
        9: "Preview",
        10: "Lock",
        11: "Unlock",
        12: "Share",
        13: "Unshare",
        14: "Open",
        15: "Sync",
        16: "Unsync",
        **_COMMON,
    },
}

SEVERITIES = {0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical", 6: "Fatal"}
STATUSES = {"unknown": (0, "Unknown"), "success": (1, "Success"), "failure": (2, "Failure")}

# Canonical category -> the class an unmapped action of that category falls back on (activity 99).
CATEGORY_DEFAULTS: dict[str, int] = {
    "logon": 3002,
    "user": 6003,  # what people do in the app (pull requests, channel joins): API activity
    "admin": 6003,  # configuration changes
    "app": 6003,
    "file": 6006,
}


def validate(app: str, mappings: Iterable[OcsfMapping]) -> None:
    """Every mapping an app declares names a known class, one of its activities and a known
    severity, once per action; a wrong one raises naming the app and the action."""
    seen: set[str] = set()
    for mapping in mappings:
        key = (app, mapping.action)
        if mapping.action in seen:
            raise ValueError(f"OCSF mapping for {key} is given twice")
        seen.add(mapping.action)
        if mapping.activity_id not in ACTIVITIES.get(mapping.class_uid, {}):
            raise ValueError(f"OCSF mapping for {key}: class {mapping.class_uid} has no activity {mapping.activity_id}")
        if mapping.severity_id not in SEVERITIES:
            raise ValueError(f"OCSF mapping for {key}: unknown severity_id {mapping.severity_id}")


def _validate_defaults() -> None:
    for category, class_uid in CATEGORY_DEFAULTS.items():
        if class_uid not in CLASSES:
            raise ValueError(f"category {category!r} falls back on unknown OCSF class {class_uid}")


_validate_defaults()
