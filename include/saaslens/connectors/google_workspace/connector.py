"""Google Workspace: Directory users, groups, admin roles and OAuth tokens, Reports API audit
activities (login, admin, token, drive) and Drive files with their permissions.

Authentication is a service account with domain-wide delegation: a JWT signed with the key file's
private key (``iss`` = client_email, ``sub`` = an admin, ``scope``) is exchanged at the key file's
``token_uri`` for an access token (RFC 7523 JWT bearer grant). Each stage asks for its own scopes,
so a scope the Workspace admin did not delegate (the token endpoint's 401 ``unauthorized_client``)
denies only the stage that needs it. Drive is read as each user (``sub`` = the user), because an
admin's own Drive listing only shows what is shared with the admin.

References:
- Service accounts and domain-wide delegation, JWT claims and token errors:
  https://developers.google.com/identity/protocols/oauth2/service-account
- Directory API users.list (``customer=my_customer``, ``maxResults`` <= 500, ``pageToken``):
  https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/list
- Groups and members (``maxResults`` <= 200):
  https://developers.google.com/workspace/admin/directory/reference/rest/v1/members/list
- Role assignments and roles (``_SEED_ADMIN_ROLE`` = super admin; group assignees):
  https://developers.google.com/workspace/admin/directory/v1/guides/manage-roles
- OAuth tokens per user (needs ``admin.directory.user.security``):
  https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/list
- Reports API activities.list (``startTime``/``endTime``, ``maxResults`` <= 1000, 180-day retention):
  https://developers.google.com/workspace/admin/reports/reference/rest/v1/activities/list
- Lag before events appear ("Data retention and lag times"): https://support.google.com/a/answer/7061566
- Quotas and errors (403 ``userRateLimitExceeded`` / ``quotaExceeded``, 429 ``rateLimitExceeded``,
  exponential backoff, no rate-limit headers): https://developers.google.com/workspace/admin/directory/v1/limits
  and https://developers.google.com/workspace/drive/api/guides/handle-errors
- Drive files.list (``corpora``, ``q``, ``fields``, ``pageSize`` <= 1000) and permissions:
  https://developers.google.com/workspace/drive/api/reference/rest/v3/files/list ,
  https://developers.google.com/workspace/drive/api/reference/rest/v3/permissions
- API hosts from the discovery documents: Directory and Reports at https://admin.googleapis.com,
  Drive at https://www.googleapis.com.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from pydantic import Field

from saaslens.connections import ConnectionInvalidError
from saaslens.connectors.base import (
    ActivityWindow,
    AuthReport,
    Connector,
    ConnectorOptions,
    EventBatch,
    StageAccess,
)
from saaslens.connectors.google_workspace import transform
from saaslens.http import (
    ApiClient,
    AuthenticationError,
    ErrorPolicy,
    FeatureUnavailableError,
    PermissionDeniedError,
)
from saaslens.http.auth import AccessToken, JwtBearerProvider, TokenAuth
from saaslens.http.client import api_path, require_secure_url, token_endpoint_client
from saaslens.http.errors import MalformedResponseError, ThrottledError
from saaslens.http.pagination import PageRequest, PageTokenPaginator
from saaslens.http.redaction import register_secret
from saaslens.transform_utils import iso_z
from saaslens.vocabulary import Capability

log = logging.getLogger(__name__)

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
# Hosts from the discovery documents' rootUrl; a connection host replaces all three.
DEFAULT_API_ROOTS = {
    "directory": "https://admin.googleapis.com",
    "reports": "https://admin.googleapis.com",
    "drive": "https://www.googleapis.com",
}
S = "https://www.googleapis.com/auth/"
USER_SCOPE = S + "admin.directory.user.readonly"
GROUP_SCOPE = S + "admin.directory.group.readonly"
ROLE_SCOPE = S + "admin.directory.rolemanagement.readonly"
TOKEN_SCOPE = S + "admin.directory.user.security"  # tokens.list has no read-only scope
AUDIT_SCOPE = S + "admin.reports.audit.readonly"
DRIVE_SCOPE = S + "drive.metadata.readonly"

# Per application: how far back each scan re-reads (at least Google's documented lag, so events
# that arrive late are read by the next scan) and how far behind now a window ends. Admin events
# arrive within minutes; login, OAuth token and Drive events can take hours
# (https://support.google.com/a/answer/7061566).
STREAM_LOOKBACK_SECONDS = {"admin": 600, "login": 6 * 3600, "token": 3600, "drive": 3600}
STREAM_LAG_SECONDS = {"admin": 60, "login": 60, "token": 60, "drive": 60}

DIRECTORY = "admin/directory/v1"
REPORTS = "admin/reports/v1"
DRIVE_FILE_FIELDS = (
    "nextPageToken,files(id,name,mimeType,size,createdTime,modifiedTime,trashed,shared,parents,webViewLink,"
    "driveId,owners(displayName,emailAddress,permissionId),"
    "permissions(id,type,role,emailAddress,domain,displayName,allowFileDiscovery,deleted,expirationTime))"
)
_THROTTLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})


class GoogleWorkspaceOptions(ConnectorOptions):
    activities_initial_days: int = Field(
        default=30, ge=1, le=180, description="Google keeps Reports API activities for 180 days"
    )
    stream_lookback_seconds: dict[str, int] = Field(
        default_factory=dict, description="Per application (login, admin, token, drive) lookback override"
    )


def google_error_reasons(payload: Any) -> list[str]:
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return []
    return [str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict) and e.get("reason")]


class GoogleErrorPolicy(ErrorPolicy):
    """``{"error": {"code", "message", "errors": [{"domain", "reason", "message"}], "status"}}``;
    quota errors come as 429 or as 403 with a usageLimits reason, never with rate-limit headers."""

    def parse_error_body(self, payload: Any) -> tuple[str | None, str | None]:
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict):
            reasons = google_error_reasons(payload)
            code = reasons[0] if reasons else error.get("status") or error.get("code")
            return (None if code is None else str(code)), (
                None if error.get("message") is None else str(error["message"])
            )
        return super().parse_error_body(payload)

    def is_throttle(self, response: httpx.Response, payload: Any) -> bool:
        if response.status_code == 429:
            return True
        return response.status_code == 403 and bool(_THROTTLE_REASONS & set(google_error_reasons(payload)))


@dataclass
class DelegatedJwtProvider(JwtBearerProvider):
    """The JWT bearer grant as Google answers it: 401 ``unauthorized_client`` means the admin has
    not delegated these scopes (a missing permission, not bad credentials); a throttled or
    garbled token response is transient like any other response.

    `private_key` may be an already loaded key object: parsing a PEM RSA key costs tens of
    milliseconds, and Drive is read with one token per user."""

    def __post_init__(self) -> None:
        if isinstance(self.private_key, str):
            register_secret(self.private_key)

    def fetch(self, http: httpx.Client) -> AccessToken:
        try:
            return super().fetch(http)
        except AuthenticationError as exc:
            if exc.provider_code in ("unauthorized_client", "access_denied"):
                raise PermissionDeniedError(
                    f"scopes {' '.join(self.scopes)} are not delegated to {self.issuer} "
                    f"(Admin console > Security > API controls > Domain-wide delegation): {exc.detail}",
                    status=exc.status,
                    provider_code=exc.provider_code,
                    method=exc.method,
                    url=exc.url,
                ) from None
            if exc.status == 429:
                raise ThrottledError(exc.detail, status=429, method=exc.method, url=exc.url) from None
            if exc.status == 200:
                raise MalformedResponseError(
                    "token response without an access_token", status=200, method=exc.method, url=exc.url
                ) from None
            raise


@dataclass(frozen=True)
class ServiceAccountKey:
    client_email: str
    private_key: str = field(repr=False)
    private_key_id: str | None
    token_uri: str

    @cached_property
    def signing_key(self) -> Any:
        """The private key, parsed once (it costs tens of milliseconds); unparseable = bad credentials."""
        try:
            return serialization.load_pem_private_key(self.private_key.encode(), password=None)
        except (ValueError, TypeError):
            raise AuthenticationError(
                f"the private key of {self.client_email} is not a PEM private key (use the key file as downloaded "
                "from the Google Cloud console)"
            ) from None


def load_service_account(connection_id: str, raw: Any, token_uri_override: str | None) -> ServiceAccountKey:
    """The JSON key file (a string or an already-parsed mapping) from the Airflow connection."""
    where = f"Airflow connection {connection_id!r}"
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ConnectionInvalidError(
                f"{where}: the service account key is not valid JSON (paste the whole key file into the password "
                "field or extra.service_account_json)"
            ) from None
    if not isinstance(raw, Mapping) or not raw.get("client_email") or not raw.get("private_key"):
        raise ConnectionInvalidError(f"{where}: the service account key must have client_email and private_key")
    token_uri = str(token_uri_override or raw.get("token_uri") or GOOGLE_TOKEN_URI)
    require_secure_url(token_uri)
    register_secret(str(raw["private_key"]))
    return ServiceAccountKey(
        client_email=str(raw["client_email"]),
        private_key=str(raw["private_key"]),
        private_key_id=str(raw["private_key_id"]) if raw.get("private_key_id") else None,
        token_uri=token_uri,
    )


class DelegatedAuth(httpx.Auth):
    """Bearer tokens for one scope set, minted for whichever user the current thread acts as
    (the admin by default, each user in turn while their Drive is read)."""

    def __init__(self, key: ServiceAccountKey, scopes: tuple[str, ...], default_subject: str, http: httpx.Client):
        self.key = key
        self.scopes = scopes
        self.default_subject = default_subject
        self._http = http
        self._by_subject: dict[str, TokenAuth] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextlib.contextmanager
    def acting_as(self, subject: str) -> Iterator[None]:
        previous = getattr(self._local, "subject", None)
        self._local.subject = subject
        try:
            yield
        finally:
            self._local.subject = previous

    def for_subject(self, subject: str) -> TokenAuth:
        with self._lock:
            auth = self._by_subject.get(subject)
            if auth is None:
                provider = DelegatedJwtProvider(
                    token_url=self.key.token_uri,
                    issuer=self.key.client_email,
                    private_key=self.key.signing_key,
                    scopes=self.scopes,
                    subject=subject,
                    key_id=self.key.private_key_id,
                )
                auth = self._by_subject[subject] = TokenAuth(provider, self._http)
            return auth

    def forget(self, subject: str) -> None:
        """Drop a user's token once their Drive is read: tens of thousands would pile up otherwise."""
        with self._lock:
            self._by_subject.pop(subject, None)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        subject = getattr(self._local, "subject", None) or self.default_subject
        yield from self.for_subject(subject).auth_flow(request)


