"""The Google Workspace personality: Directory, Reports and Drive v3 routes plus the OAuth token
endpoint, with Google's auth, paging, quota and error behaviour.

Built from Google's discovery documents (``admin.directory_v1.json``, ``admin.reports_v1.json``,
``drive.v3.json``; validated against in tests/contract) and these pages:

* Service accounts with domain-wide delegation, the JWT bearer grant (claims ``iss``, ``sub``,
  ``scope``, ``aud`` = the token URI, ``exp`` at most one hour after ``iat``), the token response
  ``{access_token, expires_in, token_type}`` and the token endpoint's errors (``invalid_grant``,
  ``unauthorized_client`` for scopes not delegated, ``invalid_scope``):
  https://developers.google.com/identity/protocols/oauth2/service-account
* Error bodies ``{"error": {"code", "message", "errors": [{"domain", "reason", "message"}],
  "status"}}``: https://cloud.google.com/apis/design/errors and
  https://developers.google.com/workspace/drive/api/guides/handle-errors
* Quotas: Directory API 2,400 queries per minute per user per project, exceeded as 403
  ``userRateLimitExceeded`` / ``quotaExceeded`` (usageLimits), with exponential backoff and no
  rate-limit headers: https://developers.google.com/workspace/admin/directory/v1/limits ; Drive
  12,000 queries per minute, 403 ``userRateLimitExceeded`` or 429 ``rateLimitExceeded``:
  https://developers.google.com/workspace/drive/api/guides/limits
* Reports API paging newest first, ``startTime``/``endTime`` RFC 3339, ``maxResults`` 1..1000,
  and the lag before events appear (https://support.google.com/a/answer/7061566):
  https://developers.google.com/workspace/admin/reports/v1/guides/manage-audit-login
* Drive partial responses (``fields``) and the query language (``'me' in owners``, ``trashed``):
  https://developers.google.com/workspace/drive/api/guides/fields-parameter and
  https://developers.google.com/workspace/drive/api/guides/search-files

Approximations: only the ``q`` terms listed in :func:`parse_drive_query` are understood (``and`` only); a
file's ``appProperties`` are shown to every caller, where Drive shows them only to the app that set them; users are
always ordered by email; Directory and Reports calls require a super admin subject (Google also
accepts delegated admins holding the matching privilege).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import jwt
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from saaslens_sandbox import core
from saaslens_sandbox.core import Personality, Scope, TenantSpec, json_response, request_origin
from saaslens_sandbox.google_workspace import drive_writes, policies, writes
from saaslens_sandbox.google_workspace import workforce as google_workspace_workforce
from saaslens_sandbox.google_workspace.generator import (
    GoogleWorkspaceOptions,
    GoogleWorkspaceTenant,
    ServiceAccountSpec,
    default_service_accounts,
    etag,
)
from saaslens_sandbox.kit.audit import visible_until
from saaslens_sandbox.kit.auth import bearer_token, challenge, oauth_error_body
from saaslens_sandbox.kit.paging import PagingStyle, b64url, unb64url
from saaslens_sandbox.workforce import Person, PlannedAccount

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
S = "https://www.googleapis.com/auth/"
USER_READ = frozenset({S + "admin.directory.user.readonly", S + "admin.directory.user"})
GROUP_READ = frozenset({S + "admin.directory.group.readonly", S + "admin.directory.group"})
MEMBER_READ = GROUP_READ | {S + "admin.directory.group.member.readonly", S + "admin.directory.group.member"}
ROLE_READ = frozenset({S + "admin.directory.rolemanagement.readonly", S + "admin.directory.rolemanagement"})
TOKEN_READ = frozenset({S + "admin.directory.user.security"})
AUDIT_READ = frozenset({S + "admin.reports.audit.readonly"})
DRIVE_READ = frozenset({S + "drive", S + "drive.readonly", S + "drive.metadata", S + "drive.metadata.readonly"})
RATE_LIMITS = {"directory": 2400, "reports": 2400, "drive": 12000}
# Every applicationName the Reports API accepts (discovery enum); only four have generated data.
REPORT_APPLICATIONS = frozenset(
    str.split(
        "access_transparency admin calendar chat drive gcp gmail gplus groups groups_enterprise jamboard login meet "
        "mobile rules saml token user_accounts context_aware_access chrome data_studio keep vault "
        "gemini_in_workspace_apps classroom assignments cloud_search tasks data_migration meet_hardware "
        "directory_sync ldap profile access_evaluation admin_data_action contacts takeout graduation voice "
        "chrome_sync workspace_studio gemini_notebook"
    )
)
RFC3339 = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:(Z)|([-+])(\d\d):(\d\d))$")
STATUS_TEXT = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
}
_KEY_CACHE: dict[tuple[str, int, str], Any] = {}
_KEY_LOCK = threading.Lock()


class GoogleError(Exception):
    """Raised inside a handler; becomes Google's JSON error body."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.reason, self.domain = code, message, reason, domain
        self.location, self.location_type, self.headers = location, location_type, headers or []

    def response(self) -> Response:
        detail: dict[str, Any] = {"message": self.message, "domain": self.domain, "reason": self.reason}
        if self.location:
            detail["location"] = self.location
            detail["locationType"] = self.location_type or "parameter"
        body = {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [detail],
                "status": STATUS_TEXT.get(self.code, "UNKNOWN"),
            }
        }
        return json_response(body, self.code, self.headers)


def google_error_body(code: int, message: str, reason: str, domain: str = "global") -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": STATUS_TEXT.get(code, "UNKNOWN"),
        }
    }


