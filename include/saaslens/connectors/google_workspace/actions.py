"""The control the Admin SDK Directory API and the Drive API offer over what the stages collect,
declared (not implemented: plan, apply and verify arrive with the governance issue). Each names the
OAuth scope its write method's reference page requires; with domain-wide delegation the admin must
delegate that scope to the service account as well.
"""

from __future__ import annotations

from typing import Any

from saaslens.connectors.google_workspace.connector import S
from saaslens.connectors.kit import Action
from saaslens.vocabulary import TargetKind

DIRECTORY_REFERENCE = "https://developers.google.com/workspace/admin/directory/reference/rest/v1"
DRIVE_REFERENCE = "https://developers.google.com/workspace/drive/api/reference/rest/v3"

ACTIONS: tuple[Action[Any], ...] = (
    Action(
        name="suspend_user",
        target=TargetKind.ACCOUNT,
        permission=S + "admin.directory.user",
        reversible=True,
        description="Suspend the user (users.update, PUT /admin/directory/v1/users/{userKey} with suspended true; "
        "patch semantics, other fields kept): they can no longer sign in; undone by setting suspended back to false",
        docs=f"{DIRECTORY_REFERENCE}/users/update",
    ),
    Action(
        name="sign_out_user",
        target=TargetKind.SESSION,
        permission=S + "admin.directory.user.security",
        reversible=False,
        description="Sign the user out of all web and device sessions and reset their sign-in cookies "
        "(users.signOut, POST /admin/directory/v1/users/{userKey}/signOut); they must authenticate again",
        docs=f"{DIRECTORY_REFERENCE}/users/signOut",
    ),
    Action(
        name="remove_admin_role_assignment",
        target=TargetKind.PRIVILEGE,
        permission=S + "admin.directory.rolemanagement",
        reversible=True,
        description="Delete an admin role assignment (roleAssignments.delete, DELETE "
        "/admin/directory/v1/customer/{customer}/roleassignments/{roleAssignmentId}); undone by inserting an "
        "assignment of the same role to the same assignee and scope (roleAssignments.insert), under a new id",
        docs=f"{DIRECTORY_REFERENCE}/roleAssignments/delete",
    ),
    Action(
        name="delete_oauth_token",
        target=TargetKind.APP_GRANT,
        permission=S + "admin.directory.user.security",
        reversible=False,
        description="Delete every access token a user issued to one app (tokens.delete, DELETE "
        "/admin/directory/v1/users/{userKey}/tokens/{clientId}): the app loses its access until the user grants "
        "it again, which the admin cannot do for them",
        docs=f"{DIRECTORY_REFERENCE}/tokens/delete",
    ),
    Action(
        name="remove_drive_permission",
        target=TargetKind.FILE_SHARE,
        # drive.file covers only files the app created or opened; a scanner needs the full scope.
        permission=S + "drive",
        reversible=True,
        description="Remove a sharing permission from a Drive file (permissions.delete, DELETE "
        "/drive/v3/files/{fileId}/permissions/{permissionId}), sent as the file's owner through domain-wide "
        "delegation; undone by creating a permission with the same type, role and email address or domain "
        "(permissions.create), under a new id. Concurrent permission changes on one file are not supported: "
        "only the last applies",
        docs=f"{DRIVE_REFERENCE}/permissions/delete",
    ),
    # Trash rules (owner only, restorable for 30 days): https://developers.google.com/workspace/drive/api/guides/delete
    Action(
        name="trash_file",
        target=TargetKind.FILE,
        permission=S + "drive",
        reversible=True,
        description="Move a Drive file to the trash (files.update, PATCH /drive/v3/files/{fileId} with trashed "
        "true), sent as its owner; it can be restored for 30 days by setting trashed back to false, after which "
        "Drive deletes it for good",
        docs=f"{DRIVE_REFERENCE}/files/update",
    ),
)
