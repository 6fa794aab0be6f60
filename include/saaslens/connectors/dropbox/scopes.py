"""dropbox: what a linked app may reach that makes its grant a finding (broad_oauth_grants).

team/linked_apps/list_members_linked_apps names no OAuth scopes, only whether the app is confined to
its own app folder (ApiApp.is_app_folder, team.stone); transform.app_access records that as the
grant's one scope."""

from __future__ import annotations

from saaslens.connectors.kit import BroadScope

BROAD: tuple[BroadScope, ...] = (
    BroadScope("full_dropbox", "A linked app with access to the member's whole Dropbox, not only its app folder"),
)
