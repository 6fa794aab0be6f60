"""Microsoft 365 through Microsoft Graph v1.0: Entra ID users, groups, directory roles, consent
grants and application permissions, sign-in and directory audit logs, OneDrive and SharePoint files.

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
"""

from __future__ import annotations

import base64
import itertools
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from pydantic import Field

from saaslens.connections import ConnectionInvalidError
from saaslens.connectors.base import (
    ActivityWindow,
    AuthReport,
    ChangeBatch,
    Connector,
    ConnectorOptions,
    EventBatch,
    SnapshotBatch,
    StageAccess,
)
from saaslens.connectors.microsoft365 import transform
from saaslens.http import (
    ApiError,
    ErrorPolicy,
    FeatureUnavailableError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
)
from saaslens.http.auth import ClientCredentialsProvider, TokenAuth
from saaslens.http.client import Page, api_path, token_endpoint_client
from saaslens.http.pagination import NextUrlPaginator, PageRequest
from saaslens.transform_utils import iso_z
from saaslens.vocabulary import Capability

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
USER_FIELDS = (
    "id",
    "displayName",
    "userPrincipalName",
    "mail",
    "accountEnabled",
    "userType",
    "createdDateTime",
    "externalUserState",
    "creationType",
    "department",
    "jobTitle",
)
GROUP_FIELDS = (
    "id",
    "displayName",
    "description",
    "groupTypes",
    "mailEnabled",
    "securityEnabled",
    "mail",
    "visibility",
    "isAssignableToRole",
    "createdDateTime",
)
SERVICE_PRINCIPAL_FIELDS = ("id", "appId", "displayName", "servicePrincipalType", "accountEnabled", "appRoles")
STREAMS = {
    # stream: (path, timestamp property, permission)
    "sign_ins": ("/v1.0/auditLogs/signIns", "createdDateTime"),
    "directory_audits": ("/v1.0/auditLogs/directoryAudits", "activityDateTime"),
}


