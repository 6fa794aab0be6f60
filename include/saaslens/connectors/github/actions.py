"""The control GitHub's REST API offers over what the stages collect, declared (not implemented: plan,
apply and verify arrive with the governance issue). Each cites its endpoint in the Enterprise Cloud
REST reference (the same page the OpenAPI description's externalDocs names) and the permission a
token needs: the organization role, the fine-grained permission (fine-grained token or GitHub App),
and the classic token scope where the reference states one.

Apps: an organization can revoke a member's SAML SSO credential authorization (which covers OAuth app
and GitHub App user tokens as well as personal access tokens and SSH keys). Uninstalling a GitHub App
is open only to the app itself (DELETE /app/installations/{id}, with the app's own JWT) or, on an
enterprise, to a GitHub App installed on the enterprise; deleting an OAuth app's grant needs that app's
own client credentials (DELETE /applications/{client_id}/grant), so it is not declared.
"""

from __future__ import annotations

from typing import Any

from saaslens.connectors.kit import Action
from saaslens.vocabulary import TargetKind

REFERENCE = "https://docs.github.com/enterprise-cloud@latest/rest"

ACTIONS: tuple[Action[Any], ...] = (
    Action(
        name="remove_org_member",
        target=TargetKind.ACCOUNT,
        permission="organization owner; Members: write (fine-grained token, GitHub App)",
        reversible=False,
        description="Remove a member from the organization (DELETE /orgs/{org}/members/{username}): they leave "
        "every team and lose access to the organization's repositories. Adding them back sends an invitation "
        "they must accept; membership through an enterprise team stays until they leave that team",
        docs=f"{REFERENCE}/orgs/members#remove-an-organization-member",
    ),
    Action(
        name="remove_outside_collaborator",
        target=TargetKind.ACCOUNT,
        permission="organization owner; Members: write (fine-grained token, GitHub App)",
        reversible=False,
        description="Remove an outside collaborator from every repository of the organization (DELETE "
        "/orgs/{org}/outside_collaborators/{username}); giving access back means inviting them to each "
        "repository again",
        docs=f"{REFERENCE}/orgs/outside-collaborators#remove-outside-collaborator-from-an-organization",
    ),
    Action(
        name="remove_team_member",
        target=TargetKind.GROUP_MEMBERSHIP,
        permission="organization owner or team maintainer; Members: write (fine-grained token, GitHub App)",
        reversible=True,
        description="Remove a user's membership of a team, active or pending (DELETE "
        "/orgs/{org}/teams/{team_slug}/memberships/{username}); undone by adding them with the same role (PUT on "
        "the same path). Teams synchronized with an identity provider refuse the change: it is made in the IdP",
        docs=f"{REFERENCE}/teams/members#remove-team-membership-for-a-user",
    ),
    Action(
        name="remove_repository_collaborator",
        # A direct collaborator holds a role (read to admin) on one repository: a privilege, granted
        # to that person alone, which the privileges stage does not list yet.
        target=TargetKind.PRIVILEGE,
        permission="repository admin; Administration: write (fine-grained token, GitHub App) or repo (classic)",
        reversible=False,
        description="Remove a collaborator from a repository (DELETE /repos/{owner}/{repo}/collaborators/{username}): "
        "also cancels their invitations, unassigns their issues and deletes their private fork. Access through "
        "the organization's base permission or a team remains",
        docs=f"{REFERENCE}/collaborators/collaborators#remove-a-repository-collaborator",
    ),
    Action(
        name="revoke_sso_authorization",
        target=TargetKind.APP_GRANT,
        permission="organization owner; admin:org (classic token)",
        reversible=False,
        description="Remove a credential's SAML SSO authorization for the organization (DELETE "
        "/orgs/{org}/credential-authorizations/{credential_id}): the personal access token, SSH key, OAuth app "
        "token or GitHub App user token can no longer reach the organization until its owner authorizes it again "
        "(Enterprise Cloud with SAML single sign-on)",
        docs=f"{REFERENCE}/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization",
    ),
    Action(
        name="uninstall_github_app",
        target=TargetKind.APP_GRANT,
        permission="a GitHub App installed on the enterprise with Enterprise organization installations: write",
        reversible=False,
        description="Uninstall a GitHub App from an enterprise-owned organization (DELETE "
        "/enterprises/{enterprise}/apps/organizations/{org}/installations/{installation_id}); installing it again "
        "creates a new installation with the permissions the app asks for then. Enterprise Cloud only, and only "
        "through a GitHub App installed on the enterprise, not an organization token",
        docs=f"{REFERENCE}/enterprise-admin/organization-installations"
        "#uninstall-a-github-app-from-an-enterprise-owned-organization",
    ),
)
