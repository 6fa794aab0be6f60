"""Google Workspace's ground truth as facts: Directory users, tokens, Drive files, login events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.oracles.facts import AccountFact, Facts, FailureFact, FileFact, GrantFact, domain, lower, parse_time

IDENTITY_PROVIDER = True
"""Its accounts say who still works here: an inactive account makes the person's others orphaned."""
REPORTS_LAST_LOGIN = True
"""Its account listings say when an account last signed in."""
REPORTS_MFA = True
"""Its account listings say whether an account uses MFA."""

# Google Workspace (Directory User, Token, Drive Permission, Reports login events)
# https://developers.google.com/workspace/admin/directory/reference/rest/v1/users : suspended,
# archived, isAdmin / isDelegatedAdmin, isEnrolledIn2Sv, lastLoginTime (the epoch when never).
# https://developers.google.com/workspace/drive/api/reference/rest/v3/permissions : type anyone
# is anyone with the link; user/group/domain grantees outside the customer's domains are external.
# https://developers.google.com/workspace/admin/reports/v1/appendix/activity/login : login_failure.
_GOOGLE_NEVER = "1970-01-01T00:00:00.000Z"


def collect(truth: Mapping[str, Any], app: str, instance: str, out: Facts, **_options: Any) -> None:
    users = truth["users"]
    for user in users:
        status = "suspended" if user.get("suspended") else ("deprovisioned" if user.get("archived") else "active")
        last = user.get("lastLoginTime")
        out.accounts.append(
            AccountFact(
                app,
                instance,
                user["id"],
                lower(user.get("primaryEmail")),
                status,
                bool(user.get("isAdmin") or user.get("isDelegatedAdmin")),
                user.get("isEnrolledIn2Sv"),
                "guest" if user.get("isGuestUser") else "member",
                parse_time(user.get("creationTime")),
                None if last in (None, _GOOGLE_NEVER) else parse_time(last),
            )
        )
    for tokens in (truth.get("tokens") or {}).values():
        for token in tokens:
            grant_id = f"{token['userKey']}:{token['clientId']}"
            out.grants.append(GrantFact(app, instance, grant_id, token["userKey"], tuple(token.get("scopes") or ())))
    domains = {d.lower() for d in truth.get("domains") or []} | {
        d for d in (domain(u.get("primaryEmail")) for u in users) if d
    }
    for item in truth.get("files") or []:
        if item.get("trashed"):
            continue  # the scan lists "'me' in owners and trashed = false"
        out.files.append(
            FileFact(app, instance, item["id"], item.get("owner_user_id"), _google_visibility(item, domains))
        )
    for activity in (truth.get("activities") or {}).get("login") or []:
        actor = lower((activity.get("actor") or {}).get("email"))
        for event in activity.get("events") or []:
            params = {p["name"]: p.get("value") for p in event.get("parameters") or []}
            name = event.get("name")
            failed = name == "login_failure" or (
                name in ("login_challenge", "login_verification")
                and params.get("login_challenge_status") not in (None, "Challenge Passed")
            )
            if failed:
                subject = lower(params.get("USER_EMAIL")) or actor
                when = parse_time(activity["id"]["time"])
                out.failures.append(FailureFact(app, instance, when, subject, activity.get("ipAddress")))


def _google_visibility(item: Mapping[str, Any], domains: set[str]) -> str:
    level = "private"
    for permission in item.get("permissions") or []:
        if permission.get("role") == "owner":
            continue
        if permission.get("type") == "anyone":
            return "public"
        kind = permission.get("type")
        grantee = (
            (permission.get("domain") or "").lower() if kind == "domain" else domain(permission.get("emailAddress"))
        )
        if grantee not in domains:
            level = "external"
        elif level == "private":
            level = "internal"
    return level
