"""The settings stage: the workspace security configuration Slack's Web API exposes, one `settings`
row per setting, for the posture rules (include/posture/slack/, docs/posture.md).

What the Web API reads (each needs its own scope; a scope the token lacks makes only that setting
denied, not the stage):
- team.preferences.list (team.preferences:read; Tier 3): five workspace preferences, among them
  allow_message_deletion and msg_edit_window_mins, https://docs.slack.dev/reference/methods/team.preferences.list
- admin.teams.list (admin.teams:read, Enterprise Grid; Tier 2; cursor, `limit` 1-100): the organization's
  workspaces and their discoverability, https://docs.slack.dev/reference/methods/admin.teams.list
  (the stage's probe: without admin.teams:read the stage is skipped)
- admin.users.list with include_admins and include_owners (admin.users:read, Enterprise Grid; Tier 4;
  cursor): the workspace's admins and owners with has_2fa, https://docs.slack.dev/reference/methods/admin.users.list
- admin.apps.approved.list (admin.apps:read, Enterprise Grid; Tier 2): approved apps and their scopes,
  https://docs.slack.dev/reference/methods/admin.apps.approved.list
- admin.apps.requests.list (admin.apps:read, Enterprise Grid; Tier 2): pending app requests,
  https://docs.slack.dev/reference/methods/admin.apps.requests.list

What it does not read: the two-factor requirement, the SSO requirement, the session duration and the
public file link setting are changed in the admin pages and recorded by the Audit Logs API
(pref.two_factor_auth_changed, pref.sso_setting_changed, pref.session_duration_changed,
pref.disallow_public_file_urls: https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference),
but no Web API method answers their current value. They are recorded as not exposed, so the rules
reading them are not evaluated with that reason rather than guessed from the audit history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from saaslens.connectors.kit import JSON, Batch, Probe, SnapshotStage
from saaslens.connectors.settings_reads import read_setting, unavailable_row
from saaslens.connectors.slack.connector import SlackConnector
from saaslens.http.pagination import BodyCursorPaginator
from saaslens.vocabulary import Stage

# Settings an admin changes in Slack's admin pages that no Web API method reads: setting id -> the
# Audit Logs API action that records a change of it.
NOT_EXPOSED: dict[str, str] = {
    "two_factor_requirement": "pref.two_factor_auth_changed",
    "sso_requirement": "pref.sso_setting_changed",
    "session_duration": "pref.session_duration_changed",
    "public_file_links": "pref.disallow_public_file_urls",
}
# What team.preferences.list answers besides the preferences themselves.
_ENVELOPE = frozenset({"ok", "warning", "response_metadata", "needed", "provided"})


def _pick(source: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The keys the rules read, as the provider named them; a key Slack left out stays out (a rule
    must see "not said", not a default)."""
    return {key: source[key] for key in keys if key in source}


def _app(item: dict[str, Any]) -> dict[str, Any]:
    """An approved app or an app request: the app, its scopes and when, without icons and URLs."""
    trimmed = _pick(item, ("id", "date_updated", "date_created", "previous_resolution"))
    trimmed["app"] = _pick(item.get("app") or {}, ("id", "name", "is_app_directory_approved", "is_internal"))
    trimmed["scopes"] = [_pick(scope, ("name", "is_sensitive", "token_type")) for scope in item.get("scopes") or []]
    if isinstance(trimmed.get("previous_resolution"), dict):
        trimmed["previous_resolution"] = _pick(trimmed["previous_resolution"], ("status",))
    return trimmed


def _admin(user: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "is_admin", "is_owner", "is_primary_owner", "is_active", "is_bot", "has_2fa", "has_sso")
    return _pick(user, keys)


def _listed(
    connector: SlackConnector, method: str, items: str, params: dict[str, Any], shape: Callable[[Any], Any]
) -> Callable[[], list[Any]]:
    def read() -> list[Any]:
        paginator = BodyCursorPaginator(items)
        return [shape(item) for item in connector.client.iter_items(method, paginator, params)]

    return read


def scan_settings(connector: SlackConnector, resume: JSON | None) -> Iterator[Batch]:
    team = connector.team()

    def preferences() -> dict[str, Any]:
        answer = connector.client.get_json("team.preferences.list", team)
        return {key: value for key, value in answer.items() if key not in _ENVELOPE}

    rows = [
        read_setting("team_preferences", "GET team.preferences.list", preferences),
        read_setting(
            "workspaces",
            "GET admin.teams.list",
            _listed(
                connector,
                "admin.teams.list",
                "teams",
                {"limit": connector.page_size(100)},
                lambda t: _pick(t, ("id", "name", "discoverability")),
            ),
        ),
        read_setting(
            "workspace_admins",
            "GET admin.users.list?include_admins=true&include_owners=true",
            _listed(
                connector,
                "admin.users.list",
                "users",
                {"include_admins": "true", "include_owners": "true", "limit": connector.page_size(1000, 100), **team},
                _admin,
            ),
        ),
        read_setting(
            "approved_apps",
            "GET admin.apps.approved.list",
            _listed(
                connector,
                "admin.apps.approved.list",
                "approved_apps",
                {"limit": connector.page_size(1000, 100), **team},
                _app,
            ),
        ),
        read_setting(
            "app_requests",
            "GET admin.apps.requests.list",
            _listed(
                connector,
                "admin.apps.requests.list",
                "app_requests",
                {"limit": connector.page_size(1000, 100), **team},
                _app,
            ),
        ),
    ]
    for setting_id, action in NOT_EXPOSED.items():
        reason = (
            f"Slack's Web API has no method that reads this setting; the Audit Logs API records its changes ({action})"
        )
        rows.append(unavailable_row(setting_id, "Slack admin settings (no Web API method)", "not_exposed", reason))
    yield Batch("settings", rows)


STAGE = SnapshotStage(
    stage=Stage.SETTINGS,
    scan=scan_settings,
    permission="admin.teams:read (Enterprise Grid org admin or owner); admin.users:read, admin.apps:read and "
    "team.preferences:read for the settings they read",
    probe=Probe("admin.teams.list", {"limit": 1}),
)
