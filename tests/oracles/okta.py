"""Okta's ground truth as facts: users, consent grants, System Log sign-in failures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.oracles.facts import AccountFact, Facts, FailureFact, GrantFact, lower, parse_time

IDENTITY_PROVIDER = True
"""Its accounts say who still works here: an inactive account makes the person's others orphaned."""
REPORTS_LAST_LOGIN = True
"""Its account listings say when an account last signed in."""
REPORTS_MFA = False
"""Its account listings say whether an account uses MFA."""

# Okta (Management API: User.status lifecycle, LogEvent outcome.result)
# https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/ : SUSPENDED
# and DEPROVISIONED users cannot sign in; RECOVERY and PASSWORD_EXPIRED users still can.
_OKTA_STATUS = {
    "ACTIVE": "active",
    "RECOVERY": "active",
    "PASSWORD_EXPIRED": "active",
    "STAGED": "pending",
    "PROVISIONED": "pending",
    "LOCKED_OUT": "locked",
    "SUSPENDED": "suspended",
    "DEPROVISIONED": "deprovisioned",
}
_OKTA_LOGON = ("user.session.", "user.authentication.", "policy.evaluate_sign_on", "user.account.lock")


def collect(truth: Mapping[str, Any], app: str, instance: str, out: Facts, **_options: Any) -> None:
    admins = {ra["user_id"] for ra in truth.get("role_assignments") or []}
    for user in truth["users"]:
        profile = user.get("profile") or {}
        out.accounts.append(
            AccountFact(
                app,
                instance,
                user["id"],
                lower(profile.get("email")),
                _OKTA_STATUS.get(user["status"], user["status"].lower()),
                user["id"] in admins,
                None,
                "member",
                parse_time(user.get("created")),
                parse_time(user.get("lastLogin")),
            )
        )
    for grant in truth.get("grants") or []:
        out.grants.append(GrantFact(app, instance, grant["id"], grant.get("userId"), (grant["scopeId"],)))
    hidden = set(truth.get("log_events_not_yet_visible") or ())
    for event in truth.get("log_events") or []:
        if event.get("uuid") in hidden or not str(event.get("eventType", "")).startswith(_OKTA_LOGON):
            continue
        if (event.get("outcome") or {}).get("result") not in ("FAILURE", "DENY"):
            continue
        # The account is the User-typed target (the one the sign-in was for), else the actor: an SSO
        # denial targets the app and a sign-on policy its rule, neither of which is an account.
        targets = event.get("target") or []
        target: dict[str, Any] = next((t for t in targets if (t.get("type") or "").lower() == "user"), {})
        subject = (
            target.get("alternateId") or target.get("displayName") or (event.get("actor") or {}).get("alternateId")
        )
        ip = (event.get("client") or {}).get("ipAddress")
        out.failures.append(FailureFact(app, instance, parse_time(event["published"]), subject, ip))
