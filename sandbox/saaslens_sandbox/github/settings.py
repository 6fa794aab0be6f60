"""An organization's security settings: what ``GET /orgs/{org}`` shows owners, the GitHub Actions
policies, the organization webhooks, and how an owner's change is logged.

Sources (GitHub's OpenAPI description for Enterprise Cloud, ``@octokit/openapi``, and its rendering):

* ``organization-full`` fields (``two_factor_requirement_enabled``, ``default_repository_permission``,
  ``members_can_*``, ``web_commit_signoff_required``, the ``*_enabled_for_new_repositories`` code
  security defaults, ``deploy_keys_enabled_for_repositories``); "To see the full details about an
  organization, the authenticated user must be an organization owner" and "personal access tokens
  (classic) need the ``admin:org`` scope to see the full details":
  https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#get-an-organization
* ``actions-organization-permissions`` (``enabled_repositories`` all|none|selected, ``allowed_actions``
  all|local_only|selected, ``selected_actions_url``, ``selected_repositories_url``,
  ``sha_pinning_required``), ``admin:org`` for classic tokens:
  https://docs.github.com/enterprise-cloud@latest/rest/actions/permissions#get-github-actions-permissions-for-an-organization
* ``actions-get-default-workflow-permissions`` (``default_workflow_permissions`` read|write,
  ``can_approve_pull_request_reviews``):
  https://docs.github.com/enterprise-cloud@latest/rest/actions/permissions#get-default-workflow-permissions-for-an-organization
* ``org-hook`` (``config.url``, ``config.insecure_ssl`` "0"|"1", ``config.secret`` shown masked),
  paged, ``admin:org_hook`` for classic tokens:
  https://docs.github.com/enterprise-cloud@latest/rest/orgs/webhooks#list-organization-webhooks
* Audit events of a change (github/docs ``src/audit-logs/data/ghec/organization.json``, rendered at
  https://docs.github.com/enterprise-cloud@latest/organizations/keeping-your-organization-secure/managing-security-settings-for-your-organization/audit-log-events-for-your-organization):
  ``org.enable_two_factor_requirement`` / ``org.disable_two_factor_requirement``,
  ``org.update_default_repository_permission`` (``permission``, ``old_permission``),
  ``org.update_member_repository_creation_permission`` (``permission``),
  ``org.update_member_repository_invitation_permission``, ``members_can_create_public_pages.enable``
  / ``.disable``, ``org.advanced_security_enabled_for_new_repos`` / ``_disabled_``,
  ``org.secret_scanning_push_protection_new_repos_enable`` / ``_disable``,
  ``org.update_actions_settings`` (``old_policy``, ``new_policy``),
  ``org.set_default_workflow_permissions``, ``org.set_workflow_permission_can_approve_pr``, and for
  webhooks ``hook.create`` / ``hook.config_changed`` / ``hook.destroy`` (``hook_id``, ``config``).

Every tenant starts from a secure baseline and plants a few misconfigurations drawn from its own seed
(an RNG of its own, so the rest of the generated organization is unchanged), plus the provider's
oddities: ``members_can_fork_private_repositories`` may be null (the schema allows it), an older
organization's Actions policy may not carry ``sha_pinning_required`` at all, and an inactive webhook
over plain HTTP without certificate checks, which delivers nothing and so must not count.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DAY_MS = 86_400_000


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


SECURE_ORGANIZATION: dict[str, Any] = {
    "two_factor_requirement_enabled": True,
    "default_repository_permission": "read",
    "members_can_create_repositories": True,
    "members_allowed_repository_creation_type": "private",
    "members_can_create_public_repositories": False,
    "members_can_create_private_repositories": True,
    "members_can_create_internal_repositories": True,
    "members_can_create_pages": True,
    "members_can_create_public_pages": False,
    "members_can_create_private_pages": True,
    "members_can_delete_repositories": False,
    "members_can_change_repo_visibility": False,
    "members_can_invite_outside_collaborators": False,
    "members_can_fork_private_repositories": False,
    "web_commit_signoff_required": True,
    "advanced_security_enabled_for_new_repositories": True,
    "dependabot_alerts_enabled_for_new_repositories": True,
    "dependabot_security_updates_enabled_for_new_repositories": True,
    "dependency_graph_enabled_for_new_repositories": True,
    "secret_scanning_enabled_for_new_repositories": True,
    "secret_scanning_push_protection_enabled_for_new_repositories": True,
    "secret_scanning_validity_checks_enabled": True,
    "deploy_keys_enabled_for_repositories": False,
}

# What an organization owner may get wrong, one change each; a tenant plants several.
PLANTS: dict[str, dict[str, Any]] = {
    "two_factor_off": {"organization": {"two_factor_requirement_enabled": False}},
    "base_permission_write": {"organization": {"default_repository_permission": "write"}},
    "public_repos_allowed": {
        "organization": {
            "members_can_create_public_repositories": True,
            "members_allowed_repository_creation_type": "all",
        }
    },
    "public_pages_allowed": {"organization": {"members_can_create_public_pages": True}},
    "private_forks_allowed": {"organization": {"members_can_fork_private_repositories": True}},
    "outside_invites_allowed": {"organization": {"members_can_invite_outside_collaborators": True}},
    "no_secret_scanning": {
        "organization": {
            "secret_scanning_enabled_for_new_repositories": False,
            "secret_scanning_push_protection_enabled_for_new_repositories": False,
        }
    },
    "no_dependabot": {"organization": {"dependabot_alerts_enabled_for_new_repositories": False}},
    "signoff_off": {"organization": {"web_commit_signoff_required": False}},
    "all_actions": {"actions": {"allowed_actions": "all"}},
    "workflow_write": {"workflow": {"default_workflow_permissions": "write"}},
    "actions_approve_prs": {"workflow": {"can_approve_pull_request_reviews": True}},
    "http_hook": {"hook": "http"},
    "insecure_ssl_hook": {"hook": "insecure_ssl"},
    "unsigned_hook": {"hook": "no_secret"},
}

HOOK_EVENTS = (("push", "pull_request"), ("*",), ("member", "organization", "team"), ("repository", "push"))
HOOK_HOSTS = ("ci.{org}.example.com", "hooks.slack.example.net", "siem.{org}.example.com", "deploy.{org}.example.com")


@dataclass
class HookRec:
    id: int
    url: str
    events: tuple[str, ...]
    active: bool
    insecure_ssl: str  # "0" verifies the certificate, "1" does not
    has_secret: bool
    created: int
    updated: int


@dataclass
class OrgSettings:
    organization: dict[str, Any]
    actions: dict[str, Any]
    workflow: dict[str, Any]
    hooks: list[HookRec]
    planted: tuple[str, ...]
    next_hook_id: int = field(default=0)


def make_settings(name: str, seed: int, created_ms: int, anchor_ms: int, org: str) -> OrgSettings:
    """The tenant's settings: the secure baseline with 3 to 5 planted misconfigurations and the
    oddities above, from an RNG of the settings' own."""
    rng = random.Random(f"github-settings:{name}:{seed}")
    organization = dict(SECURE_ORGANIZATION)
    actions: dict[str, Any] = {
        "enabled_repositories": "all",
        "allowed_actions": "selected",
        "sha_pinning_required": True,
    }
    workflow: dict[str, Any] = {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": False}
    hook_id = 480_000_000 + rng.randrange(10_000_000)
    hooks: list[HookRec] = []
    for k in range(2 + rng.randrange(3)):
        hook_id += 1 + rng.randrange(50_000)
        created = created_ms + rng.randrange(800 * DAY_MS)
        host = HOOK_HOSTS[k % len(HOOK_HOSTS)].format(org=org)
        hooks.append(HookRec(hook_id, f"https://{host}/github/events", HOOK_EVENTS[k % len(HOOK_EVENTS)], True, "0",
                             True, created, min(anchor_ms - DAY_MS, created + rng.randrange(60 * DAY_MS))))  # fmt: skip
    # An old hook an owner switched off rather than deleted: plain HTTP, no certificate checks, no
    # secret, but inactive, so GitHub delivers nothing to it.
    hook_id += 1 + rng.randrange(50_000)
    old = created_ms + rng.randrange(100 * DAY_MS)
    hooks.append(HookRec(hook_id, f"http://legacy-ci.{org}.example.com/hook", ("push",), False, "1", False, old, old))
    planted = tuple(sorted(rng.sample(sorted(PLANTS), 3 + rng.randrange(3))))
    for plant in planted:
        change = PLANTS[plant]
        organization.update(change.get("organization", {}))
        actions.update(change.get("actions", {}))
        workflow.update(change.get("workflow", {}))
        if "hook" in change:
            target = hooks[rng.randrange(len(hooks) - 1)]  # one of the active hooks
            if change["hook"] == "http":
                target.url = target.url.replace("https://", "http://", 1)
            elif change["hook"] == "insecure_ssl":
                target.insecure_ssl = "1"
            else:
                target.has_secret = False
    # Oddities: GitHub may answer null for forking (the schema allows it), and an organization
    # whose Actions policy predates SHA pinning has no sha_pinning_required.
    if rng.random() < 0.35:
        organization["members_can_fork_private_repositories"] = None
    if rng.random() < 0.4:
        actions.pop("sha_pinning_required")
    return OrgSettings(organization, actions, workflow, hooks, planted, hook_id)


def hook_document(hook: HookRec, api_base: str, org: str) -> dict[str, Any]:
    """An ``org-hook`` (the OpenAPI description's example: ``config`` with url, content_type and
    insecure_ssl; a secret, when set, comes back masked)."""
    base = f"{api_base}/orgs/{org}/hooks/{hook.id}"
    config: dict[str, Any] = {"url": hook.url, "content_type": "json", "insecure_ssl": hook.insecure_ssl}
    if hook.has_secret:
        config["secret"] = "********"
    return {
        "id": hook.id,
        "url": base,
        "ping_url": f"{base}/pings",
        "deliveries_url": f"{base}/deliveries",
        "name": "web",
        "events": list(hook.events),
        "active": hook.active,
        "config": config,
        "updated_at": _iso(hook.updated),
        "created_at": _iso(hook.created),
        "type": "Organization",
    }


def actions_document(settings: OrgSettings, api_base: str, org_id: int) -> dict[str, Any]:
    doc = dict(settings.actions)
    if settings.actions.get("enabled_repositories") == "selected":
        doc["selected_repositories_url"] = f"{api_base}/organizations/{org_id}/actions/permissions/repositories"
    if settings.actions.get("allowed_actions") == "selected":
        doc["selected_actions_url"] = f"{api_base}/organizations/{org_id}/actions/permissions/selected-actions"
    if settings.actions.get("enabled_repositories") == "none":
        # With Actions off, there is no policy for which actions may run.
        doc.pop("allowed_actions", None)
        doc.pop("selected_actions_url", None)
    return doc


def truth(settings: OrgSettings) -> dict[str, Any]:
    """The settings as the ground truth holds them, for the posture oracle."""
    return {
        "organization": dict(settings.organization),
        "actions_permissions": dict(settings.actions),
        "actions_workflow_permissions": dict(settings.workflow),
        "webhooks": [
            {
                "id": h.id,
                "url": h.url,
                "active": h.active,
                "insecure_ssl": h.insecure_ssl,
                "has_secret": h.has_secret,
                "events": list(h.events),
            }
            for h in settings.hooks
        ],
        "planted": list(settings.planted),
    }


# The change an admin makes, its audit action, and the fields the event carries.
@dataclass(frozen=True)
class SettingChange:
    section: str  # organization | actions | workflow
    key: str
    value: Any
    action: str
    extra: dict[str, Any]


def change_for(section: str, key: str, value: Any, old: Any) -> SettingChange:
    """The audit event GitHub's catalogue names for a change of ``section.key``; ValueError for a
    setting whose change the sandbox does not log (no event in the catalogue to plant)."""
    if section == "organization":
        if key == "two_factor_requirement_enabled":
            action = "org.enable_two_factor_requirement" if value else "org.disable_two_factor_requirement"
            return SettingChange(section, key, value, action, {})
        if key == "default_repository_permission":
            extra = {"permission": value, "old_permission": old}
            return SettingChange(section, key, value, "org.update_default_repository_permission", extra)
        if key in ("members_can_create_public_repositories", "members_can_create_repositories"):
            return SettingChange(
                section, key, value, "org.update_member_repository_creation_permission", {"permission": str(value)}
            )
        if key == "members_can_invite_outside_collaborators":
            return SettingChange(
                section, key, value, "org.update_member_repository_invitation_permission", {"permission": str(value)}
            )
        if key == "members_can_create_public_pages":
            action = "members_can_create_public_pages." + ("enable" if value else "disable")
            return SettingChange(section, key, value, action, {})
        if key == "advanced_security_enabled_for_new_repositories":
            action = "org.advanced_security_" + ("enabled" if value else "disabled") + "_for_new_repos"
            return SettingChange(section, key, value, action, {})
        if key == "secret_scanning_push_protection_enabled_for_new_repositories":
            action = "org.secret_scanning_push_protection_new_repos_" + ("enable" if value else "disable")
            return SettingChange(section, key, value, action, {})
    if section == "actions" and key in ("allowed_actions", "enabled_repositories"):
        return SettingChange(
            section, key, value, "org.update_actions_settings", {"old_policy": str(old), "new_policy": str(value)}
        )
    if section == "workflow" and key == "default_workflow_permissions":
        return SettingChange(section, key, value, "org.set_default_workflow_permissions", {})
    if section == "workflow" and key == "can_approve_pull_request_reviews":
        return SettingChange(section, key, value, "org.set_workflow_permission_can_approve_pr", {})
    raise ValueError(f"settings: the sandbox logs no audit event for a change of {section}.{key}")
