"""Posture oracle for Google Workspace: each rule's status computed in Python from the sandbox's ground
truth (the Cloud Identity policies as the personality holds them, and its users), independently of the
SQL rules in include/posture/google_workspace.

The reduction follows Google's Policy API concepts page: for each organizational unit or group, the
policy with the greatest sortOrder that sets a field decides it (admin policies over system defaults,
a null or absent field inherits); a rule fails when any unit or group's decided value is insecure, and
is not evaluated when no policy sets the field at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

PASS, FAIL, NOT_EVALUATED = "pass", "fail", "not_evaluated"


def decided_values(truth: dict[str, Any], setting_type: str, field: str) -> list[Any]:
    """The value of `field` of `setting_type` in force for each organizational unit or group that has
    a policy setting it."""
    best: dict[tuple[str, str], tuple[float, Any]] = {}
    for policy in truth["settings"]["policies"]:
        if policy["setting"]["type"] != "settings/" + setting_type:
            continue
        value = (policy["setting"].get("value") or {}).get(field)
        if value is None:
            continue
        query = policy["policyQuery"]
        where = (query["orgUnit"], query.get("group") or "")
        order = float(query["sortOrder"])
        if where not in best or order > best[where][0]:
            best[where] = (order, value)
    return [value for _, value in best.values()]


def _all(values: list[Any], secure: Callable[[Any], bool]) -> str:
    if not values:
        return NOT_EVALUATED
    return PASS if all(secure(v) for v in values) else FAIL


def _seconds(duration: str) -> float:
    return float(duration.removesuffix("s"))


def _in_force(timestamp: str) -> bool:
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return datetime(1970, 1, 1, tzinfo=UTC) < moment <= datetime.now(UTC)


# rule name -> (setting type, field, secure?)
FIELD_RULES: dict[str, tuple[str, str, Callable[[Any], bool]]] = {
    "two_step_verification_enforced": ("security.two_step_verification_enforcement", "enforcedFrom", _in_force),
    "two_step_verification_enrollment_allowed": (
        "security.two_step_verification_enrollment",
        "allowEnrollment",
        lambda v: v is True,
    ),
    "two_step_verification_phishing_resistant": (
        "security.two_step_verification_enforcement_factor",
        "allowedSignInFactorSet",
        lambda v: v == "PASSKEY_ONLY",
    ),
    "two_step_verification_no_sms_or_voice": (
        "security.two_step_verification_enforcement_factor",
        "allowedSignInFactorSet",
        lambda v: v != "ALL",
    ),
    "two_step_verification_enrollment_period": (
        "security.two_step_verification_grace_period",
        "enrollmentGracePeriod",
        lambda v: 86400 <= _seconds(v) <= 604800,
    ),
    "two_step_verification_no_trusted_devices": (
        "security.two_step_verification_device_trust",
        "allowTrustingDevice",
        lambda v: v is False,
    ),
    "web_session_at_most_12_hours": ("security.session_controls", "webSessionDuration", lambda v: _seconds(v) <= 43200),
    "password_strength_enforced": ("security.password", "allowedStrength", lambda v: v.upper() == "STRONG"),
    "password_min_length_12": ("security.password", "minimumLength", lambda v: v >= 12),
    "password_min_length_16": ("security.password", "minimumLength", lambda v: v >= 16),
    "password_policy_enforced_at_sign_in": ("security.password", "enforceRequirementsAtLogin", lambda v: v is True),
    "password_reuse_disallowed": ("security.password", "allowReuse", lambda v: v is False),
    "password_never_expires": ("security.password", "expirationDuration", lambda v: _seconds(v) == 0),
    "super_admin_self_recovery_disabled": (
        "security.super_admin_account_recovery",
        "enableAccountRecovery",
        lambda v: v is False,
    ),
    "user_self_recovery_disabled": ("security.user_account_recovery", "enableAccountRecovery", lambda v: v is False),
    "less_secure_apps_blocked": ("security.less_secure_apps", "allowLessSecureApps", lambda v: v is False),
    "drive_external_sharing_restricted": (
        "drive_and_docs.external_sharing",
        "externalSharingMode",
        lambda v: v in ("DISALLOWED", "ALLOWLISTED_DOMAINS"),
    ),
    "drive_sdk_disabled": ("drive_and_docs.drive_sdk", "enableDriveSdkApiAccess", lambda v: v is False),
}


def super_admin_count(truth: dict[str, Any]) -> str:
    active = [u for u in truth["users"] if u.get("isAdmin") and not u.get("suspended") and not u.get("archived")]
    return PASS if 2 <= len(active) <= 8 else FAIL


def rule_status(truth: dict[str, Any], rule: str) -> str:
    if rule == "super_admin_count":
        return super_admin_count(truth)
    setting_type, field, secure = FIELD_RULES[rule]
    return _all(decided_values(truth, setting_type, field), secure)


RULES = (*FIELD_RULES, "super_admin_count")


def expected_posture(truth: dict[str, Any]) -> dict[str, str]:
    """{rule_id: pass | fail | not_evaluated} for one tenant."""
    return {f"google_workspace.{rule}": rule_status(truth, rule) for rule in RULES}
