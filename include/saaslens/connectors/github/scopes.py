"""github: OAuth scopes (or permissions) broad enough that a grant of one is a finding (broad_oauth_grants)."""

from __future__ import annotations

from saaslens.connectors.kit import BroadScope

BROAD: tuple[BroadScope, ...] = (
    BroadScope("admin:org", "Classic token scope: fully manage the organization, its teams and memberships"),
    BroadScope("admin:enterprise", "Classic token scope: fully manage the enterprise account"),
    BroadScope(
        "admin:org_hook",
        "Classic token scope: create and change organization webhooks, which receive every event of the organization",
    ),
    BroadScope("delete_repo", "Classic token scope: delete any repository the user administers"),
    BroadScope(
        "repo",
        "Classic token scope: full control of every private repository the user can reach, including code and settings",
    ),
    BroadScope(
        "workflow", "Classic token scope: change GitHub Actions workflows, which run with the repository's secrets"
    ),
    BroadScope("administration:write", "GitHub App permission: change repository settings, teams and collaborators"),
    BroadScope("organization_administration:write", "GitHub App permission: change the organization's settings"),
    BroadScope("members:write", "GitHub App permission: add and remove organization members and teams"),
    BroadScope(
        "organization_secrets:write", "GitHub App permission: read-write access to the organization's Actions secrets"
    ),
)
