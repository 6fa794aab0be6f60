"""The control GitHub's REST API offers over what the stages collect. Each action cites its endpoint
in the Enterprise Cloud REST reference (the same page the OpenAPI description's externalDocs names)
and the permission a token needs: the organization role, the fine-grained permission (fine-grained
token or GitHub App), and the classic token scope.

Implemented (plan, apply, verify): removing a member, demoting an owner, removing an outside
collaborator, converting a member to an outside collaborator and revoking a SAML SSO credential
authorization. Every plan re-reads the target with
GET requests only: a member through ``GET /orgs/{org}/memberships/{username}`` (404 when the user is
not a member; ``role`` admin is an owner), an outside collaborator through the outside collaborator
listing, a credential authorization through the organization's listing filtered by ``login``. A
target's lake id is the numeric user id (accounts, privileges) or ``credential-authorization:<id>``
(app_permissions); the user's login for the path is read by that id (``GET /user/{account_id}``), and
the membership re-read checks the user behind the login still has the lake's id.

Audit events GitHub writes for these changes (the organization's audit log event catalogue,
github/docs ``src/audit-logs/data/ghec/organization.json``, rendered at
https://docs.github.com/enterprise-cloud@latest/organizations/keeping-your-organization-secure/managing-security-settings-for-your-organization/audit-log-events-for-your-organization):
``org.remove_member``, ``org.update_member`` (``permission``, ``old_permission``),
``org.remove_outside_collaborator``, ``org_credential_authorization.revoke`` ("An owner revoked
authorized credentials"). The catalogue documents no event for converting a member to an outside
collaborator; the change ends the membership, so ``org.remove_member`` ("A member was removed from
an organization") is the documented event it corresponds to (the sandbox writes that one).

Declared only: team membership removal, repository collaborator removal,
uninstalling a GitHub App (open only to a GitHub App installed on the enterprise), and the SCIM
deprovisioning of Enterprise Managed Users (the sandbox models no EMU enterprise).

Apps: an organization can revoke a member's SAML SSO credential authorization (which covers OAuth app
and GitHub App user tokens as well as personal access tokens and SSH keys). Deleting an OAuth app's
grant needs that app's own client credentials (DELETE /applications/{client_id}/grant), so it is not
declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from saaslens.connectors.github.connector import MEMBERS_WRITE, SSO_ADMIN, GitHubConnector
from saaslens.connectors.kit import Action, ActionOutcome, ActionPlan, PlannedRequest, Target, Verification, send_plan
from saaslens.http import ApiError, NotFoundError, api_path
from saaslens.vocabulary import Remedy, TargetKind

REFERENCE = "https://docs.github.com/enterprise-cloud@latest/rest"

# MEMBERS_WRITE and SSO_ADMIN are the permission strings authenticate reports when the action
# credentials provably hold them (GitHubConnector._action_permissions).

OWNER_PRIVILEGE = "org:owner"
CREDENTIAL_PREFIX = "credential-authorization:"


# -- reading the target ----------------------------------------------------------------------------


def _raw(row: Mapping[str, Any]) -> dict[str, Any]:
    raw = row.get("raw")
    if isinstance(raw, str | bytes):
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return dict(raw) if isinstance(raw, Mapping) else {}


def _login(connector: GitHubConnector, target: Target) -> str:
    """The login naming the target user in paths, read from GitHub by the lake's numeric id (a login
    can change, the id cannot). https://docs.github.com/enterprise-cloud@latest/rest/users/users#get-a-user-using-their-id"""
    user = connector.client.get_json(api_path("/user", _account_id(target)))
    login = user.get("login") if isinstance(user, dict) else None
    if not isinstance(login, str) or not login or str(user.get("id")) != _account_id(target):
        raise ApiError(f"GET /user/{_account_id(target)} answered no login for that id", status=200)
    return login


def _account_id(target: Target) -> str:
    return str(target.keys.get("account_id") or target.row.get("account_id") or "")


def _membership_path(connector: GitHubConnector, login: str) -> str:
    return api_path(connector.org_path("/memberships"), login)


def read_membership(connector: GitHubConnector, login: str, account_id: str) -> dict[str, Any] | None:
    """The user's organization membership (state, role), None when they are not a member, or the
    login now names another user. https://docs.github.com/enterprise-cloud@latest/rest/orgs/members#get-organization-membership-for-a-user"""
    try:
        _, body = connector.client.request("GET", _membership_path(connector, login))
    except NotFoundError:
        return None
    user = body.get("user") if isinstance(body, dict) else None
    if not isinstance(user, dict) or body.get("role") not in ("admin", "member"):
        raise ApiError("the membership answer has no user or no known role", status=200)
    if str(user.get("id")) != account_id:
        return None
    return {"login": login, "user_id": account_id, "state": str(body.get("state")), "role": body["role"]}


