"""The control Slack's APIs offer over what the stages collect, declared (not implemented: plan,
apply and verify arrive with the governance issue). Each names the scope its method's page gives;
the admin.* methods need an org-level user token of an Enterprise Grid admin or owner, the SCIM API a
token with the `admin` scope on Business+ or Enterprise Grid."""

from __future__ import annotations

from typing import Any

from saaslens.connectors.kit import Action
from saaslens.vocabulary import TargetKind

ACTIONS: tuple[Action[Any], ...] = (
    Action(
        name="deactivate_user",
        target=TargetKind.ACCOUNT,
        permission="admin (SCIM API)",
        reversible=True,
        description="Deactivate a member (SCIM DELETE /Users/{id}: Slack keeps the user, deactivated, and signs "
        "them out); undone by setting active back to true (SCIM PATCH /Users/{id})",
        docs="https://docs.slack.dev/reference/scim-api",
    ),
    Action(
        name="reset_user_sessions",
        target=TargetKind.SESSION,
        permission="admin.users:write",
        reversible=False,
        description="Wipe every session of a user on every device (admin.users.session.reset, Enterprise Grid), "
        "leaving them signed out; web_only / mobile_only narrow it. Bots and, except by the primary owner, the "
        "primary owner cannot be reset",
        docs="https://docs.slack.dev/reference/methods/admin.users.session.reset",
    ),
    Action(
        name="uninstall_app",
        target=TargetKind.APP_GRANT,
        permission="admin.apps:write",
        reversible=False,
        description="Uninstall an app from workspaces or the whole organization (admin.apps.uninstall, "
        "Enterprise Grid), revoking its tokens there; Slack says it cannot be undone: users must install the "
        "app again",
        docs="https://docs.slack.dev/reference/methods/admin.apps.uninstall",
    ),
    Action(
        name="restrict_app",
        target=TargetKind.APP_GRANT,
        permission="admin.apps:write",
        reversible=True,
        description="Restrict an approved app for a workspace or the organization (admin.apps.restrict, "
        "Enterprise Grid), voiding its approvals; existing installations stay (uninstall_app removes them). "
        "Undone by approving it again (admin.apps.approve)",
        docs="https://docs.slack.dev/reference/methods/admin.apps.restrict",
    ),
    Action(
        name="revoke_public_link",
        target=TargetKind.FILE_SHARE,
        permission="files:write",
        reversible=True,
        description="Disable a file's public/external link (files.revokePublicURL); undone by enabling public "
        "sharing again (files.sharedPublicURL)",
        docs="https://docs.slack.dev/reference/methods/files.revokePublicURL",
    ),
    Action(
        name="delete_file",
        target=TargetKind.FILE,
        permission="files:write",
        reversible=False,
        description="Delete a file (files.delete) from every conversation it was shared in",
        docs="https://docs.slack.dev/reference/methods/files.delete",
    ),
)
