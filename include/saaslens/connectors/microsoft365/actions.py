"""The control Microsoft Graph offers over what the stages collect, declared (not implemented: plan,
apply and verify arrive with the governance issue). Each names the least-privileged application
permission its write endpoint's Microsoft Learn page gives."""

from __future__ import annotations

from typing import Any

from saaslens.connectors.kit import Action
from saaslens.vocabulary import TargetKind

ACTIONS: tuple[Action[Any], ...] = (
    Action(
        name="block_sign_in",
        target=TargetKind.ACCOUNT,
        # accountEnabled has its own fine-grained permission; the read is needed to address the user.
        permission="User.EnableDisableAccount.All and User.Read.All",
        reversible=True,
        description="Block the user from signing in (PATCH /users/{id} with accountEnabled false); undone by "
        "setting it back to true. Sessions already open last until revoked or expired",
        docs="https://learn.microsoft.com/graph/api/user-update",
    ),
    Action(
        name="revoke_sign_in_sessions",
        target=TargetKind.SESSION,
        permission="User.RevokeSessions.All",
        reversible=False,
        description="Invalidate the user's refresh tokens and browser session cookies (POST "
        "/users/{id}/revokeSignInSessions), so every app asks them to sign in again; access tokens already "
        "issued stay valid until they expire, and external users (who sign in at home) are not affected",
        docs="https://learn.microsoft.com/graph/api/user-revokesigninsessions",
    ),
    Action(
        name="revoke_delegated_grant",
        target=TargetKind.APP_GRANT,
        permission="DelegatedPermissionGrant.ReadWrite.All",
        reversible=True,
        description="Revoke an app's delegated permissions (DELETE /oauth2PermissionGrants/{id}); undone by "
        "creating a grant with the same client, consent type, principal, resource and scopes. Access tokens "
        "already issued stay valid for their lifetime",
        docs="https://learn.microsoft.com/graph/api/oauth2permissiongrant-delete",
    ),
    Action(
        name="revoke_app_role_assignment",
        target=TargetKind.APP_GRANT,
        permission="AppRoleAssignment.ReadWrite.All",
        reversible=True,
        description="Revoke an application permission a service principal holds (DELETE "
        "/servicePrincipals/{id}/appRoleAssignments/{assignment-id}); undone by assigning the same app role again",
        docs="https://learn.microsoft.com/graph/api/serviceprincipal-delete-approleassignments",
    ),
    Action(
        name="remove_file_share",
        target=TargetKind.FILE_SHARE,
        permission="Files.ReadWrite.All",
        reversible=False,
        description="Remove a sharing permission from a OneDrive or SharePoint item (DELETE "
        "/drives/{drive-id}/items/{item-id}/permissions/{perm-id}); only permissions not inherited from a "
        "folder can be removed, and a removed sharing link cannot be recreated with the same URL",
        docs="https://learn.microsoft.com/graph/api/permission-delete",
    ),
    Action(
        name="delete_file",
        target=TargetKind.FILE,
        permission="Files.ReadWrite.All",
        reversible=False,
        description="Delete a OneDrive or SharePoint item (DELETE /drives/{drive-id}/items/{item-id}): it moves to "
        "the site's recycle bin, where a site admin can restore it; Graph v1.0 restores only OneDrive Personal items",
        docs="https://learn.microsoft.com/graph/api/driveitem-delete",
    ),
)
