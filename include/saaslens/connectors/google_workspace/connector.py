"""Google Workspace: the connector (service account credentials, Google's error and quota
conventions, authenticate) and the Directory listings several stages share. Each stage's scan is in
its own module (users, groups, privileges, grants, activities, files); `__init__` declares them, and
actions.py the control the APIs offer.

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
import threading
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from pydantic import Field

from saaslens.connections import ConnectionInvalidError
from saaslens.connectors import registry
from saaslens.connectors.base import ActingAccount, AuthReport, Connector, ConnectorOptions, StageAccess
from saaslens.connectors.kit import Probe
from saaslens.http import ApiClient, AuthenticationError, ErrorPolicy, PermissionDeniedError
from saaslens.http.auth import AccessToken, JwtBearerProvider, TokenAuth
from saaslens.http.client import api_path, require_secure_url, token_endpoint_client
from saaslens.http.errors import MalformedResponseError, ThrottledError
from saaslens.http.pagination import PageTokenPaginator
from saaslens.http.redaction import register_secret
from saaslens.vocabulary import Stage

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
# Hosts from the discovery documents' rootUrl; a connection host replaces all three.
DEFAULT_API_ROOTS = {
    "directory": "https://admin.googleapis.com",
    "reports": "https://admin.googleapis.com",
    "drive": "https://www.googleapis.com",
    "labels": "https://drivelabels.googleapis.com",
    "cloudidentity": "https://cloudidentity.googleapis.com",
}
S = "https://www.googleapis.com/auth/"
USER_SCOPE = S + "admin.directory.user.readonly"
GROUP_SCOPE = S + "admin.directory.group.readonly"
ROLE_SCOPE = S + "admin.directory.rolemanagement.readonly"
TOKEN_SCOPE = S + "admin.directory.user.security"  # tokens.list has no read-only scope
AUDIT_SCOPE = S + "admin.reports.audit.readonly"
DRIVE_SCOPE = S + "drive.metadata.readonly"
# Content inspection reads file bytes (files.get?alt=media, files.export): the metadata scopes do not.
CONTENT_SCOPE = S + "drive.readonly"
# The Drive labels catalogue, read as the admin with useAdminAccess (Labels API labels.list).
LABELS_SCOPE = S + "drive.admin.labels.readonly"
# The security settings (Cloud Identity Policy API policies.list; super admins only):
# https://cloud.google.com/identity/docs/reference/rest/v1/policies/list
POLICY_SCOPE = S + "cloud-identity.policies.readonly"

# The Reports API applications read, one activity stream each.
STREAMS = ("login", "admin", "token", "drive")
# Per application: how far back each scan re-reads (at least Google's documented lag, so events
# that arrive late are read by the next scan) and how far behind now a window ends. Admin events
# arrive within minutes; login, OAuth token and Drive events can take hours
# (https://support.google.com/a/answer/7061566).
STREAM_LOOKBACK_SECONDS = {"admin": 600, "login": 6 * 3600, "token": 3600, "drive": 3600}
STREAM_LAG_SECONDS = {"admin": 60, "login": 60, "token": 60, "drive": 60}

DIRECTORY = "admin/directory/v1"
REPORTS = "admin/reports/v1"
# Which API root and scope each stage's requests (and its probe) use: each stage asks for its own
# scope, so a scope the admin did not delegate denies only the stage that needs it.
STAGE_SCOPES: dict[Stage, tuple[str, str]] = {
    Stage.USERS: ("directory", USER_SCOPE),
    Stage.GROUPS: ("directory", GROUP_SCOPE),
    Stage.PRIVILEGES: ("directory", ROLE_SCOPE),
    Stage.APP_PERMISSIONS: ("directory", TOKEN_SCOPE),
    Stage.SETTINGS: ("cloudidentity", POLICY_SCOPE),
    Stage.ACTIVITIES: ("reports", AUDIT_SCOPE),
    Stage.FILES: ("drive", DRIVE_SCOPE),
}
# A read each control action's scope allows (actions.py), to learn in authenticate whether it is
# delegated: (api, probe path, params). users.get and files.list accept the write scopes too.
ACTION_SCOPE_PROBES: dict[str, tuple[str, str, dict[str, Any]]] = {
    S + "admin.directory.user": ("directory", f"{DIRECTORY}/users/{{subject}}", {}),
    TOKEN_SCOPE: ("directory", f"{DIRECTORY}/users/{{subject}}/tokens", {}),
    S + "admin.directory.rolemanagement": (
        "directory",
        f"{DIRECTORY}/customer/{{customer}}/roleassignments",
        {"maxResults": 1},
    ),
    S + "drive": ("drive", "drive/v3/files", {"pageSize": 1, "fields": "files(id)"}),
    # Not an action's: content inspection's (contents.py) and the files stage's labels (files.py).
    CONTENT_SCOPE: ("drive", "drive/v3/files", {"pageSize": 1, "fields": "files(id)"}),
    LABELS_SCOPE: ("labels", "v2/labels", {"useAdminAccess": "true", "pageSize": 1}),
}
_THROTTLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})


class GoogleWorkspaceOptions(ConnectorOptions):
    activities_initial_days: int = Field(
        default=30, ge=1, le=180, description="Google keeps Reports API activities for 180 days"
    )
    stream_lookback_seconds: dict[str, int] = Field(
        default_factory=dict, description="Per application (login, admin, token, drive) lookback override"
    )
    drive_labels: bool = Field(
        default=True,
        description="Read each file's Drive labels in the files stage (Labels API labels.list, scope "
        "drive.admin.labels.readonly; Business Standard and above). Without the feature or the scope files "
        "carry no label",
    )
    quarantine_folder_id: str | None = Field(
        default=None,
        min_length=10,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The admin-owned Drive folder quarantine_file moves files into (its file id)",
    )
    quarantine_notice: str = Field(
        default="This file was moved to quarantine by the security team after an automated content inspection. "
        "Contact your security team to have it reviewed.",
        min_length=1,
        max_length=2000,
        description="Text of the notice quarantine_file leaves in the folder the file was moved out of",
    )
    sensitivity_label_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The Drive label apply_sensitivity_label applies (its id from the Labels API)",
    )
    sensitivity_label_choice_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The choice of that label's selection field to set (a badged classification label's "
        "level); none for a label without fields",
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
                    **exc.context,
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


def filled(probe: Probe, values: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """A declared probe's path and params with their `{name}` placeholders (a whole path segment, or a
    whole parameter value) taken from the connection: the customer id and the admin the service
    account acts as. Path segments go through api_path, so a value stays inside its segment."""
    base, *segments = probe.path.split("/")
    path = base
    for segment in segments:
        name = segment[1:-1] if segment.startswith("{") and segment.endswith("}") else None
        path = api_path(path, values[name]) if name else f"{path}/{segment}"
    params = {
        key: values[value[1:-1]] if isinstance(value, str) and value.startswith("{") and value.endswith("}") else value
        for key, value in probe.params.items()
    }
    return path, params


class GoogleWorkspaceConnector(Connector):
    app = "google_workspace"
    title = "Google Workspace"
    Options = GoogleWorkspaceOptions
    options: GoogleWorkspaceOptions

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
            raw = self.connection.extra_or("service_account_json", "password", "the service account's JSON key file")
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

    def delegated(self, scope: str) -> DelegatedAuth:
        """The tokens for one scope, minted for the admin or (acting_as) for one user."""
        with self._setup_lock:
            if scope not in self._auths:
                if self._token_http is None:
                    self._token_http = token_endpoint_client(self._transport)
                self._auths[scope] = DelegatedAuth(self.key, (scope,), self.subject, self._token_http)
            return self._auths[scope]

    def build_auth(self) -> httpx.Auth:
        return self.delegated(USER_SCOPE)

    def api(self, api: str, scope: str) -> ApiClient:
        """The client for one API root with tokens for one scope."""
        key = (api, scope)
        with self._setup_lock:
            if key not in self._clients:
                self._clients[key] = self.new_client(self.api_root(api), auth=self.delegated(scope))
            return self._clients[key]

    def stage_client(self, stage: Stage) -> ApiClient:
        return self.api(*STAGE_SCOPES[stage])

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

    # -- authenticate -------------------------------------------------------------------------

    def authenticate(self) -> AuthReport:
        """Mint each stage's token and make the cheapest request its declaration names (its probe);
        a scope not delegated denies only its stage."""
        spec = registry.app_spec(self.app)
        values = {"customer": self.customer, "subject": self.subject}
        stages: dict[str, StageAccess] = {}
        permissions: dict[str, str] = {}
        for stage, (api, scope) in STAGE_SCOPES.items():
            probe = spec.stage(stage).probe
            if probe is None:
                raise ValueError(f"{self.title}: the {stage} stage declares no probe")
            path, params = filled(probe, values)
            stages[str(stage)] = access = self.probe(stage, path, params, client=self.api(api, scope))
            if access.allowed:
                permissions[scope] = f"delegated: token issued for {self.subject}"
        # Tokens and Drive are read user by user, so both also need the user listing.
        for needs_users in ("app_permissions", "files"):
            if stages[needs_users].allowed and not stages["users"].allowed:
                stages[needs_users] = stages["users"]
        # The control actions' scopes, each proved by a read its write method's scope also allows.
        for scope, (api, path, params) in ACTION_SCOPE_PROBES.items():
            if scope in permissions:
                continue
            filled_path, filled_params = filled(Probe(path, params), values)
            if self.probe("authenticate", filled_path, filled_params, client=self.api(api, scope)).allowed:
                permissions[scope] = f"delegated: token issued for {self.subject}, read allowed"
        identity = f"service account {self.key.client_email} acting as {self.subject} (customer {self.customer})"
        # Google's token endpoint does not list the scopes delegated to a client, but it refuses one
        # that is not (401 unauthorized_client): every scope a stage or an action names was asked for
        # above, so one missing here is known to be missing.
        return AuthReport(identity=identity, permissions=permissions, stages=stages, permissions_complete=True)

    def acting_account(self) -> ActingAccount | None:
        """The delegated admin (``sub``) every Directory and Reports request acts as (users.get);
        read with the first user scope these credentials hold."""
        path = api_path(f"{DIRECTORY}/users", self.subject)
        denied: PermissionDeniedError | None = None
        for scope in (USER_SCOPE, S + "admin.directory.user", TOKEN_SCOPE):
            try:
                user = self.api("directory", scope).get_json(path)
            except PermissionDeniedError as exc:
                denied = exc
                continue
            if not isinstance(user, dict) or not user.get("id"):
                raise MalformedResponseError("users.get answered without a user id", method="GET", url=None)
            return ActingAccount(account_id=str(user["id"]), login=str(user.get("primaryEmail") or self.subject))
        assert denied is not None
        raise denied

    # -- Directory listings several stages share ----------------------------------------------

    def user_pages(self) -> Iterator[list[dict[str, Any]]]:
        """Every user, a page at a time (users.list: ``maxResults`` <= 500)."""
        params = {"customer": self.customer, "maxResults": self.page_size(500), "orderBy": "email"}
        client = self.stage_client(Stage.USERS)
        for page in client.paginate(f"{DIRECTORY}/users", PageTokenPaginator("users"), params):
            yield page.items

    def group_members(self, group_id: str) -> list[dict[str, Any]]:
        """A group's members (members.list: ``maxResults`` <= 200), read with the groups scope."""
        client = self.stage_client(Stage.GROUPS)
        path = api_path(f"{DIRECTORY}/groups", group_id, "members")
        return list(client.iter_items(path, PageTokenPaginator("members"), {"maxResults": self.page_size(200)}))
