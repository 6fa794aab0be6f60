"""OCSF classes and activities for the catalog's activities_normalized view.

Each provider action maps to an Open Cybersecurity Schema Framework event class and activity, so the
activity table can be exported to security data lakes that speak OCSF (Amazon Security Lake,
Splunk, Chronicle ...). Ids and captions are OCSF's own, from the schema's class definitions
(github.com/ocsf/ocsf-schema, events/iam/*.json and events/application/*.json; browsable at
https://schema.ocsf.io/1.3.0/classes/authentication and its sibling pages):

- Authentication (3002, events/iam/authentication.json): 1 Logon, 2 Logoff.
- Account Change (3001, events/iam/account_change.json): 1 Create, 2 Enable, 3 Password Change,
  4 Password Reset, 5 Disable, 6 Delete, 7 Attach Policy, 8 Detach Policy, 9 Lock,
  10 MFA Factor Enable, 11 MFA Factor Disable.
- User Access Management (3005, events/iam/user_access.json): 1 Assign Privileges,
  2 Revoke Privileges, 3 Assign Role, 4 Remove Role. (OCSF 1.9 deprecates it for User Management;
  3005 is what today's OCSF consumers read.)
- Group Management (3006, events/iam/group_management.json): 1 Assign Privileges,
  2 Revoke Privileges, 3 Add User, 4 Remove User.
- API Activity (6003, events/application/api_activity.json): 1 Create, 2 Read, 3 Update, 4 Delete.
- File Hosting Activity (6006, events/application/file_hosting.json): the class OCSF defines for
  "file sharing servers like Sharepoint and services such as Box, MS OneDrive, or Google Drive";
  file events from SaaS apps are that, not File System Activity (1001), which is an endpoint's
  local file system.

Every class also has 0 Unknown and 99 Other ("the event activity is not mapped; see activity_name,
which contains a data source specific value"): an action with no entry below falls back on its
category's class with activity 99, and activity_name then carries the provider's action.
severity_id follows OCSF's base event: 1 Informational, 2 Low, 3 Medium, 4 High; status_id
0 Unknown, 1 Success, 2 Failure.
"""

from __future__ import annotations

from dataclasses import dataclass

OTHER = 99

# class_uid -> (class_name, category_uid, category_name)
CLASSES: dict[int, tuple[str, int, str]] = {
    3001: ("Account Change", 3, "Identity & Access Management"),
    3002: ("Authentication", 3, "Identity & Access Management"),
    3005: ("User Access Management", 3, "Identity & Access Management"),
    3006: ("Group Management", 3, "Identity & Access Management"),
    6003: ("API Activity", 6, "Application Activity"),
    6006: ("File Hosting Activity", 6, "Application Activity"),
}

_COMMON = {0: "Unknown", OTHER: "Other"}
ACTIVITIES: dict[int, dict[int, str]] = {
    3001: {
        1: "Create",
        2: "Enable",
        3: "Password Change",
        4: "Password Reset",
        5: "Disable",
        6: "Delete",
        7: "Attach Policy",
        8: "Detach Policy",
        9: "Lock",
        10: "MFA Factor Enable",
        11: "MFA Factor Disable",
        **_COMMON,
    },
    3002: {1: "Logon", 2: "Logoff", **_COMMON},
    3005: {1: "Assign Privileges", 2: "Revoke Privileges", 3: "Assign Role", 4: "Remove Role", **_COMMON},
    3006: {1: "Assign Privileges", 2: "Revoke Privileges", 3: "Add User", 4: "Remove User", **_COMMON},
    6003: {1: "Create", 2: "Read", 3: "Update", 4: "Delete", **_COMMON},
    6006: {
        1: "Upload",
        2: "Download",
        3: "Update",
        4: "Delete",
        5: "Rename",
        6: "Copy",
        7: "Move",
        8: "Restore",
        9: "Preview",
        10: "Lock",
        11: "Unlock",
        12: "Share",
        13: "Unshare",
        14: "Open",
        15: "Sync",
        16: "Unsync",
        **_COMMON,
    },
}

