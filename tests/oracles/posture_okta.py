"""Okta posture, computed in plain Python from the sandbox's ground truth (truth["settings"] and the
role assignments), independently of the SQL rules in include/posture/okta/: each function returns
"pass", "fail" or "not_evaluated" for one rule, and `expected(truth)` all of them by rule id.

What counts follows the rules' headers: inactive policies, rules and zones apply to no one; a DENY
rule lets no one in; a missing value is not a requirement (so fails a minimum) unless the API
documents a default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

Status = str


def _verdict(values: Iterable[bool], empty: Status = "not_evaluated") -> Status:
    found = list(values)
    if not found:
        return empty
    return "pass" if all(found) else "fail"


def _active(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [item for item in items if item.get("status") == "ACTIVE"]


def _policies(truth: Mapping[str, Any], policy_type: str) -> list[Mapping[str, Any]]:
    return [p for p in truth["settings"]["policies"] if p["type"] == policy_type]


def _password_field(section: str, field: str, ok: Callable[[int], bool]) -> Callable[[Mapping[str, Any]], Status]:
    def check(truth: Mapping[str, Any]) -> Status:
        values = []
        for policy in _active(_policies(truth, "PASSWORD")):
            value = (((policy.get("settings") or {}).get("password") or {}).get(section) or {}).get(field)
            values.append(ok(value or 0))
        return _verdict(values)

    return check


def _allowing_sign_on_rules(truth: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rules = []
    for policy in _active(_policies(truth, "OKTA_SIGN_ON")):
        for rule in _active(truth["settings"]["policy_rules"][policy["id"]]):
            if ((rule.get("actions") or {}).get("signon") or {}).get("access") == "ALLOW":
                rules.append(rule)
    return rules


def _session(rule: Mapping[str, Any]) -> Mapping[str, Any]:
    return rule["actions"]["signon"].get("session") or {}


def session_idle_timeout(truth: Mapping[str, Any]) -> Status:
    return _verdict(1 <= (_session(r).get("maxSessionIdleMinutes") or 0) <= 15 for r in _allowing_sign_on_rules(truth))


def session_lifetime(truth: Mapping[str, Any]) -> Status:
    return _verdict(
        1 <= (_session(r).get("maxSessionLifetimeMinutes") or 0) <= 1080 for r in _allowing_sign_on_rules(truth)
    )


def session_cookie_not_persistent(truth: Mapping[str, Any]) -> Status:
    # usePersistentCookie defaults to false (management.yaml OktaSignOnPolicyRuleSignonSessionActions)
    return _verdict(not _session(r).get("usePersistentCookie", False) for r in _allowing_sign_on_rules(truth))


def _access_policy_rules(truth: Mapping[str, Any], name: str) -> list[Mapping[str, Any]] | None:
    if not truth.get("identity_engine", True):
        return None
    policy = next((p for p in _active(_policies(truth, "ACCESS_POLICY")) if p["name"] == name), None)
    if policy is None:
        return None
    return [
        rule
        for rule in _active(truth["settings"]["policy_rules"][policy["id"]])
        if rule["actions"]["appSignOn"]["access"] == "ALLOW"
    ]


def _two_factor(rule: Mapping[str, Any]) -> bool:
    return rule["actions"]["appSignOn"]["verificationMethod"].get("factorMode") == "2FA"


def _phishing_resistant(rule: Mapping[str, Any]) -> bool:
    constraints = rule["actions"]["appSignOn"]["verificationMethod"].get("constraints") or []
    return any((c.get("possession") or {}).get("phishingResistant") == "REQUIRED" for c in constraints)


def _access_check(name: str, ok: Callable[[Mapping[str, Any]], bool]) -> Callable[[Mapping[str, Any]], Status]:
    def check(truth: Mapping[str, Any]) -> Status:
        rules = _access_policy_rules(truth, name)
        if rules is None:
            return "not_evaluated"
        return _verdict((ok(r) for r in rules), empty="pass")

    return check


def weak_authenticators_inactive(truth: Mapping[str, Any]) -> Status:
    authenticators = truth["settings"]["authenticators"]
    if not authenticators:
        return "not_evaluated"
    weak = [a for a in _active(authenticators) if a["key"] in ("phone_number", "security_question")]
    return "fail" if weak else "pass"


def strong_authenticator_active(truth: Mapping[str, Any]) -> Status:
    authenticators = truth["settings"]["authenticators"]
    if not authenticators:
        return "not_evaluated"
    return "pass" if any(a["key"] in ("okta_verify", "webauthn") for a in _active(authenticators)) else "fail"


def _enrolled(policy: Mapping[str, Any], modes: tuple[str, ...]) -> set[str]:
    return {a["key"] for a in policy["settings"]["authenticators"] if a["enroll"]["self"] in modes}


def mfa_enrollment_requires_strong_authenticator(truth: Mapping[str, Any]) -> Status:
    return _verdict(
        bool(_enrolled(p, ("REQUIRED",)) & {"okta_verify", "webauthn"}) for p in _active(_policies(truth, "MFA_ENROLL"))
    )


def mfa_enrollment_excludes_weak_authenticators(truth: Mapping[str, Any]) -> Status:
    return _verdict(
        not _enrolled(p, ("REQUIRED", "OPTIONAL")) & {"phone_number", "security_question"}
        for p in _active(_policies(truth, "MFA_ENROLL"))
    )


def blocklist_zone_active(truth: Mapping[str, Any]) -> Status:
    zones = truth["settings"]["network_zones"]
    if not zones:
        return "not_evaluated"

    def blocks(zone: Mapping[str, Any]) -> bool:
        lists = any(zone.get(key) for key in ("gateways", "locations", "asns"))
        return lists or zone.get("proxyType") in ("Any", "Tor")

    return "pass" if any(z["usage"] == "BLOCKLIST" and blocks(z) for z in _active(zones)) else "fail"


_WINDOW = re.compile(r"^P(?:(\d+)D|T(\d+)H|T(\d+)M)$")


def api_token_inactivity_window(truth: Mapping[str, Any]) -> Status:
    minutes = []
    for token in truth["settings"]["api_tokens"]:
        match = _WINDOW.match(token.get("tokenWindow") or "")
        if not match:
            return "not_evaluated"
        days, hours, mins = (int(g) if g else 0 for g in match.groups())
        minutes.append(days * 1440 + hours * 60 + mins)
    return _verdict((m <= 30 * 1440 for m in minutes), empty="pass")


def api_token_age(truth: Mapping[str, Any]) -> Status:
    year_ago = datetime.now(UTC) - timedelta(days=365)
    created = [datetime.fromisoformat(t["created"].replace("Z", "+00:00")) for t in truth["settings"]["api_tokens"]]
    return _verdict((c >= year_ago for c in created), empty="pass")


def super_admin_count(truth: Mapping[str, Any]) -> Status:
    holders = {ra["user_id"] for ra in truth["role_assignments"] if ra["role_type"] == "SUPER_ADMIN"}
    return "pass" if 1 <= len(holders) <= 4 else "fail"


RULES: dict[str, Callable[[Mapping[str, Any]], Status]] = {
    "okta.password_min_length": _password_field("complexity", "minLength", lambda v: v >= 15),
    "okta.password_requires_uppercase": _password_field("complexity", "minUpperCase", lambda v: v >= 1),
    "okta.password_requires_lowercase": _password_field("complexity", "minLowerCase", lambda v: v >= 1),
    "okta.password_requires_number": _password_field("complexity", "minNumber", lambda v: v >= 1),
    "okta.password_requires_symbol": _password_field("complexity", "minSymbol", lambda v: v >= 1),
    "okta.password_min_age": _password_field("age", "minAgeMinutes", lambda v: v >= 1440),
    "okta.password_max_age": _password_field("age", "maxAgeDays", lambda v: 1 <= v <= 60),
    "okta.password_history": _password_field("age", "historyCount", lambda v: v >= 5),
    "okta.password_lockout": _password_field("lockout", "maxAttempts", lambda v: 1 <= v <= 3),
    "okta.session_idle_timeout": session_idle_timeout,
    "okta.session_lifetime": session_lifetime,
    "okta.session_cookie_not_persistent": session_cookie_not_persistent,
    "okta.admin_console_mfa": _access_check("Okta Admin Console", _two_factor),
    "okta.dashboard_mfa": _access_check("Okta Dashboard", _two_factor),
    "okta.admin_console_phishing_resistant": _access_check(
        "Okta Admin Console", lambda r: _two_factor(r) and _phishing_resistant(r)
    ),
    "okta.weak_authenticators_inactive": weak_authenticators_inactive,
    "okta.strong_authenticator_active": strong_authenticator_active,
    "okta.mfa_enrollment_requires_strong_authenticator": mfa_enrollment_requires_strong_authenticator,
    "okta.mfa_enrollment_excludes_weak_authenticators": mfa_enrollment_excludes_weak_authenticators,
    "okta.blocklist_zone_active": blocklist_zone_active,
    "okta.api_token_inactivity_window": api_token_inactivity_window,
    "okta.api_token_age": api_token_age,
    "okta.super_admin_count": super_admin_count,
}


def expected(truth: Mapping[str, Any]) -> dict[str, Status]:
    """{rule id: pass / fail / not_evaluated} for one tenant's ground truth."""
    return {rule_id: check(truth) for rule_id, check in RULES.items()}
