"""Cloud Identity Policy API for the Google Workspace personality: the customer's security settings
as policies, with planted misconfigurations per tenant and the admin audit event a change writes.

What Google documents and this emulates:

* ``GET https://cloudidentity.googleapis.com/v1/policies`` (``pageSize`` default 50, at most 100 and
  larger values taken as 100; ``pageToken`` only valid with the same other parameters; ``filter`` a
  CEL expression of ``customer == "customers/{id}"`` and ``setting.type.matches('<regex>')`` clauses
  joined by ``&&`` / ``||``); response ``{"policies": [...], "nextPageToken"}``; scopes
  ``cloud-identity.policies.readonly`` or ``cloud-identity.policies``:
  https://cloud.google.com/identity/docs/reference/rest/v1/policies/list
* The Policy resource ``{name, customer, policyQuery: {query, orgUnit, group, sortOrder}, setting:
  {type, value}, type: ADMIN|SYSTEM}``: https://cloud.google.com/identity/docs/reference/rest/v1/policies
* "Only a super administrator can use the Cloud Identity Policy API":
  https://cloud.google.com/identity/docs/concepts/overview-policies
* Setting types and their field names (``security.password`` minimumLength / allowedStrength /
  enforceRequirementsAtLogin / allowReuse / expirationDuration in seconds, ``security.session_controls``
  webSessionDuration, ``security.less_secure_apps`` allowLessSecureApps, the account recovery
  settings' enableAccountRecovery, ``security.two_step_verification_*``):
  https://cloud.google.com/identity/docs/concepts/supported-policy-api-settings
* Admin policies are the ones an administrator set in the Admin console; system policies are Google's
  defaults; for a user the policy with the greatest ``sortOrder`` that sets a field wins
  ("Reduction", Max / Merge reducers): https://cloud.google.com/identity/docs/concepts/policy-api-concepts
* The admin audit events a change writes (Reports API, applicationName=admin): security settings
  (``ENFORCE_STRONG_AUTHENTICATION``, ``CHANGE_ALLOWED_TWO_STEP_VERIFICATION_METHODS``,
  ``CHANGE_TWO_STEP_VERIFICATION_ENROLLMENT_PERIOD_DURATION``, ``CHANGE_TWO_STEP_VERIFICATION_FREQUENCY``,
  ``WEAK_PROGRAMMATIC_LOGIN_SETTINGS_CHANGED``):
  https://developers.google.com/workspace/admin/reports/v1/appendix/activity/admin-security-settings ;
  application settings (``CHANGE_APPLICATION_SETTING`` with SETTING_NAME, OLD_VALUE, NEW_VALUE,
  ORG_UNIT_NAME, APPLICATION_NAME):
  https://developers.google.com/workspace/admin/reports/v1/appendix/activity/admin-application-settings ;
  Docs settings (``CHANGE_DOCS_SETTING``):
  https://developers.google.com/workspace/admin/reports/v1/appendix/activity/admin-docs-settings

Approximations: the filter understands only the two documented clause forms; licence-scoped system
policies are one per setting; Durations are written as Google's JSON form ``"<seconds>s"``.
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass
from typing import Any

SETTINGS_PREFIX = "settings/"
# Google's defaults (system policies), as the supported-settings page lists each field: what a
# customer gets until an administrator sets a value. Several are the insecure side of a baseline,
# which is why an admin policy that leaves a field unset inherits them.
SYSTEM_DEFAULTS: dict[str, dict[str, Any]] = {
    "security.two_step_verification_enrollment": {"allowEnrollment": True},
    "security.two_step_verification_enforcement": {"enforcedFrom": "1970-01-01T00:00:00Z"},
    "security.two_step_verification_enforcement_factor": {"allowedSignInFactorSet": "ALL"},
    "security.two_step_verification_grace_period": {"enrollmentGracePeriod": "0s"},
    "security.two_step_verification_device_trust": {"allowTrustingDevice": True},
    "security.password": {
        "allowedStrength": "STRONG",
        "minimumLength": 8,
        "maximumLength": 100,
        "enforceRequirementsAtLogin": False,
        "allowReuse": False,
        "expirationDuration": "0s",
    },
    "security.session_controls": {"webSessionDuration": "1209600s"},
    "security.less_secure_apps": {"allowLessSecureApps": False},
    "security.super_admin_account_recovery": {"enableAccountRecovery": False},
    "security.user_account_recovery": {"enableAccountRecovery": False},
    "drive_and_docs.external_sharing": {
        "externalSharingMode": "ALLOWED",
        "warnForExternalSharing": True,
        "allowNonGoogleInvites": True,
        "allowPublishingFiles": True,
        "allowReceivingExternalFiles": True,
        "accessCheckerSuggestions": "RECIPIENTS_OR_AUDIENCE_OR_PUBLIC",
    },
    "drive_and_docs.drive_sdk": {"enableDriveSdkApiAccess": True},
}

# The secure baseline an administrator of every tenant set on the root organizational unit.
SECURE_ROOT: dict[str, dict[str, Any]] = {
    "security.two_step_verification_enrollment": {"allowEnrollment": True},
    "security.two_step_verification_enforcement": {"enforcedFrom": "2024-03-01T00:00:00Z"},
    "security.two_step_verification_enforcement_factor": {"allowedSignInFactorSet": "PASSKEY_ONLY"},
    "security.two_step_verification_grace_period": {"enrollmentGracePeriod": "604800s"},
    "security.two_step_verification_device_trust": {"allowTrustingDevice": False},
    "security.password": {
        "allowedStrength": "STRONG",
        "minimumLength": 16,
        "maximumLength": 100,
        "enforceRequirementsAtLogin": True,
        "allowReuse": False,
        "expirationDuration": "0s",
    },
    "security.session_controls": {"webSessionDuration": "43200s"},
    "security.less_secure_apps": {"allowLessSecureApps": False},
    "security.super_admin_account_recovery": {"enableAccountRecovery": False},
    "security.user_account_recovery": {"enableAccountRecovery": False},
    "drive_and_docs.external_sharing": {
        "externalSharingMode": "ALLOWLISTED_DOMAINS",
        "warnForExternalSharing": True,
        "warnForSharingOutsideAllowlistedDomains": True,
        "allowNonGoogleInvites": False,
        "allowNonGoogleInvitesInAllowlistedDomains": False,
        "allowPublishingFiles": False,
        "allowReceivingExternalFiles": False,
        "accessCheckerSuggestions": "RECIPIENTS_ONLY",
    },
    "drive_and_docs.drive_sdk": {"enableDriveSdkApiAccess": False},
}

# The admin audit event Google writes when each setting changes (module docstring) and, for
# application settings, the SETTING_NAME it carries.
SECURITY_EVENTS: dict[str, str] = {
    "security.two_step_verification_enforcement": "ENFORCE_STRONG_AUTHENTICATION",
    "security.two_step_verification_enforcement_factor": "CHANGE_ALLOWED_TWO_STEP_VERIFICATION_METHODS",
    "security.two_step_verification_grace_period": "CHANGE_TWO_STEP_VERIFICATION_ENROLLMENT_PERIOD_DURATION",
    "security.two_step_verification_device_trust": "CHANGE_TWO_STEP_VERIFICATION_FREQUENCY",
    "security.less_secure_apps": "WEAK_PROGRAMMATIC_LOGIN_SETTINGS_CHANGED",
}
APPLICATION_SETTING_NAMES: dict[tuple[str, str], str] = {
    ("security.password", "minimumLength"): "Password Management - Minimum password length",
    ("security.password", "allowedStrength"): "Password Management - Enforce strong password",
    ("security.password", "enforceRequirementsAtLogin"): "Password Management - Enforce password policy at next login",
    ("security.password", "allowReuse"): "Password Management - Allow password reuse",
    ("security.password", "expirationDuration"): "Password Management - Password reset frequency",
    ("security.session_controls", "webSessionDuration"): "Session management settings - Session length in seconds",
}


@dataclass(frozen=True)
class Target:
    """Where a policy applies: an organizational unit, or a group within it."""

    org_unit: str  # orgUnits/<id>
    org_unit_path: str
    group: str | None = None  # groups/<id>


def _org_unit_id(rng: random.Random) -> str:
    return "0" + "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(11))


class TenantPolicies:
    """One customer's policies: Google's system defaults, the secure admin baseline on the root
    organizational unit, and the misconfigurations planted for this tenant (`planted`)."""

    def __init__(self, seed: int, customer_id: str, group_id: str | None) -> None:
        rng = random.Random(f"gws-policies:{seed}")
        self.customer = f"customers/{customer_id}"
        self.root = Target(f"orgUnits/{_org_unit_id(rng)}", "/")
        self.contractors = Target(f"orgUnits/{_org_unit_id(rng)}", "/Contractors")
        self.engineering = Target(f"orgUnits/{_org_unit_id(rng)}", "/Engineering")
        self.group = (
            Target(self.root.org_unit, "/", f"groups/{group_id}") if group_id else Target(self.root.org_unit, "/")
        )
        self._names = random.Random(f"gws-policy-names:{seed}")
        self.policies: list[dict[str, Any]] = []
        self._admin_sort = 2000.0
        for index, (setting, value) in enumerate(SYSTEM_DEFAULTS.items()):
            # System policies sort below every admin policy (e.g. 101.00049 in Google's examples).
            self._add(setting, value, self.root, "SYSTEM", 101.0 + index / 100000)
        for setting, value in SECURE_ROOT.items():
            self._add(setting, value, self.root, "ADMIN")
        self.planted: list[str] = []
        choices = list(PLANTS)
        rng.shuffle(choices)
        for name in choices[: 3 + seed % 3]:
            PLANTS[name](self)
            self.planted.append(name)

    # ------------------------------------------------------------------ building

    def _add(
        self, setting: str, value: dict[str, Any], target: Target, kind: str, sort_order: float | None = None
    ) -> dict[str, Any]:
        if sort_order is None:
            self._admin_sort += 1.0
            sort_order = self._admin_sort
        name = "policies/" + "".join(
            self._names.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24)
        )
        ou_id = target.org_unit.removeprefix("orgUnits/")
        query = f"entity.org_units.exists(org_unit, org_unit.org_unit_id == orgUnitId('{ou_id}'))"
        policy_query: dict[str, Any] = {"query": query, "orgUnit": target.org_unit, "sortOrder": sort_order}
        if target.group:
            group_id = target.group.removeprefix("groups/")
            policy_query["query"] = f"entity.groups.exists(group, group.group_id == groupId('{group_id}'))"
            policy_query["group"] = target.group
        policy = {
            "name": name,
            "customer": self.customer,
            "policyQuery": policy_query,
            "setting": {"type": SETTINGS_PREFIX + setting, "value": copy.deepcopy(value)},
            "type": kind,
        }
        self.policies.append(policy)
        return policy

    def admin_policy(self, setting: str, target: Target) -> dict[str, Any] | None:
        for policy in self.policies:
            query = policy["policyQuery"]
            if (
                policy["type"] == "ADMIN"
                and policy["setting"]["type"] == SETTINGS_PREFIX + setting
                and query["orgUnit"] == target.org_unit
                and query.get("group") == target.group
            ):
                return policy
        return None

    def path_of(self, org_unit: str) -> str:
        for target in (self.root, self.contractors, self.engineering):
            if target.org_unit == org_unit:
                return target.org_unit_path
        return org_unit

    # ------------------------------------------------------------------ the API

    def listed(self, setting_pattern: re.Pattern[str] | None) -> list[dict[str, Any]]:
        """Policies in a stable order (Google lists them by name), optionally of matching types."""
        chosen = [p for p in self.policies if setting_pattern is None or setting_pattern.search(p["setting"]["type"])]
        return sorted(chosen, key=lambda p: p["name"])

    def change(self, setting: str, fields: dict[str, Any], target: Target) -> tuple[dict[str, Any], dict[str, Any]]:
        """An administrator sets `fields` of `setting` on `target` in the Admin console: the admin
        policy there changes (or is created); returns the policy and the fields' old values."""
        if setting not in SYSTEM_DEFAULTS:
            raise ValueError(f"unknown setting {setting!r}; known: {sorted(SYSTEM_DEFAULTS)}")
        policy = self.admin_policy(setting, target) or self._add(setting, {}, target, "ADMIN")
        value = policy["setting"]["value"]
        old = {key: value.get(key) for key in fields}
        value.update(copy.deepcopy(fields))
        return policy, old

    def audit_events(
        self, setting: str, old: dict[str, Any], new: dict[str, Any], target: Target
    ) -> list[dict[str, Any]]:
        """The admin audit events Google writes for the change (module docstring)."""
        unit = target.org_unit_path
        if setting in SECURITY_EVENTS:
            name = SECURITY_EVENTS[setting]
            parameters = [{"name": "ORG_UNIT_NAME", "value": unit}]
            for key in new:
                parameters += [
                    {"name": "OLD_VALUE", "value": _text(old.get(key))},
                    {"name": "NEW_VALUE", "value": _text(new[key])},
                ]
            return [{"type": "SECURITY_SETTINGS", "name": name, "parameters": parameters}]
        if setting.startswith("drive_and_docs."):
            return [
                {
                    "type": "DOCS_SETTINGS",
                    "name": "CHANGE_DOCS_SETTING",
                    "parameters": [
                        {"name": "SETTING_NAME", "value": key},
                        {"name": "OLD_VALUE", "value": _text(old.get(key))},
                        {"name": "NEW_VALUE", "value": _text(value)},
                        {"name": "ORG_UNIT_NAME", "value": unit},
                    ],
                }
                for key, value in new.items()
            ]
        return [
            {
                "type": "APPLICATION_SETTINGS",
                "name": "CHANGE_APPLICATION_SETTING",
                "parameters": [
                    {"name": "APPLICATION_NAME", "value": "Security"},
                    {
                        "name": "SETTING_NAME",
                        "value": APPLICATION_SETTING_NAMES.get((setting, key), f"{setting} - {key}"),
                    },
                    {"name": "OLD_VALUE", "value": _text(old.get(key))},
                    {"name": "NEW_VALUE", "value": _text(value)},
                    {"name": "ORG_UNIT_NAME", "value": unit},
                ],
            }
            for key, value in new.items()
        ]

    def truth(self) -> dict[str, Any]:
        return {
            "policies": copy.deepcopy(self.policies),
            "root_org_unit": self.root.org_unit,
            "planted": list(self.planted),
        }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


