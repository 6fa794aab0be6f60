"""The settings stage: the organization's security configuration, one `settings` row per setting,
for the posture rules (include/posture/github/).

What is read, and where GitHub documents it:
- ``organization``: the owner-only fields of GET /orgs/{org} (two-factor requirement, base
  permission, who may create public repositories, pages and private forks, web commit sign-off,
  the code security defaults for new repositories). "To see the full details about an
  organization, the authenticated user must be an organization owner"; classic tokens "need the
  admin:org scope to see the full details":
  https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#get-an-organization
  Without them GitHub answers the public fields only, so the row is recorded as denied.
- ``actions_permissions``, ``actions_workflow_permissions`` (admin:org for classic tokens), the
  sections "Get GitHub Actions permissions for an organization" and "Get default workflow
  permissions for an organization" of https://docs.github.com/enterprise-cloud@latest/rest/actions/permissions
- ``webhooks`` (admin:org_hook for classic tokens; organization owners):
  https://docs.github.com/enterprise-cloud@latest/rest/orgs/webhooks#list-organization-webhooks
- ``owners``, ``members_without_2fa``, ``outside_collaborators_without_2fa`` (``role=admin``,
  ``filter=2fa_disabled``, the filter for owners only):
  https://docs.github.com/enterprise-cloud@latest/rest/orgs/members#list-organization-members ,
  https://docs.github.com/enterprise-cloud@latest/rest/orgs/outside-collaborators#list-outside-collaborators-for-an-organization
- ``saml_sso``: whether the organization has SAML single sign-on, from whether its SAML SSO
  credential authorizations exist ("Lists all credential authorizations for an organization that
  uses SAML single sign-on", Enterprise Cloud only):
  https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization
- ``saml_sso_enforcement``: whether SAML SSO is *required* ("Require SAML SSO authentication for all
  members") is in no REST response; recorded as not exposed, so the rule reading it says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from saaslens.connectors.batch import Row
from saaslens.connectors.github.connector import ORG, GitHubConnector
from saaslens.connectors.kit import JSON, Batch, Probe, SnapshotStage
from saaslens.connectors.settings_reads import read_setting, unavailable_row
from saaslens.http import FeatureUnavailableError, PermissionDeniedError
from saaslens.http.errors import ApiError
from saaslens.vocabulary import Stage

# The organization-full fields the rules read (GitHub's names), of those GitHub shows owners only.
ORGANIZATION_FIELDS = (
    "two_factor_requirement_enabled",
    "default_repository_permission",
    "members_can_create_repositories",
    "members_allowed_repository_creation_type",
    "members_can_create_public_repositories",
    "members_can_create_private_repositories",
    "members_can_create_internal_repositories",
    "members_can_create_pages",
    "members_can_create_public_pages",
    "members_can_create_private_pages",
    "members_can_fork_private_repositories",
    "members_can_invite_outside_collaborators",
    "members_can_delete_repositories",
    "members_can_change_repo_visibility",
    "web_commit_signoff_required",
    "advanced_security_enabled_for_new_repositories",
    "dependabot_alerts_enabled_for_new_repositories",
    "dependabot_security_updates_enabled_for_new_repositories",
    "dependency_graph_enabled_for_new_repositories",
    "secret_scanning_enabled_for_new_repositories",
    "secret_scanning_push_protection_enabled_for_new_repositories",
    "secret_scanning_validity_checks_enabled",
    "deploy_keys_enabled_for_repositories",
)
# Present in GET /orgs/{org} only for an owner whose token may see the full details.
OWNER_ONLY_MARKER = "two_factor_requirement_enabled"
PERMISSION = (
    "organization owner with admin:org and admin:org_hook (classic PAT), or Administration: read and "
    "Webhooks: read (fine-grained PAT, GitHub App)"
)
SAML_NOT_EXPOSED = (
    "GitHub's REST API does not say whether 'Require SAML SSO authentication' is on; the organization's "
    "SAML settings page and the org.enable_saml / org.update_saml_provider_settings audit events are the sources"
)


def organization_value(organization: Mapping[str, Any]) -> dict[str, Any]:
    """The security fields of an organization-full document, under GitHub's names; a field GitHub
    left out stays out (a rule reading it is then not evaluated), a null stays null."""
    if OWNER_ONLY_MARKER not in organization:
        raise PermissionDeniedError(
            "GET /orgs/{org} answered without the owner-only settings: the credentials need an organization "
            "owner with admin:org (classic token) or Administration: read",
            status=200,
        )
    value = {name: organization[name] for name in ORGANIZATION_FIELDS if name in organization}
    plan = organization.get("plan")
    value["plan"] = plan.get("name") if isinstance(plan, Mapping) else None
    return value


def _without_credentials(url: Any) -> Any:
    """A webhook URL as the rules need it (scheme, host, path): user info and query strings, where
    receivers often carry a token, are not stored."""
    if not isinstance(url, str):
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def webhook_value(hook: Mapping[str, Any]) -> dict[str, Any]:
    """One org-hook, trimmed: what it receives, whether it delivers, and how (the secret GitHub
    shows only masked; kept as the mask, which says one is set)."""
    config = hook.get("config") or {}
    trimmed: dict[str, Any] = {
        "url": _without_credentials(config.get("url")),
        "insecure_ssl": config.get("insecure_ssl"),
        "content_type": config.get("content_type"),
    }
    if "secret" in config:
        trimmed["secret"] = "********"
    return {
        "id": hook.get("id"),
        "name": hook.get("name"),
        "active": hook.get("active"),
        "events": hook.get("events"),
        "config": trimmed,
    }


def _users(pages: Iterator[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [{"login": user.get("login"), "id": user.get("id")} for page in pages for user in page]


def _owner_filter(read: Callable[[], Any]) -> Callable[[], Any]:
    """``filter=2fa_disabled`` by a non-owner is GitHub's 422 "Only owners can use this filter.":
    a missing role, recorded as denied like any other."""

    def guarded() -> Any:
        try:
            return read()
        except ApiError as exc:
            if exc.status == 422:
                raise PermissionDeniedError(exc.detail, **exc.context) from None
            raise

    return guarded


def saml_sso_value(connector: GitHubConnector, plan: str | None) -> dict[str, Any]:
    """SAML SSO configured: the credential authorizations answer. Their 404 means no Enterprise
    Cloud or no SAML SSO; on an Enterprise Cloud organization (plan ``enterprise``) it can only be
    the latter, elsewhere the feature is not licensed."""
    try:
        connector.client.get_json(connector.org_path("/credential-authorizations"), {"per_page": 1})
    except FeatureUnavailableError:
        if plan == "enterprise":
            return {"configured": False, "plan": plan}
        raise
    return {"configured": True, "plan": plan}


def scan_settings(connector: GitHubConnector, resume: JSON | None) -> Iterator[Batch]:
    org = connector.org_path()
    organization = read_setting(
        "organization", "GET /orgs/{org}", lambda: organization_value(connector.client.get_json(org))
    )
    plan = json.loads(organization["value"]).get("plan") if organization["status"] == "available" else None
    rows: list[Row] = [
        organization,
        read_setting(
            "actions_permissions",
            "GET /orgs/{org}/actions/permissions",
            lambda: connector.client.get_json(f"{org}/actions/permissions"),
        ),
        read_setting(
            "actions_workflow_permissions",
            "GET /orgs/{org}/actions/permissions/workflow",
            lambda: connector.client.get_json(f"{org}/actions/permissions/workflow"),
        ),
        read_setting(
            "webhooks",
            "GET /orgs/{org}/hooks",
            lambda: [webhook_value(hook) for page in connector.listing(f"{org}/hooks") for hook in page],
        ),
        read_setting(
            "owners",
            "GET /orgs/{org}/members?role=admin",
            lambda: _users(connector.listing(f"{org}/members", {"role": "admin"})),
        ),
        read_setting(
            "members_without_2fa",
            "GET /orgs/{org}/members?filter=2fa_disabled",
            _owner_filter(lambda: _users(connector.listing(f"{org}/members", {"filter": "2fa_disabled"}))),
        ),
        read_setting(
            "outside_collaborators_without_2fa",
            "GET /orgs/{org}/outside_collaborators?filter=2fa_disabled",
            _owner_filter(
                lambda: _users(connector.listing(f"{org}/outside_collaborators", {"filter": "2fa_disabled"}))
            ),
        ),
        read_setting("saml_sso", "GET /orgs/{org}/credential-authorizations", lambda: saml_sso_value(connector, plan)),
        unavailable_row("saml_sso_enforcement", "(no REST endpoint)", "not_exposed", SAML_NOT_EXPOSED),
    ]
    yield Batch("settings", rows)


STAGE = SnapshotStage(
    stage=Stage.SETTINGS,
    scan=scan_settings,
    permission=PERMISSION,
    # The Actions policy needs what the settings need most (admin:org, an owner): its refusal skips
    # the stage with GitHub's reason.
    probe=Probe(f"{ORG}/actions/permissions"),
)
