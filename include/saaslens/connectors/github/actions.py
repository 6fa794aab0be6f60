"""The control GitHub's REST API offers over what the stages collect. Each action cites its endpoint
in the Enterprise Cloud REST reference (the same page the OpenAPI description's externalDocs names)
and the permission a token needs: the organization role, the fine-grained permission (fine-grained
token or GitHub App), and the classic token scope.

Implemented (plan, apply, verify): removing a member, demoting an owner, removing an outside
collaborator, converting a member to an outside collaborator, revoking a SAML SSO credential
authorization and suspending an Enterprise Managed User through the enterprise SCIM API. Every plan
re-reads the target with GET requests only: a member through
``GET /orgs/{org}/memberships/{username}`` (404 when the user is not a member; ``role`` admin is an
owner), an outside collaborator through the outside collaborator
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

Enterprise Managed Users (``suspend_managed_user``): PATCH ``/scim/v2/enterprises/{enterprise}/Users/{id}``
with the PatchOp ``active`` false, the setup user's classic token with ``scim:enterprise``; the
account's SCIM identity is the one whose ``userName`` the login was normalized from (emu.py). GitHub
writes ``user.suspend``, ``user.remove_email``, ``user.rename``, ``external_identity.deprovision`` and
``external_identity.scim_api_success`` to the enterprise audit log, which the activities stage reads
for an instance naming its enterprise
(https://docs.github.com/enterprise-cloud@latest/admin/managing-iam/provisioning-user-accounts-with-scim/deprovisioning-and-reinstating-users).

Declared only: team membership removal, repository collaborator removal and uninstalling a GitHub
App (open only to a GitHub App installed on the enterprise).

Apps: an organization can revoke a member's SAML SSO credential authorization (which covers OAuth app
and GitHub App user tokens as well as personal access tokens and SSH keys). Deleting an OAuth app's
grant needs that app's own client credentials (DELETE /applications/{client_id}/grant), so it is not
declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from saaslens.connectors.github import emu
from saaslens.connectors.github.connector import MEMBERS_WRITE, SCIM_WRITE, SSO_ADMIN, GitHubConnector
from saaslens.connectors.kit import Action, ActionOutcome, ActionPlan, PlannedRequest, Target, Verification, send_plan
from saaslens.http import ApiError, NotFoundError, PermissionDeniedError, api_path
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


# -- suspend an Enterprise Managed User (enterprise SCIM) --------------------------------------------
#
# https://docs.github.com/enterprise-cloud@latest/rest/enterprise-admin/scim
# #update-an-attribute-for-a-scim-enterprise-user :
# "Setting active: false will suspend a user. As a result, their handle and primary email address
# will be obfuscated", body {"schemas": [PatchOp], "Operations": [{"op": "replace", "path": "active",
# "value": false}]}, 200 with the user. GitHub does not document a repeated PATCH as safe, so it is
# not retried blindly; a plan finding the identity inactive sends nothing. Soft-deprovisioned users
# stay listed ("which includes all users who are soft-deprovisioned by setting active to false") and
# are reinstated by the same PATCH with active true (the plan's undo).


def _lake_login(target: Target) -> str | None:
    login = target.row.get("login") or _raw(target.row).get("login")
    return login if isinstance(login, str) and login else None


def _identities(connector: GitHubConnector, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The enterprise's SCIM identities (all pages), each checked for the fields the action reads."""
    try:
        return [
            emu.checked_resource(resource)
            for page in connector.client.paginate(connector.scim_users_path(), emu.ScimPaginator(), params)
            for resource in page.items
        ]
    except ValueError as exc:
        raise ApiError(f"the enterprise SCIM listing: {exc}", status=200) from None


def find_identity(connector: GitHubConnector, logins: list[str]) -> dict[str, Any] | None:
    """The SCIM identity one of these logins (the lake's, GitHub's now) was normalized from: first a
    ``userName eq`` filter on the login's base (an IdP username that needs no normalization), then
    the whole listing. None when no identity links; several is an error, never a guess."""
    bases = [parts[0] for parts in map(emu.split_managed_login, logins) if parts is not None]
    if not bases:
        return None

    def linked(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in resources if any(emu.login_links(login, r["userName"]) for login in logins)]

    found: list[dict[str, Any]] = []
    for base in dict.fromkeys(bases):
        found += linked(_identities(connector, {"filter": emu.scim_filter("userName", base)}))
    if not found:
        found = linked(_identities(connector))
    unique = {r["id"]: r for r in found}
    if len(unique) > 1:
        raise ApiError(f"several SCIM identities normalize to {' or '.join(logins)}: {sorted(unique)}", status=None)
    return next(iter(unique.values()), None)


