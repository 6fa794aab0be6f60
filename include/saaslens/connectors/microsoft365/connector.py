"""Microsoft 365 through Microsoft Graph v1.0: the connector (credentials, Graph's error and throttling
conventions, authenticate) and the Graph listings several stages share. Each stage's scan is in its
own module (users, groups, privileges, grants, settings, activities, files); `__init__` declares them.

References (Microsoft Learn, and the v1.0 API reference sources in microsoftgraph/microsoft-graph-docs-contrib
``api-reference/v1.0/api/*.md`` and ``resources/*.md``):
- Client credentials with a secret or a certificate assertion, scope ``https://graph.microsoft.com/.default``:
  https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow and
  https://learn.microsoft.com/entra/identity-platform/certificate-credentials (``x5t#S256`` with PS256;
  the older ``x5t`` SHA-1 thumbprint with RS256)
- Application permissions granted are the access token's ``roles`` claim:
  https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
- Paging (``@odata.nextLink`` until absent, never built by hand): https://learn.microsoft.com/graph/paging
- Throttling (429 and 503 with ``Retry-After``): https://learn.microsoft.com/graph/throttling
- Error bodies ``{"error": {"code", "message", "innerError"}}``: https://learn.microsoft.com/graph/errors
- List users (``$select`` for non-default properties, ``$top`` up to 999; ``signInActivity`` needs
  AuditLog.Read.All and Entra ID P1/P2, and caps pages at 120): user-list.md, signinactivity.md
- List groups / group members, directory roles / members: group-list.md, group-list-members.md,
  directoryrole-list.md, directoryrole-list-members.md
- oauth2PermissionGrants and service principals' appRoleAssignments: oauth2permissiongrant-list.md,
  serviceprincipal-list-approleassignments.md
- Sign-ins (Entra ID P1/P2; newest first, page size up to 1,000; 403
  ``Authentication_RequestFromNonPremiumTenantOrB2CTenant`` without the licence) and directory audits:
  signin-list.md, directoryaudit-list.md
- Reporting latency (why the windows lag and look back): https://learn.microsoft.com/entra/identity/monitoring-health/reference-reports-latencies
- OneDrive/SharePoint: drive-get.md, site-search.md, drive-list.md, driveitem-delta.md,
  driveitem-list-permissions.md, permission.md
- The unified audit log's SharePoint and OneDrive records through the Office 365 Management Activity
  API (stream ``sharepoint_audit``): management.py
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from pydantic import Field

from saaslens.connections import ConnectionInvalidError
from saaslens.connectors import registry
from saaslens.connectors.base import ActingAccount, AuthReport, Connector, ConnectorOptions, StageAccess
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.management import ActivityFeed, management_root, management_scope, start_call
from saaslens.http import (
    ApiError,
    AuthenticationError,
    ErrorPolicy,
    FeatureUnavailableError,
    NotFoundError,
    PermissionDeniedError,
)
from saaslens.http.auth import ClientCredentialsProvider, TokenAuth
from saaslens.http.client import api_path, token_endpoint_client
from saaslens.http.listing import Page
from saaslens.http.pagination import NextUrlPaginator, PageRequest
from saaslens.transform_utils import iso_z
from saaslens.vocabulary import Stage

log = logging.getLogger(__name__)

GRAPH_HOSTS = {"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn"}
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
# 403 codes that mean "the tenant's licence lacks this", not "the app lacks a permission".
LICENCE_ERROR_CODES = {"Authentication_RequestFromNonPremiumTenantOrB2CTenant"}
# 400 BadRequest messages that mean the same: the tenant has no SharePoint Online licence, so every
# OneDrive and SharePoint request fails, tenant-wide (unlike 404 ResourceNotFound "User's mysite not
# found.", one user whose OneDrive was never provisioned). Microsoft Learn does not list it; the body
# is reported verbatim in OneDrive/onedrive-api-docs#1773 and qkqpttgf/OneManager-cfworkerskv#6.
LICENCE_ERROR_MESSAGES = ("Tenant does not have a SPO license",)
STREAMS = {
    # activity stream: (path, timestamp property)
    "sign_ins": ("/v1.0/auditLogs/signIns", "createdDateTime"),
    "directory_audits": ("/v1.0/auditLogs/directoryAudits", "activityDateTime"),
}
# The unified audit log's Audit.SharePoint content (management.py), on its own API and token.
SHAREPOINT_STREAM = "sharepoint_audit"
ACTIVITY_FEED_PERMISSION = "ActivityFeed.Read"
# Management Activity API codes (office-365-management-activity-api-reference, "Errors"): the token
# lacks ActivityFeed.Read (answered 401, though it is a missing permission, not a bad token), and no
# enabled subscription to the content type (a tenant setting an admin changes, not a permission).
ACTIVITY_PERMISSION_CODES = {"AF10001"}
ACTIVITY_SUBSCRIPTION_CODES = {"AF20022", "AF20023"}


# Application permissions a higher privileged one includes, as each write endpoint's "Permissions" table
# lists them (least privileged first, then the higher privileged that also allow the call): user-update.md
# (accountEnabled, passwordProfile), user-revokesigninsessions.md, permission-delete.md. The actions name the
# least privileged one; a token holding only the broader one provably holds it too.
IMPLIED_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "User.ReadWrite.All": (
        "User.EnableDisableAccount.All",
        "User-PasswordProfile.ReadWrite.All",
        "User.RevokeSessions.All",
    ),
    "Directory.ReadWrite.All": (
        "User.EnableDisableAccount.All",
        "User-PasswordProfile.ReadWrite.All",
        "User.RevokeSessions.All",
    ),
    "Sites.ReadWrite.All": ("Files.ReadWrite.All",),
}


def granted_permissions(roles: Any) -> dict[str, str]:
    """Permission name -> how it was learned, from the token's roles claim: each role, and what a
    higher privileged role it holds includes (IMPLIED_PERMISSIONS)."""
    names = [str(role) for role in roles or [] if isinstance(role, str)]
    permissions = {name: "roles claim of the access token" for name in names}
    for name in names:
        for implied in IMPLIED_PERMISSIONS.get(name, ()):
            permissions.setdefault(implied, f"included in {name} (roles claim of the access token)")
    return permissions


# A Graph id in an option: drive ids (b!...), item ids, GUIDs; never a path or a URL.
GRAPH_ID_PATTERN = r"^[A-Za-z0-9!_\-.,]{1,200}$"


class Microsoft365Options(ConnectorOptions):
    activities_initial_days: int = Field(
        default=30, ge=1, le=30, description="Entra ID keeps sign-in and audit logs 30 days (P1/P2)"
    )
    sign_in_activity: bool = Field(
        default=True, description="Ask for users' signInActivity (needs AuditLog.Read.All and Entra ID P1/P2)"
    )
    onedrive: bool = Field(default=True, description="Scan every user's OneDrive")
    sharepoint: bool = Field(default=True, description="Scan SharePoint sites' document libraries")
    sharepoint_audit: bool = Field(
        default=False,
        description="Read SharePoint and OneDrive audit records (sharing, access) from the unified audit log "
        "through the Office 365 Management Activity API: needs the application permission ActivityFeed.Read of "
        "the Office 365 Management APIs and an Audit.SharePoint subscription an admin started",
    )
    publisher_identifier: str | None = Field(
        default=None,
        description="PublisherIdentifier sent to the Management Activity API (the tenant GUID of whoever runs "
        "saaslens), for a dedicated request quota",
    )
    # Content inspection and file governance (contents.py, actions.py).
    sensitivity_labels: bool = Field(
        default=True,
        description="Read each Office or PDF file's Microsoft Purview sensitivity label in the files stage "
        "(POST extractSensitivityLabels, one request per such file; Files.Read.All) and the label names "
        "(beta security/informationProtection/sensitivityLabels; InformationProtectionPolicy.Read.All)",
    )
    sensitivity_label_id: str | None = Field(
        default=None,
        pattern=GRAPH_ID_PATTERN,
        description="The Purview sensitivity label apply_sensitivity_label assigns (its id, a GUID)",
    )
    label_justification: str = Field(
        default="Applied by saaslens governance after content inspection",
        min_length=1,
        max_length=500,
        description="justificationText sent with assignSensitivityLabel (required by Microsoft for a downgrade)",
    )
    quarantine_drive_id: str | None = Field(
        default=None,
        pattern=GRAPH_ID_PATTERN,
        description="quarantine_file: the drive holding the quarantine folder. Graph moves items only within a "
        "drive, so only files of this drive can be quarantined",
    )
    quarantine_folder_id: str | None = Field(
        default=None,
        pattern=GRAPH_ID_PATTERN,
        description="quarantine_file: the driveItem id of the folder files are moved into",
    )
    quarantine_notice: str = Field(
        default="This file was moved to quarantine by the security team after an automated content inspection. "
        "Contact your security team to have it reviewed.",
        min_length=1,
        max_length=2000,
        description="Text of the notice quarantine_file leaves in the file's original folder",
    )


class GraphErrorPolicy(ErrorPolicy):
    """Graph's error conventions: 429 and 503/509 with Retry-After are throttling; a 403 for a
    missing licence is a missing capability, not a missing permission."""

    def parse_error_body(self, payload: Any) -> tuple[str | None, str | None]:
        code, message = super().parse_error_body(payload)
        inner = ((payload or {}).get("error") or {}).get("innerError") if isinstance(payload, dict) else None
        if isinstance(inner, dict) and inner.get("request-id") and message is not None:
            # Microsoft support asks for the request-id and date of a failed call.
            message = f"{message} (request-id {inner['request-id']}, date {inner.get('date')})"
        return code, message

    def is_throttle(self, response: httpx.Response, payload: Any) -> bool:
        if response.status_code in (429, 509):
            return True
        return response.status_code == 503 and "Retry-After" in response.headers

    def error_for(self, response: httpx.Response) -> ApiError:
        error = super().error_for(response)
        code = error.provider_code
        if code in ACTIVITY_PERMISSION_CODES:
            return PermissionDeniedError(
                f"{error.detail} (needs {ACTIVITY_FEED_PERMISSION})",
                status=error.status,
                provider_code=code,
                method=error.method,
                url=error.url,
            )
        if code in ACTIVITY_SUBSCRIPTION_CODES:
            return FeatureUnavailableError(
                error.detail, status=error.status, provider_code=code, method=error.method, url=error.url
            )
        unlicensed = error.status == 400 and error.detail.startswith(LICENCE_ERROR_MESSAGES)
        unlicensed |= isinstance(error, PermissionDeniedError) and error.provider_code in LICENCE_ERROR_CODES
        if unlicensed:
            return FeatureUnavailableError(
                error.detail, status=error.status, provider_code=error.provider_code, method=error.method, url=error.url
            )
        return error


def thumbprint_header(thumbprint: str) -> tuple[dict[str, str], str]:
    """The assertion header and algorithm for a certificate thumbprint in hex, as the Azure portal
    shows it: 40 digits is SHA-1 (``x5t``, RS256), 64 digits SHA-256 (``x5t#S256``, PS256)."""
    digits = thumbprint.replace(":", "").replace(" ", "").strip()
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        raise ConnectionInvalidError("extra.certificate_thumbprint must be the certificate's hex thumbprint") from None
    encoded = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    if len(raw) == 20:
        return {"x5t": encoded}, "RS256"
    if len(raw) == 32:
        return {"x5t#S256": encoded}, "PS256"
    raise ConnectionInvalidError(
        "extra.certificate_thumbprint must be a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint"
    )


def graph_scope(base_url: str) -> str:
    host = urlsplit(base_url).hostname or ""
    return f"https://{host}/.default" if host in GRAPH_HOSTS else "https://graph.microsoft.com/.default"


def graph_bucket(relative_path: str) -> str:
    """Graph throttles per service: directory (Entra ID), reports (audit logs), files (SharePoint)."""
    parts = [p for p in relative_path.split("/") if p]
    if parts[1:2] == ["auditLogs"]:
        return "reports"
    if parts[1:2] in (["drives"], ["sites"]) or parts[-1:] == ["drive"]:
        return "files"
    return "directory"


class Microsoft365Connector(Connector):
    app = "microsoft365"
    title = "Microsoft 365"
    Options = Microsoft365Options
    options: Microsoft365Options
    # Microsoft's reporting latencies: sign-ins and audit events usually appear within minutes, but
    # can take longer; windows stop short of now and re-read the last half hour.
    default_lookback_seconds = 1800
    default_lag_seconds = 300
    # sharepoint_audit windows are by when content became available (contentCreated), not by when
    # the events happened, so its lag only covers the listing catching up.
    _STREAM_LAG = {"sign_ins": 300, "directory_audits": 180, SHAREPOINT_STREAM: 120}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._feed: ActivityFeed | None = None

    # -- declaration --------------------------------------------------------------------------

    def _token_url(self) -> str:
        extra = self.connection.extra
        if extra.get("token_url"):
            return str(extra["token_url"])
        tenant = self.connection.require("tenant_id", "the directory (tenant) id or a verified domain")
        return f"{DEFAULT_AUTHORITY}/{tenant}/oauth2/v2.0/token"

    def build_auth(self) -> httpx.Auth:
        return self._client_credentials(
            str(self.connection.extra.get("scope") or graph_scope(self.connection.base_url))
        )

    def _client_credentials(self, scope: str) -> TokenAuth:
        """Tokens for one resource from the app registration's client credentials (secret or
        certificate), from the connection's token endpoint."""
        extra = self.connection.extra
        client_id = self.connection.extra_or("client_id", "login", "the app registration's application (client) id")
        private_key = extra.get("private_key")
        secret = extra.get("client_secret") or self.connection.password
        headers: dict[str, str] = {}
        algorithm = "RS256"
        if private_key:
            thumbprint = extra.get("certificate_thumbprint")
            if not thumbprint:
                raise ConnectionInvalidError(
                    f"Airflow connection {self.connection.conn_id!r}: extra.certificate_thumbprint is empty; Entra ID "
                    "finds the certificate of a client assertion by its thumbprint"
                )
            headers, algorithm = thumbprint_header(str(thumbprint))
        elif not secret:
            raise ConnectionInvalidError(
                f"Airflow connection {self.connection.conn_id!r}: set extra.client_secret (or password), or "
                "extra.private_key with extra.certificate_thumbprint"
            )
        provider = ClientCredentialsProvider(
            token_url=self._token_url(),
            client_id=str(client_id),
            client_secret=None if private_key else str(secret),
            private_key=str(private_key) if private_key else None,
            scopes=(scope,),
            secret_method="post",  # noqa: S106 (the method name, not a secret)
            algorithm=algorithm,
            assertion_headers=headers,
        )
        return TokenAuth(provider, token_endpoint_client(self._transport))

    def error_policy(self) -> ErrorPolicy:
        return GraphErrorPolicy()

    def rate_limit_bucket(self, relative_path: str) -> str | None:
        return graph_bucket(relative_path)

    def lag_seconds(self, stream: str) -> int:
        value = self.options.activities_lag_seconds
        return self._STREAM_LAG.get(stream, self.default_lag_seconds) if value is None else value

    def management_root(self) -> str:
        return management_root(self.connection.base_url, self.connection.extra.get("management_url"))

    def activity_feed(self) -> ActivityFeed:
        """The Management Activity API client, with its own token (scope https://manage.office.com/.default,
        same app registration) and base URL; the host is checked before the token endpoint is asked."""
        if self._feed is None:
            root = self.management_root()
            auth = self._client_credentials(management_scope(root))
            claims = jwt.decode(auth.token().value, options={"verify_signature": False})  # our own token
            tenant_id = str(claims.get("tid") or "")
            if not tenant_id:
                raise ApiError("the token for the Management Activity API names no tenant (tid)")
            roles = tuple(str(r) for r in claims.get("roles") or [] if isinstance(r, str))
            client = self.new_client(f"{root}/api", auth=auth, bucket=lambda path: "activity")
            self._feed = ActivityFeed(client, root, tenant_id, roles)
        return self._feed

    def close(self) -> None:
        super().close()
        if self._feed is not None:
            self._feed.client.close()

    # -- Graph listings several stages share --------------------------------------------------

    def pages(
        self, path: str, params: dict[str, Any] | None = None, resume: PageRequest | None = None
    ) -> Iterator[Page]:
        return self.client.paginate(path, NextUrlPaginator("value"), params, resume=resume)

    def items(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        for page in self.pages(path, params):
            yield from page.items

    def group_member_objects(self, group_id: str) -> list[dict[str, Any]]:
        params = {"$select": "id", "$top": self.page_size(999)}
        return list(self.items(api_path("/v1.0/groups", group_id, "members"), params))

    def role_holders(self) -> list[tuple[dict[str, Any], dict[str, Any], str | None]]:
        """(directoryRole, member, via group id) for every user holding a role, with role-assignable
        groups expanded to their users, plus service principals holding roles directly."""
        holders: list[tuple[dict[str, Any], dict[str, Any], str | None]] = []
        roles = list(self.items("/v1.0/directoryRoles"))
        for role, members in self.fan_out(roles, self._role_members):
            for member in members:
                if member.get("@odata.type") == transform.GROUP_ODATA_TYPE:
                    users = [m for m in self.group_member_objects(member["id"]) if transform.is_user(m)]
                    holders += [(role, user, member["id"]) for user in users]
                elif member.get("id"):
                    holders.append((role, member, None))
        return holders

    def _role_members(self, role: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        params = {"$select": "id,displayName,userPrincipalName,appId"}
        return role, list(self.items(api_path("/v1.0/directoryRoles", role["id"], "members"), params))

    def admin_ids(self) -> set[str] | None:
        """The users holding a directory role; None when roles cannot be read (is_admin unknown)."""
        try:
            return {member["id"] for _, member, _ in self.role_holders() if transform.is_user(member)}
        except PermissionDeniedError as exc:  # users still list; is_admin stays unknown
            log.warning("%s: cannot read directory roles (%s); is_admin left unknown", self.app, exc.detail)
            return None

    # -- authenticate -------------------------------------------------------------------------

    def authenticate(self) -> AuthReport:
        auth = self.auth
        assert isinstance(auth, TokenAuth)
        token = auth.token()
        claims = jwt.decode(token.value, options={"verify_signature": False})  # our own token: read, not trusted
        roles = claims.get("roles") or []
        app_name = claims.get("app_displayname")
        label = f"{app_name} ({claims.get('appid')})" if app_name else str(claims.get("appid"))
        identity = f"app {label} in tenant {claims.get('tid')}"
        permissions = granted_permissions(roles)
        feed_access = self._sharepoint_audit_access(permissions) if self.options.sharepoint_audit else None
        stages = {
            "users": self._declared_probe(Stage.USERS),
            "groups": self._declared_probe(Stage.GROUPS),
            "privileges": self._declared_probe(Stage.PRIVILEGES),
            "app_permissions": self._all_of(
                self.probe("app_permissions", "/v1.0/servicePrincipals", {"$top": 1, "$select": "id"}),
                self.probe("app_permissions", "/v1.0/oauth2PermissionGrants", {"$top": 1}),
            ),
            "settings": self._declared_probe(Stage.SETTINGS),
            "activities": self._activities_access(feed_access),
            "files": self._files_access(),
        }
        # The roles claim lists every application permission admin-consented for the app: complete.
        return AuthReport(identity=identity, permissions=permissions, stages=stages, permissions_complete=True)

    def service_principal_id(self) -> str | None:
        """The object id of the service principal the credentials act as: the token's ``oid`` claim
        (access-token-claims-reference). Read from our own token, never trusted for anything but this."""
        auth = self.auth
        if not isinstance(auth, TokenAuth):
            return None
        claims = jwt.decode(auth.token().value, options={"verify_signature": False})
        oid = claims.get("oid")
        return str(oid) if oid else None

    def acting_account(self) -> ActingAccount | None:
        """None: client credentials give an app-only token, which acts as a service principal, not as
        any user of the tenant (v2-oauth2-client-creds-grant-flow). Actions protect the credentials'
        own service principal through `protected` instead (actions.py)."""
        return None

    def _declared_probe(self, stage: Stage) -> StageAccess:
        """The probe the app's declaration gives for a stage whose access one GET proves."""
        probe = registry.app_spec(self.app).stage(stage).probe
        if probe is None:
            raise ValueError(f"{self.title}: the {stage} stage declares no probe")
        return self.probe(stage, probe.path, probe.params)

    @staticmethod
    def _all_of(*accesses: StageAccess) -> StageAccess:
        denied = [a.reason for a in accesses if not a.allowed]
        return StageAccess(False, "; ".join(r for r in denied if r)) if denied else StageAccess(True, None)

    def _sharepoint_audit_access(self, permissions: dict[str, str]) -> StageAccess:
        """The sharepoint_audit stream may run when the manage.office.com token holds ActivityFeed.Read
        and the tenant's Audit.SharePoint subscription is enabled (subscriptions/list, a read). The
        subscription is never started here: that changes the tenant, so the reason names the call."""
        try:
            feed = self.activity_feed()
            for role in feed.roles:
                permissions.setdefault(role, "roles claim of the access token for https://manage.office.com")
            started = feed.started()
        except (PermissionDeniedError, AuthenticationError) as exc:
            code = exc.provider_code or exc.status
            return StageAccess(
                False,
                f"permission denied (needs {ACTIVITY_FEED_PERMISSION} of the Office 365 Management APIs): "
                f"{code} {exc.detail}",
            )
        if not started:
            return StageAccess(
                False,
                f"the tenant's {SHAREPOINT_STREAM} content needs its Audit.SharePoint subscription, which is not "
                f"started; a tenant admin starts it once with {start_call(feed.root, feed.tenant_id)} (saaslens "
                "does not: it changes the tenant)",
            )
        return StageAccess(True, None)

    def _activities_access(self, feed_access: StageAccess | None = None) -> StageAccess:
        """Allowed when any stream is; the reason names the streams that will be skipped."""
        now = datetime.now(UTC)
        results = {}
        for stream, (path, field) in STREAMS.items():
            since = iso_z(now - timedelta(minutes=5))
            results[stream] = self.probe("activities", path, {"$filter": f"{field} ge {since}", "$top": 1})
        if feed_access is not None:
            results[SHAREPOINT_STREAM] = feed_access
        unavailable = [f"{stream}: {a.reason}" for stream, a in results.items() if not a.allowed]
        if len(unavailable) == len(results):
            return StageAccess(False, "; ".join(unavailable))
        return StageAccess(True, ("skipping " + "; ".join(unavailable)) if unavailable else None)

    def _files_access(self) -> StageAccess:
        try:
            user = next(
                iter(self.client.get_json("/v1.0/users", {"$top": 1, "$select": "id"}).get("value") or []), None
            )
            if user is not None:
                self.client.get_json(api_path("/v1.0/users", user["id"], "drive"), {"$select": "id"})
        except NotFoundError:
            pass  # that user has no OneDrive; the permission itself was accepted
        except FeatureUnavailableError as exc:  # no SharePoint Online licence: no OneDrive, no site
            return StageAccess(False, f"not available on this plan or licence: {exc.detail}")
        except PermissionDeniedError as exc:
            # Either the users listing or the drive was refused; both are needed to find OneDrives.
            return StageAccess(
                False,
                f"permission denied (needs {registry.app_spec(self.app).stage_permissions['files']} and "
                f"User.Read.All): {exc.provider_code or exc.status} {exc.detail}",
            )
        if self.options.sharepoint:
            sites = self.probe("files", "/v1.0/sites", {"search": "*", "$top": 1})
            if not sites.allowed:
                return StageAccess(True, f"SharePoint sites skipped: {sites.reason}")
        return StageAccess(True, None)