def _is_outside_collaborator(connector: GitHubConnector, account_id: str) -> bool:
    return any(
        str(user.get("id")) == account_id
        for page in connector.listing(connector.org_path("/outside_collaborators"))
        for user in page
        if isinstance(user, dict)
    )


def _not_a_member(target: Target, login: str) -> NotFoundError:
    return NotFoundError(
        f"{login} (id {_account_id(target)}) is not a member of the organization", status=404, provider_code="Not Found"
    )


# -- remove an organization member -----------------------------------------------------------------


def plan_remove_member(connector: GitHubConnector, target: Target) -> ActionPlan:
    login = _login(connector, target)
    membership = read_membership(connector, login, _account_id(target))
    if membership is None:
        raise _not_a_member(target, login)
    return ActionPlan(
        action="remove_org_member",
        target=target,
        requests=(PlannedRequest("DELETE", _membership_path(connector, login)),),
        before=membership,
        protected="organization owner" if membership["role"] == "admin" else None,
    )


def apply_remove_member(connector: GitHubConnector, plan: ActionPlan) -> ActionOutcome:
    # A repeated DELETE answers 404 once the first one worked: not retried blindly, verify tells.
    return send_plan(connector.client, plan, idempotent=False, parse_json=False)


def verify_remove_member(connector: GitHubConnector, outcome: ActionOutcome) -> Verification:
    target = outcome.plan.target
    membership = read_membership(connector, _login(connector, target), _account_id(target))
    after = membership or {"member": False}
    return Verification(holds=membership is None, after=after, detail="not a member" if membership is None else "")


# -- demote an organization owner ------------------------------------------------------------------


def _role_request(connector: GitHubConnector, login: str, role: str) -> PlannedRequest:
    return PlannedRequest("PUT", _membership_path(connector, login), {"role": role})


def plan_demote_owner(connector: GitHubConnector, target: Target) -> ActionPlan:
    if target.keys.get("privilege_id") != OWNER_PRIVILEGE:
        raise NotFoundError(f"GitHub organizations have no privilege {target.keys.get('privilege_id')!r}", status=None)
    login = _login(connector, target)
    membership = read_membership(connector, login, _account_id(target))
    if membership is None:
        raise _not_a_member(target, login)
    demote = _role_request(connector, login, "member")
    undo = ActionPlan("demote_org_owner:undo", target, (_role_request(connector, login, "admin"),))
    return ActionPlan(
        action="demote_org_owner",
        target=target,
        requests=(demote,),
        before=membership,
        noop=membership["role"] != "admin",
        protected="organization owner" if membership["role"] == "admin" else None,
        undo=undo,
    )


def apply_demote_owner(connector: GitHubConnector, plan: ActionPlan) -> ActionOutcome:
    # PUT sets the role: sending it twice leaves the same state.
    return send_plan(connector.client, plan, idempotent=True, parse_json=False)


def verify_demote_owner(connector: GitHubConnector, outcome: ActionOutcome) -> Verification:
    target = outcome.plan.target
    membership = read_membership(connector, _login(connector, target), _account_id(target))
    if membership is None:
        raise _not_a_member(target, _login(connector, target))
    return Verification(holds=membership["role"] == "member", after=membership)


# -- remove an outside collaborator ----------------------------------------------------------------


def plan_remove_collaborator(connector: GitHubConnector, target: Target) -> ActionPlan:
    login, account_id = _login(connector, target), _account_id(target)
    if not _is_outside_collaborator(connector, account_id):
        if read_membership(connector, login, account_id) is not None:
            raise ApiError(f"{login} is a member of the organization, not an outside collaborator", status=None)
        raise NotFoundError(f"{login} (id {account_id}) is not an outside collaborator", status=404)
    path = api_path(connector.org_path("/outside_collaborators"), login)
    return ActionPlan(
        action="remove_outside_collaborator",
        target=target,
        requests=(PlannedRequest("DELETE", path),),
        before={"login": login, "user_id": account_id, "outside_collaborator": True},
    )


def apply_remove_collaborator(connector: GitHubConnector, plan: ActionPlan) -> ActionOutcome:
    return send_plan(connector.client, plan, idempotent=False, parse_json=False)