# -- planted misconfigurations ----------------------------------------------------------------------
# Each weakens one setting the way real customers do: on a narrower organizational unit or group (a
# policy that overrides the root for some users), on the root itself, or by an admin policy that sets
# some fields but leaves one unset, so Google's (insecure) system default still applies to it.


def _contractors_weak_password(p: TenantPolicies) -> None:
    p._add("security.password", {"minimumLength": 8, "allowedStrength": "WEAK"}, p.contractors, "ADMIN")


def _root_password_partial(p: TenantPolicies) -> None:
    # The admin policy leaves enforceRequirementsAtLogin unset: the system default (false) applies.
    policy = p.admin_policy("security.password", p.root)
    assert policy is not None
    policy["setting"]["value"].pop("enforceRequirementsAtLogin", None)
    policy["setting"]["value"]["minimumLength"] = 12


def _password_expiry(p: TenantPolicies) -> None:
    p._add("security.password", {"expirationDuration": "7776000s", "allowReuse": True}, p.engineering, "ADMIN")


def _long_sessions(p: TenantPolicies) -> None:
    p.change("security.session_controls", {"webSessionDuration": "1209600s"}, p.root)


def _group_sms_2sv(p: TenantPolicies) -> None:
    p._add("security.two_step_verification_enforcement_factor", {"allowedSignInFactorSet": "ALL"}, p.group, "ADMIN")