class Microsoft365Options(ConnectorOptions):
    activities_initial_days: int = Field(
        default=30, ge=1, le=30, description="Entra ID keeps sign-in and audit logs 30 days (P1/P2)"
    )
    sign_in_activity: bool = Field(
        default=True, description="Ask for users' signInActivity (needs AuditLog.Read.All and Entra ID P1/P2)"
    )
    onedrive: bool = Field(default=True, description="Scan every user's OneDrive")
    sharepoint: bool = Field(default=True, description="Scan SharePoint sites' document libraries")


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
    capabilities = frozenset(
        {
            Capability.LIST_ACCOUNTS,
            Capability.LIST_GROUPS,
            Capability.LIST_PRIVILEGES,
            Capability.LOGON_ACTIVITY,
            Capability.USER_ACTIVITY,
            Capability.ADMIN_ACTIVITY,
            Capability.USER_GOVERNANCE,
            Capability.VIEW_APP_PERMISSIONS,
            Capability.REVOKE_APP_PERMISSIONS,
            Capability.SECURITY_POSTURE,
            Capability.DLP_PERIODIC_SCAN,
            Capability.DLP_NEAR_REAL_TIME,
            Capability.SHARING_CONTROL,
            Capability.FILE_GOVERNANCE,
            Capability.SENSITIVITY_LABELS,
        }
    )
    Options = Microsoft365Options
    options: Microsoft365Options
    activity_streams = ("sign_ins", "directory_audits")
    # Microsoft's reporting latencies: sign-ins and audit events usually appear within minutes, but
    # can take longer; windows stop short of now and re-read the last half hour.
    default_lookback_seconds = 1800
    default_lag_seconds = 300
    resumable_stages = frozenset({"users", "files"})
    incremental_stages = frozenset({"users"})
    # Role holders read by the last change scan, to refresh is_admin on every carried-over row.
    _merge_admin_ids: set[str] | None = None
    stage_permissions = {
        "users": "User.Read.All",
        "groups": "GroupMember.Read.All",
        "privileges": "RoleManagement.Read.Directory",
        "app_permissions": "Application.Read.All and DelegatedPermissionGrant.Read.All (or Directory.Read.All)",
        "activities": "AuditLog.Read.All (sign-ins also need Entra ID P1/P2)",
        "files": "Files.Read.All and Sites.Read.All",
    }
    _STREAM_LAG = {"sign_ins": 300, "directory_audits": 180}

    # -- declaration --------------------------------------------------------------------------

    def _token_url(self) -> str:
        extra = self.connection.extra
        if extra.get("token_url"):
            return str(extra["token_url"])
        tenant = self.connection.require("tenant_id", "the directory (tenant) id or a verified domain")
        return f"{DEFAULT_AUTHORITY}/{tenant}/oauth2/v2.0/token"

    def build_auth(self) -> httpx.Auth:
        extra = self.connection.extra
        client_id = extra.get("client_id") or self.connection.login
        if not client_id:
            raise ConnectionInvalidError(
                f"Airflow connection {self.connection.conn_id!r}: extra.client_id (or login) must hold the app "
                "registration's application (client) id"
            )
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
            scopes=(str(extra.get("scope") or graph_scope(self.connection.base_url)),),
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

    def _top(self, maximum: int) -> int:
        return min(self.options.page_size or maximum, maximum)

    def _paginate(self, path: str, params: dict[str, Any] | None = None, resume: PageRequest | None = None):
        return self.client.paginate(path, NextUrlPaginator("value"), params, resume=resume)

    def _items(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        for page in self._paginate(path, params):
            yield from page.items

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
        permissions = {str(role): "roles claim of the access token" for role in roles}
        stages = {
            "users": self.probe("users", "/v1.0/users", {"$top": 1, "$select": "id"}),
            "groups": self.probe("groups", "/v1.0/groups", {"$top": 1, "$select": "id"}),
            "privileges": self.probe("privileges", "/v1.0/directoryRoles"),
            "app_permissions": self._all_of(
                self.probe("app_permissions", "/v1.0/servicePrincipals", {"$top": 1, "$select": "id"}),
                self.probe("app_permissions", "/v1.0/oauth2PermissionGrants", {"$top": 1}),
            ),
            "activities": self._activities_access(),
            "files": self._files_access(),
        }
        return AuthReport(identity=identity, permissions=permissions, stages=stages)

    @staticmethod
    def _all_of(*accesses: StageAccess) -> StageAccess:
        denied = [a.reason for a in accesses if not a.allowed]
        return StageAccess(False, "; ".join(r for r in denied if r)) if denied else StageAccess(True, None)

    def _activities_access(self) -> StageAccess:
        """Allowed when any stream is; the reason names the streams that will be skipped."""
        now = datetime.now(UTC)
        results = {}
        for stream, (path, field) in STREAMS.items():
            since = iso_z(now - timedelta(minutes=5))
            results[stream] = self.probe("activities", path, {"$filter": f"{field} ge {since}", "$top": 1})
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
                f"permission denied (needs {self.stage_permissions['files']} and "
                f"User.Read.All): {exc.provider_code or exc.status} {exc.detail}",
            )
        if self.options.sharepoint:
            sites = self.probe("files", "/v1.0/sites", {"search": "*", "$top": 1})
            if not sites.allowed:
                return StageAccess(True, f"SharePoint sites skipped: {sites.reason}")
        return StageAccess(True, None)

    # -- users --------------------------------------------------------------------------------

    def _role_holders(self) -> list[tuple[dict[str, Any], dict[str, Any], str | None]]:
        """(directoryRole, member, via group id) for every user holding a role, with role-assignable
        groups expanded to their users, plus service principals holding roles directly."""
        holders: list[tuple[dict[str, Any], dict[str, Any], str | None]] = []
        roles = list(self._items("/v1.0/directoryRoles"))
        for role, members in self.fan_out(roles, self._role_members):
            for member in members:
                if member.get("@odata.type") == transform.GROUP_ODATA_TYPE:
                    users = [m for m in self._group_member_objects(member["id"]) if transform.is_user(m)]
                    holders += [(role, user, member["id"]) for user in users]
                elif member.get("id"):
                    holders.append((role, member, None))
        return holders

    def _role_members(self, role: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        params = {"$select": "id,displayName,userPrincipalName,appId"}
        return role, list(self._items(api_path("/v1.0/directoryRoles", role["id"], "members"), params))

    def _admin_ids(self) -> set[str] | None:
        try:
            return {member["id"] for _, member, _ in self._role_holders() if transform.is_user(member)}
        except PermissionDeniedError as exc:  # users still list; is_admin stays unknown
            log.warning("%s: cannot read directory roles (%s); is_admin left unknown", self.app, exc.detail)
            return None

    def _user_listing(self, activity: bool, resume: PageRequest | None) -> Iterator[Page]:
        fields = USER_FIELDS + (("signInActivity",) if activity else ())
        return self._paginate("/v1.0/users", {"$select": ",".join(fields), "$top": self._top(999)}, resume=resume)

    def scan_users(self, resume: dict[str, Any] | None = None) -> Iterator[SnapshotBatch]:
        """Users with signInActivity where the licence and permissions allow, else without it (the
        last sign-in is then unknown). Each page is a checkpoint: the next page's request, plus
        what a resumed scan must not ask again (the role holders, whether signInActivity works)."""
        if resume is not None:
            admin_list = resume.get("admin_ids")
            admin_ids = set(admin_list) if admin_list is not None else None
            activity = bool(resume["activity"])
            pages = self._user_listing(activity, PageRequest.from_state(resume["request"]))
        else:
            admin_ids = self._admin_ids()
            activity = self.options.sign_in_activity
            pages = self._user_listing(activity, None)
            if activity:
                try:
                    first = next(pages, None)
                except (PermissionDeniedError, FeatureUnavailableError) as exc:
                    log.warning("%s: signInActivity unavailable (%s); last sign-in left unknown", self.app, exc)
                    activity, pages = False, self._user_listing(False, None)
                else:
                    pages = itertools.chain([first] if first is not None else [], pages)
        admin_state = sorted(admin_ids) if admin_ids is not None else None
        for page in pages:
            checkpoint = None
            if page.next_request is not None:
                checkpoint = {"admin_ids": admin_state, "activity": activity, "request": page.next_request.to_state()}
            yield SnapshotBatch("accounts", [transform.account_row(user, admin_ids) for user in page.items], checkpoint)

    # -- incremental users (Graph delta query) ------------------------------------------------

    def start_cursor(self, stage: str) -> dict[str, Any]:
        """Graph's "sync from now": a deltaLink for the current state, without listing anything."""
        body = self.client.get_json("/v1.0/users/delta", {"$deltatoken": "latest", "$select": ",".join(USER_FIELDS)})
        link = body.get("@odata.deltaLink") if isinstance(body, dict) else None
        if not link:
            raise MalformedResponseError("users/delta with $deltatoken=latest returned no @odata.deltaLink")
        return {"delta_link": link}

    def scan_changes(self, stage: str, cursor: dict[str, Any]) -> Iterator[ChangeBatch]:
        """Follow the stored deltaLink: changed and new users in full, deleted ones as @removed.
        Delta does not report signInActivity; merge_incremental keeps the last known sign-in."""
        self._merge_admin_ids = self._admin_ids()
        for page in self.client.paginate(cursor["delta_link"], NextUrlPaginator("value")):
            upserts = [transform.account_row(u, self._merge_admin_ids) for u in page.items if "@removed" not in u]
            batch = ChangeBatch("accounts", upserts, [u["id"] for u in page.items if "@removed" in u])
            if page.next_request is None:
                link = page.payload.get("@odata.deltaLink") if isinstance(page.payload, dict) else None
                if not link:
                    raise MalformedResponseError("the last users/delta page carried no @odata.deltaLink")
                batch.cursor = {"delta_link": link}
            yield batch

    def merge_incremental(
        self, table: str, previous: dict[str, Any] | None, changed: dict[str, Any] | None
    ) -> dict[str, Any]:
        row = dict(changed if changed is not None else previous or {})
        if changed is not None and previous is not None:
            for column in ("last_login_at", "last_login_attempt_at"):  # delta does not report signInActivity
                if row.get(column) is None:
                    row[column] = previous.get(column)
        admin_ids = self._merge_admin_ids
        if admin_ids is not None:  # role assignments are not user changes: refresh is_admin for everyone
            row["is_admin"] = row["account_id"] in admin_ids
        return row

    # -- groups -------------------------------------------------------------------------------

    def _group_member_objects(self, group_id: str) -> list[dict[str, Any]]:
        params = {"$select": "id", "$top": self._top(999)}
        return list(self._items(api_path("/v1.0/groups", group_id, "members"), params))

    def _group_users(self, group_id: str) -> tuple[str, list[dict[str, Any]]]:
        return group_id, [m for m in self._group_member_objects(group_id) if transform.is_user(m)]

    def scan_groups(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        group_ids: list[str] = []
        params = {"$select": ",".join(GROUP_FIELDS), "$top": self._top(999)}
        for page in self._paginate("/v1.0/groups", params):
            group_ids += [g["id"] for g in page.items]
            yield "groups", [transform.group_row(g) for g in page.items]
        for group_id, users in self.fan_out(group_ids, self._group_users):
            if users:
                yield "group_members", [transform.member_row(group_id, user) for user in users]

    # -- privileges ---------------------------------------------------------------------------

    def scan_privileges(self) -> Iterator[list[dict[str, Any]]]:
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for role, member, via_group in self._role_holders():
            row = transform.privilege_row(member["id"], role, member, via_group)
            key = (row["account_id"], row["privilege_id"])
            # A role held directly and through a group is one privilege; the direct one says more.
            if key not in rows or (rows[key]["assignment_type"] == "group" and not via_group):
                rows[key] = row
        yield list(rows.values())

    # -- app permissions ----------------------------------------------------------------------

    def _app_role_assignments(self, sp_id: str) -> list[dict[str, Any]]:
        path = api_path("/v1.0/servicePrincipals", sp_id, "appRoleAssignments")
        return list(self._items(path, {"$top": self._top(999)}))

    def scan_app_permissions(self) -> Iterator[list[dict[str, Any]]]:
        params = {"$select": ",".join(SERVICE_PRINCIPAL_FIELDS), "$top": self._top(999)}
        service_principals = {sp["id"]: sp for sp in self._items("/v1.0/servicePrincipals", params)}
        for page in self._paginate("/v1.0/oauth2PermissionGrants", {"$top": self._top(999)}):
            yield [transform.delegated_grant_row(grant, service_principals) for grant in page.items]
        for assignments in self.fan_out(list(service_principals), self._app_role_assignments):
            if assignments:
                yield [transform.application_grant_row(a, service_principals) for a in assignments]

    # -- activities ---------------------------------------------------------------------------

    def scan_activities(self, stream: str, window: ActivityWindow, resume: PageRequest | None) -> Iterator[EventBatch]:
        path, field = STREAMS[stream]
        to_row = transform.sign_in_row if stream == "sign_ins" else transform.directory_audit_row
        # Both logs come newest first; a bounded window ends when the next link disappears.
        params = {
            "$filter": f"{field} ge {iso_z(window.since)} and {field} le {iso_z(window.until)}",
            "$top": self._top(1000),
        }
        for page in self._paginate(path, params, resume=resume):
            yield EventBatch([to_row(event) for event in page.items], page.next_request)

    # -- files --------------------------------------------------------------------------------

    def _verified_domains(self) -> set[str] | None:
        try:
            organizations = self.client.get_json("/v1.0/organization", {"$select": "verifiedDomains"}).get("value")
        except PermissionDeniedError as exc:
            log.warning("%s: cannot read verified domains (%s); is_external left unknown", self.app, exc.detail)
            return None
        return {d["name"].lower() for org in organizations or [] for d in org.get("verifiedDomains") or []}

    def _user_drive(self, user_id: str) -> dict[str, Any] | None:
        try:
            return self.client.get_json(api_path("/v1.0/users", user_id, "drive"))
        except NotFoundError:
            return None  # no OneDrive provisioned (no licence, or never signed in)

    def _drives(self) -> Iterator[dict[str, Any]]:
        if self.options.onedrive:
            user_ids = (u["id"] for u in self._items("/v1.0/users", {"$select": "id", "$top": self._top(999)}))
            for drive in self.fan_out(user_ids, self._user_drive):
                if drive is not None:
                    yield drive
        if self.options.sharepoint:
            try:
                sites = list(self._items("/v1.0/sites", {"search": "*", "$top": self._top(999)}))
            except PermissionDeniedError as exc:
                log.warning("%s: SharePoint sites skipped (%s)", self.app, exc.detail)
                return
            for drives in self.fan_out([s["id"] for s in sites], self._site_drives):
                yield from drives

    def _site_drives(self, site_id: str) -> list[dict[str, Any]]:
        return list(self._items(api_path("/v1.0/sites", site_id, "drives")))

    def _permissions(self, key: tuple[str, str]) -> tuple[str, list[dict[str, Any]]]:
        drive_id, item_id = key
        return item_id, list(self._items(api_path("/v1.0/drives", drive_id, "items", item_id, "permissions")))

    def scan_files(self, resume: dict[str, Any] | None = None) -> Iterator[SnapshotBatch]:
        """Drive by drive. The drives are enumerated once, and after each drive the checkpoint is
        the list and the index of the next one, so a resumed scan lists no drive twice."""
        if resume is not None:
            domain_list = resume.get("domains")
            domains = set(domain_list) if domain_list is not None else None
            drives, start = list(resume["drives"]), int(resume["next"])
        else:
            domains, drives, start = self._verified_domains(), list(self._drives()), 0
        domain_state = sorted(domains) if domains is not None else None
        for index in range(start, len(drives)):
            drive = drives[index]
            items = list(self._items(api_path("/v1.0/drives", drive["id"], "root", "delta")))
            paths = transform.folder_paths(items)
            files = [item for item in items if "root" not in item and "deleted" not in item]
            by_id = {item["id"]: item for item in files}
            file_rows, share_rows = [], []
            for item_id, permissions in self.fan_out([(drive["id"], i["id"]) for i in files], self._permissions):
                shares = [transform.share_row(item_id, p, domains) for p in permissions]
                file_rows.append(transform.file_row(by_id[item_id], drive, paths[item_id], shares))
                share_rows += shares
            checkpoint = None
            if index + 1 < len(drives):
                checkpoint = {"domains": domain_state, "drives": drives, "next": index + 1}
            yield SnapshotBatch("files", file_rows)
            yield SnapshotBatch("file_shares", share_rows, checkpoint)
