"""slack: OAuth scopes (or permissions) broad enough that a grant of one is a finding (broad_oauth_grants)."""

from __future__ import annotations

from saaslens.connectors.kit import BroadScope

BROAD: tuple[BroadScope, ...] = (
    BroadScope("admin", "Legacy admin scope: administer the workspace through the API"),
    BroadScope("client", "Legacy client scope: everything the user can do in the Slack client"),
    BroadScope(
        "admin.users:write", "Admin API: invite, deactivate and change the role of users across the organization"
    ),
    BroadScope("admin.conversations:write", "Admin API: change, archive and move any channel, including private ones"),
    BroadScope("admin.apps:write", "Admin API: approve and restrict apps for every workspace"),
    BroadScope("admin.teams:write", "Admin API: create workspaces and change their settings"),
    BroadScope("admin.usergroups:write", "Admin API: change user groups and their default channels"),
    BroadScope("admin.invites:write", "Admin API: approve and deny invitations"),
    BroadScope("admin.roles:write", "Admin API: assign admin roles"),
    BroadScope("admin.barriers:write", "Admin API: change information barriers"),
)
