"""Slack's posture rules (include/posture/slack/) computed in Python from the sandbox's ground truth
(SlackTenant.settings_truth), independently of the rules' SQL: each function answers "pass", "fail"
or "not_evaluated" for one rule."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

PASS, FAIL, NOT_EVALUATED = "pass", "fail", "not_evaluated"
DAY = 86_400

Settings = Mapping[str, Any]


def _verdict(ok: bool | None) -> str:
    return NOT_EVALUATED if ok is None else PASS if ok else FAIL


def _privileged(settings: Settings) -> list[dict[str, Any]] | None:
    admins = settings.get("workspace_admins")
    if admins is None:
        return None
    return [
        a
        for a in admins
        if a.get("is_active", True)
        and not a.get("is_bot")
        and (a.get("is_admin") or a.get("is_owner") or a.get("is_primary_owner"))
    ]


def admins_have_2fa(settings: Settings) -> str:
    admins = _privileged(settings)
    if not admins:
        return NOT_EVALUATED
    if any(a.get("has_2fa") is False for a in admins):
        return FAIL
    return _verdict(None if any(a.get("has_2fa") is None for a in admins) else True)


def owners_limited(settings: Settings) -> str:
    admins = settings.get("workspace_admins")
    if admins is None:
        return NOT_EVALUATED
    owners = [a for a in admins if a.get("is_active", True) and (a.get("is_owner") or a.get("is_primary_owner"))]
    return _verdict(len(owners) <= 3 if owners else None)


def admins_limited(settings: Settings) -> str:
    admins = _privileged(settings)
    return _verdict(len(admins) <= 10 if admins else None)


def approved_apps_reviewed(settings: Settings) -> str:
    apps = settings.get("approved_apps")
    if apps is None:
        return NOT_EVALUATED
    for approved in apps:
        app = approved.get("app") or {}
        reviewed = bool(app.get("is_app_directory_approved")) or bool(app.get("is_internal"))
        if not reviewed and any(scope.get("is_sensitive") for scope in approved.get("scopes") or []):
            return FAIL
    return PASS


def app_requests_answered(settings: Settings, now: float | None = None) -> str:
    requests = settings.get("app_requests")
    if requests is None:
        return NOT_EVALUATED
    cutoff = (now or time.time()) - 30 * DAY
    return _verdict(all(int(r["date_created"]) >= cutoff for r in requests))


def message_deletion_restricted(settings: Settings) -> str:
    value = (settings.get("team_preferences") or {}).get("allow_message_deletion")
    return _verdict(None if value is None else not value)


def message_edit_window_limited(settings: Settings) -> str:
    value = (settings.get("team_preferences") or {}).get("msg_edit_window_mins")
    return _verdict(None if value is None else int(value) >= 0)


def workspaces_not_open(settings: Settings) -> str:
    teams = settings.get("workspaces")
    if not teams:
        return NOT_EVALUATED
    if any(t.get("discoverability") == "open" for t in teams):
        return FAIL
    return _verdict(None if any(t.get("discoverability") is None for t in teams) else True)


def _not_exposed(settings: Settings) -> str:
    """The two-factor and SSO requirements, the session duration and public file links: no Web API
    method reads them, so these rules are never evaluated."""
    return NOT_EVALUATED


RULES: dict[str, Callable[[Settings], str]] = {
    "slack.admins_have_2fa": admins_have_2fa,
    "slack.owners_limited": owners_limited,
    "slack.admins_limited": admins_limited,
    "slack.approved_apps_reviewed": approved_apps_reviewed,
    "slack.app_requests_answered": app_requests_answered,
    "slack.message_deletion_restricted": message_deletion_restricted,
    "slack.message_edit_window_limited": message_edit_window_limited,
    "slack.workspaces_not_open": workspaces_not_open,
    "slack.two_factor_required": _not_exposed,
    "slack.sso_required": _not_exposed,
    "slack.session_duration_limited": _not_exposed,
    "slack.public_file_links_disabled": _not_exposed,
}
# The settings each rule needs read: with a scope missing for one, the rule is not evaluated.
SCOPES: dict[str, str] = {
    "slack.admins_have_2fa": "admin.users:read",
    "slack.owners_limited": "admin.users:read",
    "slack.admins_limited": "admin.users:read",
    "slack.approved_apps_reviewed": "admin.apps:read",
    "slack.app_requests_answered": "admin.apps:read",
    "slack.message_deletion_restricted": "team.preferences:read",
    "slack.message_edit_window_limited": "team.preferences:read",
    "slack.workspaces_not_open": "admin.teams:read",
}


def posture(truth: Mapping[str, Any], scopes: set[str] | None = None) -> dict[str, str]:
    """{rule_id: status} for a tenant's ground truth, read with a token holding `scopes` (all when
    None; without admin.teams:read the whole settings stage is skipped)."""
    settings = truth["settings"]
    if scopes is not None and "admin.teams:read" not in scopes:
        return dict.fromkeys(RULES, NOT_EVALUATED)
    result = {}
    for rule_id, compute in RULES.items():
        needed = SCOPES.get(rule_id)
        result[rule_id] = NOT_EVALUATED if scopes is not None and needed and needed not in scopes else compute(settings)
    return result