SEVERITIES = {0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical", 6: "Fatal"}
STATUSES = {"unknown": (0, "Unknown"), "success": (1, "Success"), "failure": (2, "Failure")}

# Canonical category -> the class an unmapped action of that category falls back on (activity 99).
CATEGORY_DEFAULTS: dict[str, int] = {
    "logon": 3002,
    "user": 6003,  # what people do in the app (pull requests, channel joins): API activity
    "admin": 6003,  # configuration changes
    "app": 6003,
    "file": 6006,
}


@dataclass(frozen=True)
class ActionMapping:
    app: str
    action: str
    class_uid: int
    activity_id: int
    severity_id: int = 1


def _rows(app: str, *rows: tuple) -> list[ActionMapping]:
    return [ActionMapping(app, *row) for row in rows]


# Provider actions, by app. Okta: System Log event types
# (https://developer.okta.com/docs/reference/api/event-types/); Google Workspace: Reports API event
# names as "<application>.<event>" (https://developers.google.com/workspace/admin/reports/v1/appendix/
# activity/login and siblings); Microsoft 365: directoryAudit activityDisplayName and the signIn
# resource (https://learn.microsoft.com/en-us/entra/identity/monitoring-health/reference-audit-activities);
# Slack: Audit Logs API actions (https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference)
# plus team.accessLogs rows; GitHub: organization audit log actions
# (https://docs.github.com/en/organizations/keeping-your-organization-secure/managing-security-settings-for-your-organization/audit-log-events-for-your-organization).
ACTION_MAPPINGS: list[ActionMapping] = [
    *_rows(
        "okta",
        ("user.session.start", 3002, 1),
        ("user.session.end", 3002, 2),
        ("user.authentication.sso", 3002, 1),
        ("user.authentication.auth_via_mfa", 3002, 1),
        ("user.authentication.authenticate", 3002, 1),
        ("user.authentication.verify", 3002, 1),
        ("user.account.lock", 3001, 9, 2),
        ("user.account.update_password", 3001, 3),
        ("user.account.reset_password", 3001, 4),
        ("user.lifecycle.create", 3001, 1),
        ("user.lifecycle.activate", 3001, 2),
        ("user.lifecycle.reactivate", 3001, 2),
        ("user.lifecycle.unsuspend", 3001, 2),
        ("user.lifecycle.deactivate", 3001, 5),
        ("user.lifecycle.suspend", 3001, 5),
        ("user.lifecycle.delete.initiated", 3001, 6),
        ("user.lifecycle.delete.completed", 3001, 6),
        ("user.mfa.factor.activate", 3001, 10),
        ("user.mfa.factor.deactivate", 3001, 11, 2),
        ("user.mfa.factor.reset_all", 3001, 11, 2),
        ("group.user_membership.add", 3006, 3),
        ("group.user_membership.remove", 3006, 4),
        ("group.privilege.grant", 3006, 1, 3),
        ("group.privilege.revoke", 3006, 2),
        ("user.account.privilege.grant", 3005, 3, 3),
        ("user.account.privilege.revoke", 3005, 4),
        ("application.user_membership.add", 3005, 1),
        ("application.user_membership.remove", 3005, 2),
        ("app.oauth2.as.consent.grant", 3005, 1),
        ("app.oauth2.as.consent.revoke", 3005, 2),
        ("system.api_token.create", 6003, 1, 2),
        ("system.api_token.revoke", 6003, 4),
        ("policy.lifecycle.create", 6003, 1),
        ("policy.lifecycle.update", 6003, 3),
        ("policy.lifecycle.delete", 6003, 4),
        ("policy.rule.update", 6003, 3),
    ),
    *_rows(
        "google_workspace",
        ("login.login_success", 3002, 1),
        ("login.login_failure", 3002, 1),
        ("login.login_challenge", 3002, 1),
        ("login.login_verification", 3002, 1),
        ("login.logout", 3002, 2),
        ("admin.CREATE_USER", 3001, 1),
        ("admin.DELETE_USER", 3001, 6),
        ("admin.SUSPEND_USER", 3001, 5),
        ("admin.UNSUSPEND_USER", 3001, 2),
        ("admin.CHANGE_PASSWORD", 3001, 4),
        ("admin.ADD_GROUP_MEMBER", 3006, 3),
        ("admin.REMOVE_GROUP_MEMBER", 3006, 4),
        ("admin.ASSIGN_ROLE", 3005, 3, 3),
        ("admin.UNASSIGN_ROLE", 3005, 4),
        ("admin.GRANT_ADMIN_PRIVILEGE", 3005, 3, 3),
        ("admin.REVOKE_ADMIN_PRIVILEGE", 3005, 4),
        ("admin.CHANGE_APPLICATION_SETTING", 6003, 3),
        ("token.authorize", 3005, 1),
        ("token.revoke", 3005, 2),
        ("drive.create", 6006, 1),
        ("drive.upload", 6006, 1),
        ("drive.download", 6006, 2),
        ("drive.edit", 6006, 3),
        ("drive.delete", 6006, 4),
        ("drive.trash", 6006, 4),
        ("drive.rename", 6006, 5),
        ("drive.copy", 6006, 6),
        ("drive.move", 6006, 7),
        ("drive.untrash", 6006, 8),
        ("drive.preview", 6006, 9),
        ("drive.view", 6006, 14),
        ("drive.change_user_access", 6006, 12),
        ("drive.change_document_visibility", 6006, 12, 2),
        ("drive.change_document_access_scope", 6006, 12),
    ),
    *_rows(
        "microsoft365",
        ("signIn", 3002, 1),
        ("nonInteractiveSignIn", 3002, 1),
        ("Add user", 3001, 1),
        ("Update user", 3001, OTHER),
        ("Delete user", 3001, 6),
        ("Hard Delete user", 3001, 6),
        ("Disable account", 3001, 5),
        ("Enable account", 3001, 2),
        ("Reset user password", 3001, 4),
        ("Reset password (self-service)", 3001, 4),
        ("Change user password", 3001, 3),
        ("Change password (self-service)", 3001, 3),
        ("User registered security info", 3001, 10),
        ("User deleted security info", 3001, 11, 2),
        ("Add member to group", 3006, 3),
        ("Remove member from group", 3006, 4),
        ("Add member to role", 3005, 3, 3),
        ("Add eligible member to role", 3005, 3, 3),
        ("Remove member from role", 3005, 4),
        ("Consent to application", 3005, 1),
        ("Add delegated permission grant", 3005, 1),
        ("Remove delegated permission grant", 3005, 2),
        ("Add app role assignment to service principal", 3005, 1),
        ("Add conditional access policy", 6003, 1),
        ("Update conditional access policy", 6003, 3),
        ("Delete conditional access policy", 6003, 4, 2),
        ("Add application", 6003, 1),
        ("Update application", 6003, 3),
        ("Add service principal", 6003, 1),
    ),
    *_rows(
        "slack",
        ("user_login", 3002, 1),
        ("user_login_failed", 3002, 1),
        ("access_log_login", 3002, 1),
        ("user_logout", 3002, 2),
        ("user_session_invalidated", 3002, 2),
        ("user_session_reset_by_admin", 3002, 2),
        ("user_created", 3001, 1),
        ("guest_created", 3001, 1),
        ("user_deactivated", 3001, 5),
        ("guest_deactivated", 3001, 5),
        ("user_reactivated", 3001, 2),
        ("user_email_updated", 3001, OTHER),
        ("guest_reactivated", 3001, 2),
        ("role_change_to_admin", 3005, 3, 3),
        ("role_change_to_owner", 3005, 3, 3),
        ("role_change_to_user", 3005, 4),
        ("role_change_to_guest", 3005, 4),
        ("app_installed", 3005, 1),
        ("app_scopes_expanded", 3005, 1),
        ("app_approved", 3005, 1),
        ("app_uninstalled", 3005, 2),
        ("app_restricted", 3005, 2),
        ("pref.two_factor_auth_changed", 6003, 3, 2),
        ("public_channel_created", 6003, 1),
        ("private_channel_created", 6003, 1),
        ("file_uploaded", 6006, 1),
        ("file_downloaded", 6006, 2),
        ("file_downloaded_blocked", 6006, 2),
        ("file_shared", 6006, 12),
        ("file_public_link_created", 6006, 12, 2),
        ("file_public_link_revoked", 6006, 13),
        ("file_deleted", 6006, 4),
    ),
    *_rows(
        "github",
        ("org.sso_response", 3002, 1),
        ("business.sso_response", 3002, 1),
        ("user.login", 3002, 1),
        ("user.failed_login", 3002, 1),
        ("user.logout", 3002, 2),
        ("org.recovery_code_used", 3002, 1, 2),
        ("org.recovery_code_failed", 3002, 1),
        ("org.invite_member", 3001, 1),
        ("org.add_member", 3001, 1),
        ("org.remove_member", 3001, 6),
        ("org.update_member", 3005, OTHER),
        ("team.add_member", 3006, 3),
        ("team.remove_member", 3006, 4),
        ("team.promote_maintainer", 3006, 1),
        ("team.demote_maintainer", 3006, 2),
        ("team.create", 6003, 1),
        ("team.destroy", 6003, 4),
        ("repo.add_member", 3005, 1),
        ("repo.remove_member", 3005, 2),
        ("repo.create", 6003, 1),
        ("repo.destroy", 6003, 4),
        ("repo.access", 6003, 3, 2),
        ("org.update_default_repository_permission", 6003, 3),
        ("integration_installation.create", 3005, 1),
        ("integration_installation.destroy", 3005, 2),
        ("org.oauth_app_access_approved", 3005, 1),
        ("org.oauth_app_access_denied", 3005, 2),
        ("personal_access_token.access_granted", 3005, 1),
        ("personal_access_token.access_revoked", 3005, 2),
        ("org_credential_authorization.grant", 3005, 1),
        ("org_credential_authorization.revoke", 3005, 2),
        ("personal_access_token.request_created", 6003, 1),
        ("pull_request.create", 6003, 1),
        ("pull_request.merge", 6003, 3),
        ("git.clone", 6006, 2),
        ("git.fetch", 6006, 2),
        ("git.push", 6006, 1),
        ("repo.download_zip", 6006, 2),
        ("protected_branch.rejected_ref_update", 6006, 3),
    ),
]


def validate() -> None:
    """Every mapping names a known class and one of its activities, once per (app, action)."""
    seen: set[tuple[str, str]] = set()
    for mapping in ACTION_MAPPINGS:
        key = (mapping.app, mapping.action)
        if key in seen:
            raise ValueError(f"OCSF mapping for {key} is given twice")
        seen.add(key)
        if mapping.activity_id not in ACTIVITIES.get(mapping.class_uid, {}):
            raise ValueError(f"OCSF mapping for {key}: class {mapping.class_uid} has no activity {mapping.activity_id}")
        if mapping.severity_id not in SEVERITIES:
            raise ValueError(f"OCSF mapping for {key}: unknown severity_id {mapping.severity_id}")
    for category, class_uid in CATEGORY_DEFAULTS.items():
        if class_uid not in CLASSES:
            raise ValueError(f"category {category!r} falls back on unknown OCSF class {class_uid}")


validate()