class GoogleWorkspaceConnector(Connector):
    app = "google_workspace"
    title = "Google Workspace"
    capabilities = frozenset(
        {
            Capability.LIST_ACCOUNTS,
            Capability.LIST_GROUPS,
            Capability.LIST_PRIVILEGES,
            Capability.LOGON_ACTIVITY,
            Capability.USER_ACTIVITY,
            Capability.ADMIN_ACTIVITY,
            Capability.USER_GOVERNANCE,  # users.update: suspend, sign out, force a password change
            Capability.VIEW_APP_PERMISSIONS,
            Capability.REVOKE_APP_PERMISSIONS,  # tokens.delete
            Capability.SECURITY_POSTURE,  # Cloud Identity Policy API: the Admin console's security settings
            Capability.DLP_PERIODIC_SCAN,  # files.get?alt=media / files.export
            Capability.DLP_NEAR_REAL_TIME,  # changes.watch push notifications
            Capability.SHARING_CONTROL,  # permissions.update / permissions.delete
            Capability.FILE_GOVERNANCE,  # ownership transfer, trash, move
            Capability.SENSITIVITY_LABELS,  # Drive Labels API, files.modifyLabels
        }
    )
    Options = GoogleWorkspaceOptions
    options: GoogleWorkspaceOptions
    activity_streams = ("login", "admin", "token", "drive")
    stage_permissions = {
        "users": USER_SCOPE,
        "groups": GROUP_SCOPE,
        "privileges": f"{ROLE_SCOPE} (and {GROUP_SCOPE} for roles assigned to groups)",
        "app_permissions": f"{TOKEN_SCOPE} and {USER_SCOPE}",
        "activities": AUDIT_SCOPE,
        "files": f"{DRIVE_SCOPE} and {USER_SCOPE}",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._key: ServiceAccountKey | None = None
        self._token_http: httpx.Client | None = None
        self._auths: dict[str, DelegatedAuth] = {}
        self._clients: dict[tuple[str, str], ApiClient] = {}
        self._setup_lock = threading.RLock()  # fan-out threads ask for clients concurrently

    # -- connection ---------------------------------------------------------------------------

    @property
    def key(self) -> ServiceAccountKey:
        if self._key is None:
            extra = self.connection.extra
            raw = extra.get("service_account_json") or self.connection.password
            if not raw:
                raise ConnectionInvalidError(
                    f"Airflow connection {self.connection.conn_id!r}: no service account key (password or "
                    "extra.service_account_json must hold the JSON key file)"
                )
            self._key = load_service_account(self.connection.conn_id, raw, extra.get("token_uri"))
        return self._key

    @property
    def subject(self) -> str:
        return self.connection.require("subject", "the email of a super admin the service account acts as")

    @property
    def customer(self) -> str:
        return str(self.connection.extra.get("customer") or "my_customer")

    def configured_domains(self) -> set[str]:
        domains = self.connection.extra.get("domains") or []
        if isinstance(domains, str):
            domains = domains.replace(",", " ").split()
        return {str(d).strip().lower() for d in domains if str(d).strip()}

    def api_root(self, api: str) -> str:
        overrides = self.connection.extra.get("api_roots") or {}
        if overrides.get(api):
            return str(overrides[api]).rstrip("/")
        return self.connection.base_url if self.connection.host else DEFAULT_API_ROOTS[api]

    # -- declaration --------------------------------------------------------------------------

    def error_policy(self) -> ErrorPolicy:
        return GoogleErrorPolicy()

    def _delegated(self, scope: str) -> DelegatedAuth:
        with self._setup_lock:
            if scope not in self._auths:
                if self._token_http is None:
                    self._token_http = token_endpoint_client(self._transport)
                self._auths[scope] = DelegatedAuth(self.key, (scope,), self.subject, self._token_http)
            return self._auths[scope]

    def build_auth(self) -> httpx.Auth:
        return self._delegated(USER_SCOPE)

    def api(self, api: str, scope: str) -> ApiClient:
        """The client for one API root with tokens for one scope."""
        key = (api, scope)
        with self._setup_lock:
            if key not in self._clients:
                self._clients[key] = ApiClient(
                    self.api_root(api),
                    auth=self._delegated(scope),
                    error_policy=self.error_policy(),
                    headers=self.default_headers(),
                    metrics=self.metrics,
                    transport=self._transport,
                    retry=self.retry_policy(),
                    limits=self.request_limits(),
                )
            return self._clients[key]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        if self._token_http is not None:
            self._token_http.close()
        super().close()

    def lookback_seconds(self, stream: str) -> int:
        if stream in self.options.stream_lookback_seconds:
            return self.options.stream_lookback_seconds[stream]
        if self.options.activities_lookback_seconds is not None:
            return self.options.activities_lookback_seconds
        return STREAM_LOOKBACK_SECONDS.get(stream, self.default_lookback_seconds)

    def lag_seconds(self, stream: str) -> int:
        if self.options.activities_lag_seconds is not None:
            return self.options.activities_lag_seconds
        return STREAM_LAG_SECONDS.get(stream, self.default_lag_seconds)

    def _page_size(self, maximum: int) -> int:
        return min(self.options.page_size or maximum, maximum)

    # -- authenticate -------------------------------------------------------------------------

    def _probe(self, stage: str, client: ApiClient, path: str, params: Mapping[str, Any]) -> StageAccess:
        """Mint the stage's token and make its cheapest request; denial skips only that stage."""
        try:
            client.get_json(path, params)
        except AuthenticationError:
            raise
        except PermissionDeniedError as exc:
            needed = self.stage_permissions.get(stage)
            return StageAccess(
                False, f"permission denied (needs {needed}): {exc.provider_code or exc.status} {exc.detail}"
            )
        except FeatureUnavailableError as exc:
            return StageAccess(False, f"not available on this plan or licence: {exc.detail}")
        return StageAccess(True, None)

    def authenticate(self) -> AuthReport:
        customer = self.customer
        # scope -> what holding it allows, probed with the cheapest request that needs it
        probes = {
            USER_SCOPE: ("users", "directory", f"{DIRECTORY}/users", {"customer": customer, "maxResults": 1}),
            GROUP_SCOPE: ("groups", "directory", f"{DIRECTORY}/groups", {"customer": customer, "maxResults": 1}),
            ROLE_SCOPE: (
                "privileges",
                "directory",
                api_path(f"{DIRECTORY}/customer", customer, "roleassignments"),
                {"maxResults": 1},
            ),
            TOKEN_SCOPE: ("app_permissions", "directory", api_path(f"{DIRECTORY}/users", self.subject, "tokens"), {}),
            AUDIT_SCOPE: (
                "activities",
                "reports",
                f"{REPORTS}/activity/users/all/applications/admin",
                {"maxResults": 1},
            ),
            DRIVE_SCOPE: ("files", "drive", "drive/v3/files", {"pageSize": 1, "fields": "files(id)"}),
        }
        held = {
            scope: self._probe(stage, self.api(api, scope), path, params)
            for scope, (stage, api, path, params) in probes.items()
        }
        stages = {probes[scope][0]: access for scope, access in held.items()}
        # Tokens and Drive are read user by user, so both also need the user listing.
        for stage in ("app_permissions", "files"):
            if stages[stage].allowed and not stages["users"].allowed:
                stages[stage] = stages["users"]
        permissions = {scope: f"delegated: token issued for {self.subject}" for scope, a in held.items() if a.allowed}
        identity = f"service account {self.key.client_email} acting as {self.subject} (customer {customer})"
        return AuthReport(identity=identity, permissions=permissions, stages=stages)

    # -- directory ----------------------------------------------------------------------------

    def _user_pages(self) -> Iterator[list[dict[str, Any]]]:
        params = {"customer": self.customer, "maxResults": self._page_size(500), "orderBy": "email"}
        for page in self.api("directory", USER_SCOPE).paginate(
            f"{DIRECTORY}/users", PageTokenPaginator("users"), params
        ):
            yield page.items

    def scan_users(self) -> Iterator[list[dict[str, Any]]]:
        for users in self._user_pages():
            yield [transform.account_row(user) for user in users]

    def _members(self, group_id: str) -> tuple[str, list[dict[str, Any]]]:
        client = self.api("directory", GROUP_SCOPE)
        params = {"maxResults": self._page_size(200)}
        path = api_path(f"{DIRECTORY}/groups", group_id, "members")
        members = list(client.iter_items(path, PageTokenPaginator("members"), params))
        return group_id, members

    def scan_groups(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        client = self.api("directory", GROUP_SCOPE)
        params = {"customer": self.customer, "maxResults": self._page_size(200)}
        group_ids: list[str] = []
        for page in client.paginate(f"{DIRECTORY}/groups", PageTokenPaginator("groups"), params):
            group_ids += [group["id"] for group in page.items]
            yield "groups", [transform.group_row(group) for group in page.items]
        for group_id, members in self.fan_out(group_ids, self._members):
            if members:
                yield "group_members", [transform.member_row(group_id, member) for member in members]

    def scan_privileges(self) -> Iterator[list[dict[str, Any]]]:
        client = self.api("directory", ROLE_SCOPE)
        base = api_path(f"{DIRECTORY}/customer", self.customer)
        roles = {
            role["roleId"]: role
            for role in client.iter_items(
                f"{base}/roles", PageTokenPaginator("items"), {"maxResults": self._page_size(100)}
            )
        }
        group_assignments: list[dict[str, Any]] = []
        params = {"maxResults": self._page_size(200)}
        for page in client.paginate(f"{base}/roleassignments", PageTokenPaginator("items"), params):
            direct = [a for a in page.items if a.get("assigneeType", "user") == "user"]
            group_assignments += [a for a in page.items if a.get("assigneeType") == "group"]
            yield [transform.privilege_row(a["assignedTo"], a, roles.get(a.get("roleId", ""))) for a in direct]
        # A role assigned to a group applies to the group's user members.
        for assignment in group_assignments:
            group_id, members = self._members(assignment["assignedTo"])
            yield [
                transform.privilege_row(
                    m["id"], assignment, roles.get(assignment.get("roleId", "")), via_group_id=group_id
                )
                for m in members
                if m.get("type") == "USER" and m.get("id")
            ]

    def _tokens(self, user_id: str) -> list[dict[str, Any]]:
        payload = self.api("directory", TOKEN_SCOPE).get_json(api_path(f"{DIRECTORY}/users", user_id, "tokens"))
        return list((payload or {}).get("items") or [])

    def scan_app_permissions(self) -> Iterator[list[dict[str, Any]]]:
        user_ids = (user["id"] for users in self._user_pages() for user in users)
        for tokens in self.fan_out(user_ids, self._tokens):
            if tokens:
                yield [transform.grant_row(token) for token in tokens]

    # -- reports ------------------------------------------------------------------------------

    def scan_activities(self, stream: str, window: ActivityWindow, resume: PageRequest | None) -> Iterator[EventBatch]:
        params: dict[str, Any] = {
            "startTime": iso_z(window.since),
            "endTime": iso_z(window.until),
            "maxResults": self._page_size(1000),
        }
        if self.customer != "my_customer":
            params["customerId"] = self.customer
        client = self.api("reports", AUDIT_SCOPE)
        path = api_path(f"{REPORTS}/activity/users/all/applications", stream)
        for page in client.paginate(path, PageTokenPaginator("items"), params, resume=resume):
            rows = [row for activity in page.items for row in transform.activity_rows(activity)]
            yield EventBatch(rows, page.next_request)

    # -- drive --------------------------------------------------------------------------------

    def _owned_files(self, user: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The files a user owns, listed as that user (each file once: by its owner)."""
        auth = self._delegated(DRIVE_SCOPE)
        email = user["primaryEmail"]
        params = {
            "corpora": "user",
            "q": "'me' in owners and trashed = false",
            "pageSize": self._page_size(1000),
            "fields": DRIVE_FILE_FIELDS,
            "spaces": "drive",
        }
        client = self.api("drive", DRIVE_SCOPE)
        try:
            with auth.acting_as(email):
                files = list(client.iter_items("drive/v3/files", PageTokenPaginator("files"), params))
        except AuthenticationError as exc:
            if exc.provider_code != "invalid_grant":
                raise
            # The key works (scan_files checked it as the admin), so Google refused to act as
            # this one user (e.g. deleted since the listing): skip their Drive and say so.
            log.warning("google_workspace: cannot read the Drive of %s: %s", email, exc.detail)
            files = []
        finally:
            auth.forget(email)
        return user, files

    def scan_files(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        # One request as the admin first: bad credentials must fail the stage, not read as
        # "no user could be impersonated".
        self.api("drive", DRIVE_SCOPE).get_json("drive/v3/files", {"pageSize": 1, "fields": "files(id)"})
        users = [user for page in self._user_pages() for user in page]
        domains = self.configured_domains() | {
            d for d in (transform.email_domain(u.get("primaryEmail")) for u in users) if d
        }
        for user, files in self.fan_out(users, self._owned_files):
            if not files:
                continue
            yield "files", [transform.file_row(item, user["id"], domains) for item in files]
            yield "file_shares", [row for item in files for row in transform.share_rows(item, domains)]
