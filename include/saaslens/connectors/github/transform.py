"""GitHub objects to canonical rows. Pure functions, tested on recorded payloads.

Field names follow GitHub's OpenAPI description for Enterprise Cloud (github/rest-api-description,
``descriptions/ghec/``): ``simple-user``, ``team``, ``team-member``, ``installation``,
``credential-authorization``, ``minimal-repository`` and ``audit-log-event``.

Audit log category mapping (first rule that matches wins):

* logon: ``org.sso_response`` (a SAML SSO sign-in to the organization), ``business.sso_response``,
  ``user.login``, ``user.logout``, ``user.failed_login``, ``org.recovery_code_used``,
  ``org.recovery_code_failed`` (owner sign-in with an SSO recovery code);
* file: ``git.clone``, ``git.fetch``, ``git.push``, ``repo.download_zip`` and
  ``protected_branch.rejected_ref_update`` (reading or writing repository contents);
* app: ``org_credential_authorization.*`` (a member authorizing a token or key for SAML SSO) and
  ``integration_installation_request.*`` (a member asking for an app);
* admin: owner decisions on fine-grained tokens (``personal_access_token.access_granted``,
  ``.access_revoked``, ``.request_denied``) and the configuration categories ``org.*``,
  ``team.*``, ``repo.*``, ``integration_installation.*``, ``org.oauth_app_access_*``,
  ``oauth_application.*``, ``protected_branch.*``, ``hook.*``, ``business.*``, ``ip_allow_list*``,
  ``role.*``, ``environment.*``, ``organization_default_label.*``, ``members_can_create_pages.*``,
  ``secret_scanning*``, ``org_secret_scanning*``, ``dependabot*``, ``dependency_graph*``,
  ``repository_*``, ``codespaces.policy_group_*``, ``copilot.*``, ``billing.*``, ``account.*``;
* user: everything else, e.g. ``oauth_authorization.*``, ``personal_access_token.request_created``,
  ``pull_request.*``, ``issue.*``, ``workflows.*``, ``codespaces.create``.

Outcome: GitHub records actions that happened, so an event is a success unless its action says it
failed or was rejected (``*_failed``, ``*failure*``, ``*.rejected_ref_update``, ``user.failed_login``);
``org.sso_response`` carries no result field, so its outcome is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from saaslens.connectors.github.emu import split_managed_login
from saaslens.transform_utils import lower, parse_time, raw_json

ROLE_STATUS = {"admin": "admin", "member": "member", "outside_collaborator": "outside_collaborator"}

_LOGON_ACTIONS = frozenset(
    {
        "org.sso_response",
        "business.sso_response",
        "user.login",
        "user.logout",
        "user.failed_login",
        "org.recovery_code_used",
        "org.recovery_code_failed",
    }
)
_FILE_ACTIONS = frozenset(
    {"git.clone", "git.fetch", "git.push", "repo.download_zip", "protected_branch.rejected_ref_update"}
)
_APP_PREFIXES = ("org_credential_authorization.", "integration_installation_request.")
_OWNER_TOKEN_DECISIONS = frozenset(
    {
        "personal_access_token.access_granted",
        "personal_access_token.access_revoked",
        "personal_access_token.request_denied",
    }
)
_ADMIN_PREFIXES = (
    "org.",
    "team.",
    "repo.",
    "integration_installation.",
    "oauth_application.",
    "protected_branch.",
    "hook.",
    "business.",
    "ip_allow_list",
    "role.",
    "environment.",
    "organization_default_label.",
    "members_can_create_pages.",
    "secret_scanning",
    "org_secret_scanning",
    "dependabot",
    "dependency_graph",
    "repository_",
    "codespaces.policy_group_",
    "copilot.",
    "billing.",
    "account.",
)
_FAILURE_MARKERS = ("_failed", "failure", ".rejected_ref_update", ".failed_login")

CREDENTIAL_CLIENTS = {
    "personal access token": "personal-access-token",
    "SSH key": "ssh-key",
    "OAuth app token": "oauth-app-token",
    "GitHub app token": "github-app-token",
}


def category(action: str) -> str:
    """logon / file / app / admin / user for a GitHub audit log action (see the module docstring)."""
    if action in _LOGON_ACTIONS:
        return "logon"
    if action in _FILE_ACTIONS:
        return "file"
    if action.startswith(_APP_PREFIXES):
        return "app"
    if action in _OWNER_TOKEN_DECISIONS or action.startswith(_ADMIN_PREFIXES):
        return "admin"
    return "user"


def outcome(action: str, event: Mapping[str, Any]) -> str:
    declared = str(event.get("outcome") or "").lower()
    if declared in ("success", "failure"):
        return declared
    if any(marker in action for marker in _FAILURE_MARKERS):
        return "failure"
    if action.endswith("sso_response"):
        return "unknown"
    return "success"


def account_type(user: Mapping[str, Any], role: str) -> str:
    if user.get("type") == "Bot":
        return "bot"
    return "external" if role == "outside_collaborator" else "member"


def account_row(user: Mapping[str, Any], role: str, mfa_enabled: bool | None) -> dict[str, Any]:
    """An organization member (role admin or member) or an outside collaborator. GitHub lists only
    active members, so status is active; provider_status keeps GitHub's role for the account."""
    return {
        "account_id": str(user["id"]),
        "login": user.get("login"),
        "email": lower(user.get("email")),
        "display_name": user.get("name") or None,
        "status": "active",
        "provider_status": ROLE_STATUS.get(role, role),
        "account_type": account_type(user, role),
        "is_admin": role == "admin",
        "mfa_enabled": mfa_enabled,
        "created_at": parse_time(user.get("created_at")),
        "last_login_at": None,  # GitHub's REST API reports no sign-in time, successful or not
        "last_login_attempt_at": None,
        "updated_at": parse_time(user.get("updated_at")),
        "raw": raw_json(user),
    }


