"""Microsoft 365's ground truth as facts: Graph users, grants, OneDrive permissions, sign-ins."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tests.oracles.facts import AccountFact, Facts, FailureFact, FileFact, GrantFact, domain, lower, parse_time

IDENTITY_PROVIDER = True
"""Its accounts say who still works here: an inactive account makes the person's others orphaned."""
REPORTS_LAST_LOGIN = True
"""Its account listings say when an account last signed in."""
REPORTS_MFA = False
"""Its account listings say whether an account uses MFA."""

# Microsoft 365 (Graph user, oAuth2PermissionGrant, appRoleAssignment, permission, signIn)
# https://learn.microsoft.com/graph/api/resources/user : accountEnabled false cannot sign in;
# userType Guest; externalUserState PendingAcceptance; signInActivity.lastSuccessfulSignInDateTime.
# https://learn.microsoft.com/graph/api/resources/oauth2permissiongrant : scope is space-separated.
# https://learn.microsoft.com/graph/api/resources/sharinglink : scope anonymous / organization / users.
# https://learn.microsoft.com/graph/api/resources/signin : status.errorCode 0 is success.
_DEFAULT_ACCESS_ROLE = "00000000-0000-0000-0000-000000000000"


def collect(truth: Mapping[str, Any], app: str, instance: str, out: Facts, **_options: Any) -> None:
    admins = set(truth.get("admin_user_ids") or ())
    for user in truth["users"]:
        if user.get("externalUserState") == "PendingAcceptance":
            status = "pending"
        elif user.get("accountEnabled") is False:
            status = "suspended"
        else:
            status = "active"
        # Successful sign-ins only: lastSignInDateTime is the last attempt, successful or not
        # (https://learn.microsoft.com/graph/api/resources/signinactivity).
        last = (user.get("signInActivity") or {}).get("lastSuccessfulSignInDateTime")
        out.accounts.append(
            AccountFact(
                app,
                instance,
                user["id"],
                lower(user.get("mail")),
                status,
                user["id"] in admins,
                None,
                "guest" if (user.get("userType") or "").lower() == "guest" else "member",
                parse_time(user.get("createdDateTime")),
                parse_time(last),
            )
        )
    for grant in truth.get("oauth2_permission_grants") or []:
        account = None if grant.get("consentType") == "AllPrincipals" else grant.get("principalId")
        scopes = tuple((grant.get("scope") or "").split())
        out.grants.append(GrantFact(app, instance, grant["id"], account, scopes))
    roles = {
        role["id"]: role.get("value") or role.get("displayName") or role["id"]
        for sp in truth.get("service_principals") or []
        for role in sp.get("appRoles") or []
    }
    for assignment in truth.get("app_role_assignments") or []:
        role_id = assignment.get("appRoleId")
        scopes = () if role_id == _DEFAULT_ACCESS_ROLE else (roles.get(role_id, role_id or "unknown"),)
        out.grants.append(GrantFact(app, instance, assignment["id"], None, scopes))
    domains = {d.lower() for d in truth.get("domains") or []}
    owners = {d["id"]: ((d.get("owner") or {}).get("user") or {}).get("id") for d in truth.get("drives") or []}
    for entry in truth.get("files") or []:
        item = entry["item"]
        if "root" in item or "deleted" in item:
            continue
        visibility = _graph_visibility(entry.get("permissions") or [], domains)
        out.files.append(FileFact(app, instance, item["id"], owners.get(entry.get("drive_id")), visibility))
    for sign_in in truth.get("sign_ins") or []:
        code = (sign_in.get("status") or {}).get("errorCode")
        if code is None or code == 0:
            continue
        subject = sign_in.get("userPrincipalName")  # the account; appDisplayName is the app signed in to
        when = parse_time(sign_in["createdDateTime"])
        out.failures.append(FailureFact(app, instance, when, subject, sign_in.get("ipAddress")))


def _graph_visibility(permissions: Iterable[Mapping[str, Any]], domains: set[str]) -> str:
    def outside(email: str | None) -> bool:
        return bool(email) and domain(email) not in domains

    level = "private"
    for permission in permissions:
        link = permission.get("link") or {}
        roles = [r.lower() for r in permission.get("roles") or []]
        if link:
            scope = link.get("scope")
            if scope == "anonymous":
                return "public"
            grantees = [(g.get("user") or {}).get("email") for g in permission.get("grantedToIdentitiesV2") or []]
            external = scope == "users" and any(outside(e) for e in grantees)
        else:
            granted = permission.get("grantedToV2") or permission.get("grantedTo") or {}
            identity: dict[str, Any] = next((granted[k] for k in ("user", "group", "siteUser") if granted.get(k)), {})
            email = identity.get("email") or (permission.get("invitation") or {}).get("email")
            external = not granted.get("siteGroup") and outside(email)
        if external:
            level = "external"
        elif level == "private" and roles[:1] != ["owner"]:
            level = "internal"
    return level
