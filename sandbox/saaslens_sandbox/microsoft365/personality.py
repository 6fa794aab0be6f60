"""The Microsoft 365 personality: the Microsoft identity platform token endpoint and Microsoft Graph v1.0.

Built from Microsoft's published documentation, not from what a connector sends. Facts relied on:

* Client credentials grant at ``/{tenant}/oauth2/v2.0/token`` with ``scope=https://graph.microsoft.com/.default``
  and a ``client_secret`` or a certificate ``client_assertion`` (header ``x5t#S256`` with PS256 or the
  older ``x5t`` SHA-1 thumbprint with RS256; claims ``aud`` = the token endpoint, ``iss`` = ``sub`` =
  client id, ``exp``, ``nbf``, ``jti``); success body ``token_type``/``expires_in``/``ext_expires_in``/
  ``access_token``; errors ``{"error", "error_description": "AADSTS...", "error_codes", "timestamp",
  "trace_id", "correlation_id", "error_uri"}`` (AADSTS7000215 invalid secret, AADSTS700016 unknown
  application, AADSTS90002 unknown tenant, AADSTS700027 assertion signature/certificate,
  AADSTS700024 assertion lifetime, AADSTS1002012 scope without ``/.default``):
  https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow ,
  https://learn.microsoft.com/entra/identity-platform/certificate-credentials ,
  https://learn.microsoft.com/entra/identity-platform/reference-error-codes
* Application permissions arrive in the access token's ``roles`` claim:
  https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
* Errors ``{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}``,
  401 ``InvalidAuthenticationToken``, 403 ``Authorization_RequestDenied``, 404 ``Request_ResourceNotFound``,
  ``itemNotFound`` for drive items: https://learn.microsoft.com/graph/errors
* Paging with ``@odata.nextLink`` (opaque ``$skiptoken``) until absent; ``$top`` 1..999 for directory
  collections ("Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."); at most
  120 users per page when ``$select`` includes ``signInActivity``; sign-ins newest first with a
  maximum and default page size of 1,000: https://learn.microsoft.com/graph/paging ,
  api-reference/v1.0/api/user-list.md, signin-list.md, directoryaudit-list.md (microsoft-graph-docs-contrib)
* ``/users`` returns a default property set unless ``$select`` names others; ``signInActivity`` needs
  AuditLog.Read.All and an Entra ID P1/P2 licence, else 403 ``Authentication_RequestFromNonPremiumTenantOrB2CTenant``
  "Neither tenant is B2C or tenant doesn't have premium license" (the same for ``auditLogs/signIns``):
  user-list.md, signin-list.md, and microsoftgraph/microsoft-graph-docs-contrib issues #7276 and #3581.
* Throttling: 429 with ``Retry-After`` (seconds) and a ``TooManyRequests`` error; 503 ``serviceNotAvailable``
  may carry ``Retry-After``; directory responses carry ``x-ms-resource-unit`` and, past 80% of the
  budget, ``x-ms-throttle-limit-percentage``: https://learn.microsoft.com/graph/throttling and
  https://learn.microsoft.com/graph/throttling-limits
* Drive item permissions (``grantedToV2``, ``link.scope`` anonymous/organization/users, ``roles``,
  ``invitation``; OneDrive for Business and SharePoint do not return ``inheritedFrom``) and delta
  responses (``@odata.deltaLink`` on the last page; ``parentReference.path`` is not returned):
  api-reference/v1.0/resources/permission.md, driveitem-delta.md.

* Delta query on users (``/users/delta``, ``@odata.nextLink`` / ``@odata.deltaLink``, ``@removed``,
  ``$deltatoken=latest``) and a directory that changes (``advance``): see
  :mod:`saaslens_sandbox.microsoft365.delta` for the pages relied on.

Approximations: per-bucket request budgets stand in for Graph's resource-unit accounting (the
per-minute figures are sandbox choices, not published limits); ``$filter`` is implemented only
where saaslens-relevant (time ranges on the audit logs); access tokens are RS256 JWTs signed by a
key of the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

import jwt
import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from saaslens_sandbox import core
from saaslens_sandbox.core import Personality, Scope, TenantSpec, json_response, request_origin
from saaslens_sandbox.kit.audit import newest_first, window
from saaslens_sandbox.kit.auth import bearer_token, challenge, oauth_error_body
from saaslens_sandbox.kit.paging import PagingStyle, b64url, unb64url
from saaslens_sandbox.kit.ranges import parse_range
from saaslens_sandbox.kit.ratelimit import retry_after_seconds
from saaslens_sandbox.microsoft365 import workforce as microsoft365_workforce
from saaslens_sandbox.microsoft365.delta import DELTA_PAGE, DeltaTokenError, DirectoryChange, DirectoryChanges
from saaslens_sandbox.microsoft365.drive_contents import LABEL_EXTENSIONS, Recycled, extension
from saaslens_sandbox.microsoft365.policies import SettingChange, TenantPolicies
from saaslens_sandbox.microsoft365.tenant import (
    DAY_MS,
    GRAPH_APP_ID,
    WRITE_ROLES,
    ClientSpec,
    Microsoft365Options,
    Microsoft365Tenant,
)
from saaslens_sandbox.microsoft365.unified_audit import (
    CONTENT_TYPES,
    MAX_RANGE_MS,
    RECORD_FILE_OPERATION,
    RETENTION_MS,
    SHAREPOINT,
    ActivityError,
    UnifiedAuditLog,
    app_actor,
    base_record,
    history,
    iso_ms,
    parse_time,
    permission_record,
    range_error,
)
from saaslens_sandbox.workforce import Person, PlannedAccount

GRAPH_AUDIENCE = "https://graph.microsoft.com"
# The Office 365 Management APIs resource (get-started-with-office-365-management-apis.md: the client
# credentials flow with resource/scope https://manage.office.com; Enterprise plan host).
MANAGEMENT_AUDIENCE = "https://manage.office.com"
ACTIVITY_JSON = "application/json; charset=utf-8"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

USER_DEFAULT_PROPERTIES = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)

# Application permissions that allow each operation (least to most privileged), from each
# operation's "Permissions" table in the v1.0 API reference.
DIRECTORY_READ = ("Directory.Read.All", "Directory.ReadWrite.All")
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "users": ("User.Read.All", "User.ReadWrite.All", *DIRECTORY_READ),
    "groups": ("GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", *DIRECTORY_READ),
    "directoryRoles": ("RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory", *DIRECTORY_READ),
    "servicePrincipals": ("Application.Read.All", "Application.ReadWrite.All", *DIRECTORY_READ),
    "oauth2PermissionGrants": ("DelegatedPermissionGrant.Read.All", *DIRECTORY_READ),
    "organization": ("Organization.Read.All", "User.Read.All", *DIRECTORY_READ),
    "auditLogs": ("AuditLog.Read.All",),
    "files": ("Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"),
    "sites": ("Sites.Read.All", "Sites.ReadWrite.All"),
    "labels": ("InformationProtectionPolicy.Read.All",),
    # Security settings (policies.py): each GET's least privileged application permission is
    # Policy.Read.All (identitysecuritydefaultsenforcementpolicy-get, conditionalaccessroot-list-policies,
    # authorizationpolicy-get, authenticationmethodspolicy-get, adminconsentrequestpolicy-get).
    "policies": ("Policy.Read.All",),
    "domains": ("Domain.Read.All", *DIRECTORY_READ),  # domain-list
}
# Writes to drive items (driveitem-delete, driveitem-move, driveitem-put-content, driveitem-invite,
# driveitem-createlink, driveitem-assignsensitivitylabel, permission-delete).
FILES_WRITE = ("Files.ReadWrite.All", "Sites.ReadWrite.All")

# Sandbox budgets per minute for each throttling scope (see the module docstring).
RATE_LIMITS = {"directory": 21_000, "reports": 600, "files": 12_000, "activity": 2_000}
# ("activity": the Management Activity API's documented baseline of 2,000 requests a minute per tenant.)


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class TokenError(Exception):
    """An error of the Microsoft identity platform token endpoint."""

    def __init__(self, status: int, error: str, aadsts: int, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.aadsts, self.message = status, error, aadsts, message


@dataclass(frozen=True)
class Caller:
    client_id: str
    roles: frozenset[str]


@cache
def _signing_key() -> rsa.RSAPrivateKey:
    """The sandbox's token-signing key: one per process (generating RSA keys costs ~50 ms)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _now_utc() -> datetime:
    return datetime.now(UTC)


def _request_id() -> str:
    return str(_uuid_from(secrets.token_bytes(16)))


