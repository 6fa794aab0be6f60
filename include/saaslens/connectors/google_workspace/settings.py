"""The settings stage: the customer's security settings for the posture rules (include/posture/google_workspace).

- Cloud Identity Policy API policies.list (``pageSize`` <= 100, ``pageToken``; super admins only;
  scope ``cloud-identity.policies.readonly``):
  https://cloud.google.com/identity/docs/reference/rest/v1/policies/list . Each policy binds one
  setting (``setting.type`` like ``settings/security.password``, ``setting.value`` with the fields
  https://cloud.google.com/identity/docs/concepts/supported-policy-api-settings lists) to an
  organizational unit or a group (``policyQuery.orgUnit`` / ``group``, ``sortOrder``), and is
  ``ADMIN`` (set in the Admin console) or ``SYSTEM`` (Google's default). All policies are listed
  once and one settings row is kept per setting type the rules read, holding every policy of that
  type: the rules apply Google's reduction (the greatest sortOrder that sets a field wins, per
  organizational unit or group: https://cloud.google.com/identity/docs/concepts/policy-api-concepts)
  and check the root and every narrower unit and group.
- Super admins: Directory API users.list ``query=isAdmin=true``
  (https://developers.google.com/workspace/admin/directory/v1/guides/search-users), read with the
  users scope; without it only that setting is denied.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from saaslens.connectors.google_workspace.connector import (
    DIRECTORY,
    POLICY_SCOPE,
    STAGE_SCOPES,
    USER_SCOPE,
    GoogleWorkspaceConnector,
)
from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.connectors.settings_reads import read_setting, setting_row
from saaslens.http.pagination import PageTokenPaginator
from saaslens.vocabulary import Stage

POLICIES = "v1/policies"
# The setting types the rules read; each becomes the setting id with "." as "_"
# (security.password -> security_password).
SETTING_TYPES = (
    "security.two_step_verification_enrollment",
    "security.two_step_verification_enforcement",
    "security.two_step_verification_enforcement_factor",
    "security.two_step_verification_grace_period",
    "security.two_step_verification_device_trust",
    "security.password",
    "security.session_controls",
    "security.less_secure_apps",
    "security.super_admin_account_recovery",
    "security.user_account_recovery",
    "drive_and_docs.external_sharing",
    "drive_and_docs.drive_sdk",
)
SETTINGS_PREFIX = "settings/"


def setting_id(setting_type: str) -> str:
    return setting_type.removeprefix(SETTINGS_PREFIX).replace(".", "_")


def policy_item(policy: dict[str, Any]) -> dict[str, Any]:
    """A policy as the rules read it: Google's field names, without the customer and the CEL query
    (orgUnit and group already say where it applies)."""
    query = policy.get("policyQuery") or {}
    setting = policy.get("setting") or {}
    return {
        "name": policy.get("name"),
        "type": policy.get("type"),
        "policyQuery": {key: query.get(key) for key in ("orgUnit", "group", "sortOrder") if key in query},
        "setting": {"type": setting.get("type"), "value": setting.get("value")},
    }


def policies_by_setting(policies: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every listed policy of the setting types the rules read, by setting id (each type present,
    an empty list when no policy sets it)."""
    grouped: dict[str, list[dict[str, Any]]] = {setting_id(t): [] for t in SETTING_TYPES}
    for policy in policies:
        kind = str((policy.get("setting") or {}).get("type") or "")
        key = setting_id(kind)
        if key in grouped:
            grouped[key].append(policy_item(policy))
    return grouped


def super_admin_item(user: dict[str, Any]) -> dict[str, Any]:
    return {key: user.get(key) for key in ("id", "primaryEmail", "isAdmin", "suspended", "archived")}


def scan_settings(connector: GoogleWorkspaceConnector, resume: JSON | None) -> Iterator[Batch]:
    client = connector.stage_client(Stage.SETTINGS)
    params: dict[str, Any] = {"pageSize": connector.page_size(100)}
    if connector.customer != "my_customer":
        params["filter"] = f'customer == "customers/{connector.customer}"'
    source = f"GET {POLICIES}"
    listed = read_setting(
        "policies", source, lambda: list(client.iter_items(POLICIES, PageTokenPaginator("policies"), params))
    )
    rows: list[Row] = []
    if listed["status"] == "available":
        for key, items in policies_by_setting(json.loads(listed["value"])).items():
            rows.append(setting_row(key, source, items))
    else:
        # The listing was refused: every setting it carries says why.
        rows += [{**listed, "setting_id": setting_id(t)} for t in SETTING_TYPES]
    users = connector.api(*STAGE_SCOPES[Stage.USERS])
    user_params = {"customer": connector.customer, "query": "isAdmin=true", "maxResults": connector.page_size(500)}
    rows.append(
        read_setting(
            "super_admins",
            f"GET {DIRECTORY}/users?query=isAdmin=true",
            lambda: [
                super_admin_item(u)
                for u in users.iter_items(f"{DIRECTORY}/users", PageTokenPaginator("users"), user_params)
            ],
        )
    )
    yield Batch("settings", rows)


STAGE = SnapshotStage(
    stage=Stage.SETTINGS,
    scan=scan_settings,
    permission=f"{POLICY_SCOPE} as a super admin (and {USER_SCOPE} for the super admin count)",
    probe=Probe(POLICIES, {"pageSize": 1}),
)