def _contractors_2sv_scheduled(p: TenantPolicies) -> None:
    # Enforcement scheduled for later: not in force yet.
    p._add(
        "security.two_step_verification_enforcement", {"enforcedFrom": "2099-01-01T00:00:00Z"}, p.contractors, "ADMIN"
    )


def _trusted_devices(p: TenantPolicies) -> None:
    p.change("security.two_step_verification_device_trust", {"allowTrustingDevice": True}, p.root)


def _enrollment_period_none(p: TenantPolicies) -> None:
    p._add("security.two_step_verification_grace_period", {"enrollmentGracePeriod": "0s"}, p.engineering, "ADMIN")


def _less_secure_apps(p: TenantPolicies) -> None:
    p._add("security.less_secure_apps", {"allowLessSecureApps": True}, p.engineering, "ADMIN")


def _super_admin_recovery(p: TenantPolicies) -> None:
    p.change("security.super_admin_account_recovery", {"enableAccountRecovery": True}, p.root)


def _user_recovery(p: TenantPolicies) -> None:
    p._add("security.user_account_recovery", {"enableAccountRecovery": True}, p.contractors, "ADMIN")


def _drive_sharing_open(p: TenantPolicies) -> None:
    p._add(
        "drive_and_docs.external_sharing",
        {"externalSharingMode": "ALLOWED", "warnForExternalSharing": False},
        p.engineering,
        "ADMIN",
    )


