"""box: OAuth scopes (or permissions) broad enough that a grant of one is a finding (broad_oauth_grants).

Box's application scopes (https://developer.box.com/guides/api-calls/permissions-and-errors/scopes/).
No stage lists grants yet (Box has no API listing the apps users authorized), so these only name
what a grant row would be judged by."""

from __future__ import annotations

from saaslens.connectors.kit import BroadScope

BROAD: tuple[BroadScope, ...] = (
    BroadScope("root_readwrite", "Read and write every file and folder the user can reach"),
    BroadScope("manage_managed_users", "Create, change and deactivate the enterprise's managed users"),
    BroadScope("manage_enterprise_properties", "Change enterprise settings and read the enterprise event log"),
    BroadScope("manage_app_users", "Create and manage App Users"),
)