def managed_status(row: dict[str, Any], active_names: frozenset[str] | None) -> dict[str, Any]:
    """An Enterprise Managed User's account row with the state its SCIM identity gives. A managed
    login is the SCIM ``userName`` normalized plus ``_SHORTCODE`` (emu.py); a suspension replaces it
    by a hash of the old one, so a managed member whose login no active identity normalizes to is
    suspended: "the user will remain as a 'suspended member' of the organization, without access"
    (https://docs.github.com/enterprise-cloud@latest/admin/managing-iam/provisioning-user-accounts-with-scim/deprovisioning-and-reinstating-users).
    The setup user (``SHORTCODE_admin``) has no identity. ``active_names`` None: the SCIM state
    was not read, the row stays as listed."""
    login = row.get("login")
    parts = split_managed_login(login) if isinstance(login, str) else None
    if active_names is None or parts is None or parts[1].lower() == "admin":
        return row
    if parts[0].lower() in active_names:
        return row
    return {**row, "status": "suspended", "provider_status": "suspended"}


def privilege_row(user: Mapping[str, Any], org: str) -> dict[str, Any]:
    """Organization owners hold the one administrative role of an organization."""
    return {
        "account_id": str(user["id"]),
        "privilege_id": "org:owner",
        "privilege_name": "Organization owner",
        "scope": f"organization {org}",
        "assignment_type": "direct",
        "via_group_id": None,
        "raw": raw_json(user),
    }


def group_row(team: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "group_id": str(team["id"]),
        "name": team.get("name") or team.get("slug") or str(team["id"]),
        "description": team.get("description") or None,
        "group_type": team.get("type"),
        "created_at": parse_time(team.get("created_at")),
        "updated_at": parse_time(team.get("updated_at")),
        "raw": raw_json(team),
    }


def is_direct_member(member: Mapping[str, Any]) -> bool:
    """Team member lists include child teams' members, flagged ``inherited: true``."""
    return member.get("inherited") is not True


def member_row(team_id: str, member: Mapping[str, Any], role: str | None) -> dict[str, Any]:
    # The member object is the same simple-user already kept in accounts.raw.
    return {"group_id": team_id, "account_id": str(member["id"]), "member_role": role, "raw": None}