def _drive_sdk_on(p: TenantPolicies) -> None:
    # Value null: the administrator cleared it, so the system default (enabled) applies.
    policy = p.admin_policy("drive_and_docs.drive_sdk", p.root)
    assert policy is not None
    policy["setting"]["value"]["enableDriveSdkApiAccess"] = None


PLANTS = {
    "contractors_weak_password": _contractors_weak_password,
    "root_password_partial": _root_password_partial,
    "password_expiry": _password_expiry,
    "long_sessions": _long_sessions,
    "group_sms_2sv": _group_sms_2sv,
    "contractors_2sv_scheduled": _contractors_2sv_scheduled,
    "trusted_devices": _trusted_devices,
    "enrollment_period_none": _enrollment_period_none,
    "less_secure_apps": _less_secure_apps,
    "super_admin_recovery": _super_admin_recovery,
    "user_recovery": _user_recovery,
    "drive_sharing_open": _drive_sharing_open,
    "drive_sdk_on": _drive_sdk_on,
}


# -- the filter ------------------------------------------------------------------------------------

_CUSTOMER_CLAUSE = re.compile(r"""^customer\s*==\s*["'](?P<customer>customers/[A-Za-z0-9_]+)["']$""")
_TYPE_CLAUSE = re.compile(r"""^setting\.type\.matches\(\s*'(?P<regex>(?:[^'\\]|\\.)*)'\s*\)$""")


