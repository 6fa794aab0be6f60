"""Okta objects to canonical rows. Pure functions, tested on recorded payloads.

Field names follow the Okta Management API (User, Group, Role, OAuth2ScopeConsentGrant, LogEvent
in the OpenAPI description, okta/okta-sdk-python openapi/management.yaml).
"""

from __future__ import annotations

from typing import Any

from saaslens.transform_utils import lower, parse_time, raw_json

# Okta's lifecycle states onto the canonical five. RECOVERY and PASSWORD_EXPIRED users can still
# sign in (they are asked to set a password), so for access reviews they are active.
STATUS_MAP = {
    "ACTIVE": "active",
    "RECOVERY": "active",
    "PASSWORD_EXPIRED": "active",
    "STAGED": "pending",
    "PROVISIONED": "pending",
    "LOCKED_OUT": "locked",
    "SUSPENDED": "suspended",
    "DEPROVISIONED": "deprovisioned",
}

OUTCOME_MAP = {"SUCCESS": "success", "ALLOW": "success", "FAILURE": "failure", "DENY": "failure"}

_LOGON_PREFIXES = (
    "user.session.",
    "user.authentication.",
    "policy.evaluate_sign_on",
    "user.account.lock",
    "user.account.unlock_token",
)
_ADMIN_PREFIXES = (
    "user.lifecycle.",
    "user.account.privilege.",
    "group.",
    "application.",
    "policy.lifecycle.",
    "policy.rule.",
    "system.",
    "iam.",
    "zone.",
    "org.",
    "user.mfa.factor.reset_all",
    "user.account.reset_password",
    "user.account.expire_password",
    "user.account.unlock",
)
_APP_PREFIXES = ("app.oauth2.", "app.")


# An admin's change that shares a prefix with sign-in events: user.session.clear is an admin (or
# Okta) clearing a user's sessions (https://developer.okta.com/docs/reference/api/event-types/).
_ADMIN_EVENTS = frozenset({"user.session.clear"})


# The System Log writes the string "unknown" as alternateId of targets that have none (policies,
# policy rules, zones): the displayName names them then.
# https://developer.okta.com/docs/reference/api/system-log/#target-object
_UNKNOWN_ALTERNATE_ID = "unknown"


def _target_name(target: dict[str, Any]) -> str | None:
    alternate = target.get("alternateId")
    if alternate and alternate != _UNKNOWN_ALTERNATE_ID:
        return str(alternate)
    return target.get("displayName") or alternate


def category(event_type: str) -> str:
    """logon / admin / app / user for an Okta eventType. Order matters: most specific first."""
    if event_type in _ADMIN_EVENTS:
        return "admin"
    if event_type.startswith(_LOGON_PREFIXES):
        return "logon"
    if event_type.startswith(_ADMIN_PREFIXES):
        return "admin"
    if event_type.startswith(_APP_PREFIXES):
        return "app"
    return "user"


def account_row(user: dict[str, Any], admin_ids: set[str] | None) -> dict[str, Any]:
    profile = user.get("profile") or {}
    name = profile.get("displayName") or " ".join(
        part for part in (profile.get("firstName"), profile.get("lastName")) if part
    )
    provider_status = user.get("status")
    return {
        "account_id": user["id"],
        "login": profile.get("login"),
        "email": lower(profile.get("email")),
        "display_name": name or None,
        # An unknown status is passed on as is: the quality gate refuses it rather than guess.
        "status": STATUS_MAP.get(provider_status or "", str(provider_status).lower()),
        "provider_status": provider_status,
        "account_type": "member",
        "is_admin": None if admin_ids is None else user["id"] in admin_ids,
        "mfa_enabled": None,
        "created_at": parse_time(user.get("created")),
        # lastLogin is the last login, which Okta records on success only; failed attempts appear in
        # the System Log alone (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/).
        "last_login_at": parse_time(user.get("lastLogin")),
        "last_login_attempt_at": None,
        "updated_at": parse_time(user.get("lastUpdated")),
        "raw": raw_json(user),
    }


def group_row(group: dict[str, Any]) -> dict[str, Any]:
    profile = group.get("profile") or {}
    return {
        "group_id": group["id"],
        "name": profile.get("name") or group["id"],
        "description": profile.get("description"),
        "group_type": group.get("type"),
        "created_at": parse_time(group.get("created")),
        "updated_at": parse_time(group.get("lastUpdated") or group.get("lastMembershipUpdated")),
        "raw": raw_json(group),
    }


def member_row(group_id: str, user: dict[str, Any]) -> dict[str, Any]:
    # The member object is the whole User, already kept in accounts.raw; storing it again per
    # membership would multiply the lake by the average group count.
    return {"group_id": group_id, "account_id": user["id"], "member_role": "member", "raw": None}


def privilege_row(user_id: str, role: dict[str, Any]) -> dict[str, Any]:
    assignment = (role.get("assignmentType") or "USER").upper()
    return {
        "account_id": user_id,
        "privilege_id": role["id"],
        "privilege_name": role.get("type") or role.get("label") or role["id"],
        "scope": None,
        "assignment_type": "group" if assignment == "GROUP" else "direct",
        "via_group_id": None,
        "raw": raw_json(role),
    }


def grant_row(grant: dict[str, Any]) -> dict[str, Any]:
    scope = ((grant.get("_embedded") or {}).get("scope") or {}).get("id") or grant.get("scopeId")
    return {
        "grant_id": grant["id"],
        "account_id": grant.get("userId"),
        "client_id": grant.get("clientId") or "unknown",
        "client_name": None,
        "scopes": [scope] if scope else [],
        "status": grant.get("status"),
        "source": grant.get("source"),
        "created_at": parse_time(grant.get("created")),
        "raw": raw_json(grant),
    }


def activity_row(event: dict[str, Any]) -> dict[str, Any]:
    actor = event.get("actor") or {}
    client = event.get("client") or {}
    targets = event.get("target") or []
    # The first target of type User is the subject for user events; otherwise the first target.
    target = next((t for t in targets if (t.get("type") or "").lower() == "user"), targets[0] if targets else {})
    outcome = event.get("outcome") or {}
    geo = client.get("geographicalContext") or {}
    return {
        "event_id": event["uuid"],
        "occurred_at": parse_time(event["published"]),
        "category": category(event.get("eventType") or ""),
        "action": event.get("eventType") or "unknown",
        "outcome": OUTCOME_MAP.get((outcome.get("result") or "").upper(), "unknown"),
        "outcome_reason": outcome.get("reason"),
        "actor_id": actor.get("id"),
        "actor_login": actor.get("alternateId"),
        "actor_type": actor.get("type"),
        "target_id": target.get("id"),
        "target_name": _target_name(target),
        "target_type": target.get("type"),
        "ip": client.get("ipAddress"),
        "user_agent": (client.get("userAgent") or {}).get("rawUserAgent"),
        "country": geo.get("country"),
        "raw": raw_json(event),
    }