def verify_remove_collaborator(connector: GitHubConnector, outcome: ActionOutcome) -> Verification:
    target = outcome.plan.target
    still = _is_outside_collaborator(connector, _account_id(target))
    return Verification(holds=not still, after={"login": _login(connector, target), "outside_collaborator": still})


# -- convert a member to an outside collaborator ---------------------------------------------------
#
# PUT /orgs/{org}/outside_collaborators/{username}, optional body {"async": bool}: 204 when converted,
# 202 when queued (async true), 403 when the user is the last owner, not a member, or the enterprise
# forbids outside collaborators, 404 not found. "They'll only have access to the repositories that
# their current team membership allows. The user will no longer be a member of the organization."
# https://docs.github.com/enterprise-cloud@latest/rest/orgs/outside-collaborators#convert-an-organization-member-to-outside-collaborator
# The plan sends no body (synchronous, 204), so verify reads the finished change.


def _affiliation(connector: GitHubConnector, login: str, account_id: str) -> dict[str, Any]:
    """Member (with role and state) or not, and outside collaborator or not."""
    membership = read_membership(connector, login, account_id)
    if membership is not None:
        return {**membership, "member": True, "outside_collaborator": False}
    collaborator = _is_outside_collaborator(connector, account_id)
    return {"login": login, "user_id": account_id, "member": False, "outside_collaborator": collaborator}


def plan_convert_member(connector: GitHubConnector, target: Target) -> ActionPlan:
    login, account_id = _login(connector, target), _account_id(target)
    before = _affiliation(connector, login, account_id)
    if not before["member"] and not before["outside_collaborator"]:
        raise _not_a_member(target, login)
    if before["member"] and before["state"] != "active":
        # GitHub answers 403 for someone who is not a member; a pending invitee is not one yet.
        raise ApiError(f"{login} has a pending invitation, not a membership to convert", status=None)
    return ActionPlan(
        action="convert_to_outside_collaborator",
        target=target,
        requests=(PlannedRequest("PUT", api_path(connector.org_path("/outside_collaborators"), login)),),
        before=before,
        noop=not before["member"],
        protected="organization owner" if before.get("role") == "admin" else None,
    )


def apply_convert_member(connector: GitHubConnector, plan: ActionPlan) -> ActionOutcome:
    # A repeated PUT answers 403 (no longer a member) once the first one worked: not retried blindly.
    return send_plan(connector.client, plan, idempotent=False, parse_json=False)


def verify_convert_member(connector: GitHubConnector, outcome: ActionOutcome) -> Verification:
    target = outcome.plan.target
    after = _affiliation(connector, _login(connector, target), _account_id(target))
    holds = not after["member"] and after["outside_collaborator"]
    return Verification(holds=holds, after=after, detail="an outside collaborator, not a member" if holds else "")


# -- revoke a SAML SSO credential authorization ----------------------------------------------------


def _credential_id(target: Target) -> str:
    grant_id = str(target.keys.get("grant_id") or "")
    if not grant_id.startswith(CREDENTIAL_PREFIX) or not grant_id.removeprefix(CREDENTIAL_PREFIX).isdigit():
        raise ApiError(f"{grant_id!r} is not a SAML SSO credential authorization (credential-authorization:<id>)")
    return grant_id.removeprefix(CREDENTIAL_PREFIX)


def read_authorization(connector: GitHubConnector, target: Target) -> dict[str, Any] | None:
    """The credential authorization as the organization lists it (filtered by its owner's login
    when the lake knows it), None when it is no longer there."""
    credential_id = _credential_id(target)
    login = _raw(target.row).get("login")
    params = {"login": login} if isinstance(login, str) and login else {}
    for page in connector.listing(connector.org_path("/credential-authorizations"), params):
        for item in page:
            if isinstance(item, dict) and str(item.get("credential_id")) == credential_id:
                keep = ("login", "credential_id", "credential_type", "credential_authorized_at", "scopes")
                return {key: item.get(key) for key in keep}
    return None


def plan_revoke_sso(connector: GitHubConnector, target: Target) -> ActionPlan:
    authorization = read_authorization(connector, target)
    if authorization is None:
        raise NotFoundError(f"the organization lists no SAML SSO authorization {_credential_id(target)}", status=404)
    path = api_path(connector.org_path("/credential-authorizations"), _credential_id(target))
    return ActionPlan(
        action="revoke_sso_authorization",
        target=target,
        requests=(PlannedRequest("DELETE", path),),
        before=authorization,
    )


