"""Microsoft 365 posture rules recomputed in Python from the sandbox's ground truth (the Graph
documents as served: truth["settings"], and the directory roles), independently of the SQL in
include/posture/microsoft365/. Each function answers True (pass), False (fail) or None (the
settings do not say); `expected_statuses` turns them into the lake's statuses, with not_evaluated
where a setting could not be read (Conditional Access without Entra ID P1)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLES = {
    "62e90394-69f5-4237-9190-012177145e10",
    "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
    "29232cdf-9323-42fd-ade2-1d097af3e4de",
    "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "158c047a-c907-4556-b7ef-446551a6b5f7",
}
PHISHING_RESISTANT = "00000000-0000-0000-0000-000000000004"
NEVER = 2147483647

Truth = Mapping[str, Any]


# -- Conditional Access: only enabled policies enforce anything ----------------------------------


def _enforced(truth: Truth) -> list[dict[str, Any]]:
    return [p for p in truth["settings"]["conditional_access_policies"] if p["state"] == "enabled"]


def _everyone(policy: Mapping[str, Any]) -> bool:
    conditions = policy["conditions"]
    return "All" in (conditions["users"]["includeUsers"] or []) and "All" in (
        conditions["applications"]["includeApplications"] or []
    )


def _controls(policy: Mapping[str, Any]) -> tuple[str | None, list[str], str | None]:
    grant = policy.get("grantControls") or {}
    strength = grant.get("authenticationStrength") or {}
    return grant.get("operator"), list(grant.get("builtInControls") or []), strength.get("id")


def _blocks(policy: Mapping[str, Any]) -> bool:
    return "block" in _controls(policy)[1]


def _phishing_resistant(policy: Mapping[str, Any]) -> bool:
    operator, controls, strength = _controls(policy)
    return strength == PHISHING_RESISTANT and (operator == "AND" or not controls)


def legacy_auth_blocked(truth: Truth) -> bool | None:
    blocking = [p for p in _enforced(truth) if _everyone(p) and _blocks(p)]
    types = {t for p in blocking for t in p["conditions"]["clientAppTypes"] or []}
    return {"exchangeActiveSync", "other"} <= types


def high_risk_users_blocked(truth: Truth) -> bool | None:
    return any(_everyone(p) and _blocks(p) and "high" in p["conditions"]["userRiskLevels"] for p in _enforced(truth))


def high_risk_sign_ins_blocked(truth: Truth) -> bool | None:
    return any(_everyone(p) and _blocks(p) and "high" in p["conditions"]["signInRiskLevels"] for p in _enforced(truth))


def phishing_resistant_mfa_all_users(truth: Truth) -> bool | None:
    return any(_everyone(p) and _phishing_resistant(p) for p in _enforced(truth))


def mfa_required_all_users(truth: Truth) -> bool | None:
    def requires_mfa(policy: Mapping[str, Any]) -> bool:
        operator, controls, strength = _controls(policy)
        alternatives = len(controls) + (strength is not None)
        return ("mfa" in controls or strength is not None) and (operator == "AND" or alternatives == 1)

    return any(_everyone(p) and requires_mfa(p) for p in _enforced(truth))


def phishing_resistant_mfa_admins(truth: Truth) -> bool | None:
    def covers_admins(policy: Mapping[str, Any]) -> bool:
        users = policy["conditions"]["users"]
        apps = policy["conditions"]["applications"]["includeApplications"] or []
        return "All" in apps and ("All" in users["includeUsers"] or set(users["includeRoles"]) >= PRIVILEGED_ROLES)

    return any(covers_admins(p) and _phishing_resistant(p) for p in _enforced(truth))


def managed_device_required(truth: Truth) -> bool | None:
    return any(
        _everyone(p) and {"compliantDevice", "domainJoinedDevice"} & set(_controls(p)[1]) for p in _enforced(truth)
    )


# -- authentication methods ----------------------------------------------------------------------


def _method(truth: Truth, method_id: str) -> dict[str, Any] | None:
    configs = truth["settings"]["authentication_methods_policy"]["authenticationMethodConfigurations"]
    return next((c for c in configs if c["id"] == method_id), None)


def authenticator_shows_context(truth: Truth) -> bool | None:
    config = _method(truth, "MicrosoftAuthenticator")
    if config is None:
        return None
    if config["state"] == "disabled":
        return True
    features = config.get("featureSettings") or {}
    return all(
        (features.get(name) or {}).get("state") == "enabled"
        for name in ("displayAppInformationRequiredState", "displayLocationInformationRequiredState")
    )


def auth_methods_migration_complete(truth: Truth) -> bool | None:
    return truth["settings"]["authentication_methods_policy"]["policyMigrationState"] == "migrationComplete"


def weak_auth_methods_disabled(truth: Truth) -> bool | None:
    configs = [_method(truth, m) for m in ("Sms", "Voice", "Email")]
    if any(c is None for c in configs):
        return None
    return all(c["state"] == "disabled" for c in configs if c is not None)


# -- authorization policy, admin consent, domains, roles -------------------------------------------


def _authorization(truth: Truth) -> dict[str, Any]:
    return truth["settings"]["authorization_policy"]


def app_registration_admins_only(truth: Truth) -> bool | None:
    return not _authorization(truth)["defaultUserRolePermissions"]["allowedToCreateApps"]


def users_cannot_create_tenants(truth: Truth) -> bool | None:
    return not _authorization(truth)["defaultUserRolePermissions"]["allowedToCreateTenants"]


def user_consent_disabled(truth: Truth) -> bool | None:
    assigned = _authorization(truth)["defaultUserRolePermissions"]["permissionGrantPoliciesAssigned"]
    return not any(p.startswith("ManagePermissionGrantsForSelf.") for p in assigned)


def guest_access_restricted(truth: Truth) -> bool | None:
    return _authorization(truth)["guestUserRoleId"] in (
        "10dae51f-b6af-4016-8d66-8c2a99b929b3",
        "2af84b1e-32c8-42b7-82bc-daa82404023b",
    )


def guest_invites_limited(truth: Truth) -> bool | None:
    return _authorization(truth)["allowInvitesFrom"] in ("adminsAndGuestInviters", "none")


def admin_consent_workflow_enabled(truth: Truth) -> bool | None:
    policy = truth["settings"]["admin_consent_request_policy"]
    return bool(policy["isEnabled"]) and len(policy["reviewers"] or []) > 0


def passwords_never_expire(truth: Truth) -> bool | None:
    verified = [d for d in truth["settings"]["domains"] if d["isVerified"]]
    if not verified:
        return None
    # An unset expiry is Graph's default of 90 days (domain resource).
    return all((d["passwordValidityPeriodInDays"] or 90) == NEVER for d in verified)


def global_admin_count(truth: Truth) -> bool | None:
    role = next(r for r in truth["directory_roles"] if r["roleTemplateId"] == GLOBAL_ADMIN_TEMPLATE)
    users_of: dict[str, set[str]] = {}
    for m in truth["group_members"]:
        if m["member_type"] == "user":
            users_of.setdefault(m["group_id"], set()).add(m["member_id"])
    holders: set[str] = set()
    for m in truth["directory_role_members"]:
        if m["role_id"] != role["id"]:
            continue
        if m["member_type"] == "user":
            holders.add(m["member_id"])
        elif m["member_type"] == "group":
            holders |= users_of.get(m["member_id"], set())
    return 2 <= len(holders) <= 8


RULES: dict[str, Callable[[Truth], bool | None]] = {
    f"microsoft365.{f.__name__}": f
    for f in (
        legacy_auth_blocked,
        high_risk_users_blocked,
        high_risk_sign_ins_blocked,
        phishing_resistant_mfa_all_users,
        mfa_required_all_users,
        phishing_resistant_mfa_admins,
        managed_device_required,
        authenticator_shows_context,
        auth_methods_migration_complete,
        weak_auth_methods_disabled,
        app_registration_admins_only,
        users_cannot_create_tenants,
        user_consent_disabled,
        guest_access_restricted,
        guest_invites_limited,
        admin_consent_workflow_enabled,
        passwords_never_expire,
        global_admin_count,
    )
}
# Rules reading Conditional Access: not evaluated (licence missing) in a tenant without Entra ID P1.
CONDITIONAL_ACCESS_RULES = {
    f"microsoft365.{name}"
    for name in (
        "legacy_auth_blocked",
        "high_risk_users_blocked",
        "high_risk_sign_ins_blocked",
        "phishing_resistant_mfa_all_users",
        "mfa_required_all_users",
        "phishing_resistant_mfa_admins",
        "managed_device_required",
    )
}


def expected_statuses(truth: Truth) -> dict[str, str]:
    """{rule_id: pass | fail | not_evaluated} for one tenant."""
    statuses = {}
    for rule_id, rule in RULES.items():
        if rule_id in CONDITIONAL_ACCESS_RULES and not truth["settings"]["premium"]:
            statuses[rule_id] = "not_evaluated"
            continue
        result = rule(truth)
        statuses[rule_id] = "not_evaluated" if result is None else ("pass" if result else "fail")
    return statuses
