"""google_workspace: provider actions mapped to OCSF event classes and activities (https://schema.ocsf.io).

Source of the action names: Reports API event names as "<application>.<event>": https://developers.google.com/workspace/admin/reports/v1/appendix/activity/login and its siblings.
"""

from __future__ import annotations

from saaslens.connectors.kit import OcsfMapping

MAPPINGS: tuple[OcsfMapping, ...] = (
    OcsfMapping("login.login_success", 3002, 1),
    OcsfMapping("login.login_failure", 3002, 1),
    OcsfMapping("login.login_challenge", 3002, 1),
    OcsfMapping("login.login_verification", 3002, 1),
    OcsfMapping("login.logout", 3002, 2),
    OcsfMapping("admin.CREATE_USER", 3001, 1),
    OcsfMapping("admin.DELETE_USER", 3001, 6),
    OcsfMapping("admin.SUSPEND_USER", 3001, 5),
    OcsfMapping("admin.UNSUSPEND_USER", 3001, 2),
    OcsfMapping("admin.CHANGE_PASSWORD", 3001, 4),
    OcsfMapping("admin.ADD_GROUP_MEMBER", 3006, 3),
    OcsfMapping("admin.REMOVE_GROUP_MEMBER", 3006, 4),
    OcsfMapping("admin.ASSIGN_ROLE", 3005, 3, 3),
    OcsfMapping("admin.UNASSIGN_ROLE", 3005, 4),
    OcsfMapping("admin.GRANT_ADMIN_PRIVILEGE", 3005, 3, 3),
    OcsfMapping("admin.REVOKE_ADMIN_PRIVILEGE", 3005, 4),
    OcsfMapping("admin.CHANGE_APPLICATION_SETTING", 6003, 3),
    OcsfMapping("token.authorize", 3005, 1),
    OcsfMapping("token.revoke", 3005, 2),
    OcsfMapping("drive.create", 6006, 1),
    OcsfMapping("drive.upload", 6006, 1),
    OcsfMapping("drive.download", 6006, 2),
    OcsfMapping("drive.edit", 6006, 3),
    OcsfMapping("drive.delete", 6006, 4),
    OcsfMapping("drive.trash", 6006, 4),
    OcsfMapping("drive.rename", 6006, 5),
    OcsfMapping("drive.copy", 6006, 6),
    OcsfMapping("drive.move", 6006, 7),
    OcsfMapping("drive.untrash", 6006, 8),
    OcsfMapping("drive.preview", 6006, 9),
    OcsfMapping("drive.view", 6006, 14),
    OcsfMapping("drive.change_user_access", 6006, 12),
    OcsfMapping("drive.change_document_visibility", 6006, 12, 2),
    OcsfMapping("drive.change_document_access_scope", 6006, 12),
)