def apply_revoke_sso(connector: GitHubConnector, plan: ActionPlan) -> ActionOutcome:
    return send_plan(connector.client, plan, idempotent=False, parse_json=False)


def verify_revoke_sso(connector: GitHubConnector, outcome: ActionOutcome) -> Verification:
    authorization = read_authorization(connector, outcome.plan.target)
    return Verification(holds=authorization is None, after=authorization or {"authorized": False})


ACTIONS: tuple[Action[Any], ...] = (
    Action(
        name="remove_org_member",
        remedies=(Remedy.SUSPEND_ACCOUNT,),
        target=TargetKind.ACCOUNT,
        permission=MEMBERS_WRITE,
        reversible=False,
        description="Remove a member from the organization (DELETE /orgs/{org}/memberships/{username}; a pending "
        "invitation is cancelled): they leave every team and lose access to the organization's repositories. Adding "
        "them back sends an invitation they must accept; membership through an enterprise team stays until they "
        "leave that team. GitHub records org.remove_member",
        docs=f"{REFERENCE}/orgs/members#remove-organization-membership-for-a-user",
        plan=plan_remove_member,
        apply=apply_remove_member,
        verify=verify_remove_member,
    ),
    Action(
        name="demote_org_owner",
        remedies=(Remedy.REMOVE_ADMIN_ROLE,),
        target=TargetKind.PRIVILEGE,
        permission=MEMBERS_WRITE,
        reversible=True,
        description="Make an organization owner a plain member (PUT /orgs/{org}/memberships/{username} with role "
        "member); undone by the same request with role admin. GitHub records org.update_member (permission read, "
        "old_permission admin)",
        docs=f"{REFERENCE}/orgs/members#set-organization-membership-for-a-user",
        plan=plan_demote_owner,
        apply=apply_demote_owner,
        verify=verify_demote_owner,
    ),
    Action(
        name="remove_outside_collaborator",
        target=TargetKind.ACCOUNT,
        permission=MEMBERS_WRITE,
        reversible=False,
        description="Remove an outside collaborator from every repository of the organization (DELETE "
        "/orgs/{org}/outside_collaborators/{username}; 422 for a member); giving access back means inviting them to "
        "each repository again. GitHub records org.remove_outside_collaborator",
        docs=f"{REFERENCE}/orgs/outside-collaborators#remove-outside-collaborator-from-an-organization",
        plan=plan_remove_collaborator,
        apply=apply_remove_collaborator,
        verify=verify_remove_collaborator,
    ),
    Action(
        name="convert_to_outside_collaborator",
        target=TargetKind.ACCOUNT,
        permission=MEMBERS_WRITE,
        reversible=False,
        description="Convert a member to an outside collaborator (PUT /orgs/{org}/outside_collaborators/{username}, "
        "204, or 202 with async): they keep access only to the repositories their team memberships allowed and stop "
        "being a member; 403 for the last owner, a non-member or when the enterprise forbids it. GitHub's audit "
        "event catalogue documents no conversion event; the membership's end is org.remove_member",
        docs=f"{REFERENCE}/orgs/outside-collaborators#convert-an-organization-member-to-outside-collaborator",
        plan=plan_convert_member,
        apply=apply_convert_member,
        verify=verify_convert_member,
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
        remedies=(Remedy.REVOKE_GRANT,),
        target=TargetKind.APP_GRANT,
        permission=SSO_ADMIN,
        reversible=False,
        description="Remove a credential's SAML SSO authorization for the organization (DELETE "
        "/orgs/{org}/credential-authorizations/{credential_id}): the personal access token, SSH key, OAuth app "
        "token or GitHub App user token can no longer reach the organization until its owner authorizes it again "
        "(Enterprise Cloud with SAML single sign-on). GitHub records org_credential_authorization.revoke",
        docs=f"{REFERENCE}/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization",
        plan=plan_revoke_sso,
        apply=apply_revoke_sso,
        verify=verify_revoke_sso,
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
    Action(
        name="suspend_managed_user",
        target=TargetKind.ACCOUNT,
        permission="enterprise owner; the SCIM provisioning token the identity provider uses",
        reversible=True,
        description="Suspend an Enterprise Managed User through the enterprise's SCIM API (PATCH "
        "/scim/v2/enterprises/{enterprise}/Users/{scim_user_id} with active false); Enterprise Managed Users only, "
        "with the identity provider's provisioning token",
        docs=f"{REFERENCE}/enterprise-admin/scim#update-an-attribute-for-a-scim-enterprise-user",
    ),
)