class FilterError(ValueError):
    """The filter is not one Google accepts (answered 400 INVALID_ARGUMENT)."""


def parse_filter(text: str) -> tuple[str | None, re.Pattern[str] | None]:
    """(customer, setting type pattern) of a filter: clauses joined by ``&&``; setting.type clauses
    may be joined by ``||`` inside parentheses (the list page's example)."""
    customer: str | None = None
    patterns: list[str] = []
    if not text.strip():
        return None, None
    for clause in _split(text, "&&"):
        clause = clause.strip()
        if clause.startswith("(") and clause.endswith(")"):
            clause = clause[1:-1]
        alternatives = [c.strip() for c in _split(clause, "||")]
        matched_customer = _CUSTOMER_CLAUSE.match(alternatives[0]) if len(alternatives) == 1 else None
        if matched_customer:
            if customer is not None:
                raise FilterError("only one customer clause is allowed")
            customer = matched_customer.group("customer")
            continue
        regexes = []
        for alternative in alternatives:
            matched = _TYPE_CLAUSE.match(alternative)
            if not matched:
                raise FilterError(f"unsupported filter clause: {alternative}")
            regexes.append(matched.group("regex").replace("\\\\", "\\"))
        patterns.append("|".join(f"(?:{r})" for r in regexes))
    if len(patterns) > 1:
        raise FilterError("only one setting.type clause is allowed")
    try:
        pattern = re.compile(patterns[0]) if patterns else None
    except re.error as exc:
        raise FilterError(f"invalid regular expression: {exc}") from None
    return customer, pattern


def _split(text: str, operator: str) -> list[str]:
    parts, depth, quoted, start, i = [], 0, "", 0, 0
    while i < len(text):
        char = text[i]
        if quoted:
            if char == "\\":
                i += 1
            elif char == quoted:
                quoted = ""
        elif char in "'\"":
            quoted = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and text.startswith(operator, i):
            parts.append(text[start:i])
            i += len(operator)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return [part for part in parts if part.strip()] or [""]


# -- the HTTP handler and the live change --------------------------------------------------------

