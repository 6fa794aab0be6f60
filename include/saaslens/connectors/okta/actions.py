"""The control the Okta Management API offers over what the stages collect, declared (not
implemented: plan, apply and verify arrive with the governance issue). Each names the OAuth 2.0 scope
its write endpoint requires in the Management API's OpenAPI description (okta/okta-sdk-python
openapi/management.yaml, operations suspendUser, unsuspendUser, deactivateUser, revokeUserSessions,
revokeUserGrant, unassignRoleFromUser); an API token (SSWS) acts with its admin's role instead."""

from __future__ import annotations

from typing import Any

from saaslens.connectors.kit import Action
from saaslens.vocabulary import TargetKind

_REFERENCE = "https://developer.okta.com/docs/api/openapi/okta-management/management"

ACTIONS: tuple[Action[Any], ...] = (
    Action(
        name="suspend_user",
        target=TargetKind.ACCOUNT,
        permission="okta.users.manage",
        reversible=True,
        description="Suspend an ACTIVE user (POST /api/v1/users/{id}/lifecycle/suspend): they can no longer sign "
        "in, while their app assignments and profile stay; undone by unsuspend_user",
        docs=f"{_REFERENCE}/tag/UserLifecycle/#tag/UserLifecycle/operation/suspendUser",
    ),
    Action(
        name="unsuspend_user",
        target=TargetKind.ACCOUNT,
        permission="okta.users.manage",
        reversible=True,
        description="Return a SUSPENDED user to ACTIVE (POST /api/v1/users/{id}/lifecycle/unsuspend); undone by "
        "suspend_user",
        docs=f"{_REFERENCE}/tags/userlifecycle/other/unsuspenduser",
    ),
    Action(
        name="deactivate_user",
        target=TargetKind.ACCOUNT,
        permission="okta.users.manage",
        reversible=False,
        description="Deactivate a user (POST /api/v1/users/{id}/lifecycle/deactivate, status DEPROVISIONED): they "
        "are deprovisioned from every assigned app, which may destroy their data there. Okta calls this "
        "unrecoverable: activating the user again does not bring that data back",
        docs=f"{_REFERENCE}/tags/userlifecycle/other/deactivateuser",
    ),
    Action(
        name="clear_user_sessions",
        target=TargetKind.SESSION,
        permission="okta.users.manage",
        reversible=False,
        description="Revoke every identity provider session of the user (DELETE /api/v1/users/{id}/sessions), so "
        "they must sign in again; with oauthTokens=true also the OpenID Connect and OAuth access and refresh "
        "tokens issued to them",
        docs=f"{_REFERENCE}/tag/UserSessions/#tag/UserSessions/operation/revokeUserSessions",
    ),
    Action(
        name="revoke_user_grant",
        target=TargetKind.APP_GRANT,
        permission="okta.users.manage",
        reversible=False,
        description="Revoke one OAuth 2.0 scope consent grant a user gave an app (DELETE "
        "/api/v1/users/{userId}/grants/{grantId}); only the user can consent again",
        docs=f"{_REFERENCE}/tag/UserGrant/#tag/UserGrant/operation/revokeUserGrant",
    ),
    Action(
        name="remove_admin_role",
        target=TargetKind.PRIVILEGE,
        permission="okta.roles.manage",
        reversible=True,
        description="Unassign an admin role from a user (DELETE /api/v1/users/{userId}/roles/{roleAssignmentId}); "
        "undone by assigning the same role again (POST /api/v1/users/{userId}/roles) and, for roles limited "
        "to groups or apps, their targets",
        docs=f"{_REFERENCE}/tag/RoleAssignmentAUser/#tag/RoleAssignmentAUser/operation/unassignRoleFromUser",
    ),
)