def read_identity(connector: GitHubConnector, scim_user_id: str) -> dict[str, Any]:
    """One SCIM identity by its id (NotFoundError when GitHub no longer has it).
    https://docs.github.com/enterprise-cloud@latest/rest/enterprise-admin/scim#get-scim-provisioning-information-for-an-enterprise-user"""
    resource = connector.client.get_json(connector.scim_users_path(scim_user_id))
    try:
        return emu.checked_resource(resource)
    except ValueError as exc:
        raise ApiError(f"GET SCIM user {scim_user_id}: {exc}", status=200) from None


def _org_role(connector: GitHubConnector, login: str, account_id: str) -> str | None:
    """The organization role when the credentials may read it (the setup user's SCIM token may not)."""
    try:
        membership = read_membership(connector, login, account_id)
    except PermissionDeniedError:
        return None
    return membership["role"] if membership else None


def plan_suspend_managed(connector: GitHubConnector, target: Target) -> ActionPlan:
    account_id = _account_id(target)
    login_now = _login(connector, target)
    logins = list(dict.fromkeys(x for x in (_lake_login(target), login_now) if x))
    identity = find_identity(connector, logins)
    if identity is None:
        raise NotFoundError(
            f"no SCIM identity of the enterprise links to {' or '.join(logins)} (id {account_id})", status=404
        )
    if identity["active"] and not emu.login_links(login_now, identity["userName"]):
        # An active identity's user has the login normalized from it: this account is another one.
        raise NotFoundError(f"the SCIM identity for {logins[0]} belongs to another user than id {account_id}")
    state = emu.identity_state(identity)
    role = _org_role(connector, login_now, account_id)
    owner = role == "admin" or target.row.get("is_admin") is True
    protected = (
        "enterprise owner" if emu.ENTERPRISE_OWNER_ROLE in state["roles"] else "organization owner" if owner else None
    )
    path = connector.scim_users_path(state["scim_user_id"])
    undo = ActionPlan("suspend_managed_user:undo", target, (PlannedRequest("PATCH", path, emu.deactivate_body(True)),))
    return ActionPlan(
        action="suspend_managed_user",
        target=target,
        requests=(PlannedRequest("PATCH", path, emu.deactivate_body(False)),),
        before={**state, "login": login_now, "user_id": account_id, "org_role": role},
        noop=identity["active"] is False,
        protected=protected,
        undo=undo,
    )


def apply_suspend_managed(connector: GitHubConnector, plan: ActionPlan) -> ActionOutcome:
    return send_plan(connector.client, plan, idempotent=False)


def verify_suspend_managed(connector: GitHubConnector, outcome: ActionOutcome) -> Verification:
    identity = read_identity(connector, str(outcome.plan.before["scim_user_id"]))
    state = emu.identity_state(identity)
    holds = identity["active"] is False
    return Verification(holds=holds, after=state, detail="SCIM identity inactive: suspended" if holds else "")


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
        permission=SCIM_WRITE,
        reversible=True,
        description="Suspend an Enterprise Managed User through the enterprise's SCIM API (PATCH "
        "/scim/v2/enterprises/{enterprise}/Users/{scim_user_id}, PatchOp active false; the instance option "
        "enterprise names it): they can no longer sign in, their login and email are obfuscated, they stay a "
        "suspended member of the organization; undone by the same request with active true. Needs the setup "
        "user's classic token with scim:enterprise. GitHub records user.suspend and external_identity.deprovision "
        "in the enterprise audit log",
        docs=f"{REFERENCE}/enterprise-admin/scim#update-an-attribute-for-a-scim-enterprise-user",
        plan=plan_suspend_managed,
        apply=apply_suspend_managed,
        verify=verify_suspend_managed,
    ),
)
