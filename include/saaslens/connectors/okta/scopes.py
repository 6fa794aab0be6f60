"""okta: OAuth scopes (or permissions) broad enough that a grant of one is a finding (broad_oauth_grants)."""

from __future__ import annotations

from saaslens.connectors.kit import BroadScope

BROAD: tuple[BroadScope, ...] = (
    BroadScope(
        "okta.users.manage",
        "Okta Management API: create, change, deactivate and delete every user, and reset their credentials (org-wide)",
    ),
    BroadScope(
        "okta.groups.manage",
        "Okta Management API: create and change every group and its membership, and so what members can reach (org-wide)",
    ),
    BroadScope(
        "okta.apps.manage",
        "Okta Management API: create and change every app integration, including its sign-on settings and assignments (org-wide)",
    ),
    BroadScope(
        "okta.roles.manage", "Okta Management API: assign administrator roles, including Super Administrator (org-wide)"
    ),
    BroadScope(
        "okta.clients.manage",
        "Okta Management API: register and change OAuth clients, including their credentials (org-wide)",
    ),
    BroadScope(
        "okta.authorizationServers.manage",
        "Okta Management API: change authorization servers, their scopes, claims and access policies (org-wide)",
    ),
    BroadScope(
        "okta.policies.manage", "Okta Management API: change sign-on, password and MFA policies for everyone (org-wide)"
    ),
    BroadScope("okta.factors.manage", "Okta Management API: enroll, reset and remove users' MFA factors (org-wide)"),
    BroadScope(
        "okta.idps.manage",
        "Okta Management API: add and change identity providers that users can sign in through (org-wide)",
    ),
    BroadScope("okta.apiTokens.manage", "Okta Management API: manage the org's API tokens (org-wide)"),
    BroadScope("okta.orgs.manage", "Okta Management API: change the org's settings and contacts (org-wide)"),
    BroadScope("okta.eventHooks.manage", "Okta Management API: send the org's events to any endpoint (org-wide)"),
    BroadScope(
        "okta.inlineHooks.manage",
        "Okta Management API: insert custom code into sign-in and registration flows (org-wide)",
    ),
    BroadScope("okta.logStreams.manage", "Okta Management API: stream the System Log to any destination (org-wide)"),
    BroadScope(
        "okta.networkZones.manage", "Okta Management API: change the network zones sign-on policies trust (org-wide)"
    ),
    BroadScope(
        "okta.trustedOrigins.manage",
        "Okta Management API: change which web origins may call Okta with a session (org-wide)",
    ),
    BroadScope("okta.schemas.manage", "Okta Management API: change user and group profile schemas (org-wide)"),
    BroadScope("okta.userTypes.manage", "Okta Management API: change user types and their profiles (org-wide)"),
    BroadScope(
        "okta.profileMappings.manage",
        "Okta Management API: change how profiles flow between Okta and apps or directories (org-wide)",
    ),
)
