"""okta: provider actions mapped to OCSF event classes and activities (https://schema.ocsf.io).

Source of the action names: Okta System Log event types: https://developer.okta.com/docs/reference/api/event-types/.
"""

from __future__ import annotations

from saaslens.connectors.kit import OcsfMapping

MAPPINGS: tuple[OcsfMapping, ...] = (
    OcsfMapping("user.session.start", 3002, 1),
    OcsfMapping("user.session.end", 3002, 2),
    OcsfMapping("user.authentication.sso", 3002, 1),
    OcsfMapping("user.authentication.auth_via_mfa", 3002, 1),
    OcsfMapping("user.authentication.authenticate", 3002, 1),
    OcsfMapping("user.authentication.verify", 3002, 1),
    OcsfMapping("user.account.lock", 3001, 9, 2),
    OcsfMapping("user.account.update_password", 3001, 3),
    OcsfMapping("user.account.reset_password", 3001, 4),
    OcsfMapping("user.lifecycle.create", 3001, 1),
    OcsfMapping("user.lifecycle.activate", 3001, 2),
    OcsfMapping("user.lifecycle.reactivate", 3001, 2),
    OcsfMapping("user.lifecycle.unsuspend", 3001, 2),
    OcsfMapping("user.lifecycle.deactivate", 3001, 5),
    OcsfMapping("user.lifecycle.suspend", 3001, 5),
    OcsfMapping("user.lifecycle.delete.initiated", 3001, 6),
    OcsfMapping("user.lifecycle.delete.completed", 3001, 6),
    OcsfMapping("user.mfa.factor.activate", 3001, 10),
    OcsfMapping("user.mfa.factor.deactivate", 3001, 11, 2),
    OcsfMapping("user.mfa.factor.reset_all", 3001, 11, 2),
    OcsfMapping("group.user_membership.add", 3006, 3),
    OcsfMapping("group.user_membership.remove", 3006, 4),
    OcsfMapping("group.privilege.grant", 3006, 1, 3),
    OcsfMapping("group.privilege.revoke", 3006, 2),
    OcsfMapping("user.account.privilege.grant", 3005, 3, 3),
    OcsfMapping("user.account.privilege.revoke", 3005, 4),
    OcsfMapping("application.user_membership.add", 3005, 1),
    OcsfMapping("application.user_membership.remove", 3005, 2),
    OcsfMapping("app.oauth2.as.consent.grant", 3005, 1),
    OcsfMapping("app.oauth2.as.consent.revoke", 3005, 2),
    OcsfMapping("system.api_token.create", 6003, 1, 2),
    OcsfMapping("system.api_token.revoke", 6003, 4),
    OcsfMapping("policy.lifecycle.create", 6003, 1),
    OcsfMapping("policy.lifecycle.update", 6003, 3),
    OcsfMapping("policy.lifecycle.delete", 6003, 4),
    OcsfMapping("policy.rule.update", 6003, 3),
)