def _uuid_from(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _skiptoken(offset: int, salt: str) -> str:
    digest = hashlib.blake2b(f"{salt}:{offset}".encode(), digest_size=6).hexdigest()
    return b64url(f"RFNwdAIAAQAAA{offset}:{digest}".encode())


def _offset_from(token: str, salt: str) -> int:
    try:
        text = unb64url(token).decode()
        offset_text, _digest = text.removeprefix("RFNwdAIAAQAAA").split(":")
        offset = int(offset_text)
    except (ValueError, UnicodeDecodeError):
        offset = -1
    if offset < 0 or _skiptoken(offset, salt) != token:
        raise GraphError(
            400,
            "Directory_ExpiredPageToken",
            "The specified page token value has expired and can no longer be included in your request.",
        )
    return offset


def _parse_instant(text: str) -> int:
    value = text.strip().strip("'")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def time_range(expression: str | None, field: str) -> tuple[int | None, int | None, bool, bool]:
    """(low ms, high ms, low inclusive, high inclusive) from ``field ge X and field le Y``.

    Only comparisons of the log's timestamp joined by ``and`` are supported; anything else is
    answered 400 like an unsupported filter.
    """
    low = high = None
    low_inc = high_inc = True
    if not expression:
        return low, high, low_inc, high_inc
    for clause in expression.split(" and "):
        parts = clause.strip().split()
        if len(parts) != 3 or parts[0] != field or parts[1] not in ("ge", "gt", "le", "lt"):
            raise GraphError(400, "BadRequest", f"Invalid filter clause: {clause.strip()!r} is not supported.")
        try:
            instant = _parse_instant(parts[2])
        except ValueError:
            raise GraphError(
                400, "BadRequest", f"Invalid filter clause: {parts[2]!r} is not a DateTimeOffset."
            ) from None
        if parts[1] in ("ge", "gt"):
            low, low_inc = instant, parts[1] == "ge"
        else:
            high, high_inc = instant, parts[1] == "le"
    return low, high, low_inc, high_inc


class Microsoft365Personality(Personality):
    """One Microsoft 365 tenant: Entra ID directory, audit logs, OneDrive and SharePoint."""

    app: ClassVar[str] = "microsoft365"
    # https://learn.microsoft.com/en-us/graph/paging (@odata.nextLink)
    paging: ClassVar[PagingStyle] = PagingStyle(
        "next_url",
        accounts_listing=r"/v1.0/users",
        items="value",
        cursor_field="@odata.nextLink",
        group_listing=r"/v1.0/groups",
        group_items="value",
        text_field="displayName",
    )

    def __init__(self, spec: TenantSpec, base_url_prefix: str):
        super().__init__(spec, base_url_prefix)
        self.options = Microsoft365Options.model_validate(spec.options)
        anchor = self.options.anchor or core.server_start_time()
        self.tenant = Microsoft365Tenant(
            name=spec.name, seed=spec.seed, users=spec.users, options=self.options, anchor=anchor
        )
        t = self.tenant
        self._clients: dict[str, ClientSpec] = {c.client_id: c for c in t.clients}
        self._certificates: dict[str, tuple[ClientSpec, Any]] = {}
        for client in t.clients:
            if client.certificate_pem:
                cert = x509.load_pem_x509_certificate(client.certificate_pem.encode())
                self._certificates[b64url(cert.fingerprint(hashes.SHA256()))] = (client, cert.public_key())
                self._certificates[b64url(cert.fingerprint(hashes.SHA1()))] = (client, cert.public_key())  # noqa: S303
        self._tenant_names = {t.tenant_id, t.initial_domain, t.domain}
        self._kid = b64url(hashlib.sha1(b"saaslens-sandbox-m365").digest())  # noqa: S324
        self._salt = f"{spec.name}:{spec.seed}"
        self._user_positions = {uid: i for i, uid in enumerate(t.user_ids)}
        self._group_positions = {g["id"]: i for i, g in enumerate(t.groups)}
        self._role_positions = {r["id"]: i for i, r in enumerate(t.roles)}
        self._sp_positions = {sp["id"]: i for i, sp in enumerate(t.service_principals)}
        self._drive_positions = {d["id"]: i for i, d in enumerate(t.drives)}
        self._site_positions = {s["id"]: i for i, s in enumerate(t.sites)}
        self.changes = DirectoryChanges(t, self._salt)
        self.policies = TenantPolicies(
            name=spec.name,
            seed=spec.seed,
            domain=t.domain,
            initial_domain=t.initial_domain,
            premium=self.options.premium,
        )
        # The unified audit log's Audit.SharePoint records (unified_audit.py); none without SharePoint.
        opts = self.options
        self.audit_log = UnifiedAuditLog(
            tenant_id=t.tenant_id,
            seed=spec.seed,
            content_delay_ms=int(opts.audit_content_delay_seconds * 1000),
            listing_delay_ms=int(opts.audit_listing_delay_seconds * 1000),
        )
        if opts.sharepoint_online:
            span = min(opts.history_days, 6) * DAY_MS
            self.audit_log.add_generated(history(t, random.Random(f"m365-ual:{spec.name}:{spec.seed}"), span))
        self._subscriptions = {c: "enabled" for c in opts.audit_subscriptions}
        # Contents (drive_contents.py): the download URLs handed out, what reached them (the tests prove
        # from it that no Graph token did), and assignSensitivityLabel's monitors.
        self._download_ids: dict[str, tuple[str, str]] = {}
        self.download_log: list[dict[str, Any]] = []
        self._monitors: dict[str, dict[str, Any]] = {}

    def advance(self, change: dict[str, Any]) -> dict[str, Any]:
        """Change the directory (see :mod:`saaslens_sandbox.microsoft365.delta`); returns the ids.
        ``{"setting": {...}}`` instead changes one security setting as the tenant's admin would in the
        Entra admin center (:class:`saaslens_sandbox.microsoft365.policies.SettingChange`) and writes
        the directory audit event Entra writes for it; returns that event's id and activity."""
        if "setting" in change:
            if set(change) != {"setting"}:
                raise ValueError("a setting change is advanced alone")
            setting = SettingChange.model_validate(change["setting"])
            with self._lock:
                event = self.policies.apply(setting)
                admin = self.tenant.urecs[self.tenant.admin_index]
                event["correlationId"] = _request_id()
                event["initiatedBy"] = {
                    "app": None,
                    "user": {"id": admin.id, "displayName": None, "userPrincipalName": admin.upn, "ipAddress": None},
                }
                event_id = self.tenant.record_audit(event, int(time.time() * 1000))
            return {"event_id": event_id, "activity": event["activityDisplayName"], "actor": admin.upn}
        parsed = DirectoryChange.model_validate(change)
        with self._lock:
            summary = self.changes.advance(parsed)
            self._user_positions = {uid: i for i, uid in enumerate(self.tenant.user_ids)}
        return summary

    # ---------------------------------------------------------------- framework hooks

    @classmethod
    def workforce_plan(cls, people: Mapping[str, Person]) -> tuple[PlannedAccount, ...]:
        return microsoft365_workforce.plan(people)

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        opts = Microsoft365Options.model_validate(options)
        ids = [c.client_id for c in opts.clients or []]
        if len(ids) != len(set(ids)):
            raise ValueError("clients: duplicate client_id values")

    def rate_limit_bucket(self, method: str, path: str) -> str | None:
        parts = [p for p in path.split("/") if p]
        if len(parts) >= 2 and parts[1] == "oauth2":
            return None  # the token endpoint belongs to login.microsoftonline.com, not Graph
        if parts[:1] == ["api"]:
            return "activity"  # manage.office.com, the Management Activity API
        if parts[1:2] == ["auditLogs"]:
            return "reports"
        if parts[1:2] in (["drives"], ["sites"]) or parts[-1:] == ["drive"]:
            return "files"
        return "directory"

    def rate_limit_per_minute(self, bucket: str) -> int:
        return RATE_LIMITS.get(bucket, RATE_LIMITS["directory"])

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> list[tuple[str, str]]:
        headers = [("x-ms-resource-unit", "1")]
        used = (limit - remaining) / max(1, limit)
        if used >= 0.8:
            headers.append(("x-ms-throttle-limit-percentage", f"{min(used, 1.0):.1f}"))
        return headers

    def too_many_requests(self, scope: Scope, limit: int, reset_epoch: int) -> Response:
        retry = retry_after_seconds(reset_epoch)
        body = self._error_body(
            "TooManyRequests",
            f"Too many requests from Identifier:{self.tenant.tenant_id} under category:throttle.aad.ags. "
            "Please try again later.",
            scope,
        )
        return json_response(body, 429, [("Retry-After", str(retry)), *self._diagnostic_headers(scope)], JSON_TYPE)

    def server_error(self, scope: Scope, status: int) -> Response:
        if status == 503:
            body = self._error_body(
                "serviceNotAvailable",
                "The service is temporarily unavailable for maintenance or is overloaded. You may repeat the "
                "request after a delay.",
                scope,
            )
            return json_response(body, 503, [("Retry-After", "1"), *self._diagnostic_headers(scope)], JSON_TYPE)
        body = self._error_body("generalException", "An unspecified error has occurred.", scope)
        return json_response(body, status, self._diagnostic_headers(scope), JSON_TYPE)

    # ---------------------------------------------------------------- ground truth

    def ground_truth(self) -> dict[str, Any]:
        return self.ground_truth_for(self.origin or "http://127.0.0.1:8765")

    def ground_truth_for(self, origin: str) -> dict[str, Any]:
        t = self.tenant
        truth = t.ground_truth()
        base = origin + self.base_url_prefix
        truth["base_url"] = base
        gone = {self.tenant.users[i]["id"] for i in self.changes.deleted}
        if gone:
            truth["users"] = [u for u in truth["users"] if u["id"] not in gone]
            truth["group_user_members"] = [m for m in truth["group_user_members"] if m["user_id"] not in gone]
            truth["group_members"] = [m for m in truth["group_members"] if m["member_id"] not in gone]
            truth["counts"]["users"] = len(truth["users"])
        now_ms = int(time.time() * 1000)
        truth["sharepoint_audit"] = [dict(r) for r in self.audit_log.records]
        truth["sharepoint_audit_listable"] = [r["Id"] for r in self.audit_log.visible_records(now_ms)]
        truth["audit_subscriptions"] = dict(self._subscriptions)
        truth["settings"] = self.policies.ground_truth()
        truth["management_base_url"] = f"{base}/api/v1.0/{t.tenant_id}/activity/feed"
        truth["credentials"] = {
            "tenant_id": t.tenant_id,
            "token_url": f"{base}/{t.tenant_id}/oauth2/v2.0/token",
            "clients": [
                {
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "has_certificate": bool(c.certificate_pem),
                    "roles": list(c.roles),
                    "management_roles": list(c.management_roles),
                    "display_name": c.display_name,
                }
                for c in t.clients
            ],
            # The client governance actions use: the first that holds a write permission (the scan
            # clients hold none, so they are refused with 403 Authorization_RequestDenied).
            "actions": next(
                (
                    {
                        "client_id": c.client_id,
                        "client_secret": c.client_secret,
                        "service_principal_id": t.client_sp[c.client_id]["id"],
                    }
                    for c in t.clients
                    if set(c.roles) & WRITE_ROLES
                ),
                None,
            ),
        }
        return truth

    # ---------------------------------------------------------------- routes

    def routes(self) -> list[BaseRoute]:
        graph = [
            ("/v1.0/users", "users", self.list_users),
            ("/v1.0/users/delta", "users", self.users_delta),
            ("/v1.0/users/{user_id}/drive", "files", self.get_user_drive),
            ("/v1.0/groups", "groups", self.list_groups),
            ("/v1.0/groups/{group_id}/members", "groups", self.list_group_members),
            ("/v1.0/directoryRoles", "directoryRoles", self.list_directory_roles),
            ("/v1.0/directoryRoles/{role_id}/members", "directoryRoles", self.list_role_members),
            ("/v1.0/servicePrincipals", "servicePrincipals", self.list_service_principals),
            ("/v1.0/servicePrincipals/{sp_id}/appRoleAssignments", "servicePrincipals", self.list_app_role_assignments),
            ("/v1.0/oauth2PermissionGrants", "oauth2PermissionGrants", self.list_grants),
            ("/v1.0/organization", "organization", self.list_organization),
            ("/v1.0/auditLogs/signIns", "auditLogs", self.list_sign_ins),
            ("/v1.0/auditLogs/directoryAudits", "auditLogs", self.list_directory_audits),
            ("/v1.0/sites", "sites", self.list_sites),
            ("/v1.0/sites/{site_id}/drives", "sites", self.list_site_drives),
            ("/v1.0/drives/{drive_id}/root/delta", "files", self.drive_delta),
            ("/v1.0/drives/{drive_id}/items/{item_id}/permissions", "files", self.list_item_permissions),
            # Security settings (policies.py for the pages relied on).
            ("/v1.0/policies/identitySecurityDefaultsEnforcementPolicy", "policies", self.get_security_defaults),
            ("/v1.0/identity/conditionalAccess/policies", "policies", self.list_conditional_access_policies),
            ("/v1.0/policies/authorizationPolicy", "policies", self.get_authorization_policy),
            ("/v1.0/policies/authenticationMethodsPolicy", "policies", self.get_authentication_methods_policy),
            ("/v1.0/policies/adminConsentRequestPolicy", "policies", self.get_admin_consent_request_policy),
            ("/v1.0/domains", "domains", self.list_domains),
            # directoryrole-list-members: "GET /directoryRoles(roleTemplateId='{roleTemplateId}')/members".
            (
                "/v1.0/directoryRoles(roleTemplateId='{template_id}')/members",
                "directoryRoles",
                self.list_template_members,
            ),
        ]
        graph += [
            ("/v1.0/users/{user_id}", "users", self.get_user),
            ("/v1.0/oauth2PermissionGrants/{grant_id}", "oauth2PermissionGrants", self.get_grant),
            ("/v1.0/drives/{drive_id}/items/{item_id}", "files", self.get_drive_item),
            ("/v1.0/drives/{drive_id}/items/{item_id}/permissions/{perm_id}", "files", self.get_item_permission),
        ]
        writes = [
            ("/v1.0/users/{user_id}", "PATCH", self.update_user),
            ("/v1.0/users/{user_id}/revokeSignInSessions", "POST", self.revoke_sign_in_sessions),
            ("/v1.0/oauth2PermissionGrants/{grant_id}", "DELETE", self.delete_grant),
            ("/v1.0/servicePrincipals/{sp_id}/appRoleAssignments/{assignment_id}", "DELETE", self.delete_app_role),
            ("/v1.0/directoryRoles/{role_id}/members/{member_id}/$ref", "DELETE", self.delete_role_member),
            ("/v1.0/drives/{drive_id}/items/{item_id}/permissions/{perm_id}", "DELETE", self.delete_item_permission),
            ("/v1.0/drives/{drive_id}/items/{item_id}", "DELETE", self.delete_drive_item),
            ("/v1.0/drives/{drive_id}/items/{parent_id}:/{filename}", "DELETE", self.delete_drive_item),
            ("/v1.0/drives/{drive_id}/items/{item_id}", "PATCH", self.update_drive_item),
            ("/v1.0/drives/{drive_id}/items/{item_id}/invite", "POST", self.invite),
            ("/v1.0/drives/{drive_id}/items/{item_id}/createLink", "POST", self.create_link),
            ("/v1.0/drives/{drive_id}/items/{item_id}/extractSensitivityLabels", "POST", self.extract_labels),
            ("/v1.0/drives/{drive_id}/items/{item_id}/assignSensitivityLabel", "POST", self.assign_label),
        ]
        routes: list[BaseRoute] = [Route("/{tenant}/oauth2/v2.0/token", self.token, methods=["GET", "POST"])]
        routes += [Route(path, self._endpoint(area, handler), methods=["GET"]) for path, area, handler in graph]
        routes += [Route(path, self._write_endpoint(handler), methods=[method]) for path, method, handler in writes]
        # Contents (drive_contents.py): the download redirect, the preauthenticated URL it points at (on
        # another origin in SharePoint), uploads, label names and the label operation's monitor.
        routes += [
            Route("/v1.0/drives/{drive_id}/items/{item_id}/content", self.download_redirect, methods=["GET"]),
            Route("/_layouts/15/download.aspx", self.download_file, methods=["GET"]),
            Route("/v1.0/drives/{drive_id}/items/{parent_id}:/{filename}:/content", self.upload_file, methods=["PUT"]),
            Route("/_api/v2.0/monitor/{monitor_id}", self.monitor, methods=["GET"]),
        ]
        routes.append(
            Route(
                "/beta/security/informationProtection/sensitivityLabels",
                self._endpoint("labels", self.list_sensitivity_labels),
                methods=["GET"],
            )
        )
        feed = "/api/v1.0/{tenant_id}/activity/feed"
        activity = [
            (f"{feed}/subscriptions/list", "GET", self.list_subscriptions),
            (f"{feed}/subscriptions/start", "POST", self.start_subscription),
            (f"{feed}/subscriptions/content", "GET", self.list_content),
            (f"{feed}/audit/{{content_id}}", "GET", self.get_content),
        ]
        routes += [Route(path, self._activity_endpoint(handler), methods=[m]) for path, m, handler in activity]
        routes.append(Route("/{path:path}", self.unknown_segment, methods=["GET", "POST", "PATCH", "DELETE"]))
        return routes

    def _endpoint(self, area: str, handler: Callable[[Request, Caller], dict[str, Any]]) -> Callable[..., Any]:
        allowed = PERMISSIONS[area]

        async def endpoint(request: Request) -> Response:
            try:
                caller = self._authorize(request)
                if not caller.roles & set(allowed):
                    raise self._denied(area)
                if area in ("files", "sites") and not self.options.sharepoint_online:
                    raise spo_licence_missing()
                body = handler(request, caller)
            except GraphError as err:
                return json_response(
                    self._error_body(err.code, err.message, request.scope),
                    err.status,
                    [*err.headers, *self._diagnostic_headers(request.scope)],
                    JSON_TYPE,
                )
            return json_response(body, 200, self._diagnostic_headers(request.scope), JSON_TYPE)

        return endpoint

    def _write_endpoint(self, handler: Callable[[Request, Caller, dict[str, Any] | None], Any]) -> Callable[..., Any]:
        """A write: the handler checks the permission its operation needs (some depend on the body,
        as for PATCH /users) and answers (status, body) or (status, body, headers); 204 has no body.
        Writes run on the server's event loop under the personality's lock, so no listing sees half a
        change."""

        async def endpoint(request: Request) -> Response:
            try:
                caller = self._authorize(request)
                raw = await request.body()
                payload: dict[str, Any] | None = None
                if raw:
                    try:
                        parsed = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from None
                    if not isinstance(parsed, dict):
                        raise GraphError(400, "BadRequest", "Unable to read JSON request payload.")
                    payload = parsed
                with self._lock:
                    answer = handler(request, caller, payload)
            except GraphError as err:
                return json_response(
                    self._error_body(err.code, err.message, request.scope),
                    err.status,
                    [*err.headers, *self._diagnostic_headers(request.scope)],
                    JSON_TYPE,
                )
            status, body = answer[0], answer[1]
            headers = [*(answer[2] if len(answer) > 2 else ()), *self._diagnostic_headers(request.scope)]
            if body is None:
                return Response(status_code=status, headers=dict(headers))
            return json_response(body, status, headers, JSON_TYPE)

        return endpoint

    def _denied(self, area: str) -> GraphError:
        if area == "auditLogs":
            return GraphError(
                403,
                "Authentication_MSGraphPermissionMissing",
                "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
            )
        if area in ("files", "sites"):
            return GraphError(403, "accessDenied", "Access denied")
        return GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")

    async def unknown_segment(self, request: Request) -> Response:
        segment = request.path_params["path"].split("/")[-1]
        body = self._error_body("BadRequest", f"Resource not found for the segment '{segment}'.", request.scope)
        return json_response(body, 400, self._diagnostic_headers(request.scope), JSON_TYPE)

    # ---------------------------------------------------------------- errors and headers

    def _error_body(self, code: str, message: str, scope: Scope) -> dict[str, Any]:
        client_request_id = _header(scope, b"client-request-id") or _request_id()
        return {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": _now_utc().strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": _request_id(),
                    "client-request-id": client_request_id,
                },
            }
        }

    def _diagnostic_headers(self, scope: Scope) -> list[tuple[str, str]]:
        request_id = _request_id()
        return [
            ("request-id", request_id),
            ("client-request-id", _header(scope, b"client-request-id") or request_id),
            ("x-ms-ags-diagnostic", '{"ServerInfo":{"DataCenter":"Sandbox","Slice":"E","Ring":"5"}}'),
            ("OData-Version", "4.0"),
        ]

    # ---------------------------------------------------------------- token endpoint

    async def token(self, request: Request) -> Response:
        try:
            if request.method != "POST":
                raise TokenError(400, "invalid_request", 900561, "The endpoint only accepts POST requests.")
            form = await request.form()
            fields = {k: str(v) for k, v in form.items()}
            body = self._issue_token(request, request.path_params["tenant"], fields)
        except TokenError as err:
            return json_response(self._token_error_body(err), err.status)
        return json_response(body, 200, [("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache")])

    def _token_error_body(self, err: TokenError) -> dict[str, Any]:
        now = _now_utc()
        trace, correlation = _request_id(), _request_id()
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        description = (
            f"AADSTS{err.aadsts}: {err.message} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {stamp}"
        )
        return {
            **oauth_error_body(err.error, description),
            "error_codes": [err.aadsts],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={err.aadsts}",
        }

    def _issue_token(self, request: Request, tenant: str, fields: dict[str, str]) -> dict[str, Any]:
        t = self.tenant
        if tenant not in self._tenant_names:
            raise TokenError(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing "
                "into the correct cloud.",
            )
        if fields.get("grant_type") != "client_credentials":
            raise TokenError(
                400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."
            )
        scope = fields.get("scope", "")
        management = scope.split() == [f"{MANAGEMENT_AUDIENCE}/.default"]
        if (
            not management
            and scope.split() != [f"{GRAPH_AUDIENCE}/.default"]
            and scope.split() != [f"{GRAPH_APP_ID}/.default"]
        ):
            raise TokenError(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have a scope value "
                "with /.default suffixed to the resource identifier (application ID URI).",
            )
        client_id = fields.get("client_id", "")
        if "client_assertion" in fields:
            client = self._verify_assertion(request, fields, client_id)
            appidacr = "2"
        else:
            client = self._clients.get(client_id)
            if client is None:
                raise self._unknown_client(client_id)
            if not fields.get("client_secret"):
                raise TokenError(
                    401,
                    "invalid_client",
                    7000216,
                    "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' "
                    "grant type.",
                )
            if client.client_secret is None or not secrets.compare_digest(
                fields["client_secret"], client.client_secret
            ):
                raise TokenError(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                    f"value, not the client secret ID, for a secret added to app '{client_id}'.",
                )
            appidacr = "1"
        now = int(time.time())
        ttl = self.options.access_token_ttl_seconds
        sp = t.client_sp[client.client_id]
        roles = client.management_roles if management else client.roles
        claims = {
            "aud": MANAGEMENT_AUDIENCE if management else GRAPH_AUDIENCE,
            "iss": f"https://sts.windows.net/{t.tenant_id}/",
            "iat": now - 300,
            "nbf": now - 300,
            "exp": now + ttl,
            "app_displayname": client.display_name,
            "appid": client.client_id,
            "appidacr": appidacr,
            "idp": f"https://sts.windows.net/{t.tenant_id}/",
            "idtyp": "app",
            "oid": sp["id"],
            "roles": sorted(roles),
            "sub": sp["id"],
            "tenant_region_scope": "NA",
            "tid": t.tenant_id,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "1.0",
        }
        if not roles:  # an app with no permission on the resource gets a token without the claim
            del claims["roles"]
        token = jwt.encode(claims, _signing_key(), algorithm="RS256", headers={"kid": self._kid, "x5t": self._kid})
        return {"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": token}

    def _unknown_client(self, client_id: str) -> TokenError:
        return TokenError(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{self.tenant.name}'. This can "
            "happen if the application has not been installed by the administrator of the tenant or consented to by "
            "any user in the tenant. You may have sent your authentication request to the wrong tenant.",
        )

    def _verify_assertion(self, request: Request, fields: dict[str, str], client_id: str) -> ClientSpec:
        if fields.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            raise TokenError(
                400, "invalid_request", 50027, "Invalid client_assertion_type; expected the jwt-bearer assertion type."
            )
        assertion = fields["client_assertion"]
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise TokenError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from None
        thumbprint = header.get("x5t#S256") or header.get("x5t")
        entry = self._certificates.get(str(thumbprint))
        if entry is None:
            if client_id and client_id not in self._clients:
                raise self._unknown_client(client_id)
            raise TokenError(
                401,
                "invalid_client",
                700027,
                "The certificate with identifier used to sign the client assertion is not registered on application. "
                f"[Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}']",
            )
        client, public_key = entry
        if client_id and client_id != client.client_id:
            raise TokenError(401, "invalid_client", 700027, "Client assertion failed signature validation.")
        audience = request_origin(request.scope) + request.url.path
        try:
            claims = jwt.decode(
                assertion,
                public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
                algorithms=["RS256", "PS256"],
                audience=audience,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
            raise TokenError(
                401, "invalid_client", 700024, "Client assertion is not within its valid time range."
            ) from None
        except jwt.InvalidAudienceError:
            raise TokenError(
                401, "invalid_client", 700027, f"Client assertion audience claim does not match '{audience}'."
            ) from None
        except jwt.PyJWTError:
            raise TokenError(401, "invalid_client", 700027, "Client assertion failed signature validation.") from None
        if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
            raise TokenError(
                401, "invalid_client", 700023, "Client assertion issuer and subject must be the client id."
            )
        return client

    # ---------------------------------------------------------------- bearer tokens

    def _authorize(self, request: Request) -> Caller:
        token = bearer_token(request.headers.get("authorization", ""))
        if token is None:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.", _www_authenticate())
        public_key = _signing_key().public_key()
        try:
            claims = jwt.decode(token, public_key, algorithms=["RS256"], audience=GRAPH_AUDIENCE)
        except jwt.ExpiredSignatureError:
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
                _www_authenticate(),
            ) from None
        except jwt.PyJWTError:
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "IDX14100: JWT is not well formed, there are no dots (.).",
                _www_authenticate(),
            ) from None
        if claims.get("tid") != self.tenant.tenant_id:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
        if claims.get("appid") not in self._clients:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure.")
        return Caller(client_id=claims["appid"], roles=frozenset(claims.get("roles") or ()))

    # ---------------------------------------------------------------- paging helpers

    def _page(
        self,
        request: Request,
        total: int,
        render: Callable[[int], dict[str, Any]],
        *,
        default_top: int,
        max_top: int,
        context: str,
        clamp_top: int | None = None,
    ) -> dict[str, Any]:
        params = request.query_params
        top = _top(params.get("$top"), default_top, max_top)
        if clamp_top is not None:
            top = min(top, clamp_top)
        offset = _offset_from(params["$skiptoken"], self._salt + request.url.path) if "$skiptoken" in params else 0
        end = min(total, offset + top)
        base = self.base_url(request.scope)
        body: dict[str, Any] = {
            "@odata.context": f"{base}/v1.0/$metadata#{context}",
            "value": [render(i) for i in range(offset, end)],
        }
        if end < total:
            query = {k: v for k, v in params.items() if k != "$skiptoken"}
            query["$skiptoken"] = _skiptoken(end, self._salt + request.url.path)
            body["@odata.nextLink"] = f"{request_origin(request.scope)}{request.url.path}?" + urlencode(
                query, safe="$,"
            )
        return body

    # ---------------------------------------------------------------- directory

    def list_users(self, request: Request, caller: Caller) -> dict[str, Any]:
        t = self.tenant
        select = _select(request, USER_DEFAULT_PROPERTIES, t.users[0].keys() if t.users else (), "user")
        clamp = None
        if "signInActivity" in select:
            if not self.options.premium:
                raise GraphError(
                    403,
                    "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                    "Neither tenant is B2C or tenant doesn't have premium license",
                )
            if "AuditLog.Read.All" not in caller.roles:
                raise GraphError(
                    403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
                )
            clamp = 120
        users = t.users
        live = self.changes.live_positions() if self.changes.deleted else range(len(users))
        return self._page(
            request,
            len(live),
            lambda i: {k: users[live[i]][k] for k in select},
            default_top=100,
            max_top=999,
            context="users",
            clamp_top=clamp,
        )

    def list_groups(self, request: Request, caller: Caller) -> dict[str, Any]:
        groups = self.tenant.groups
        names = groups[0].keys() if groups else ()
        select = _select(request, tuple(names), names, "group")
        return self._page(
            request,
            len(groups),
            lambda i: {k: groups[i][k] for k in select},
            default_top=100,
            max_top=999,
            context="groups",
        )

    def list_group_members(self, request: Request, caller: Caller) -> dict[str, Any]:
        position = self._group_positions.get(request.path_params["group_id"])
        if position is None:
            raise _not_found(request.path_params["group_id"])
        members = self.tenant.group_members[position]
        if self.changes.deleted:  # a deleted user leaves its groups
            members = [m for m in members if not (m[0] == "user" and m[1] in self.changes.deleted)]
        return self._members(request, members, "directoryObjects")

    def list_directory_roles(self, request: Request, caller: Caller) -> dict[str, Any]:
        roles = self.tenant.roles
        return {"@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#directoryRoles", "value": roles}

    def list_role_members(self, request: Request, caller: Caller) -> dict[str, Any]:
        position = self._role_positions.get(request.path_params["role_id"])
        if position is None:
            raise _not_found(request.path_params["role_id"])
        return self._members(request, self.tenant.role_members[position], "directoryObjects")

    def list_template_members(self, request: Request, caller: Caller) -> dict[str, Any]:
        template = request.path_params["template_id"]
        position = next((i for i, r in enumerate(self.tenant.roles) if r["roleTemplateId"] == template), None)
        if position is None:  # a role never activated in the tenant has no directoryRole object
            raise _not_found(template)
        return self._members(request, self.tenant.role_members[position], "directoryObjects")

    # ---------------------------------------------------------------- security settings (policies.py)

    def _entity(self, request: Request, context: str, doc: dict[str, Any]) -> dict[str, Any]:
        return {"@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#{context}", **doc}

    def get_security_defaults(self, request: Request, caller: Caller) -> dict[str, Any]:
        # https://learn.microsoft.com/graph/api/identitysecuritydefaultsenforcementpolicy-get
        doc = self.policies.security_defaults
        return self._entity(request, "policies/identitySecurityDefaultsEnforcementPolicy/$entity", doc)

    def list_conditional_access_policies(self, request: Request, caller: Caller) -> dict[str, Any]:
        # https://learn.microsoft.com/graph/api/conditionalaccessroot-list-policies ($top, $skip; Entra ID P1)
        if not self.options.premium:
            raise GraphError(
                403,
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "Neither tenant is B2C or tenant doesn't have premium license",
            )
        policies = self.policies.conditional_access
        return self._page(
            request,
            len(policies),
            lambda i: policies[i],
            default_top=100,
            max_top=999,
            context="identity/conditionalAccess/policies",
        )

    def get_authorization_policy(self, request: Request, caller: Caller) -> dict[str, Any]:
        # https://learn.microsoft.com/graph/api/authorizationpolicy-get (v1.0: the single object)
        return self._entity(request, "policies/authorizationPolicy/$entity", self.policies.authorization_policy)

    def get_authentication_methods_policy(self, request: Request, caller: Caller) -> dict[str, Any]:
        # https://learn.microsoft.com/graph/api/authenticationmethodspolicy-get
        doc = self.policies.authentication_methods
        return self._entity(request, "policies/authenticationMethodsPolicy/$entity", doc)

    def get_admin_consent_request_policy(self, request: Request, caller: Caller) -> dict[str, Any]:
        # https://learn.microsoft.com/graph/api/adminconsentrequestpolicy-get
        return self._entity(request, "policies/adminConsentRequestPolicy/$entity", self.policies.admin_consent)

    def list_domains(self, request: Request, caller: Caller) -> dict[str, Any]:
        # https://learn.microsoft.com/graph/api/domain-list
        domains = self.policies.domains
        return self._page(request, len(domains), lambda i: domains[i], default_top=100, max_top=999, context="domains")

    def _members(self, request: Request, members: list[tuple[str, int]], context: str) -> dict[str, Any]:
        t = self.tenant
        wanted = _select_names(request)

        def render(i: int) -> dict[str, Any]:
            doc = t.member_doc(members[i])
            if wanted is None:
                if doc["@odata.type"] == "#microsoft.graph.user":
                    return {"@odata.type": doc["@odata.type"], **{k: doc[k] for k in USER_DEFAULT_PROPERTIES}}
                return doc
            return {"@odata.type": doc["@odata.type"], **{k: doc[k] for k in wanted if k in doc}}

        return self._page(request, len(members), render, default_top=100, max_top=999, context=context)

    def list_service_principals(self, request: Request, caller: Caller) -> dict[str, Any]:
        sps = self.tenant.service_principals
        names = sps[0].keys()
        select = _select(request, tuple(names), names, "servicePrincipal")
        return self._page(
            request,
            len(sps),
            lambda i: {k: sps[i][k] for k in select},
            default_top=100,
            max_top=999,
            context="servicePrincipals",
        )

    def list_app_role_assignments(self, request: Request, caller: Caller) -> dict[str, Any]:
        sp_id = request.path_params["sp_id"]
        if sp_id not in self._sp_positions:
            raise _not_found(sp_id)
        assignments = self.tenant.app_role_assignments.get(sp_id, [])
        return self._page(
            request,
            len(assignments),
            lambda i: assignments[i],
            default_top=100,
            max_top=999,
            context=f"servicePrincipals('{sp_id}')/appRoleAssignments",
        )

    def list_grants(self, request: Request, caller: Caller) -> dict[str, Any]:
        grants = self.tenant.grants
        return self._page(
            request, len(grants), lambda i: grants[i], default_top=100, max_top=999, context="oauth2PermissionGrants"
        )

    def list_organization(self, request: Request, caller: Caller) -> dict[str, Any]:
        doc = self.tenant.organization_doc()
        select = _select(request, tuple(doc), doc.keys(), "organization")
        return {
            "@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#organization",
            "value": [{k: doc[k] for k in select}],
        }

    def users_delta(self, request: Request, caller: Caller) -> dict[str, Any]:
        """``/users/delta``: a full round, then rounds of changes (see the delta module)."""
        params = request.query_params
        changes = self.changes
        try:
            if "$skiptoken" in params:
                state = changes.decode(params["$skiptoken"])
            elif "$deltatoken" in params and params["$deltatoken"] != "latest":
                previous = changes.decode(params["$deltatoken"])
                state = {"since": previous["upto"], "upto": changes.sequence, "offset": 0, "select": previous["select"]}
            else:
                names = _select(request, USER_DEFAULT_PROPERTIES, self.tenant.users[0].keys(), "user")
                state = {"since": None, "upto": changes.sequence, "offset": 0, "select": names}
        except DeltaTokenError:
            raise GraphError(400, "Request_BadRequest", "The delta token or skip token is invalid.") from None
        select: list[str] = state["select"]
        if "signInActivity" in select and not self.options.premium:
            raise GraphError(
                403,
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "Neither tenant is B2C or tenant doesn't have premium license",
            )
        body: dict[str, Any] = {"@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#users"}
        origin_path = f"{request_origin(request.scope)}{request.url.path}"
        if params.get("$deltatoken") == "latest":  # "sync from now": no data, only a deltaLink
            body["value"] = []
            token = changes.encode({"upto": changes.sequence, "select": select})
            body["@odata.deltaLink"] = f"{origin_path}?$deltatoken={token}"
            return body
        if state["since"] is None:
            positions = changes.live_positions()
        else:
            positions = changes.changed_since(state["since"], state["upto"])
        offset = state["offset"]
        page = positions[offset : offset + DELTA_PAGE]
        users = self.tenant.users
        value = []
        for i in page:
            if i in changes.deleted:
                value.append({"id": users[i]["id"], "@removed": {"reason": "changed"}})
            else:  # a property never set is not in a delta response at all
                value.append({k: users[i][k] for k in select if users[i].get(k) is not None} | {"id": users[i]["id"]})
        body["value"] = value
        if offset + DELTA_PAGE < len(positions):
            skiptoken = changes.encode({**state, "offset": offset + DELTA_PAGE})
            body["@odata.nextLink"] = f"{origin_path}?$skiptoken={skiptoken}"
        else:
            token = changes.encode({"upto": state["upto"], "select": select})
            body["@odata.deltaLink"] = f"{origin_path}?$deltatoken={token}"
        return body

    # ---------------------------------------------------------------- audit logs

    def list_sign_ins(self, request: Request, caller: Caller) -> dict[str, Any]:
        if not self.options.premium:
            raise GraphError(
                403,
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "Neither tenant is B2C or tenant doesn't have premium license",
            )
        t = self.tenant
        return self._log_page(request, t.si_ts, t.sign_in_doc, "createdDateTime", "auditLogs/signIns")

    def list_directory_audits(self, request: Request, caller: Caller) -> dict[str, Any]:
        t = self.tenant
        return self._log_page(request, t.au_ts, t.directory_audit_doc, "activityDateTime", "auditLogs/directoryAudits")

    def _log_page(
        self, request: Request, stamps: Any, render: Callable[[int], dict[str, Any]], field: str, context: str
    ) -> dict[str, Any]:
        """Newest first: position p of the filtered result is index ``hi - 1 - p`` of the ascending arrays."""
        low, high, low_inc, high_inc = time_range(request.query_params.get("$filter"), field)
        lo, hi = window(stamps, low, high, low_inclusive=low_inc, high_inclusive=high_inc)
        count = max(0, hi - lo)
        return self._page(
            request, count, lambda p: render(newest_first(lo, hi, p)), default_top=1000, max_top=1000, context=context
        )

    # ---------------------------------------------------------------- files

    def get_user_drive(self, request: Request, caller: Caller) -> dict[str, Any]:
        t = self.tenant
        position = self._user_positions.get(request.path_params["user_id"])
        if position is None:
            raise _not_found(request.path_params["user_id"])
        drive = t.user_drive.get(position)
        if drive is None:
            raise GraphError(404, "ResourceNotFound", "User's mysite not found.")
        return {"@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#drives/$entity", **t.drives[drive]}

    def list_sites(self, request: Request, caller: Caller) -> dict[str, Any]:
        sites = self.tenant.sites
        search = request.query_params.get("search")
        if search not in (None, "*", ""):
            wanted = search.strip('"').lower()
            sites = [s for s in sites if wanted in s["displayName"].lower() or wanted in s["name"].lower()]
        return self._page(request, len(sites), lambda i: sites[i], default_top=200, max_top=999, context="sites")

    def list_site_drives(self, request: Request, caller: Caller) -> dict[str, Any]:
        position = self._site_positions.get(request.path_params["site_id"])
        if position is None:
            raise GraphError(404, "itemNotFound", "Requested site could not be found")
        t = self.tenant
        return {
            "@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#drives",
            "value": [t.drives[d] for d in t.site_drives[position]],
        }

    def drive_delta(self, request: Request, caller: Caller) -> dict[str, Any]:
        position = self._drive_positions.get(request.path_params["drive_id"])
        if position is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        items = self.tenant.drive_items[position]

        def render(i: int) -> dict[str, Any]:
            item = dict(self.tenant.contents.materialize(items[i]))
            # Delta responses do not carry parentReference.path (driveitem-delta.md).
            item["parentReference"] = {k: v for k, v in item["parentReference"].items() if k != "path"}
            return item

        body = self._page(request, len(items), render, default_top=200, max_top=1000, context="Collection(driveItem)")
        if "@odata.nextLink" not in body:
            token = b64url(hashlib.blake2b(f"{self._salt}:{position}".encode(), digest_size=18).digest())
            body["@odata.deltaLink"] = f"{request_origin(request.scope)}{request.url.path}?token={token}"
        return body

    def list_item_permissions(self, request: Request, caller: Caller) -> dict[str, Any]:
        if request.path_params["drive_id"] not in self._drive_positions:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        permissions = self.tenant.item_permissions.get(request.path_params["item_id"])
        if permissions is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return {
            "@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#Collection(permission)",
            "value": permissions,
        }

    # ---------------------------------------------------------------- single objects (reads actions plan with)

    def _live_user(self, user_id: str) -> int:
        position = self._user_positions.get(user_id)
        if position is None or position in self.changes.deleted:
            raise _not_found(user_id)
        return position

    def get_user(self, request: Request, caller: Caller) -> dict[str, Any]:
        """user-get.md: the default properties, or those ``$select`` names."""
        doc = self.tenant.users[self._live_user(request.path_params["user_id"])]
        select = _select(request, USER_DEFAULT_PROPERTIES, doc.keys(), "user")
        if "signInActivity" in select and not self.options.premium:
            raise GraphError(
                403,
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "Neither tenant is B2C or tenant doesn't have premium license",
            )
        return {"@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#users/$entity"} | {
            k: doc[k] for k in select
        }

    def get_grant(self, request: Request, caller: Caller) -> dict[str, Any]:
        grant = self._grant(request.path_params["grant_id"])
        return {
            "@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#oauth2PermissionGrants/$entity"
        } | grant

    def _grant(self, grant_id: str) -> dict[str, Any]:
        grant = next((g for g in self.tenant.grants if g["id"] == grant_id), None)
        if grant is None:
            raise _not_found(grant_id)
        return grant

    def _drive_item(self, drive_id: str, item_id: str) -> dict[str, Any]:
        position = self._drive_positions.get(drive_id)
        item = None
        if position is not None:
            item = next((i for i in self.tenant.drive_items[position] if i["id"] == item_id), None)
        if item is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return item

    def get_drive_item(self, request: Request, caller: Caller) -> dict[str, Any]:
        item = self.tenant.contents.materialize(
            self._drive_item(request.path_params["drive_id"], request.path_params["item_id"])
        )
        wanted = _select_names(request)
        body = item if wanted is None else {k: item[k] for k in wanted if k in item}
        return {"@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#driveItem/$entity"} | body

    def _item_permission(self, drive_id: str, item_id: str, perm_id: str) -> tuple[list[dict[str, Any]], int]:
        self._drive_item(drive_id, item_id)
        permissions = self.tenant.item_permissions.get(item_id) or []
        at = next((k for k, p in enumerate(permissions) if p["id"] == perm_id), None)
        if at is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return permissions, at

    def get_item_permission(self, request: Request, caller: Caller) -> dict[str, Any]:
        p = request.path_params
        permissions, at = self._item_permission(p["drive_id"], p["item_id"], p["perm_id"])
        return {"@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#permission/$entity"} | permissions[at]

    # ---------------------------------------------------------------- writes (governance actions)

    def _require(self, caller: Caller, allowed: tuple[str, ...], area: str = "users") -> None:
        if not caller.roles & set(allowed):
            raise self._denied(area)

    def _caller_is_privileged(self, caller: Caller) -> bool:
        """Whether the calling app's service principal holds a directory role that may change
        privileged administrators (Global Administrator or Privileged Authentication Administrator)."""
        sp = self.tenant.client_sp[caller.client_id]
        sp_index = self.tenant.service_principals.index(sp)
        return any(
            ("sp", sp_index) in self.tenant.role_members[r]
            for r, role in enumerate(self.tenant.roles)
            if role["displayName"] in ("Global Administrator", "Privileged Authentication Administrator")
        )

    def _check_sensitive(self, caller: Caller, position: int) -> None:
        """user-update.md: to change accountEnabled, passwordProfile or sessions of a user holding a
        privileged administrator role, an app-only caller must itself hold a higher privileged role
        ("Who can perform sensitive actions"); otherwise 403 Authorization_RequestDenied."""
        t = self.tenant
        holders = set()
        for role, members in zip(t.roles, t.role_members, strict=True):
            if role["displayName"] == "Directory Readers":
                continue
            for kind, idx in members:
                if kind == "user":
                    holders.add(idx)
                elif kind == "group":
                    holders.update(ui for k, ui in t.group_members[idx] if k == "user")
        if position in holders and not self._caller_is_privileged(caller):
            raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")

    def _initiated_by(self, caller: Caller) -> dict[str, Any]:
        sp = self.tenant.client_sp[caller.client_id]
        return {
            "user": None,
            "app": {
                "appId": caller.client_id,
                "displayName": sp["displayName"],
                "servicePrincipalId": sp["id"],
                "servicePrincipalName": None,
            },
        }

    def _audit(
        self,
        caller: Caller,
        category: str,
        activity: str,
        operation: str,
        targets: list[dict[str, Any]],
    ) -> None:
        """A directoryAudit as Entra writes it for a change an app made (directoryaudit.md): the
        initiator is the app's service principal."""
        doc = {
            "category": category,
            "correlationId": _request_id(),
            "result": "success",
            "resultReason": "",
            "activityDisplayName": activity,
            "loggedByService": "Core Directory",
            "operationType": operation,
            "initiatedBy": self._initiated_by(caller),
            "targetResources": targets,
            "additionalDetails": [],
        }
        self.tenant.record_audit(doc, int(time.time() * 1000))

    def _user_target(self, position: int, modified: list[dict[str, Any]]) -> dict[str, Any]:
        user = self.tenant.users[position]
        return {
            "id": user["id"],
            "displayName": None,
            "type": "User",
            "userPrincipalName": user["userPrincipalName"],
            "groupType": None,
            "modifiedProperties": modified,
        }

    def _changed_user(self, position: int, doc: dict[str, Any]) -> None:
        """Store a user's new state where listings, delta and ground truth read it."""
        t = self.tenant
        t.users[position] = doc
        t.urecs[position].enabled = bool(doc["accountEnabled"])
        self.changes.sequence += 1
        self.changes.version[position] = self.changes.sequence

    def update_user(
        self, request: Request, caller: Caller, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any] | None]:
        """PATCH /users/{id} (user-update.md): 204 No Content. accountEnabled needs
        User.EnableDisableAccount.All (or User.ReadWrite.All, Directory.ReadWrite.All); passwordProfile
        User-PasswordProfile.ReadWrite.All (or the same two); any other property User.ReadWrite.All.
        Setting a value a user already has is accepted (204) and changes nothing."""
        position = self._live_user(request.path_params["user_id"])
        if not body:
            raise GraphError(400, "Request_BadRequest", "Empty Payload. JSON content expected.")
        broad = ("User.ReadWrite.All", "Directory.ReadWrite.All")
        doc = dict(self.tenant.users[position])
        for name, value in body.items():
            if name == "accountEnabled":
                self._require(caller, ("User.EnableDisableAccount.All", *broad))
                if not isinstance(value, bool):
                    raise GraphError(
                        400, "Request_BadRequest", "Invalid value specified for property 'accountEnabled'."
                    )
            elif name == "passwordProfile":
                self._require(caller, ("User-PasswordProfile.ReadWrite.All", *broad))
                if not isinstance(value, dict) or set(value) - set(doc["passwordProfile"] or {}):
                    raise GraphError(
                        400, "Request_BadRequest", "Invalid value specified for property 'passwordProfile'."
                    )
            elif name in doc and name not in ("id", "signInActivity", "signInSessionsValidFromDateTime"):
                self._require(caller, broad)
            else:
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    f"Property '{name}' does not exist as a declared property or extension property.",
                )
        if "accountEnabled" in body or "passwordProfile" in body:
            self._check_sensitive(caller, position)
        before = self.tenant.users[position]
        for name, value in body.items():
            doc[name] = {**(before[name] or {}), **value, "password": None} if name == "passwordProfile" else value
        if doc == before:
            return 204, None
        self._changed_user(position, doc)
        if doc["accountEnabled"] != before["accountEnabled"]:
            old, new = ("[true]", "[false]") if before["accountEnabled"] else ("[false]", "[true]")
            activity = "Enable account" if doc["accountEnabled"] else "Disable account"
            modified = [{"displayName": "AccountEnabled", "oldValue": old, "newValue": new}]
            self._audit(caller, "UserManagement", activity, "Update", [self._user_target(position, modified)])
        if doc["passwordProfile"] != before["passwordProfile"]:
            self._audit(caller, "UserManagement", "Update user", "Update", [self._user_target(position, [])])
        others = {k for k in body if k not in ("accountEnabled", "passwordProfile") and doc[k] != before[k]}
        if others:
            self._audit(caller, "UserManagement", "Update user", "Update", [self._user_target(position, [])])
        return 204, None

    def revoke_sign_in_sessions(
        self, request: Request, caller: Caller, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any] | None]:
        """POST /users/{id}/revokeSignInSessions (user-revokesigninsessions.md): 200 with
        ``{"value": true}``; signInSessionsValidFromDateTime becomes now. Every call does it again."""
        position = self._live_user(request.path_params["user_id"])
        self._require(caller, ("User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"))
        self._check_sensitive(caller, position)
        now = _now_utc()
        doc = dict(self.tenant.users[position])
        old = doc["signInSessionsValidFromDateTime"]
        doc["signInSessionsValidFromDateTime"] = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        self._changed_user(position, doc)
        # Entra records the reset of the refresh-token cut-off as an "Update user" of the
        # StsRefreshTokensValidFrom property.
        modified = [
            {
                "displayName": "StsRefreshTokensValidFrom",
                "oldValue": f'["{old}"]',
                "newValue": f'["{doc["signInSessionsValidFromDateTime"]}"]',
            }
        ]
        self._audit(caller, "UserManagement", "Update user", "Update", [self._user_target(position, modified)])
        return 200, {"@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#Edm.Boolean", "value": True}

    def _sp_target(self, sp: dict[str, Any], modified: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": sp["id"],
            "displayName": sp["displayName"],
            "type": "ServicePrincipal",
            "userPrincipalName": None,
            "groupType": None,
            "modifiedProperties": modified,
        }

    def delete_grant(
        self, request: Request, caller: Caller, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any] | None]:
        """DELETE /oauth2PermissionGrants/{id} (oauth2permissiongrant-delete.md): 204;
        DelegatedPermissionGrant.ReadWrite.All. A grant already gone is 404."""
        self._require(caller, ("DelegatedPermissionGrant.ReadWrite.All",), "oauth2PermissionGrants")
        grant = self._grant(request.path_params["grant_id"])
        self.tenant.grants.remove(grant)
        resource = next((sp for sp in self.tenant.service_principals if sp["id"] == grant["resourceId"]), None)
        modified = [
            {"displayName": "DelegatedPermissionGrant.Scope", "oldValue": f'"{grant["scope"]}"', "newValue": None},
            {"displayName": "ServicePrincipal.ObjectID", "oldValue": f'"{grant["clientId"]}"', "newValue": None},
        ]
        targets = [self._sp_target(resource, modified)] if resource else []
        self._audit(caller, "ApplicationManagement", "Remove delegated permission grant", "Unassign", targets)
        return 204, None

    def delete_app_role(
        self, request: Request, caller: Caller, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any] | None]:
        """DELETE /servicePrincipals/{id}/appRoleAssignments/{id}
        (serviceprincipal-delete-approleassignments.md): 204; AppRoleAssignment.ReadWrite.All."""
        self._require(caller, ("AppRoleAssignment.ReadWrite.All",), "servicePrincipals")
        sp_id, assignment_id = request.path_params["sp_id"], request.path_params["assignment_id"]
        if sp_id not in self._sp_positions:
            raise _not_found(sp_id)
        assignments = self.tenant.app_role_assignments.get(sp_id, [])
        assignment = next((a for a in assignments if a["id"] == assignment_id), None)
        if assignment is None:
            raise _not_found(assignment_id)
        assignments.remove(assignment)
        resource = next((sp for sp in self.tenant.service_principals if sp["id"] == assignment["resourceId"]), None)
        modified = [
            {"displayName": "AppRole.Id", "oldValue": f'"{assignment["appRoleId"]}"', "newValue": None},
            {"displayName": "ServicePrincipal.ObjectID", "oldValue": f'"{sp_id}"', "newValue": None},
        ]
        targets = [self._sp_target(resource, modified)] if resource else []
        self._audit(
            caller, "ApplicationManagement", "Remove app role assignment from service principal", "Unassign", targets
        )
        return 204, None

    def delete_role_member(
        self, request: Request, caller: Caller, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any] | None]:
        """DELETE /directoryRoles/{id}/members/{id}/$ref (directoryrole-delete-member.md): 204;
        RoleManagement.ReadWrite.Directory. Someone not a direct member is 404."""
        self._require(caller, ("RoleManagement.ReadWrite.Directory",), "directoryRoles")
        role_id, member_id = request.path_params["role_id"], request.path_params["member_id"]
        r = self._role_positions.get(role_id)
        if r is None:
            raise _not_found(role_id)
        t = self.tenant
        members = t.role_members[r]
        member = next((m for m in members if t._object_id(m) == member_id), None)
        if member is None:
            raise _not_found(member_id)
        members.remove(member)
        role = t.roles[r]
        targets = []
        if member[0] == "user":
            modified = [{"displayName": "Role.DisplayName", "oldValue": f'"{role["displayName"]}"', "newValue": None}]
            targets.append(self._user_target(member[1], modified))
        targets.append(
            {
                "id": role["id"],
                "displayName": role["displayName"],
                "type": "Role",
                "userPrincipalName": None,
                "groupType": None,
                "modifiedProperties": [],
            }
        )
        self._audit(caller, "RoleManagement", "Remove member from role", "Unassign", targets)
        self._refresh_admins()
        return 204, None

    def _refresh_admins(self) -> None:
        t = self.tenant
        t.admin_user_indexes = set()
        for members in t.role_members:
            for kind, idx in members:
                if kind == "user":
                    t.admin_user_indexes.add(idx)
                elif kind == "group":
                    t.admin_user_indexes.update(ui for k, ui in t.group_members[idx] if k == "user")

    def delete_item_permission(
        self, request: Request, caller: Caller, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any] | None]:
        """DELETE /drives/{id}/items/{id}/permissions/{id} (permission-delete.md): 204;
        Files.ReadWrite.All or Sites.ReadWrite.All. SharePoint records the removal in the Microsoft 365
        unified audit log (Audit.SharePoint, unified_audit.py), not in the Entra directory audits: an
        AnonymousLinkRemoved, CompanyLinkRemoved, SecureLinkDeleted or SharingRevoked record whose actor
        is the calling app (UserId app@sharepoint, UserType 5 Application)."""
        self._require(caller, ("Files.ReadWrite.All", "Sites.ReadWrite.All"), "files")
        if not self.options.sharepoint_online:
            raise spo_licence_missing()
        p = request.path_params
        permissions, at = self._item_permission(p["drive_id"], p["item_id"], p["perm_id"])
        if permissions[at].get("inheritedFrom"):
            raise GraphError(400, "invalidRequest", "Inherited permissions cannot be removed.")
        removed = permissions.pop(at)
        t = self.tenant
        drive = t.drives[self._drive_positions[p["drive_id"]]]
        item = self._drive_item(p["drive_id"], p["item_id"])
        sp = t.client_sp[caller.client_id]
        now_ms = int(time.time() * 1000)
        record = permission_record(
            t.tenant_id,
            drive,
            item,
            removed,
            app_actor(caller.client_id, sp["displayName"], t.tenant_id),
            removed=True,
            domains={t.domain.lower(), t.initial_domain.lower()},
            key=f"{item['id']}:{removed['id']}:removed:{now_ms}",
        )
        if record is not None:
            self.audit_log.add_live(record, now_ms)
        return 204, None

    # ---------------------------------------------------------------- contents, labels, file governance

    def _file_audit(self, caller: Caller, drive_id: str, item: dict[str, Any], operation: str, **extra: Any) -> None:
        """A "File and page activities" record of the unified audit log for a change the calling app
        made (UserId app@sharepoint, UserType 5 Application), as delete_item_permission writes one."""
        t = self.tenant
        drive = t.drives[self._drive_positions[drive_id]]
        now_ms = int(time.time() * 1000)
        record = base_record(
            t.tenant_id, drive, item, operation, RECORD_FILE_OPERATION, f"{item['id']}:{operation}:{time.time_ns()}"
        )
        sp = t.client_sp[caller.client_id]
        record.update(app_actor(caller.client_id, sp["displayName"], t.tenant_id))
        record.update(extra)
        self.audit_log.add_live(record, now_ms)

    def _drive_position(self, drive_id: str) -> int:
        position = self._drive_positions.get(drive_id)
        if position is None:
            raise GraphError(404, "itemNotFound", "The resource could not be found.")
        return position

    def _folder_path(self, drive_id: str, folder: dict[str, Any]) -> str:
        if "root" in folder:
            return "/drive/root:"
        parent = str(folder["parentReference"].get("path") or "/drive/root:")
        return f"{parent}/{folder['name']}"

    def _web_url(self, drive_id: str, folder: dict[str, Any], name: str) -> str:
        drive = self.tenant.drives[self._drive_position(drive_id)]
        relative = self._folder_path(drive_id, folder)[len("/drive/root:") :]
        return f"{drive['webUrl']}{quote(relative)}/{quote(name)}"

    @staticmethod
    def _bump(item: dict[str, Any], *, content: bool) -> None:
        """A change: eTag always, cTag when the content changed (driveitem.md: cTag is the content's tag)."""
        keys = ("eTag", "cTag") if content else ("eTag",)
        for key in keys:
            tag, _, version = str(item[key]).rstrip('"').rpartition(",")
            item[key] = f'{tag},{int(version) + 1 if version.isdigit() else 2}"'
        item["lastModifiedDateTime"] = iso_ms(int(time.time() * 1000))[:19] + "Z"

    def _storage_origin(self, scope: Scope) -> str:
        """The origin of the preauthenticated download URLs: SharePoint's own host in Microsoft 365 (not
        graph.microsoft.com); here the other loopback name of the same server, a distinct origin."""
        origin = urlsplit(request_origin(scope))
        host, port = origin.hostname or "127.0.0.1", f":{origin.port}" if origin.port else ""
        other = "127.0.0.1" if host == "localhost" else "localhost"
        return f"{origin.scheme}://{other}{port}"

    async def download_redirect(self, request: Request) -> Response:
        """GET /drives/{drive-id}/items/{item-id}/content (driveitem-get-content.md): 302 Found to the
        file's preauthenticated download URL; 304 when if-none-match names its eTag or cTag."""
        try:
            caller = self._authorize(request)
            if not caller.roles & set(PERMISSIONS["files"]):
                raise self._denied("files")
            if not self.options.sharepoint_online:
                raise spo_licence_missing()
            p = request.path_params
            with self._lock:
                item = self._drive_item(p["drive_id"], p["item_id"])
                if "file" not in item:  # "Only driveItems with the file property can be downloaded."
                    raise GraphError(404, "itemNotFound", "The resource could not be found.")
                unique_id = str(uuid.UUID(bytes=hashlib.blake2b(item["id"].encode(), digest_size=16).digest()))
                self._download_ids[unique_id] = (p["drive_id"], item["id"])
                tags = {item.get("eTag"), item.get("cTag")}
        except GraphError as err:
            return json_response(
                self._error_body(err.code, err.message, request.scope),
                err.status,
                [*err.headers, *self._diagnostic_headers(request.scope)],
                JSON_TYPE,
            )
        headers = self._diagnostic_headers(request.scope)
        if request.headers.get("if-none-match") in tags:
            return Response(status_code=304, headers=dict(headers))
        query = urlencode(
            {
                "UniqueId": unique_id,
                "Translate": "false",
                "tempauth": self.tenant.contents.tempauth(item["id"]),
                "ApiVersion": "2.0",
            }
        )
        location = f"{self._storage_origin(request.scope)}{self.base_url_prefix}/_layouts/15/download.aspx?{query}"
        return Response(status_code=302, headers={**dict(headers), "Location": location})

    async def download_file(self, request: Request) -> Response:
        """The preauthenticated download URL: no Authorization header needed (or wanted); the URL's own
        tempauth must be valid and unexpired; ``Range`` answers 206 with Content-Range."""
        params = request.query_params
        unique_id, token = params.get("UniqueId", ""), params.get("tempauth", "")
        self.download_log.append(
            {
                "unique_id": unique_id,
                "authorization": "authorization" in request.headers,
                "cookie": "cookie" in request.headers,
                "range": request.headers.get("range"),
                "host": request.headers.get("host"),
            }
        )
        with self._lock:
            found = self._download_ids.get(unique_id)
            item = None
            if found is not None:
                try:
                    item = self._drive_item(*found)
                except GraphError:
                    item = None
        if found is None or not self.tenant.contents.valid_tempauth(found[1], token):
            body = {"error": {"code": "unauthenticated", "message": "The tempauth token is not valid or has expired."}}
            return json_response(body, 401)
        if item is None:
            return json_response({"error": {"code": "itemNotFound", "message": "File Not Found."}}, 404)
        contents = self.tenant.contents
        size = contents.size_of(item)
        wanted = parse_range(request.headers.get("range"), size)
        headers = {"Accept-Ranges": "bytes", "ETag": str(item.get("eTag")), "Content-Type": item["file"]["mimeType"]}
        if wanted == "unsatisfiable":
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        start, end = wanted if isinstance(wanted, tuple) else (0, size)
        headers["Content-Length"] = str(end - start)
        status = 200
        if isinstance(wanted, tuple):
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        return StreamingResponse(contents.chunks(item, start, end), status_code=status, headers=headers)

    async def upload_file(self, request: Request) -> Response:
        """PUT /drives/{drive-id}/items/{parent-id}:/{filename}:/content (driveitem-put-content.md): a new
        file (201 Created) or new content for the one of that name (200 OK), the driveItem in the body."""
        try:
            caller = self._authorize(request)
            self._require(caller, FILES_WRITE, "files")
            if not self.options.sharepoint_online:
                raise spo_licence_missing()
            data = await request.body()
            p = request.path_params
            with self._lock:
                status, item = self._put_content(caller, p["drive_id"], p["parent_id"], p["filename"], data)
        except GraphError as err:
            return json_response(
                self._error_body(err.code, err.message, request.scope),
                err.status,
                [*err.headers, *self._diagnostic_headers(request.scope)],
                JSON_TYPE,
            )
        body = {"@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#driveItem/$entity"} | item
        return json_response(body, status, self._diagnostic_headers(request.scope), JSON_TYPE)

    def _put_content(
        self, caller: Caller, drive_id: str, parent_id: str, name: str, data: bytes
    ) -> tuple[int, dict[str, Any]]:
        t = self.tenant
        position = self._drive_position(drive_id)
        parent = self._drive_item(drive_id, parent_id)
        if "folder" not in parent:
            raise GraphError(400, "invalidRequest", "The parent item is not a folder.")
        if not name or "/" in name or name in (".", ".."):
            raise GraphError(400, "invalidRequest", "The provided name is not valid.")
        items = t.drive_items[position]
        existing = next(
            (i for i in items if i["parentReference"].get("id") == parent_id and i["name"].lower() == name.lower()),
            None,
        )
        if existing is not None:
            if "file" not in existing:
                raise GraphError(409, "nameAlreadyExists", "The specified item name already exists.")
            t.contents.upload(existing, data)
            self._bump(existing, content=True)
            self._file_audit(caller, drive_id, existing, "FileModified")
            return 200, existing
        drive = t.drives[position]
        digest = hashlib.blake2b(f"{drive_id}:{parent_id}:{name}".encode(), digest_size=20).digest()
        item_id = "01" + base64.b32encode(digest).decode()[:32]
        tag = _uuid_from(hashlib.blake2b(item_id.encode(), digest_size=16).digest()).upper()
        now = iso_ms(int(time.time() * 1000))[:19] + "Z"
        sp = t.client_sp[caller.client_id]
        app = {"application": {"id": caller.client_id, "displayName": sp["displayName"]}}
        item = {
            "id": item_id,
            "name": name,
            "eTag": f'"{{{tag}}},1"',
            "cTag": f'"c:{{{tag}}},1"',
            "webUrl": self._web_url(drive_id, parent, name),
            "createdDateTime": now,
            "lastModifiedDateTime": now,
            "size": 0,
            "parentReference": {
                "driveId": drive_id,
                "driveType": drive["driveType"],
                "id": parent_id,
                "path": self._folder_path(drive_id, parent),
            },
            "createdBy": app,
            "lastModifiedBy": app,
            "file": {"mimeType": _upload_mime(name), "hashes": {}},
        }
        t.contents.upload(item, data)
        items.append(item)
        parent.setdefault("folder", {"childCount": 0})["childCount"] += 1
        # A new file inherits its folder's access: the drive owner's (or the site members group's).
        siblings = [i for i in items[1:] if i["id"] != item_id and "file" in i]
        inherited = [
            dict(p)
            for p in (t.item_permissions.get(siblings[0]["id"]) or [] if siblings else [])
            if "owner" in p.get("roles", []) or "siteGroup" in (p.get("grantedToV2") or {})
        ]
        t.item_permissions[item_id] = inherited
        self._file_audit(caller, drive_id, item, "FileUploaded")
        return 201, item

    def delete_drive_item(
        self, request: Request, caller: Caller, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any] | None]:
        """DELETE /drives/{drive-id}/items/{item-id} (driveitem-delete.md): 204; the item goes to the
        site's recycle bin, where Graph v1.0 neither lists nor restores it for business drives (restore
        is OneDrive Personal only, driveitem-restore.md). SharePoint records FileRecycled."""
        self._require(caller, FILES_WRITE, "files")
        if not self.options.sharepoint_online:
            raise spo_licence_missing()
        p = request.path_params
        if "parent_id" in p:  # path-relative addressing: /items/{parent-id}:/{file-name}
            self._drive_item(p["drive_id"], p["parent_id"])
            items = self.tenant.drive_items[self._drive_position(p["drive_id"])]
            named = next(
                (
                    i
                    for i in items
                    if i["parentReference"].get("id") == p["parent_id"] and i["name"].lower() == p["filename"].lower()
                ),
                None,
            )
            if named is None:
                raise GraphError(404, "itemNotFound", "The resource could not be found.")
            p = {"drive_id": p["drive_id"], "item_id": named["id"]}
        item = self._drive_item(p["drive_id"], p["item_id"])
        if "root" in item:
            raise GraphError(403, "accessDenied", "The root of a drive cannot be deleted.")
        position = self._drive_position(p["drive_id"])
        self._remove_item(position, item, recycle=True)
        self._file_audit(caller, p["drive_id"], item, "FolderRecycled" if "folder" in item else "FileRecycled")
        return 204, None

    def _remove_item(self, position: int, item: dict[str, Any], *, recycle: bool) -> None:
        t = self.tenant
        items = t.drive_items[position]
        doomed = {item["id"]}
        for candidate in items:  # parents come before children
            if candidate["parentReference"].get("id") in doomed:
                doomed.add(candidate["id"])
        for gone in [i for i in items if i["id"] in doomed]:
            items.remove(gone)
            permissions = t.item_permissions.pop(gone["id"], [])
            if recycle:
                t.contents.recycled[gone["id"]] = Recycled(position, gone, permissions)
        parent = next((i for i in items if i["id"] == item["parentReference"].get("id")), None)
        if parent is not None and "folder" in parent:
            parent["folder"]["childCount"] = max(0, parent["folder"]["childCount"] - 1)

    def update_drive_item(
        self, request: Request, caller: Caller, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any] | None]:
        """PATCH /drives/{drive-id}/items/{item-id} with a new parentReference (driveitem-move.md) and/or
        name: 200 with the item. Items cannot be moved between drives; the new parent is given by its id
        (not "root"); a name taken in the folder is 409 nameAlreadyExists."""
        self._require(caller, FILES_WRITE, "files")
        if not self.options.sharepoint_online:
            raise spo_licence_missing()
        p = request.path_params
        item = self._drive_item(p["drive_id"], p["item_id"])
        body = body or {}
        reference = body.get("parentReference")
        name = body.get("name", item["name"])
        if not isinstance(name, str) or not name or "/" in name:
            raise GraphError(400, "invalidRequest", "The provided name is not valid.")
        parent_id = item["parentReference"].get("id")
        if reference is not None:
            if not isinstance(reference, dict) or not isinstance(reference.get("id"), str):
                raise GraphError(400, "invalidRequest", "Invalid request: parentReference needs an id.")
            if reference.get("driveId") not in (None, p["drive_id"]):
                raise GraphError(400, "invalidRequest", "Items cannot be moved between drives using this request.")
            parent_id = reference["id"]
        parent = self._drive_item(p["drive_id"], str(parent_id))
        if "folder" not in parent or parent["id"] == item["id"]:
            raise GraphError(400, "invalidRequest", "The new parent is not a folder.")
        items = self.tenant.drive_items[self._drive_position(p["drive_id"])]
        if any(
            i["id"] != item["id"]
            and i["parentReference"].get("id") == parent["id"]
            and i["name"].lower() == name.lower()
            for i in items
        ):
            raise GraphError(409, "nameAlreadyExists", "The specified item name already exists.")
        moved, renamed = parent["id"] != item["parentReference"].get("id"), name != item["name"]
        if moved:
            old = next((i for i in items if i["id"] == item["parentReference"].get("id")), None)
            if old is not None and "folder" in old:
                old["folder"]["childCount"] = max(0, old["folder"]["childCount"] - 1)
            parent["folder"]["childCount"] += 1
            item["parentReference"] = {
                **item["parentReference"],
                "id": parent["id"],
                "path": self._folder_path(p["drive_id"], parent),
            }
            # Keep parents before children in the drive's order (the delta listing's order).
            items.remove(item)
            items.insert(max(items.index(parent) + 1, 1), item)
        if moved or renamed:
            item["name"] = name
            item["webUrl"] = self._web_url(p["drive_id"], parent, name)
            self._bump(item, content=False)
        if moved:
            self._file_audit(caller, p["drive_id"], item, "FileMoved", DestinationRelativeUrl=item["webUrl"])
        if renamed:
            self._file_audit(caller, p["drive_id"], item, "FileRenamed")
        return 200, {"@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#driveItem/$entity"} | item

    def _permission_audit(
        self, caller: Caller, drive_id: str, item: dict[str, Any], permission: dict[str, Any]
    ) -> None:
        t = self.tenant
        now_ms = int(time.time() * 1000)
        record = permission_record(
            t.tenant_id,
            t.drives[self._drive_positions[drive_id]],
            item,
            permission,
            app_actor(caller.client_id, t.client_sp[caller.client_id]["displayName"], t.tenant_id),
            removed=False,
            domains={t.domain.lower(), t.initial_domain.lower()},
            key=f"{item['id']}:{permission['id']}:set:{time.time_ns()}",
        )
        if record is not None:
            self.audit_log.add_live(record, now_ms)

    def invite(self, request: Request, caller: Caller, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        """POST /drives/{drive-id}/items/{item-id}/invite (driveitem-invite.md): recipients, roles
        (read/write), requireSignIn, sendInvitation; 200 with the permissions created."""
        self._require(caller, FILES_WRITE, "files")
        p = request.path_params
        item = self._drive_item(p["drive_id"], p["item_id"])
        body = body or {}
        recipients, roles = body.get("recipients"), body.get("roles")
        if not isinstance(recipients, list) or not recipients or not isinstance(roles, list) or not roles:
            raise GraphError(400, "invalidRequest", "Invalid request: recipients and roles are required.")
        if any(r not in ("read", "write") for r in roles):
            raise GraphError(400, "invalidRequest", "Invalid request: roles must be read or write.")
        t = self.tenant
        permissions = t.item_permissions.setdefault(item["id"], [])
        created = []
        for recipient in recipients:
            email = str((recipient or {}).get("email") or "") if isinstance(recipient, dict) else ""
            if "@" not in email:
                raise GraphError(400, "invalidRequest", "Invalid request: every recipient needs an email.")
            user = next((u for u in t.users if str(u.get("mail") or "").lower() == email.lower()), None)
            external = user is None
            invitation = {"email": email, "signInRequired": bool(body.get("requireSignIn", True))} if external else None
            perm = t._user_grant(
                item["id"], None if user is None else user["id"], email, email, list(roles), invitation
            )
            permissions[:] = [x for x in permissions if x["id"] != perm["id"]]
            permissions.append(perm)
            created.append(perm)
            self._permission_audit(caller, p["drive_id"], item, perm)
        return 200, {"@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#Collection(permission)",
                     "value": created}  # fmt: skip

    def create_link(self, request: Request, caller: Caller, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        """POST /drives/{drive-id}/items/{item-id}/createLink (driveitem-createlink.md): type view/edit,
        scope anonymous/organization/users; 201 with a new link's permission, 200 with an existing link of
        that type and scope. A new link has a new URL."""
        self._require(caller, FILES_WRITE, "files")
        p = request.path_params
        item = self._drive_item(p["drive_id"], p["item_id"])
        body = body or {}
        kind, scope = body.get("type"), body.get("scope", "anonymous")
        if kind not in ("view", "edit") or scope not in ("anonymous", "organization", "users"):
            raise GraphError(400, "invalidRequest", "Invalid request: type or scope is not valid.")
        permissions = self.tenant.item_permissions.setdefault(item["id"], [])
        for existing in permissions:
            link = existing.get("link") or {}
            if link.get("type") == kind and link.get("scope") == scope:
                return 200, existing
        expires = body.get("expirationDateTime") if isinstance(body.get("expirationDateTime"), str) else None
        perm = self.tenant._link(item["id"], scope, kind, item["webUrl"], expires)
        stamp = time.time_ns()
        perm["id"] = str(uuid.UUID(bytes=hashlib.blake2b(f"{perm['id']}:{stamp}".encode(), digest_size=16).digest()))
        perm["link"]["webUrl"] = perm["link"]["webUrl"].rsplit("/", 1)[0] + "/" + b64url(secrets.token_bytes(16))
        permissions.append(perm)
        self._permission_audit(caller, p["drive_id"], item, perm)
        return 201, perm

    def extract_labels(
        self, request: Request, caller: Caller, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any]]:
        """POST .../extractSensitivityLabels (driveitem-extractsensitivitylabels.md): a read, Files.Read.All;
        the labels assigned to a file of a supported extension (none for another)."""
        self._require(caller, PERMISSIONS["files"], "files")
        if not self.options.sharepoint_online:
            raise spo_licence_missing()
        p = request.path_params
        item = self._drive_item(p["drive_id"], p["item_id"])
        if "file" not in item:
            raise GraphError(400, "invalidRequest", "Sensitivity labels can only be extracted from files.")
        assignment = self.tenant.contents.labels.get(item["id"])
        labels = [dict(assignment)] if assignment and extension(item["name"]) in LABEL_EXTENSIONS else []
        result = {"@odata.type": "#microsoft.graph.extractSensitivityLabelsResult", "labels": labels}
        return 200, {"@odata.context": f"{self.base_url(request.scope)}/v1.0/$metadata#microsoft.graph."
                     "extractSensitivityLabelsResult", "value": result}  # fmt: skip

    def assign_label(
        self, request: Request, caller: Caller, body: dict[str, Any] | None
    ) -> tuple[int, None, list[tuple[str, str]]]:
        """POST .../assignSensitivityLabel (driveitem-assignsensitivitylabel.md): metered (402
        paymentRequired without billing), Files.ReadWrite.All, 202 Accepted with a Location monitor; an
        empty sensitivityLabelId removes the label; a downgrade or removal needs justificationText."""
        self._require(caller, FILES_WRITE, "files")
        if not self.options.sharepoint_online:
            raise spo_licence_missing()
        if not self.options.metered_billing:
            raise GraphError(
                402,
                "paymentRequired",
                "Payment Required. Ensure that your application is able to call this premium API.For details see "
                "https://aka.ms/graph-metered-overview",
            )
        p = request.path_params
        item = self._drive_item(p["drive_id"], p["item_id"])
        body = body or {}
        label_id = body.get("sensitivityLabelId")
        if not isinstance(label_id, str):
            raise GraphError(400, "invalidRequest", "The sensitivityLabelId parameter is required.")
        contents = self.tenant.contents
        if "file" not in item or extension(item["name"]) not in LABEL_EXTENSIONS:
            raise GraphError(400, "notSupported", "The file type is not supported for sensitivity labels.")
        if label_id and contents.label_name(label_id) is None:
            raise GraphError(400, "invalidRequest", f"The sensitivity label '{label_id}' is not valid.")
        method = body.get("assignmentMethod") or "standard"
        if method not in ("standard", "privileged", "auto"):
            raise GraphError(400, "invalidRequest", "The assignmentMethod is not valid.")
        old = contents.labels.get(item["id"])
        old_id = old["sensitivityLabelId"] if old else None
        downgrade = old_id is not None and (not label_id or contents.label_rank(label_id) < contents.label_rank(old_id))
        if downgrade and not body.get("justificationText"):
            raise GraphError(
                400, "invalidRequest", "Justification text is required to downgrade or remove a sensitivity label."
            )
        if label_id:
            contents.labels[item["id"]] = {
                "sensitivityLabelId": label_id,
                "assignmentMethod": method,
                "tenantId": self.tenant.tenant_id,
            }
        else:
            contents.labels.pop(item["id"], None)
        if label_id != old_id:
            self._bump(item, content=True)  # SharePoint writes the label into the file
            operation = (
                "FileSensitivityLabelRemoved"
                if not label_id
                else "FileSensitivityLabelChanged"
                if old_id
                else "FileSensitivityLabelApplied"
            )
            data = {"SensitivityLabelId": label_id or None, "OldSensitivityLabelId": old_id, "ActionSource": "Manual"}
            self._file_audit(caller, p["drive_id"], item, operation, SensitivityLabelEventData=data)
        monitor = b64url(f"AssignSensitivityLabel,{uuid.uuid4()}".encode())
        self._monitors[monitor] = {"status": "completed", "percentageComplete": 100.0, "resourceId": item["id"]}
        origin = self._storage_origin(request.scope)
        location = f"{origin}{self.base_url_prefix}/_api/v2.0/monitor/{monitor}?tempAuth={secrets.token_urlsafe(24)}"
        return 202, None, [("Location", location)]

    async def monitor(self, request: Request) -> Response:
        """The long-running operation's monitor (long-running-actions-overview): its status."""
        state = self._monitors.get(request.path_params["monitor_id"])
        if state is None:
            return json_response(
                {"error": {"code": "itemNotFound", "message": "The resource could not be found."}}, 404
            )
        return json_response({"operation": "AssignSensitivityLabel", **state}, 200)

    def list_sensitivity_labels(self, request: Request, caller: Caller) -> dict[str, Any]:
        """GET /beta/security/informationProtection/sensitivityLabels (InformationProtectionPolicy.Read.All)."""
        return {
            "@odata.context": f"{self.base_url(request.scope)}/beta/$metadata#security/informationProtection/"
            "sensitivityLabels",
            "value": self.tenant.contents.catalog,
        }

    # ---------------------------------------------------------------- Office 365 Management Activity API

    def _activity_endpoint(
        self, handler: Callable[[Request, Caller], tuple[Any, list[tuple[str, str]]]]
    ) -> Callable[..., Any]:
        """An operation below ``/api/v1.0/{tenant_id}/activity/feed`` (unified_audit.py for the pages
        relied on): a token for https://manage.office.com holding ActivityFeed.Read, for this tenant."""

        async def endpoint(request: Request) -> Response:
            try:
                caller = self._authorize_activity(request)
                with self._lock:
                    body, headers = handler(request, caller)
            except ActivityError as err:
                return json_response(err.body(), err.status, [], ACTIVITY_JSON)
            except GraphError as err:  # the bearer token itself
                return json_response({"Message": err.message}, err.status, list(err.headers), ACTIVITY_JSON)
            return json_response(body, 200, headers, ACTIVITY_JSON)

        return endpoint

    def _authorize_activity(self, request: Request) -> Caller:
        """The reference's "Activity API operations": the tenant id in the URL is a GUID (AF20013) and
        the token's (AF20010); the token holds ActivityFeed.Read (AF10001). A missing, expired or
        foreign token is a 401 without an AF code (the ASP.NET answer; not documented)."""
        token = bearer_token(request.headers.get("authorization", ""))
        denied = "Authorization has been denied for this request."
        if token is None:
            raise GraphError(401, "", denied, (("WWW-Authenticate", "Bearer"),))
        try:
            claims = jwt.decode(token, _signing_key().public_key(), algorithms=["RS256"], audience=MANAGEMENT_AUDIENCE)
        except jwt.PyJWTError:
            raise GraphError(401, "", denied, (("WWW-Authenticate", "Bearer"),)) from None
        tenant = request.path_params["tenant_id"]
        try:
            uuid.UUID(tenant)
        except ValueError:
            raise ActivityError(
                400, "AF20013", f"The tenant ID passed in the URL ({tenant}) is not a valid GUID."
            ) from None
        if claims.get("tid") != tenant or tenant != self.tenant.tenant_id:
            raise ActivityError(
                400,
                "AF20010",
                f"The tenant ID passed in the URL ({tenant}) does not match the tenant ID passed in the access token "
                f"({claims.get('tid')}).",
            )
        roles = [str(r) for r in claims.get("roles") or []]
        if "ActivityFeed.Read" not in roles or claims.get("appid") not in self._clients:
            raise ActivityError(
                401,
                "AF10001",
                f"The permission set ({','.join(roles)}) sent in the request does not include the expected permission.",
            )
        return Caller(client_id=claims["appid"], roles=frozenset(roles))

    def _content_type(self, request: Request) -> str:
        content_type = request.query_params.get("contentType")
        if not content_type:
            raise ActivityError(400, "AF20001", "Missing parameter: contentType.")
        if content_type not in CONTENT_TYPES:
            raise ActivityError(400, "AF20020", "The specified content type is not valid.")
        return content_type

    def list_subscriptions(self, request: Request, caller: Caller) -> tuple[Any, list[tuple[str, str]]]:
        """GET subscriptions/list: every started subscription, ``webhook`` null (none registered)."""
        body = [{"contentType": c, "status": status, "webhook": None} for c, status in self._subscriptions.items()]
        return body, []

    def start_subscription(self, request: Request, caller: Caller) -> tuple[Any, list[tuple[str, str]]]:
        """POST subscriptions/start: what a tenant admin runs once (saaslens never does: it changes the
        tenant). Starting an enabled one without a webhook change is AF20024."""
        content_type = self._content_type(request)
        if self._subscriptions.get(content_type) == "enabled":
            raise ActivityError(400, "AF20024", "The subscription is already enabled. No property change.")
        self._subscriptions[content_type] = "enabled"
        return {"contentType": content_type, "status": "enabled", "webhook": None}, []

    def list_content(self, request: Request, caller: Caller) -> tuple[Any, list[tuple[str, str]]]:
        """GET subscriptions/content: blobs whose contentCreated lies in [startTime, endTime)."""
        params = request.query_params
        content_type = self._content_type(request)
        status = self._subscriptions.get(content_type)
        if status is None:
            raise ActivityError(400, "AF20022", "No subscription found for the specified content type.")
        if status != "enabled":
            raise ActivityError(400, "AF20023", "The subscription was disabled by a tenant admin.")
        now_ms = int(time.time() * 1000)
        start_text, end_text = params.get("startTime"), params.get("endTime")
        if (start_text is None) != (end_text is None):
            raise range_error()
        if start_text is None or end_text is None:
            start_ms, end_ms = now_ms - MAX_RANGE_MS, now_ms
            start_text, end_text = iso_ms(start_ms)[:19], iso_ms(end_ms)[:19]
        else:
            start_ms, end_ms = parse_time("startTime", start_text), parse_time("endTime", end_text)
            if end_ms - start_ms > MAX_RANGE_MS or start_ms < now_ms - RETENTION_MS:
                raise range_error()
        salt = f"{self._salt}:{content_type}:{start_text}:{end_text}"
        offset = self.audit_log.page_offset(params["nextPage"], salt) if "nextPage" in params else 0
        blobs = self.audit_log.content(start_ms, end_ms, now_ms) if content_type == SHAREPOINT else []
        size = self.options.audit_page_size
        page = blobs[offset : offset + size]
        origin = request_origin(request.scope)
        feed = f"{origin}{self.base_url_prefix}/api/v1.0/{self.tenant.tenant_id}/activity/feed"
        body = [
            {
                "contentType": content_type,
                "contentId": blob.content_id,
                "contentUri": self.options.hostile_content_uri or f"{feed}/audit/{blob.content_id}",
                "contentCreated": iso_ms(blob.created_ms),
                "contentExpiration": iso_ms(blob.created_ms + RETENTION_MS),
            }
            for blob in page
        ]
        headers = []
        if offset == 0 and self.options.hostile_next_page_uri:
            headers.append(("NextPageUri", self.options.hostile_next_page_uri))
        elif offset + size < len(blobs):
            query = urlencode(
                {
                    "contentType": content_type,
                    "startTime": start_text,
                    "endTime": end_text,
                    "nextPage": self.audit_log.next_page(offset + size, salt),
                }
            )
            headers.append(("NextPageUri", f"{feed}/subscriptions/content?{query}"))
        return body, headers

    def get_content(self, request: Request, caller: Caller) -> tuple[Any, list[tuple[str, str]]]:
        """GET {contentUri}: the blob's records, a JSON array."""
        if self._subscriptions.get(SHAREPOINT) != "enabled":
            raise ActivityError(400, "AF20022", "No subscription found for the specified content type.")
        return self.audit_log.blob(request.path_params["content_id"], int(time.time() * 1000)), []

    # ---------------------------------------------------------------- forget (tests: gone behind saaslens' back)

    def forget(self, kind: str, object_id: str) -> dict[str, Any]:
        """Delete an object as another admin would: ``account`` (a user id: soft-deleted),
        ``app_grant`` (a delegated grant id or an app role assignment id), ``privilege``
        ("role-id/user-id": the direct membership), ``file_share`` ("item-id/permission-id"), ``file``
        (a drive item id: deleted and purged from the recycle bin)."""
        t = self.tenant
        with self._lock:
            if kind == "account":
                position = self._user_positions.get(object_id)
                if position is None or position in self.changes.deleted:
                    raise ValueError(f"no user {object_id!r}")
                self.changes.sequence += 1
                self.changes.deleted[position] = self.changes.sequence
            elif kind == "app_grant":
                grant = next((g for g in t.grants if g["id"] == object_id), None)
                if grant is not None:
                    t.grants.remove(grant)
                else:
                    owner = next(
                        (a for a in t.app_role_assignments.values() if any(x["id"] == object_id for x in a)), None
                    )
                    if owner is None:
                        raise ValueError(f"no grant or app role assignment {object_id!r}")
                    owner[:] = [x for x in owner if x["id"] != object_id]
            elif kind == "privilege":
                role_id, _, member_id = object_id.partition("/")
                r = self._role_positions.get(role_id)
                members = t.role_members[r] if r is not None else []
                member = next((m for m in members if t._object_id(m) == member_id), None)
                if member is None:
                    raise ValueError(f"no direct member {member_id!r} of role {role_id!r}")
                members.remove(member)
                self._refresh_admins()
            elif kind == "file":
                found = next(
                    ((d, i) for d, items in enumerate(t.drive_items) for i in items[1:] if i["id"] == object_id), None
                )
                if found is None:
                    raise ValueError(f"no drive item {object_id!r}")
                self._remove_item(found[0], found[1], recycle=False)
            elif kind == "file_share":
                item_id, _, perm_id = object_id.partition("/")
                permissions = t.item_permissions.get(item_id) or []
                if not any(x["id"] == perm_id for x in permissions):
                    raise ValueError(f"no permission {perm_id!r} on item {item_id!r}")
                permissions[:] = [x for x in permissions if x["id"] != perm_id]
            else:
                raise ValueError(f"the {self.app} personality cannot forget {kind!r} objects")
        return {"forgot": {"kind": kind, "id": object_id}}


# --------------------------------------------------------------------------------------------
# Query helpers
# --------------------------------------------------------------------------------------------


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


def _www_authenticate() -> tuple[tuple[str, str], ...]:
    return (
        challenge(
            "Bearer",
            realm="",
            authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize",
            client_id="00000003-0000-0000-c000-000000000000",
        ),
    )


def spo_licence_missing() -> GraphError:
    """What Graph answers for any OneDrive or SharePoint request in a tenant without a SharePoint
    Online licence: a tenant-wide 400, not the per-user 404 ``ResourceNotFound`` "User's mysite not
    found." of a user whose OneDrive was never provisioned. Microsoft Learn does not list it; the
    body is as reported verbatim in OneDrive/onedrive-api-docs#1773 (``/me/drive``) and
    qkqpttgf/OneManager-cfworkerskv#6 (full body with innerError)."""
    return GraphError(400, "BadRequest", "Tenant does not have a SPO license.")


def _upload_mime(name: str) -> str:
    return {
        ".txt": "text/plain",
        ".md": "text/markdown",
        ".html": "text/html",
        ".csv": "text/csv",
        ".json": "application/json",
        ".pdf": "application/pdf",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }.get(extension(name), "application/octet-stream")


def _not_found(object_id: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of its queried reference-property objects are not present.",
    )


def _top(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 1 <= value <= maximum:
        raise GraphError(
            400,
            "Request_UnsupportedQuery",
            f"Invalid page size specified: '{raw}'. Must be between 1 and {maximum} inclusive.",
        )
    return value


def _select_names(request: Request) -> list[str] | None:
    raw = request.query_params.get("$select")
    if raw is None:
        return None
    return [name.strip() for name in raw.split(",") if name.strip()]


def _select(request: Request, default: tuple[str, ...], known: Any, type_name: str) -> list[str]:
    names = _select_names(request)
    if names is None:
        return list(default)
    known_names = set(known)
    for name in names:
        if name not in known_names:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{name}' on type 'microsoft.graph.{type_name}'.",
            )
    return names
