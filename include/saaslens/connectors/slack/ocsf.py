"""slack: provider actions mapped to OCSF event classes and activities (https://schema.ocsf.io).

Source of the action names: Audit Logs API actions (https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference) plus team.accessLogs rows.
"""

from __future__ import annotations

from saaslens.connectors.kit import OcsfMapping

MAPPINGS: tuple[OcsfMapping, ...] = (
    OcsfMapping("user_login", 3002, 1),
    OcsfMapping("user_login_failed", 3002, 1),
    OcsfMapping("access_log_login", 3002, 1),
    OcsfMapping("user_logout", 3002, 2),
    OcsfMapping("user_session_invalidated", 3002, 2),
    OcsfMapping("user_session_reset_by_admin", 3002, 2),
    OcsfMapping("user_created", 3001, 1),
    OcsfMapping("guest_created", 3001, 1),
    OcsfMapping("user_deactivated", 3001, 5),
    OcsfMapping("guest_deactivated", 3001, 5),
    OcsfMapping("user_reactivated", 3001, 2),
    OcsfMapping("user_email_updated", 3001, 99),
    OcsfMapping("guest_reactivated", 3001, 2),
    OcsfMapping("role_change_to_admin", 3005, 3, 3),
    OcsfMapping("role_change_to_owner", 3005, 3, 3),
    OcsfMapping("role_change_to_user", 3005, 4),
    OcsfMapping("role_change_to_guest", 3005, 4),
    OcsfMapping("app_installed", 3005, 1),
    OcsfMapping("app_scopes_expanded", 3005, 1),
    OcsfMapping("app_approved", 3005, 1),
    OcsfMapping("app_uninstalled", 3005, 2),
    OcsfMapping("app_restricted", 3005, 2),
    OcsfMapping("pref.two_factor_auth_changed", 6003, 3, 2),
    OcsfMapping("public_channel_created", 6003, 1),
    OcsfMapping("private_channel_created", 6003, 1),
    OcsfMapping("file_uploaded", 6006, 1),
    OcsfMapping("file_downloaded", 6006, 2),
    OcsfMapping("file_downloaded_blocked", 6006, 2),
    OcsfMapping("file_shared", 6006, 12),
    OcsfMapping("file_public_link_created", 6006, 12, 2),
    OcsfMapping("file_public_link_revoked", 6006, 13),
    OcsfMapping("file_deleted", 6006, 4),
)
