"""Microsoft Graph v1.0 objects to canonical rows. Pure functions, tested on recorded payloads.

Field names follow the v1.0 resource types (user, signInActivity, group, directoryRole,
servicePrincipal, appRole, appRoleAssignment, oAuth2PermissionGrant, signIn, directoryAudit,
drive, driveItem, permission, sharingLink) in microsoftgraph/microsoft-graph-docs-contrib
``api-reference/v1.0/resources/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from saaslens.transform_utils import lower, parse_time, raw_json

USER_TYPE = {"member": "member", "guest": "guest"}
AUDIT_OUTCOME = {"success": "success", "failure": "failure"}
PERMISSION_ROLE = {"read": "reader", "write": "writer", "owner": "owner", "sp.full control": "owner"}
# appRoleId of the "default access" role: an assignment with no specific app role.
DEFAULT_ACCESS_ROLE = "00000000-0000-0000-0000-000000000000"
# Self-service activities an end user performs on their own account.
_SELF_SERVICE = {"Self-service Password Management", "Authentication Methods", "Self-service Group Management"}
USER_ODATA_TYPE = "#microsoft.graph.user"
GROUP_ODATA_TYPE = "#microsoft.graph.group"


# -- accounts ------------------------------------------------------------------------------------


def last_sign_in(user: Mapping[str, Any]) -> Any:
    """The last successful sign-in, interactive or not: lastSuccessfulSignInDateTime. Never the
    attempt properties: lastSignInDateTime and lastNonInteractiveSignInDateTime record the last
    attempt "successful or not", so a password spray against a dormant account would make it look
    active (https://learn.microsoft.com/graph/api/resources/signinactivity). Null when Graph has no
    success on record (the property is not backfilled before December 2023): unknown, not recent."""
    return (user.get("signInActivity") or {}).get("lastSuccessfulSignInDateTime")


def last_sign_in_attempt(user: Mapping[str, Any]) -> datetime | None:
    """The latest sign-in attempt, successful or not, interactive or not (same page)."""
    activity = user.get("signInActivity") or {}
    attempts = [parse_time(activity.get(field)) for field in ("lastSignInDateTime", "lastNonInteractiveSignInDateTime")]
    return max((a for a in attempts if a is not None), default=None)


def account_status(user: Mapping[str, Any]) -> tuple[str, str]:
    """(canonical status, provider status). A guest who never redeemed the invitation is pending;
    a disabled account (accountEnabled false) cannot sign in: suspended."""
    if user.get("externalUserState") == "PendingAcceptance":
        return "pending", "PendingAcceptance"
    enabled = user.get("accountEnabled")
    if enabled is False:
        return "suspended", "disabled"
    return "active", "enabled"


def account_row(user: dict[str, Any], admin_ids: set[str] | None) -> dict[str, Any]:
    status, provider_status = account_status(user)
    return {
        "account_id": user["id"],
        "login": user.get("userPrincipalName"),
        "email": lower(user.get("mail")),
        "display_name": user.get("displayName"),
        "status": status,
        "provider_status": provider_status,
        "account_type": USER_TYPE.get((user.get("userType") or "Member").lower(), "member"),
        "is_admin": None if admin_ids is None else user["id"] in admin_ids,
        "mfa_enabled": None,
        "created_at": parse_time(user.get("createdDateTime")),
        "last_login_at": parse_time(last_sign_in(user)),
        "last_login_attempt_at": last_sign_in_attempt(user),
        "updated_at": None,
        "raw": raw_json(user),
    }


# -- groups --------------------------------------------------------------------------------------


def group_type(group: Mapping[str, Any]) -> str:
    """Microsoft's names for the four kinds of group (groupTypes, mailEnabled, securityEnabled)."""
    if "Unified" in (group.get("groupTypes") or []):
        return "Microsoft 365"
    mail, security = bool(group.get("mailEnabled")), bool(group.get("securityEnabled"))
    if security:
        return "Mail-enabled security" if mail else "Security"
    return "Distribution" if mail else "Other"


def group_row(group: dict[str, Any]) -> dict[str, Any]:
    return {
        "group_id": group["id"],
        "name": group.get("displayName") or group["id"],
        "description": group.get("description"),
        "group_type": group_type(group),
        "created_at": parse_time(group.get("createdDateTime")),
        "updated_at": None,
        "raw": raw_json(group),
    }


def is_user(directory_object: Mapping[str, Any]) -> bool:
    return directory_object.get("@odata.type") == USER_ODATA_TYPE


def member_row(group_id: str, member: Mapping[str, Any]) -> dict[str, Any]:
    # The member is already in accounts.raw; repeating it per membership would only grow the lake.
    return {"group_id": group_id, "account_id": member["id"], "member_role": "member", "raw": None}


# -- privileges ----------------------------------------------------------------------------------


def privilege_row(
    account_id: str, role: Mapping[str, Any], member: Mapping[str, Any], via_group_id: str | None
) -> dict[str, Any]:
    """A directory role held by an account, directly or through a role-assignable group. Directory
    roles are tenant-wide, hence scope "/" (administrative-unit scoping is not read)."""
    return {
        "account_id": account_id,
        "privilege_id": role["id"],
        "privilege_name": role.get("displayName") or role.get("roleTemplateId") or role["id"],
        "scope": "/",
        "assignment_type": "group" if via_group_id else "direct",
        "via_group_id": via_group_id,
        "raw": raw_json({"directoryRole": role, "member": member}),
    }


# -- app permissions -----------------------------------------------------------------------------


def delegated_grant_row(grant: dict[str, Any], service_principals: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """An oAuth2PermissionGrant: clientId is the client's service principal object id; consentType
    AllPrincipals is an admin's consent for everyone, Principal one user's consent."""
    client = service_principals.get(grant.get("clientId") or "") or {}
    everyone = grant.get("consentType") == "AllPrincipals"
    return {
        "grant_id": grant["id"],
        "account_id": None if everyone else grant.get("principalId"),
        "client_id": client.get("appId") or grant.get("clientId") or "unknown",
        "client_name": client.get("displayName"),
        "scopes": (grant.get("scope") or "").split(),
        "status": None,
        "source": "admin" if everyone else "user",
        "created_at": None,
        "raw": raw_json(grant),
    }


def app_role_values(resource: Mapping[str, Any] | None) -> dict[str, str]:
    return {r["id"]: r.get("value") or r.get("displayName") or r["id"] for r in (resource or {}).get("appRoles") or []}


def application_grant_row(
    assignment: dict[str, Any], service_principals: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """An appRoleAssignment to a service principal: an application permission (app-only access),
    always granted by an administrator."""
    client = service_principals.get(assignment.get("principalId") or "") or {}
    roles = app_role_values(service_principals.get(assignment.get("resourceId") or ""))
    role_id = assignment.get("appRoleId")
    scopes = [] if role_id == DEFAULT_ACCESS_ROLE else [roles.get(role_id or "", role_id or "unknown")]
    return {
        "grant_id": assignment["id"],
        "account_id": None,
        "client_id": client.get("appId") or assignment.get("principalId") or "unknown",
        "client_name": assignment.get("principalDisplayName") or client.get("displayName"),
        "scopes": scopes,
        "status": None,
        "source": "admin",
        "created_at": parse_time(assignment.get("createdDateTime")),
        "raw": raw_json(assignment),
    }


# -- activities ----------------------------------------------------------------------------------


def sign_in_row(sign_in: dict[str, Any]) -> dict[str, Any]:
    """A signIn: errorCode 0 is success; anything else failed or was interrupted (MFA, CA)."""
    status = sign_in.get("status") or {}
    code = status.get("errorCode")
    location = sign_in.get("location") or {}
    outcome = "unknown" if code is None else ("success" if code == 0 else "failure")
    reason = None if outcome != "failure" else f"{code}: {status.get('failureReason') or 'sign-in failed'}"
    return {
        "event_id": sign_in["id"],
        "occurred_at": parse_time(sign_in["createdDateTime"]),
        "category": "logon",
        "action": "signIn" if sign_in.get("isInteractive", True) else "nonInteractiveSignIn",
        "outcome": outcome,
        "outcome_reason": reason,
        "actor_id": sign_in.get("userId"),
        "actor_login": sign_in.get("userPrincipalName"),
        "actor_type": "User",
        "target_id": sign_in.get("appId"),
        "target_name": sign_in.get("appDisplayName"),
        "target_type": "Application",
        "ip": sign_in.get("ipAddress"),
        "user_agent": sign_in.get("userAgent"),
        "country": location.get("countryOrRegion") or None,
        "raw": raw_json(sign_in),
    }


def audit_category(audit: Mapping[str, Any]) -> str:
    """app for application and consent management; user for what people do to their own account
    (self-service password, security info); admin for every other directory change."""
    if audit.get("category") == "ApplicationManagement":
        return "app"
    initiator = ((audit.get("initiatedBy") or {}).get("user") or {}).get("id")
    targets = [t.get("id") for t in audit.get("targetResources") or [] if t.get("type") == "User"]
    if audit.get("loggedByService") in _SELF_SERVICE or (initiator and targets == [initiator]):
        return "user"
    return "admin"


def _audit_actor(audit: Mapping[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """(actor id, login, type, ip) from initiatedBy, which holds either a user or an app."""
    initiated = audit.get("initiatedBy") or {}
    user, app = initiated.get("user") or {}, initiated.get("app") or {}
    if user.get("id") or user.get("userPrincipalName"):
        return user.get("id"), user.get("userPrincipalName"), "User", user.get("ipAddress") or None
    if app:
        return app.get("servicePrincipalId") or app.get("appId"), app.get("displayName"), "ServicePrincipal", None
    return None, None, None, None


def _detail(audit: Mapping[str, Any], key: str) -> str | None:
    for entry in audit.get("additionalDetails") or []:
        if (entry.get("key") or "").lower() == key.lower():
            # keyValue's value is documented as a String (resources/keyvalue.md); anything else is
            # kept as its text rather than passed on as another type.
            value = entry.get("value")
            return str(value) if value is not None else None
    return None


def directory_audit_row(audit: dict[str, Any]) -> dict[str, Any]:
    actor_id, actor_login, actor_type, ip = _audit_actor(audit)
    targets = audit.get("targetResources") or []
    target = targets[0] if targets else {}
    result = audit.get("result") or ""
    return {
        "event_id": audit["id"],
        "occurred_at": parse_time(audit["activityDateTime"]),
        "category": audit_category(audit),
        "action": audit.get("activityDisplayName") or audit.get("operationType") or "unknown",
        "outcome": AUDIT_OUTCOME.get(result, "unknown"),
        "outcome_reason": audit.get("resultReason") or None,
        "actor_id": actor_id,
        "actor_login": actor_login,
        "actor_type": actor_type,
        "target_id": target.get("id"),
        "target_name": target.get("userPrincipalName") or target.get("displayName"),
        "target_type": target.get("type"),
        "ip": ip,
        "user_agent": _detail(audit, "User-Agent"),
        "country": None,
        "raw": raw_json(audit),
    }


# -- files ---------------------------------------------------------------------------------------


def folder_paths(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Item id -> path below the drive root, built from parentReference ids (delta responses do
    not carry parentReference.path). The root maps to ""."""
    by_id = {item["id"]: item for item in items}
    paths: dict[str, str] = {}

    def path_of(item_id: str) -> str:
        if item_id in paths:
            return paths[item_id]
        item = by_id.get(item_id)
        if item is None or "root" in item:
            paths[item_id] = ""
            return ""
        parent = (item.get("parentReference") or {}).get("id")
        paths[item_id] = ""  # guards against a malformed cycle
        paths[item_id] = f"{path_of(parent) if parent else ''}/{item.get('name') or item_id}"
        return paths[item_id]

    for item_id in by_id:
        path_of(item_id)
    return paths


def _identity(permission: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    granted = permission.get("grantedToV2") or permission.get("grantedTo") or {}
    for kind in ("user", "group", "siteGroup", "siteUser", "application", "device"):
        if granted.get(kind):
            return kind, granted[kind]
    return "unknown", {}


def _is_external_email(email: str | None, domains: set[str] | None) -> bool | None:
    if domains is None or not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].lower() not in domains


def share_row(file_id: str, permission: dict[str, Any], domains: set[str] | None) -> dict[str, Any]:
    """One permission of a driveItem. A sharing link's reach is its scope: anonymous (anyone with
    the link), organization (everyone in the tenant) or users (specific people)."""
    roles = permission.get("roles") or []
    role = PERMISSION_ROLE.get(roles[0].lower(), roles[0]) if roles else None
    link = permission.get("link") or {}
    principal_id = email = None
    external: bool | None
    if link:
        scope = link.get("scope")
        if scope == "anonymous":
            principal_type, external = "anyone", True
        elif scope == "organization":
            principal_type, external = "domain", False
            email = min(domains) if domains else None
        else:
            principal_type = "link"
            grantees = [g.get("user") or {} for g in permission.get("grantedToIdentitiesV2") or []]
            flags = [_is_external_email(g.get("email"), domains) for g in grantees]
            external = None if None in flags else any(flags)
            email = grantees[0].get("email") if len(grantees) == 1 else None
            principal_id = grantees[0].get("id") if len(grantees) == 1 else None
    else:
        kind, identity = _identity(permission)
        principal_type = "group" if kind in ("group", "siteGroup") else "user"
        principal_id = identity.get("id")
        email = identity.get("email") or (permission.get("invitation") or {}).get("email")
        external = False if kind == "siteGroup" else _is_external_email(email, domains)
    return {
        "file_id": file_id,
        "share_id": permission["id"],
        "principal_type": principal_type,
        "principal_id": principal_id,
        "principal_email": lower(email),
        "role": role,
        "is_external": external,
        "raw": raw_json(permission),
    }


def visibility(shares: Iterable[Mapping[str, Any]]) -> str:
    """Widest exposure: public (anyone link) > external > internal (anyone else in the tenant) > private."""
    level = "private"
    for share in shares:
        if share["principal_type"] == "anyone":
            return "public"
        if share["is_external"]:
            level = "external"
        elif level == "private" and share["role"] != "owner":
            level = "internal"
    return level


def file_row(
    item: dict[str, Any],
    drive: Mapping[str, Any],
    relative_path: str,
    shares: list[dict[str, Any]],
    label: tuple[str | None, str | None] = (None, None),
) -> dict[str, Any]:
    """One driveItem. content_version is the item's cTag, the tag of its content (driveitem.md: eTag
    changes with metadata too, a rename or a move; cTag only when the content does). trashed is False:
    Graph lists only live items (a deleted one is in the site's recycle bin, which no v1.0 driveItem
    listing returns, and GET on it answers 404 itemNotFound). label is (sensitivity label id, name)."""
    owner = (drive.get("owner") or {}).get("user") or {}
    label_id, label_name = label
    ctag = item.get("cTag")
    return {
        "file_id": item["id"],
        "name": item.get("name"),
        "path": f"{drive.get('webUrl') or drive.get('id')}{relative_path}",
        "owner_id": owner.get("id"),
        "owner_email": lower(owner.get("email")),
        "mime_type": (item.get("file") or {}).get("mimeType"),
        "size_bytes": item.get("size"),
        "created_at": parse_time(item.get("createdDateTime")),
        "modified_at": parse_time(item.get("lastModifiedDateTime")),
        "visibility": visibility(shares),
        "content_version": ctag if isinstance(ctag, str) and ctag else None,
        "trashed": False,
        "sensitivity_label": label_name,
        "sensitivity_label_id": label_id,
        "raw": raw_json(item),
    }


# -- the unified audit log (Office 365 Management Activity API) ----------------------------------

# ResultStatus (office-365-management-activity-api-schema, common schema): Succeeded,
# PartiallySucceeded or Failed; Exchange admin activity True / False. SharePoint records often leave it out.
UNIFIED_OUTCOME = {"succeeded": "success", "true": "success", "failed": "failure", "false": "failure"}
# UserType 5 Application, 6 ServicePrincipal; UserId app@sharepoint is an app acting with SharePoint-wide
# permissions (same page, common schema).
_APP_USER_TYPES = {5, 6}
APP_AT_SHAREPOINT = "app@sharepoint"


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _first(*values: Any) -> str | None:
    return next((text for text in map(_text, values) if text is not None), None)


def unified_audit_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One audit record of the Management Activity API (common schema, SharePoint base and Sharing
    schemas): the event is the record's Id; the actor is the user (UserId is a UPN, UserKey the
    provider's key) or, for an app-only change, the application (AppAccessContext.ClientAppId or
    ApplicationId: the app registration's client id); the target is the item (ObjectId, its full URL)."""
    user_type = record.get("UserType")
    context = record.get("AppAccessContext")
    context = context if isinstance(context, Mapping) else {}
    if user_type in _APP_USER_TYPES or str(record.get("UserId") or "").lower() == APP_AT_SHAREPOINT:
        actor_id = (
            _text(context.get("ClientAppId")) or _text(record.get("ApplicationId")) or _text(record.get("UserKey"))
        )
        actor_login = (
            _text(context.get("ClientAppName"))
            or _text(record.get("ApplicationDisplayName"))
            or _text(record.get("UserId"))
        )
        actor_type = "Application"
    else:
        actor_id = _text(record.get("UserKey")) or _text(record.get("UserId"))
        actor_login, actor_type = lower(_text(record.get("UserId"))), "User"
    outcome = UNIFIED_OUTCOME.get(str(record.get("ResultStatus") or "").lower(), "unknown")
    return {
        "event_id": str(record["Id"]),
        "occurred_at": parse_time(record["CreationTime"]),
        "category": "file",
        "action": _text(record.get("Operation")) or "unknown",
        "outcome": outcome,
        "outcome_reason": None,
        "actor_id": actor_id,
        "actor_login": actor_login,
        "actor_type": actor_type,
        "target_id": _text(record.get("ObjectId")),
        "target_name": _text(record.get("SourceFileName")) or _text(record.get("ObjectId")),
        "target_type": _text(record.get("ItemType")),
        "ip": _text(record.get("ClientIP")),
        "user_agent": _text(record.get("UserAgent")),
        "country": None,
        "raw": raw_json(record),
    }