def installation_row(installation: Mapping[str, Any]) -> dict[str, Any]:
    """An installed GitHub App: an organization-wide grant of the app's permissions."""
    permissions = installation.get("permissions") or {}
    return {
        "grant_id": f"installation:{installation['id']}",
        "account_id": None,
        "client_id": str(installation.get("client_id") or installation.get("app_id")),
        "client_name": installation.get("app_slug"),
        "scopes": sorted(f"{name}:{level}" for name, level in permissions.items()),
        "status": "suspended" if installation.get("suspended_at") else "active",
        "source": "admin",
        "created_at": parse_time(installation.get("created_at")),
        "raw": raw_json(installation),
    }


def credential_row(authorization: Mapping[str, Any], account_ids: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """A credential (token or SSH key) a member authorized for SAML SSO access to the organization.
    The payload names the member by login only; ``account_ids`` maps lowercased logins to ids."""
    kind = str(authorization.get("credential_type") or "credential")
    expires = parse_time(authorization.get("authorized_credential_expires_at"))
    return {
        "grant_id": f"credential-authorization:{authorization['credential_id']}",
        "account_id": account_ids.get(str(authorization.get("login") or "").lower()),
        "client_id": CREDENTIAL_CLIENTS.get(kind, kind.lower().replace(" ", "-")),
        "client_name": authorization.get("authorized_credential_note")
        or authorization.get("authorized_credential_title")
        or kind,
        "scopes": [str(s) for s in authorization.get("scopes") or []],
        "status": "expired" if expires is not None and expires <= now else "active",
        "source": "user",
        "created_at": parse_time(authorization.get("credential_authorized_at")),
        "raw": raw_json(authorization),
    }


def _target(event: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(id, name, type) of the event's main target: a user, else a team, repository, app or org."""
    if event.get("user"):
        user_id = event.get("user_id")
        return (None if user_id is None else str(user_id)), str(event["user"]), "user"
    team = event.get("team") or (event.get("data") or {}).get("team")
    if team:
        return None, str(team), "team"
    repo = event.get("repo") or event.get("repository")
    if repo:
        repo_id = event.get("repo_id")
        return (None if repo_id is None else str(repo_id)), str(repo), "repository"
    if event.get("integration") or event.get("installation_id"):
        installation = event.get("installation_id")
        return (
            None if installation is None else str(installation),
            event.get("integration") or event.get("name"),
            "integration",
        )
    if event.get("org"):
        org_id = event.get("org_id")
        return (None if org_id is None else str(org_id)), str(event["org"]), "organization"
    return None, None, None


def actor_type(event: Mapping[str, Any]) -> str | None:
    actor = str(event.get("actor") or "")
    if event.get("actor_is_bot") or actor.endswith("[bot]"):
        return "bot"
    return "user" if actor else None


def activity_row(event: Mapping[str, Any]) -> dict[str, Any]:
    action = str(event.get("action") or "unknown")
    occurred = event.get("@timestamp") or event.get("created_at")
    location = event.get("actor_location") or {}
    target_id, target_name, target_type = _target(event)
    actor_id = event.get("actor_id")
    return {
        "event_id": str(event["_document_id"]),
        "occurred_at": parse_time(occurred),
        "category": category(action),
        "action": action,
        "outcome": outcome(action, event),
        "outcome_reason": event.get("reason") or event.get("explanation"),
        "actor_id": None if actor_id is None else str(actor_id),
        "actor_login": event.get("actor"),
        "actor_type": actor_type(event),
        "target_id": target_id,
        "target_name": target_name,
        "target_type": target_type,
        "ip": event.get("actor_ip") or location.get("ip"),
        "user_agent": event.get("user_agent"),
        "country": location.get("country_code") or location.get("country_name"),
        "raw": raw_json(event),
    }


def repository_row(repo: Mapping[str, Any]) -> dict[str, Any]:
    """Repository inventory for posture checks (not a canonical table yet: repositories are not files)."""
    return {
        "repo_id": str(repo["id"]),
        "full_name": repo.get("full_name"),
        "visibility": repo.get("visibility") or ("private" if repo.get("private") else "public"),
        "archived": bool(repo.get("archived")),
        "fork": bool(repo.get("fork")),
        "default_branch": repo.get("default_branch"),
        "created_at": parse_time(repo.get("created_at")),
        "pushed_at": parse_time(repo.get("pushed_at")),
        "raw": raw_json(repo),
    }