def _invalid(parameter: str, message: str | None = None) -> GoogleError:
    return GoogleError(400, message or f"Invalid value for: {parameter}", "invalid", location=parameter)


def _forbidden() -> GoogleError:
    return GoogleError(403, "Not Authorized to access this resource/api", "forbidden")


def _not_found(what: str) -> GoogleError:
    return GoogleError(404, f"Resource Not Found: {what}", "notFound")


@dataclass(frozen=True)
class AccessGrant:
    """What an issued access token stands for."""

    account: str
    subject: int | None  # user index of the impersonated user (sub), None for the service account itself
    scopes: frozenset[str]
    expires_at: float


@dataclass
class ServiceAccount:
    spec: ServiceAccountSpec
    client_email: str
    client_id: str
    private_key_id: str
    public_key: Any
    private_key_pem: str | None


def _int_param(params: Any, name: str, default: int, low: int, high: int | None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(name, f"Invalid value '{raw}'. Values must be integers.") from None
    if value < low or (high is not None and value > high):
        bounds = f"[{low}, {high}]" if high is not None else f"[{low}, ...]"
        raise _invalid(name, f"Invalid value '{raw}'. Values must be within the range: {bounds}")
    return value


def _rfc3339_ms(params: Any, name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    if not RFC3339.match(raw):
        raise _invalid(name, f"Invalid value '{raw}' for {name}: not an RFC 3339 date-time")
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


# --------------------------------------------------------------------------------------------
# Page tokens: opaque, bound to the query they continue
# --------------------------------------------------------------------------------------------


def _query_hash(*parts: Any) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=6).hexdigest()


def encode_token(state: dict[str, Any]) -> str:
    return b64url(orjson.dumps(state))


def decode_token(token: str, query: str) -> dict[str, Any]:
    try:
        state = orjson.loads(unb64url(token))
    except (ValueError, orjson.JSONDecodeError):
        state = None
    if not isinstance(state, dict) or state.get("h") != query:
        raise _invalid("pageToken", "Invalid page token")
    return state


def offset_page(items: list[Any], params: Any, query: str, size: int) -> tuple[list[Any], str | None]:
    token = params.get("pageToken")
    offset = int(decode_token(token, query).get("o", 0)) if token else 0
    page = items[offset : offset + size]
    more = offset + size < len(items)
    return page, encode_token({"o": offset + size, "h": query}) if more else None


# --------------------------------------------------------------------------------------------
# Drive: fields selection and queries
# --------------------------------------------------------------------------------------------

PERMISSION_FIELDS = {
    "allowFileDiscovery", "deleted", "displayName", "domain", "emailAddress", "expirationTime", "id",
    "inheritedPermissionsDisabled", "kind", "pendingOwner", "permissionDetails", "photoLink", "role",
    "teamDrivePermissionDetails", "type", "view",
}  # fmt: skip
USER_FIELDS = {"displayName", "emailAddress", "kind", "me", "permissionId", "photoLink"}
FILE_FIELDS = {
    "appProperties", "capabilities", "clientEncryptionDetails", "contentHints", "contentRestrictions",
    "copyRequiresWriterPermission", "createdTime", "description", "downloadRestrictions", "driveId",
    "explicitlyTrashed", "exportLinks", "fileExtension", "folderColorRgb", "fullFileExtension",
    "hasAugmentedPermissions", "hasThumbnail", "headRevisionId", "iconLink", "id", "imageMediaMetadata",
    "inheritedPermissionsDisabled", "isAppAuthorized", "kind", "labelInfo", "lastModifyingUser",
    "linkShareMetadata", "md5Checksum", "mimeType", "modifiedByMe", "modifiedByMeTime", "modifiedTime", "name",
    "originalFilename", "ownedByMe", "owners", "parents", "permissionIds", "permissions", "properties",
    "quotaBytesUsed", "resourceKey", "sha1Checksum", "sha256Checksum", "shared", "sharedWithMeTime",
    "sharingUser", "shortcutDetails", "size", "spaces", "starred", "teamDriveId", "thumbnailLink",
    "thumbnailVersion", "trashed", "trashedTime", "trashingUser", "version", "videoMediaMetadata", "viewedByMe",
    "viewedByMeTime", "viewersCanCopyContent", "webContentLink", "webViewLink", "writersCanShare",
}  # fmt: skip
_USER_SCHEMA: dict[str, Any] = dict.fromkeys(USER_FIELDS)
FILE_SCHEMA: dict[str, Any] = {
    **dict.fromkeys(FILE_FIELDS),
    "permissions": dict.fromkeys(PERMISSION_FIELDS),
    "owners": _USER_SCHEMA,
    "lastModifyingUser": _USER_SCHEMA,
    "sharingUser": _USER_SCHEMA,
    "trashingUser": _USER_SCHEMA,
}
FILE_LIST_SCHEMA: dict[str, Any] = {"kind": None, "nextPageToken": None, "incompleteSearch": None, "files": FILE_SCHEMA}
DEFAULT_FILE_LIST_FIELDS = "kind,nextPageToken,incompleteSearch,files(kind,id,name,mimeType)"


def parse_fields(text: str) -> dict[str, Any]:
    """Google's partial-response syntax: ``a,b/c,d(e,f(g))`` -> a nested selection tree."""
    tree, position = _parse_field_list(text.replace(" ", ""), 0)
    if position != len(text.replace(" ", "")):
        raise _invalid("fields", f"Invalid field selection {text}")
    return tree


def _parse_field_list(text: str, i: int) -> tuple[dict[str, Any], int]:
    tree: dict[str, Any] = {}
    while i < len(text):
        match = re.compile(r"[A-Za-z_*][A-Za-z0-9_]*(?:/[A-Za-z_*][A-Za-z0-9_]*)*").match(text, i)
        if not match:
            raise _invalid("fields", f"Invalid field selection {text}")
        path = match.group(0).split("/")
        i = match.end()
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        leaf = node.setdefault(path[-1], {})
        if i < len(text) and text[i] == "(":
            sub, i = _parse_field_list(text, i + 1)
            if i >= len(text) or text[i] != ")":
                raise _invalid("fields", f"Invalid field selection {text}")
            leaf.update(sub)
            i += 1
        if i < len(text) and text[i] == ",":
            i += 1
            continue
        break
    return tree, i


def check_fields(tree: dict[str, Any], schema: dict[str, Any] | None, prefix: str = "") -> None:
    if schema is None:
        return  # an object whose members are not modelled here: any sub-selection is accepted
    for name, sub in tree.items():
        if name == "*":
            continue
        if name not in schema:
            raise GoogleError(
                400,
                f"Invalid field selection {prefix}{name}",
                "invalidParameter",
                location="fields",
            )
        if sub:
            check_fields(sub, schema[name], f"{prefix}{name}/")


def apply_fields(value: Any, tree: dict[str, Any]) -> Any:
    if not tree or ("*" in tree and len(tree) == 1):
        return value
    if isinstance(value, list):
        return [apply_fields(v, tree) for v in value]
    if isinstance(value, dict):
        if "*" in tree:
            return {k: apply_fields(v, tree.get(k, {})) for k, v in value.items()}
        return {k: apply_fields(value[k], sub) for k, sub in tree.items() if k in value}
    return value


_QUERY_TERM = re.compile(
    r"^(?:'(?P<owner>[^']+)'\s+in\s+owners|trashed\s*=\s*(?P<trashed>true|false)|"
    r"mimeType\s*(?P<op>!?=)\s*'(?P<mime>[^']+)')$"
)
# A string literal of the query language: single-quoted, ' and \ escaped with a backslash
# (https://developers.google.com/workspace/drive/api/guides/search-files: "escape single quotes ... \'").
_LITERAL = r"'((?:[^'\\]|\\.)*)'"
# Custom file properties, search-files' "query terms" table: ``properties has { key='k' and value='v' }``
# for public properties, ``appProperties has { ... }`` for an app's private ones
# (https://developers.google.com/workspace/drive/api/guides/properties).
_PROPERTY_TERM = re.compile(
    rf"^(?P<which>properties|appProperties)\s+has\s*\{{\s*key\s*=\s*{_LITERAL}\s+and\s+value\s*=\s*{_LITERAL}\s*\}}$"
)

_AND = re.compile(r"\s+and\s+")


def _unescape(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal)


def _split_terms(q: str) -> list[str]:
    """The terms of a query joined by ``and``, not splitting inside a quoted string or the braces
    of a ``has { ... }`` term; an unbalanced quote or brace is Drive's 400."""
    terms: list[str] = []
    depth, quoted, start, i = 0, False, 0, 0
    while i < len(q):
        char = q[i]
        if quoted:
            if char == "\\":
                i += 1
            elif char == "'":
                quoted = False
        elif char == "'":
            quoted = True
        elif char in "{}":
            depth += 1 if char == "{" else -1
            if depth < 0:
                raise GoogleError(400, "Invalid Value", "invalid", location="q")
        elif depth == 0 and i > start and (found := _AND.match(q, i)):
            terms.append(q[start:i])
            start = i = found.end()
            continue
        i += 1
    if quoted or depth:
        raise GoogleError(400, "Invalid Value", "invalid", location="q")
    terms.append(q[start:])
    return [term.strip() for term in terms]


def parse_drive_query(q: str) -> list[Callable[[dict[str, Any], str], bool]]:
    """The subset of Drive's ``q`` language the sandbox understands: terms joined by ``and``:
    ``'me' in owners``, ``'<email>' in owners``, ``trashed = true|false``, ``mimeType [!]= '...'``,
    ``properties has { key='k' and value='v' }`` and ``appProperties has { ... }``. Anything else
    is Drive's 400 ``Invalid Value`` on ``q``."""
    tests: list[Callable[[dict[str, Any], str], bool]] = []
    for term in _split_terms(q) if q.strip() else []:
        prop = _PROPERTY_TERM.match(term)
        if prop:
            tests.append(_property_test(prop.group("which"), _unescape(prop.group(2)), _unescape(prop.group(3))))
            continue
        match = _QUERY_TERM.match(term)
        if not match:
            raise GoogleError(400, "Invalid Value", "invalid", location="q")
        if match.group("owner"):
            tests.append(_owner_test(match.group("owner")))
        elif match.group("trashed"):
            tests.append(_trashed_test(match.group("trashed") == "true"))
        else:
            tests.append(_mime_test(match.group("mime"), negate=match.group("op") == "!="))
    return tests


def _property_test(which: str, key: str, value: str) -> Callable[[dict[str, Any], str], bool]:
    return lambda f, me: (f.get(which) or {}).get(key) == value


def _owner_test(owner: str) -> Callable[[dict[str, Any], str], bool]:
    return lambda f, me: f["owners"][0]["emailAddress"] == (me if owner == "me" else owner)


def _trashed_test(wanted: bool) -> Callable[[dict[str, Any], str], bool]:
    return lambda f, me: f["trashed"] is wanted


def _mime_test(mime: str, *, negate: bool) -> Callable[[dict[str, Any], str], bool]:
    return lambda f, me: (f["mimeType"] == mime) is not negate


# --------------------------------------------------------------------------------------------
# The personality
# --------------------------------------------------------------------------------------------


class GoogleWorkspacePersonality(Personality):
    """A Google Workspace customer: Admin SDK Directory and Reports, Drive v3 and the token endpoint.

    Mounted at ``/google_workspace/{tenant}``; the connection's host is that URL and the API paths
    follow (``/admin/directory/v1/users``, ``/admin/reports/v1/...``, ``/drive/v3/files``), so
    one base URL stands in for admin.googleapis.com and www.googleapis.com. The token endpoint is
    ``{base}/token`` (Google's is https://oauth2.googleapis.com/token).
    """

    app: ClassVar[str] = "google_workspace"
    # https://developers.google.com/admin-sdk/directory/reference/rest/v1/users/list (nextPageToken)
    paging: ClassVar[PagingStyle] = PagingStyle(
        "body_cursor",
        accounts_listing=r"/admin/directory/v1/users",
        items="users",
        cursor_field="nextPageToken",
        cursor_param="pageToken",
        group_listing=r"/admin/directory/v1/groups",
        group_items="groups",
        text_field="name.fullName",
        # Google's throttle answers carry no reset header: clients back off exponentially
        # (https://developers.google.com/admin-sdk/directory/v1/limits).
        far_reset_header="retry_after",
    )

    def __init__(self, spec: TenantSpec, base_url_prefix: str):
        super().__init__(spec, base_url_prefix)
        self.options = GoogleWorkspaceOptions.model_validate(spec.options)
        self.validate_options(spec.options)
        anchor = self.options.anchor or core.server_start_time()
        self.tenant = GoogleWorkspaceTenant(
            name=spec.name, seed=spec.seed, users=spec.users, options=self.options, anchor=anchor
        )
        specs = (
            self.options.service_accounts if self.options.service_accounts is not None else default_service_accounts()
        )
        self.accounts = {a.client_email: a for a in (self._service_account(s) for s in specs)}
        self._grants: dict[str, AccessGrant] = {}
        self._throttle_count = 0
        #: Quota answers sent, by status: the framework's stats file every one under 429.
        self.throttle_responses = {"403": 0, "429": 0}
        self.clock_offset = 0.0
        # The Admin console's security settings as Cloud Identity policies (policies.py).
        first_group = self.tenant.groups[0]["id"] if self.tenant.groups else None
        self.policies = policies.TenantPolicies(spec.seed, self.tenant.customer_id, first_group)

    # ---------------------------------------------------------------- framework hooks

    def advance(self, change: dict[str, Any]) -> dict[str, Any]:
        """``{"setting": {...}}``: an administrator changes a security setting; the policy changes
        and the admin audit log records Google's event for it (policies.advance_setting)."""
        unknown = set(change) - {"setting"}
        if unknown or "setting" not in change or not isinstance(change["setting"], dict):
            raise ValueError('the Google Workspace advance body is {"setting": {"type": ..., "fields": {...}}}')
        with self._lock:
            return {"setting": policies.advance_setting(self, change["setting"])}

    @classmethod
    def workforce_plan(cls, people: Mapping[str, Person]) -> tuple[PlannedAccount, ...]:
        return google_workspace_workforce.plan(people)

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        opts = GoogleWorkspaceOptions.model_validate(options)
        names = [a.name for a in opts.service_accounts or []]
        if len(names) != len(set(names)):
            raise ValueError("service_accounts: duplicate names")

    def rate_limit_bucket(self, method: str, path: str) -> str | None:
        if path.startswith("/admin/directory/"):
            return "directory"
        if path.startswith("/admin/reports/"):
            return "reports"
        if path.startswith(("/drive/", "/upload/drive/", "/v2/labels")):
            return "drive"
        return None  # the token endpoint has its own, undocumented limits

    def rate_limit_per_minute(self, bucket: str) -> int:
        return RATE_LIMITS.get(bucket, 2400)

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> list[tuple[str, str]]:
        return []  # Google sends no rate-limit headers

    def too_many_requests(self, scope: Scope, limit: int, reset_epoch: int) -> Response:
        if _is_token_endpoint(scope):
            # The OAuth endpoint answers in OAuth's error format, not the APIs' one.
            return json_response(oauth_error_body("rate_limit_exceeded", "Rate Limit Exceeded"), 429)
        # Google answers an exhausted quota either way: 403 userRateLimitExceeded (Directory and
        # Drive's per-user limit) or 429 rateLimitExceeded. Alternate so clients meet both.
        with self._lock:
            self._throttle_count += 1
            as_403 = self._throttle_count % 2 == 1
            self.throttle_responses["403" if as_403 else "429"] += 1
        if as_403:
            body = google_error_body(403, "User Rate Limit Exceeded", "userRateLimitExceeded", "usageLimits")
            return json_response(body, 403)
        message = "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'."
        return json_response(google_error_body(429, message, "rateLimitExceeded", "usageLimits"), 429)

    def server_error(self, scope: Scope, status: int) -> Response:
        if _is_token_endpoint(scope):
            return json_response(oauth_error_body("internal_failure", "Backend Error"), status)
        if status == 503:
            return json_response(google_error_body(503, "The service is currently unavailable.", "backendError"), 503)
        return json_response(google_error_body(status, "Internal error encountered.", "backendError"), status)

    # ---------------------------------------------------------------- clock

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the tenant's clock forward: delayed audit events become visible, tokens age."""
        with self._lock:
            self.clock_offset += seconds

    # ---------------------------------------------------------------- credentials

    def _service_account(self, spec: ServiceAccountSpec) -> ServiceAccount:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        project = f"{self.spec.name}-saaslens"
        email = f"{spec.name}@{project}.iam.gserviceaccount.com"
        digest = hashlib.sha256(f"{self.spec.name}:{self.spec.seed}:{spec.name}".encode()).hexdigest()
        client_id = str(int(digest[:20], 16))[:21].rjust(21, "1")
        private_pem = None
        if spec.public_key_pem:
            public_key = serialization.load_pem_public_key(spec.public_key_pem.encode())
        else:
            key_id = (self.spec.name, self.spec.seed, spec.name)
            with _KEY_LOCK:
                if key_id not in _KEY_CACHE:
                    _KEY_CACHE[key_id] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                private_key = _KEY_CACHE[key_id]
            public_key = private_key.public_key()
            private_pem = private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
        return ServiceAccount(spec, email, client_id, digest[20:60], public_key, private_pem)

    def key_file(self, account: ServiceAccount, origin: str) -> dict[str, Any]:
        """The JSON key file Google's console downloads, pointing at this tenant's token endpoint."""
        return {
            "type": "service_account",
            "project_id": f"{self.spec.name}-saaslens",
            "private_key_id": account.private_key_id,
            "private_key": account.private_key_pem,
            "client_email": account.client_email,
            "client_id": account.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": f"{origin}{self.base_url_prefix}/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
            + account.client_email.replace("@", "%40"),
            "universe_domain": "googleapis.com",
        }

    def _token_error(self, status: int, error: str, description: str) -> Response:
        return json_response(oauth_error_body(error, description), status)

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if form.get("grant_type") != JWT_BEARER:
            return self._token_error(400, "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}")
        assertion = form.get("assertion", "")
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return self._token_error(400, "invalid_grant", "Invalid JWT Signature.")
        account = self.accounts.get(str(claims.get("iss")))
        if account is None:
            return self._token_error(400, "invalid_grant", "Invalid grant: account not found")
        audiences = [f"{request_origin(request.scope)}{self.base_url_prefix}/token", GOOGLE_TOKEN_URI]
        try:
            jwt.decode(
                assertion,
                account.public_key,
                algorithms=["RS256"],
                audience=audiences,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.InvalidAudienceError:
            return self._token_error(400, "invalid_grant", "Invalid JWT: Failed audience check.")
        except jwt.PyJWTError:
            return self._token_error(400, "invalid_grant", "Invalid JWT Signature.")
        now = self.now()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int | float) or not isinstance(exp, int | float) or exp - iat > 3600 or exp <= now - 300:
            return self._token_error(
                400,
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
                "Check your iat and exp values in the JWT claim.",
            )
        scopes = frozenset(str(claims.get("scope") or "").split())
        if not scopes:
            return self._token_error(400, "invalid_scope", "Empty or missing scope not allowed.")
        subject = None
        if claims.get("sub"):
            subject = self.tenant.email_index.get(str(claims["sub"]).lower())
            if subject is None or subject in self.tenant.deleted_users:
                return self._token_error(400, "invalid_grant", "Invalid email or User ID")
            if not scopes <= set(account.spec.scopes):
                return self._token_error(
                    401,
                    "unauthorized_client",
                    "Client is unauthorized to retrieve access tokens using this method, or client not authorized "
                    "for any of the scopes requested.",
                )
        value = "ya29.c." + secrets.token_urlsafe(48)
        ttl = self.options.access_token_ttl_seconds
        with self._lock:
            self._grants[value] = AccessGrant(account.client_email, subject, scopes, now + ttl)
        return json_response({"access_token": value, "expires_in": ttl, "token_type": "Bearer"})

    def _grant(self, request: Request, accepted: frozenset[str], *, admin: bool = True) -> AccessGrant:
        token = bearer_token(request.headers.get("authorization", ""))
        if token is None:
            raise GoogleError(
                401,
                "Request is missing required authentication credential. Expected OAuth 2 access token, login "
                "cookie or other valid authentication credential.",
                "required",
                location="Authorization",
                location_type="header",
                headers=[challenge("Bearer", realm=GOOGLE_REALM)],
            )
        grant = self._grants.get(token)
        if grant is None or grant.expires_at <= self.now():
            raise GoogleError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential.",
                "authError",
                location="Authorization",
                location_type="header",
                headers=[challenge("Bearer", realm=GOOGLE_REALM, error="invalid_token")],
            )
        if not grant.scopes & accepted:
            raise GoogleError(403, "Request had insufficient authentication scopes.", "insufficientPermissions")
        if admin and (grant.subject is None or not self.tenant.users[grant.subject]["isAdmin"]):
            raise _forbidden()
        return grant

    # ---------------------------------------------------------------- ground truth

    def ground_truth(self) -> dict[str, Any]:
        return self.ground_truth_for(self.origin or "http://127.0.0.1:8765")

    def ground_truth_for(self, origin: str) -> dict[str, Any]:
        truth = self.tenant.ground_truth()
        truth["credentials"] = {
            "token_uri": f"{origin}{self.base_url_prefix}/token",
            "subject": self.tenant.admin_email,
            # What a governance action connection uses: a service account delegated the write scopes
            # (see generator.default_service_accounts), acting as this admin.
            "actions": {"service_account": "actions", "subject": self.tenant.admin_email},
            "service_accounts": {
                a.spec.name: {"key_file": self.key_file(a, origin), "delegated_scopes": list(a.spec.scopes)}
                for a in self.accounts.values()
            },
        }
        truth["report_delays"] = dict(self.options.report_delays)
        # The security settings (Cloud Identity policies) the posture oracle evaluates.
        truth["settings"] = self.policies.truth()
        return orjson.loads(orjson.dumps(truth))

    # ---------------------------------------------------------------- routing

    def routes(self) -> list[BaseRoute]:
        d, r = "/admin/directory/v1", "/admin/reports/v1"
        return [
            Route("/token", self._endpoint(self.token), methods=["POST"]),
            # Cloud Identity policies.list: https://cloud.google.com/identity/docs/reference/rest/v1/policies/list
            Route("/v1/policies", self._bound(policies.list_policies)),
            Route(f"{d}/users", self._endpoint(self.list_users)),
            Route(f"{d}/users/{{user_key}}", self._endpoint(self._bound(writes.user)), methods=["GET", "PUT", "PATCH"]),
            Route(f"{d}/users/{{user_key}}/signOut", self._endpoint(self._bound(writes.sign_out)), methods=["POST"]),
            Route(f"{d}/users/{{user_key}}/tokens", self._endpoint(self.list_tokens)),
            Route(
                f"{d}/users/{{user_key}}/tokens/{{client_id}}",
                self._endpoint(self._bound(writes.token)),
                methods=["GET", "DELETE"],
            ),
            Route(f"{d}/groups", self._endpoint(self.list_groups)),
            Route(f"{d}/groups/{{group_key}}/members", self._endpoint(self.list_members)),
            Route(f"{d}/customer/{{customer}}/roles", self._endpoint(self.list_roles)),
            Route(f"{d}/customer/{{customer}}/roleassignments", self._endpoint(self.list_role_assignments)),
            Route(f"{d}/customer/{{customer}}/roles/{{role_id}}", self._endpoint(self._bound(writes.role))),
            Route(
                f"{d}/customer/{{customer}}/roleassignments/{{assignment_id}}",
                self._endpoint(self._bound(writes.role_assignment)),
                methods=["GET", "DELETE"],
            ),
            Route(
                f"{r}/activity/users/{{user_key}}/applications/{{application}}", self._endpoint(self.list_activities)
            ),
            Route("/drive/v3/files", self._endpoint(self._files_collection), methods=["GET", "POST"]),
            Route("/drive/v3/files/generateIds", self._endpoint(self._bound(drive_writes.ids))),
            Route(
                "/drive/v3/files/{file_id}",
                self._endpoint(self._bound(writes.file)),
                methods=["GET", "PATCH", "DELETE"],
            ),
            Route("/drive/v3/files/{file_id}/export", self._endpoint(self._bound(drive_writes.export))),
            Route(
                "/drive/v3/files/{file_id}/modifyLabels",
                self._endpoint(self._bound(drive_writes.modify_labels)),
                methods=["POST"],
            ),
            Route("/upload/drive/v3/files", self._endpoint(self._bound(drive_writes.upload)), methods=["POST"]),
            Route("/v2/labels", self._endpoint(self._bound(drive_writes.list_labels))),
            Route(
                "/drive/v3/files/{file_id}/permissions",
                self._endpoint(self._bound(drive_writes.permissions_collection)),
                methods=["GET", "POST"],
            ),
            Route(
                "/drive/v3/files/{file_id}/permissions/{permission_id}",
                self._endpoint(self._bound(writes.permission)),
                methods=["GET", "DELETE"],
            ),
        ]

    def _bound(
        self, handler: Callable[[GoogleWorkspacePersonality, Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def bound(request: Request) -> Response:
            return await handler(self, request)

        return bound

    def forget(self, kind: str, object_id: str) -> dict[str, Any]:
        return writes.forget(self, kind, object_id)

    async def _files_collection(self, request: Request) -> Response:
        """files.list (GET) and files.create with metadata only (POST): drive_writes.create."""
        if request.method == "POST":
            return await drive_writes.create(self, request)
        return await self.list_files(request)

    def _endpoint(self, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except GoogleError as exc:
                return exc.response()

        return endpoint

    def _customer(self, value: str | None) -> None:
        if value not in ("my_customer", self.tenant.customer_id):
            raise _forbidden()

    # ---------------------------------------------------------------- directory

    async def list_users(self, request: Request) -> Response:
        self._grant(request, USER_READ)
        params = request.query_params
        customer, domain = params.get("customer"), params.get("domain")
        if not customer and not domain:
            raise GoogleError(400, "Bad Request", "badRequest")
        if customer:
            self._customer(customer)
        if domain and domain not in self.tenant.domains:
            raise _forbidden()
        size = _int_param(params, "maxResults", 100, 1, 500)
        users = self.tenant.users
        if self.tenant.deleted_users:
            users = [u for i, u in enumerate(users) if i not in self.tenant.deleted_users]
        if domain:
            users = [u for u in users if u["primaryEmail"].endswith("@" + domain)]
        search = params.get("query")
        if search:
            users = [u for u in users if _user_matches(u, search)]
        if params.get("sortOrder") == "DESCENDING":
            users = users[::-1]
        query = _query_hash("users", customer, domain, params.get("sortOrder"), search)
        page, token = offset_page(users, params, query, size)
        body: dict[str, Any] = {"kind": "admin#directory#users", "etag": etag("users", query)}
        if page:
            body["users"] = page
        if token:
            body["nextPageToken"] = token
        return json_response(body)

    def _user_index(self, key: str) -> int:
        index = self.tenant.user_index.get(key)
        if index is None:
            index = self.tenant.email_index.get(key.lower())
        if index is None or index in self.tenant.deleted_users:
            raise _not_found("userKey")
        return index

    async def list_tokens(self, request: Request) -> Response:
        self._grant(request, TOKEN_READ)
        index = self._user_index(request.path_params["user_key"])
        body: dict[str, Any] = {"kind": "admin#directory#tokenList", "etag": etag("tokens", index)}
        items = self.tenant.token_items(index)
        if items:
            body["items"] = items
        return json_response(body)

    async def list_groups(self, request: Request) -> Response:
        self._grant(request, GROUP_READ)
        params = request.query_params
        customer, domain, user_key = params.get("customer"), params.get("domain"), params.get("userKey")
        if not (customer or domain or user_key):
            raise GoogleError(400, "Bad Request", "badRequest")
        if customer:
            self._customer(customer)
        if domain and domain not in self.tenant.domains:
            raise _forbidden()
        size = _int_param(params, "maxResults", 200, 1, 200)
        groups = self.tenant.groups
        if domain:
            groups = [g for g in groups if g["email"].endswith("@" + domain)]
        if user_key:
            member_id = self.tenant.users[self._user_index(user_key)]["id"]
            groups = [
                g for g, ms in zip(groups, self.tenant.members, strict=False) if any(m["id"] == member_id for m in ms)
            ]
        query = _query_hash("groups", customer, domain, user_key)
        page, token = offset_page(groups, params, query, size)
        body: dict[str, Any] = {"kind": "admin#directory#groups", "etag": etag("groups", query)}
        if page:
            body["groups"] = page
        if token:
            body["nextPageToken"] = token
        return json_response(body)

    async def list_members(self, request: Request) -> Response:
        self._grant(request, MEMBER_READ)
        key = request.path_params["group_key"]
        index = self.tenant.group_index.get(key, self.tenant.group_email_index.get(key.lower()))
        if index is None:
            raise _not_found("groupKey")
        params = request.query_params
        size = _int_param(params, "maxResults", 200, 1, 200)
        members = self.tenant.members[index]
        roles = params.get("roles")
        if roles:
            wanted = {r.strip().upper() for r in roles.split(",")}
            members = [m for m in members if m["role"] in wanted]
        query = _query_hash("members", index, roles)
        page, token = offset_page(members, params, query, size)
        body: dict[str, Any] = {"kind": "admin#directory#members", "etag": etag("members", query)}
        if page:
            body["members"] = page
        if token:
            body["nextPageToken"] = token
        return json_response(body)

    async def list_roles(self, request: Request) -> Response:
        self._grant(request, ROLE_READ)
        self._customer(request.path_params["customer"])
        params = request.query_params
        size = _int_param(params, "maxResults", 100, 1, 100)
        page, token = offset_page(self.tenant.roles, params, _query_hash("roles"), size)
        body: dict[str, Any] = {"kind": "admin#directory#roles", "etag": etag("roles"), "items": page}
        if token:
            body["nextPageToken"] = token
        return json_response(body)

    async def list_role_assignments(self, request: Request) -> Response:
        self._grant(request, ROLE_READ)
        self._customer(request.path_params["customer"])
        params = request.query_params
        size = _int_param(params, "maxResults", 100, 1, 200)
        items = self.tenant.role_assignments
        role_id, user_key = params.get("roleId"), params.get("userKey")
        if role_id:
            items = [a for a in items if a["roleId"] == role_id]
        if user_key:
            user_id = self.tenant.users[self._user_index(user_key)]["id"]
            items = [a for a in items if a["assignedTo"] == user_id]
        query = _query_hash("roleassignments", role_id, user_key)
        page, token = offset_page(items, params, query, size)
        body: dict[str, Any] = {"kind": "admin#directory#roleAssignments", "etag": etag("ra", query)}
        if page:
            body["items"] = page
        if token:
            body["nextPageToken"] = token
        return json_response(body)

    # ---------------------------------------------------------------- reports

    async def list_activities(self, request: Request) -> Response:
        self._grant(request, AUDIT_READ)
        application = request.path_params["application"]
        if application not in REPORT_APPLICATIONS:
            raise _invalid("applicationName", f"Invalid value '{application}' for applicationName")
        params = request.query_params
        customer = params.get("customerId")
        if customer:
            self._customer(customer)
        size = _int_param(params, "maxResults", 1000, 1, 1000)
        now_ms = int(self.now() * 1000)
        start = _rfc3339_ms(params, "startTime")
        end = _rfc3339_ms(params, "endTime")
        if start is not None and start > now_ms:
            raise _invalid("startTime", "Start time can not be later than current time.")
        if start is not None and end is not None and start > end:
            raise _invalid("startTime", "Start time must be before end time.")
        start = now_ms - 180 * 86_400_000 if start is None else start
        end = now_ms if end is None else min(end, now_ms)
        user_key = request.path_params["user_key"]
        actor = None if user_key == "all" else self.tenant.users[self._user_index(user_key)]["id"]
        event_name = params.get("eventName")
        # Bound to the query as sent: a default end ("now") moves, the continuation must not.
        query = _query_hash(
            "activities", application, params.get("startTime"), params.get("endTime"), actor, event_name
        )
        items, token = self._activity_page(application, start, end, actor, event_name, params, query, size, now_ms)
        body: dict[str, Any] = {"kind": "admin#reports#activities", "etag": etag("activities", query)}
        if items:
            body["items"] = items
        if token:
            body["nextPageToken"] = token
        return json_response(body)

    def _activity_page(
        self,
        application: str,
        start: int,
        end: int,
        actor: str | None,
        event_name: str | None,
        params: Any,
        query: str,
        size: int,
        now_ms: int,
    ) -> tuple[list[dict[str, Any]], str | None]:
        log = self.tenant.activities.get(application)
        if log is None:
            return [], None
        # An event becomes visible only after the application's lag.
        lo, hi = log.window(start, min(end, visible_until(now_ms, self.options.report_delays.get(application, 0))))
        token = params.get("pageToken")
        if token:
            state = decode_token(token, query)
            hi = min(hi, log.before((int(state["t"]), int(state["q"]))))
        items: list[dict[str, Any]] = []
        index = hi - 1
        while index >= lo and len(items) < size:
            item = self.tenant.render_activity(application, index)
            if self._matches(item, actor, event_name):
                items.append(item)
            index -= 1
        more = any(
            self._matches(self.tenant.render_activity(application, i), actor, event_name)
            for i in _descending(index, lo, actor or event_name)
        )
        if not more or not items:
            return items, None
        last = log.keys[index + 1]
        return items, encode_token({"t": last[0], "q": last[1], "h": query})

    @staticmethod
    def _matches(item: dict[str, Any], actor: str | None, event_name: str | None) -> bool:
        if actor and item["actor"].get("profileId") != actor:
            return False
        return not event_name or any(e["name"] == event_name for e in item["events"])

    # ---------------------------------------------------------------- drive

    async def list_files(self, request: Request) -> Response:
        grant = self._grant(request, DRIVE_READ, admin=False)
        params = request.query_params
        corpora = params.get("corpora") or params.get("corpus") or "user"
        if corpora not in ("user", "domain", "drive", "allDrives"):
            raise _invalid("corpora", f"Invalid Value: corpora={corpora}")
        if corpora == "drive":
            drive_id = params.get("driveId") or ""
            raise GoogleError(404, f"Shared drive not found: {drive_id}", "notFound", location="driveId")
        size = _int_param(params, "pageSize", 100, 1, 1000)
        fields_text = params.get("fields") or DEFAULT_FILE_LIST_FIELDS
        fields = parse_fields(fields_text)
        check_fields(fields, FILE_LIST_SCHEMA)
        tests = parse_drive_query(params.get("q") or "")
        me = self.tenant.users[grant.subject]["primaryEmail"] if grant.subject is not None else ""
        candidates = self._corpus(grant.subject, corpora)
        files = [
            i
            for i in candidates
            if i not in self.tenant.deleted_files and all(test(self.tenant.files[i], me) for test in tests)
        ]
        query = _query_hash("files", grant.subject, corpora, params.get("q"))
        page, token = offset_page(files, params, query, size)
        wanted = self.included_labels(params)
        body: dict[str, Any] = {
            "kind": "drive#fileList",
            "incompleteSearch": False,
            "files": [self._render_file(i, grant.subject, wanted) for i in page],
        }
        if token:
            body["nextPageToken"] = token
        return json_response(apply_fields(body, fields))

    def _corpus(self, subject: int | None, corpora: str) -> list[int]:
        t = self.tenant
        if subject is None:
            return []
        if corpora == "domain":
            return [
                i
                for i, f in enumerate(t.files)
                if any(p["type"] == "domain" and p.get("domain") in t.domains for p in f["permissions"])
            ]
        return sorted(t.files_by_owner.get(subject, []) + t.files_shared_with.get(subject, []))

    def included_labels(self, params: Any) -> set[str]:
        """``includeLabels``: "a comma-separated list of IDs of labels to include in the labelInfo
        part of the response" (files.list, files.get); none without the labels feature."""
        raw = params.get("includeLabels") or ""
        if not self.options.drive_labels:
            return set()
        return {part.strip() for part in raw.split(",") if part.strip()}

    def _render_file(self, index: int, subject: int | None, labels: set[str] | None = None) -> dict[str, Any]:
        item = dict(self.tenant.contents.materialize(self.tenant.files[index]))
        if labels:
            item["labelInfo"] = {"labels": self.tenant.labels.render(item["id"], labels)}
        owner = self.tenant.file_owner[index]
        mine = owner == subject
        item["ownedByMe"] = mine
        item["owners"] = [{**item["owners"][0], "me": mine}]
        my_email = self.tenant.users[subject]["primaryEmail"] if subject is not None else None
        can_share = mine or any(
            p.get("emailAddress") == my_email and p["role"] == "writer" for p in item["permissions"]
        )
        if not can_share:
            # Drive lists a file's permissions only to those who may share it.
            del item["permissions"]
        return item


GOOGLE_REALM = "https://accounts.google.com/"
# users.list ``query``: the search-users guide's ``isAdmin=true|false`` and ``isDelegatedAdmin`` terms
# (https://developers.google.com/workspace/admin/directory/v1/guides/search-users); terms joined by spaces.
_USER_TERM = re.compile(r"^(?P<field>isAdmin|isDelegatedAdmin|isSuspended)=(?P<value>true|false)$", re.IGNORECASE)


def _user_matches(user: dict[str, Any], search: str) -> bool:
    for term in search.split():
        match = _USER_TERM.match(term)
        if not match:
            raise GoogleError(400, "Invalid Input", "invalid", location="query")
        field = {"isadmin": "isAdmin", "isdelegatedadmin": "isDelegatedAdmin", "issuspended": "suspended"}[
            match.group("field").lower()
        ]
        if bool(user.get(field)) is not (match.group("value").lower() == "true"):
            return False
    return True


def _is_token_endpoint(scope: Scope) -> bool:
    return str(scope.get("path", "")).endswith("/token")


def _descending(index: int, lo: int, filtered: Any) -> Iterable[int]:
    """Indexes still to look at after a page: all of them when filtering, else just one."""
    if index < lo:
        return ()
    return range(index, lo - 1, -1) if filtered else (index,)