POLICY_READ = frozenset(
    {
        "https://www.googleapis.com/auth/cloud-identity.policies.readonly",
        "https://www.googleapis.com/auth/cloud-identity.policies",
    }
)


def cloud_error(code: int, message: str, reason: str | None = None) -> Any:
    """Cloud Identity answers in the Cloud APIs' error model (https://cloud.google.com/apis/design/errors):
    ``{"error": {"code", "message", "status", "details": [ErrorInfo]}}``, no v1 ``errors`` list."""
    from saaslens_sandbox.core import json_response
    from saaslens_sandbox.google_workspace.api import STATUS_TEXT

    error: dict[str, Any] = {"code": code, "message": message, "status": STATUS_TEXT.get(code, "UNKNOWN")}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {
                    "service": "cloudidentity.googleapis.com",
                    "method": "google.apps.cloudidentity.policies.v1.PoliciesService.ListPolicies",
                },
            }
        ]
    return json_response({"error": error}, code)


async def list_policies(p: Any, request: Any) -> Any:
    """policies.list (module docstring): a super admin's token with a policies scope."""
    from saaslens_sandbox.core import json_response
    from saaslens_sandbox.google_workspace import api

    try:
        grant = p._grant(request, POLICY_READ, admin=False)
    except api.GoogleError as exc:
        if exc.code == 403:
            return cloud_error(
                403, "Request had insufficient authentication scopes.", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
            )
        return exc.response()
    if grant.subject is None or not p.tenant.users[grant.subject]["isAdmin"]:
        # Only super administrators may use the Policy API.
        return cloud_error(403, "The caller does not have permission")
    params = request.query_params
    try:
        customer, pattern = parse_filter(params.get("filter") or "")
    except FilterError as exc:
        return cloud_error(400, f"Invalid filter: {exc}")
    if customer not in (None, "customers/my_customer", p.policies.customer):
        return cloud_error(403, "The caller does not have permission")
    raw_size = params.get("pageSize") or "0"
    try:
        size = int(raw_size)
    except ValueError:
        return cloud_error(400, f"Invalid value at 'page_size' (TYPE_INT32), \"{raw_size}\"")
    if size < 0:
        return cloud_error(400, "page_size must not be negative")
    size = 50 if size == 0 else min(size, 100)
    query = api._query_hash("policies", params.get("filter") or "")
    try:
        page, token = api.offset_page(p.policies.listed(pattern), params, query, size)
    except api.GoogleError:
        return cloud_error(400, "Invalid page token")
    body: dict[str, Any] = {"policies": page}
    if token:
        body["nextPageToken"] = token
    return json_response(body)


def advance_setting(p: Any, change: dict[str, Any]) -> dict[str, Any]:
    """An administrator changes one setting in the Admin console: ``{"type": "security.password",
    "fields": {"minimumLength": 8}, "org_unit": "/" (default) or "/Contractors" | "/Engineering",
    "actor": admin email (default: the tenant's admin)}``. The admin policy changes and the admin
    audit log gets Google's event for it, at the tenant's current time."""
    setting = change.get("type")
    fields = change.get("fields")
    if not isinstance(setting, str) or not isinstance(fields, dict) or not fields:
        raise ValueError('a setting change is {"type": "<setting type>", "fields": {...}}')
    paths = {t.org_unit_path: t for t in (p.policies.root, p.policies.contractors, p.policies.engineering)}
    target = paths.get(change.get("org_unit") or "/")
    if target is None:
        raise ValueError(f"org_unit must be one of {sorted(paths)}")
    actor_email = str(change.get("actor") or p.tenant.admin_email).lower()
    actor = p.tenant.email_index.get(actor_email)
    if actor is None or not p.tenant.users[actor]["isAdmin"]:
        raise ValueError(f"{actor_email} is not a super admin of this tenant")
    policy, old = p.policies.change(setting.removeprefix(SETTINGS_PREFIX), fields, target)
    events = p.policies.audit_events(setting.removeprefix(SETTINGS_PREFIX), old, fields, target)
    activity = p.tenant.record_activity("admin", int(p.now() * 1000), actor, "203.0.113.10", events)
    return {
        "policy": policy["name"],
        "old": old,
        "activity": {"id": activity["id"], "events": [e["name"] for e in events], "actor": actor_email},
    }
