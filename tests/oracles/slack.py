"""Slack's ground truth as facts: members, approved apps, files, Audit Logs login failures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.oracles.facts import AccountFact, Facts, FailureFact, FileFact, GrantFact, lower, parse_time

IDENTITY_PROVIDER = False
"""Its accounts say who still works here: an inactive account makes the person's others orphaned."""
REPORTS_LAST_LOGIN = False
"""Its account listings say when an account last signed in."""
REPORTS_MFA = True
"""Its account listings say whether an account uses MFA."""


# Slack (users.list flags, admin.apps.approved.list, files.list, Audit Logs API)
# https://api.slack.com/methods/users.list : deleted, is_invited_user, is_admin / is_owner /
# is_primary_owner, is_restricted / is_ultra_restricted (guests), has_2fa (shown to admins).
# https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference : user_login_failed.
def collect(truth: Mapping[str, Any], app: str, instance: str, out: Facts, **options: Any) -> None:
    """``slack_team_scoped_grants``: the Slack connection sets ``team_id`` (grant ids are then
    ``<team>:<app>``)."""
    team_scoped_grants = bool(options.get("slack_team_scoped_grants"))
    for user in truth["users"]:
        enterprise = user.get("enterprise_user") or {}
        if user.get("deleted"):
            status = "deprovisioned"
        elif user.get("is_invited_user"):
            status = "pending"
        else:
            status = "active"
        if user.get("is_bot") or user["id"] == "USLACKBOT":
            kind = "bot"
        elif user.get("is_restricted") or user.get("is_ultra_restricted"):
            kind = "guest"
        elif user.get("is_stranger") or user.get("is_external"):
            kind = "external"
        else:
            kind = "member"
        admin = any(user.get(f) for f in ("is_admin", "is_owner", "is_primary_owner")) or any(
            enterprise.get(f) for f in ("is_admin", "is_owner")
        )
        has_2fa = user.get("has_2fa")
        email = lower((user.get("profile") or {}).get("email"))
        out.accounts.append(AccountFact(app, instance, user["id"], email, status, admin, has_2fa, kind, None, None))
    team = (truth.get("team") or {}).get("id")
    for approved in truth.get("approved_apps") or []:
        app_id = (approved.get("app") or {}).get("id") or "unknown"
        grant_id = f"{team}:{app_id}" if team_scoped_grants and team else app_id
        scopes = tuple(s["name"] for s in approved.get("scopes") or [] if s.get("name"))
        out.grants.append(GrantFact(app, instance, grant_id, None, scopes))
    for item in truth.get("files") or []:
        out.files.append(FileFact(app, instance, item["id"], item.get("user"), _slack_visibility(item)))
    for entry in truth.get("audit_logs") or []:
        if entry.get("action") != "user_login_failed":
            continue
        entity = entry.get("entity") or {}
        detail = entity.get(entity.get("type")) if isinstance(entity.get("type"), str) else None
        target = None
        if isinstance(detail, dict) and entity.get("type") == "user":  # only a user entity is an account
            target = detail.get("email") or detail.get("name")
        actor = (entry.get("actor") or {}).get("user") or {}
        subject = target or actor.get("email") or actor.get("name")
        ip = (entry.get("context") or {}).get("ip_address") or None
        out.failures.append(FailureFact(app, instance, parse_time(entry["date_create"]), subject, ip))


def _slack_visibility(item: Mapping[str, Any]) -> str:
    if item.get("public_url_shared"):
        return "public"
    owner_team = item.get("user_team") or item.get("source_team")
    shares = item.get("shares") or {}
    for privacy in ("public", "private"):
        for entries in (shares.get(privacy) or {}).values():
            teams = {e.get("team_id") for e in entries or [] if isinstance(e, dict)} - {None}
            if owner_team and any(t != owner_team for t in teams):
                return "external"
    return "internal" if item.get("is_public") else "private"
