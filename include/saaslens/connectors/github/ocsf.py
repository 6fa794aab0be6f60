"""github: provider actions mapped to OCSF event classes and activities (https://schema.ocsf.io).

Source of the action names: organization audit log actions: https://docs.github.com/en/organizations/keeping-your-organization-secure/managing-security-settings-for-your-organization/audit-log-events-for-your-organization.
"""

from __future__ import annotations

from saaslens.connectors.kit import OcsfMapping

MAPPINGS: tuple[OcsfMapping, ...] = (
    OcsfMapping("org.sso_response", 3002, 1),
    OcsfMapping("business.sso_response", 3002, 1),
    OcsfMapping("user.login", 3002, 1),
    OcsfMapping("user.failed_login", 3002, 1),
    OcsfMapping("user.logout", 3002, 2),
    OcsfMapping("org.recovery_code_used", 3002, 1, 2),
    OcsfMapping("org.recovery_code_failed", 3002, 1),
    OcsfMapping("org.invite_member", 3001, 1),
    OcsfMapping("org.add_member", 3001, 1),
    OcsfMapping("org.remove_member", 3001, 6),
    OcsfMapping("org.update_member", 3005, 99),
    OcsfMapping("team.add_member", 3006, 3),
    OcsfMapping("team.remove_member", 3006, 4),
    OcsfMapping("team.promote_maintainer", 3006, 1),
    OcsfMapping("team.demote_maintainer", 3006, 2),
    OcsfMapping("team.create", 6003, 1),
    OcsfMapping("team.destroy", 6003, 4),
    OcsfMapping("repo.add_member", 3005, 1),
    OcsfMapping("repo.remove_member", 3005, 2),
    OcsfMapping("repo.create", 6003, 1),
    OcsfMapping("repo.destroy", 6003, 4),
    OcsfMapping("repo.access", 6003, 3, 2),
    OcsfMapping("org.update_default_repository_permission", 6003, 3),
    OcsfMapping("integration_installation.create", 3005, 1),
    OcsfMapping("integration_installation.destroy", 3005, 2),
    OcsfMapping("org.oauth_app_access_approved", 3005, 1),
    OcsfMapping("org.oauth_app_access_denied", 3005, 2),
    OcsfMapping("personal_access_token.access_granted", 3005, 1),
    OcsfMapping("personal_access_token.access_revoked", 3005, 2),
    OcsfMapping("org_credential_authorization.grant", 3005, 1),
    OcsfMapping("org_credential_authorization.revoke", 3005, 2),
    OcsfMapping("personal_access_token.request_created", 6003, 1),
    OcsfMapping("pull_request.create", 6003, 1),
    OcsfMapping("pull_request.merge", 6003, 3),
    OcsfMapping("git.clone", 6006, 2),
    OcsfMapping("git.fetch", 6006, 2),
    OcsfMapping("git.push", 6006, 1),
    OcsfMapping("repo.download_zip", 6006, 2),
    OcsfMapping("protected_branch.rejected_ref_update", 6006, 3),
)
