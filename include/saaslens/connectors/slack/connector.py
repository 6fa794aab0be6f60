"""Slack (Enterprise Grid): the connector (tokens, the two APIs' error and paging conventions,
authenticate). Each stage's scan is in its own module (users, groups, grants, activities, files);
`__init__` declares them.

Two APIs on two hosts:
- the Web API (https://slack.com/api/<method>), an RPC API that answers HTTP 200 with
  `{"ok": false, "error": "<code>"}` for errors (https://api.slack.com/web#evaluating_responses,
  common errors: https://api.slack.com/web#errors) and pages with an opaque `cursor` /
  `response_metadata.next_cursor` (https://api.slack.com/docs/pagination) or, for older methods
  such as team.accessLogs and files.list, with `page` / `count` and a `paging` object;
- the Audit Logs API (https://api.slack.com/audit/v1/logs), RESTful with real HTTP status codes,
  an org-level user token of an Enterprise Grid owner with `auditlogs:read`, `oldest` / `latest`
  in epoch seconds, `limit` up to 9999 and a cursor (https://docs.slack.dev/admins/audit-logs-api,
  https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference; request parameters as
  in slackapi/python-slack-sdk slack_sdk/audit_logs/v1/client.py).

Methods used, their scopes and rate-limit tiers (https://api.slack.com/docs/rate-limits: per
method, per workspace, per app; Tier 1 = 1+, Tier 2 = 20+, Tier 3 = 50+, Tier 4 = 100+ calls per
minute; over the limit Slack answers HTTP 429 with `Retry-After` seconds and
`{"ok": false, "error": "ratelimited"}`; no remaining-budget headers are sent, so the client can
only honour Retry-After):
- auth.test (any token; special tier) and its `x-oauth-scopes` response header: identity, scopes.
- users.list (users:read, users:read.email for emails; Tier 2), https://api.slack.com/methods/users.list
- usergroups.list with include_users / include_disabled (usergroups:read; Tier 2) and
  usergroups.users.list (Tier 2), https://api.slack.com/methods/usergroups.list
- team.accessLogs (admin scope, user token, paid plans else `paid_only`; Tier 2; `before`, `count`
  <= 1000, `page` <= 100, else `over_pagination_limit`), https://api.slack.com/methods/team.accessLogs
- files.list (files:read; Tier 3; `page` / `count`), https://api.slack.com/methods/files.list
- a file's url_private / url_private_download on files.slack.com (files:read, `Authorization: Bearer`),
  https://api.slack.com/types/file#auth: content inspection (contents.py), through `file_client`.
- admin.apps.approved.list (admin.apps:read, Enterprise Grid; Tier 2; cursor, `limit` 1-1000),
  https://api.slack.com/methods/admin.apps.approved.list
- the settings stage's team.preferences.list, admin.teams.list, admin.users.list and
  admin.apps.requests.list (settings.py, with their scopes and tiers).
- Audit Logs API /logs (auditlogs:read; Tier 3, 50 calls per minute per organization).
With an org-level token, Web API methods need `team_id` (the `team_id` option).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field

from saaslens.connectors import registry
from saaslens.connectors.base import ActingAccount, AuthReport, Connector, ConnectorOptions, StageAccess
from saaslens.http import (
    ApiClient,
    ApiError,
    AuthenticationError,
    ErrorPolicy,
    FeatureUnavailableError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    TransientError,
)
from saaslens.http.auth import StaticTokenAuth
from saaslens.http.client import is_loopback
from saaslens.http.errors import ErrorContext, InsecureURLError
from saaslens.http.pagination import PageRequest, Paginator, dig
from saaslens.http.ratelimit import retry_after_seconds
from saaslens.http.redaction import redact, redact_url
from saaslens.vocabulary import Stage

DEFAULT_AUDIT_BASE_URL = "https://api.slack.com/audit/v1"
# The SCIM API (https://docs.slack.dev/reference/scim-api/scim-api-1.1): a token with the `admin` scope.
DEFAULT_SCIM_BASE_URL = "https://api.slack.com/scim/v1"
# Slack's file host: where every file object's url_private / url_private_download point, and the only
# host besides the API's that is sent the token (https://api.slack.com/types/file#auth, contents.py).
FILE_HOST = "files.slack.com"
AUDIT_STREAM = "audit_logs"
ACCESS_STREAM = "access_logs"

# Error codes by what they mean for a scan. Web API codes from the method pages and the common
# errors list; Audit Logs API codes from its reference.
AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "invalid_authentication",
        "missing_authentication",
    }
)
PERMISSION_ERRORS = frozenset(
    {
        "missing_scope",
        "no_permission",
        "access_denied",
        "org_login_required",
        "two_factor_setup_required",
        # the Admin API's "only accessible by org owners and admins", a guest's token, the SCIM API's 403
        "not_an_admin",
        "restricted_action",
        "user_is_restricted",
        "permission_denied",
    }
)
FEATURE_ERRORS = frozenset(
    {
        "paid_only",
        "team_access_not_granted",
        "feature_not_enabled",
        "not_allowed_token_type",
        "user_is_bot",
        "team_not_authorized",
        "enterprise_is_restricted",
    }
)
THROTTLE_ERRORS = frozenset({"ratelimited", "rate_limited"})
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout", "service_unavailable"})
NOT_FOUND_ERRORS = frozenset(
    {"no_such_subteam", "user_not_found", "team_not_found", "file_not_found", "file_deleted", "invalid_app_id"}
)

# Documented tier of each method we call, for buckets and docs (https://api.slack.com/docs/rate-limits).
METHOD_TIERS: dict[str, str] = {
    "auth.test": "special",
    "users.list": "tier2",
    "usergroups.list": "tier2",
    "usergroups.users.list": "tier2",
    "team.accessLogs": "tier2",
    "files.list": "tier3",
    "admin.apps.approved.list": "tier2",
    "admin.apps.requests.list": "tier2",
    "admin.teams.list": "tier2",
    "admin.users.list": "tier4",
    "team.preferences.list": "tier3",
    "audit/logs": "tier3",
}


class SlackOptions(ConnectorOptions):
    team_id: str | None = Field(
        default=None,
        pattern=r"^T[A-Z0-9]{2,}$",
        description="Workspace to scan; required by Slack when the token is an org-level (Grid) token",
    )
    usergroup_members_in_list: bool = Field(
        default=True,
        description="Read members from usergroups.list include_users (one call); False asks "
        "usergroups.users.list per group, for organizations whose group list is too large in one response",
    )


class SlackErrorPolicy(ErrorPolicy):
    """Slack's Web API reports errors in a 200 body; the Audit Logs API in real statuses with
    the same `{"ok": false, "error": ...}` body. Both are mapped by the error code."""

    def parse_error_body(self, payload: Any) -> tuple[str | None, str | None]:
        scim = payload.get("Errors") if isinstance(payload, dict) else None
        if isinstance(scim, dict) and isinstance(scim.get("description"), str):
            # The SCIM API's error body: {"Errors": {"description": "...", "code": 404}}
            return scim["description"], scim["description"]
        if isinstance(payload, dict) and isinstance(payload.get("error"), str):
            code = payload["error"]
            parts = [code]
            if payload.get("needed"):
                parts.append(f"needed: {payload['needed']}")
            if payload.get("provided") is not None:
                parts.append(f"provided: {payload.get('provided') or '(none)'}")
            if payload.get("warning"):
                parts.append(f"warning: {payload['warning']}")
            return code, "; ".join(parts)
        return super().parse_error_body(payload)

    def is_throttle(self, response: httpx.Response, payload: Any) -> bool:
        code = payload.get("error") if isinstance(payload, dict) else None
        return response.status_code == 429 or code in THROTTLE_ERRORS

    def error_for(self, response: httpx.Response) -> ApiError:
        error = super().error_for(response)
        if isinstance(error, ThrottledError) or error.provider_code is None:
            return error
        mapped = error_class(error.provider_code)
        if mapped is None or isinstance(error, mapped):
            return error
        return mapped(
            error.detail, status=error.status, provider_code=error.provider_code, method=error.method, url=error.url
        )

    def check_payload(self, response: httpx.Response, payload: Any) -> None:
        if not isinstance(payload, dict) or payload.get("ok") is not False:
            return
        code, message = self.parse_error_body(payload)
        kwargs: ErrorContext = {
            "status": response.status_code,
            "provider_code": code,
            "method": response.request.method,
            "url": redact_url(str(response.request.url)),
        }
        message = redact(message or "ok: false without an error code")
        if code in THROTTLE_ERRORS:
            raise ThrottledError(message, retry_after=retry_after_seconds(response, None, time.time()), **kwargs)
        raise (error_class(code) or ApiError)(message, **kwargs)


def error_class(code: str | None) -> type[ApiError] | None:
    for codes, cls in (
        (AUTH_ERRORS, AuthenticationError),
        (PERMISSION_ERRORS, PermissionDeniedError),
        (FEATURE_ERRORS, FeatureUnavailableError),
        (TRANSIENT_ERRORS, TransientError),
        (NOT_FOUND_ERRORS, NotFoundError),
    ):
        if code in codes:
            return cls
    return None


def slack_bucket(relative_path: str) -> str:
    """Slack limits per method: the bucket is the method name (or audit/<endpoint>)."""
    parts = [part for part in relative_path.split("/") if part]
    if len(parts) >= 2 and parts[-2] == "v1" and "audit" in parts:
        return f"audit/{parts[-1]}"
    return parts[-1] if parts else "/"


class PageNumberPaginator(Paginator):
    """Slack's classic paging: `page` (from 1) and `count`, answered with a `paging` object
    holding page, pages, total and count (files.list, team.accessLogs)."""

    def __init__(self, items_path: str, *, count: int) -> None:
        super().__init__(items_path)
        self.count = count

    def first_params(self) -> dict[str, Any]:
        return {"page": 1, "count": self.count}

    def next_request(
        self, current: PageRequest, response: httpx.Response, payload: Any, items: list[Any]
    ) -> PageRequest | None:
        paging = dig(payload, "paging") or {}
        page = int(paging.get("page") or current.params.get("page") or 1)
        pages = paging.get("pages")
        if pages is None and paging.get("total") is not None:
            pages = math.ceil(int(paging["total"]) / max(1, int(paging.get("count") or self.count)))
        if not items or pages is None or page >= int(pages):
            return None
        return PageRequest(url=current.url, params={**current.params, "page": page + 1})


class AccessLogPaginator(PageNumberPaginator):
    """team.accessLogs, newest first. Slack refuses `page` above 100 (`over_pagination_limit`),
    so past page 100 the query starts again at page 1 with `before` moved to the oldest login
    seen (the overlap is deduplicated by event id). Paging stops once entries are older than
    the window."""

    MAX_PAGE = 100

    def __init__(self, *, count: int, since: int) -> None:
        super().__init__("logins", count=count)
        self.since = since

    def next_request(
        self, current: PageRequest, response: httpx.Response, payload: Any, items: list[Any]
    ) -> PageRequest | None:
        if not items or min(int(item["date_last"]) for item in items) < self.since:
            return None
        following = super().next_request(current, response, payload, items)
        if following is None or int(following.params["page"]) <= self.MAX_PAGE:
            return following
        oldest = min(int(item["date_last"]) for item in items)
        before = int(current.params.get("before") or oldest + 1)
        return PageRequest(
            url=current.url, params={**current.params, "page": 1, "before": oldest if oldest < before else before - 1}
        )


class SlackConnector(Connector):
    app = "slack"
    title = "Slack"
    Options = SlackOptions
    options: SlackOptions
    # Audit events are not searchable the instant they happen; access-log aggregates move their
    # date_last forward as users sign in again, so that stream re-reads an hour.
    _stream_lookback = {AUDIT_STREAM: 900, ACCESS_STREAM: 3600}
    _stream_lag = {AUDIT_STREAM: 120, ACCESS_STREAM: 60}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._audit_client: ApiClient | None = None
        self._scim_client: ApiClient | None = None
        self._file_clients: dict[str, ApiClient] = {}

    # -- declaration --------------------------------------------------------------------------

    def build_auth(self) -> httpx.Auth:
        token = self.connection.require("password", "a Slack user token (xoxp-...) of a workspace admin")
        return StaticTokenAuth(token)

    def error_policy(self) -> ErrorPolicy:
        return SlackErrorPolicy()

    def rate_limit_bucket(self, relative_path: str) -> str | None:
        return slack_bucket(relative_path)

    def lookback_seconds(self, stream: str) -> int:
        if self.options.activities_lookback_seconds is not None:
            return self.options.activities_lookback_seconds
        return self._stream_lookback.get(stream, self.default_lookback_seconds)

    def lag_seconds(self, stream: str) -> int:
        if self.options.activities_lag_seconds is not None:
            return self.options.activities_lag_seconds
        return self._stream_lag.get(stream, self.default_lag_seconds)

    @property
    def audit_client(self) -> ApiClient:
        """The Audit Logs API lives on another host and may use a separate org-owner token."""
        if self._audit_client is None:
            extra = self.connection.extra
            audit_token = extra.get("audit_token")
            auth = StaticTokenAuth(str(audit_token)) if audit_token else self.auth
            client = self.new_client(
                str(extra.get("audit_base_url") or DEFAULT_AUDIT_BASE_URL),
                auth=auth,
                bucket=lambda path: "audit/" + slack_bucket(path).removeprefix("audit/"),
            )
            self._audit_client = client
        return self._audit_client

    @property
    def scim_client(self) -> ApiClient:
        """The SCIM API (deactivate and reactivate members) on its own base URL, same token."""
        if self._scim_client is None:
            base = str(self.connection.extra.get("scim_base_url") or DEFAULT_SCIM_BASE_URL)
            self._scim_client = self.new_client(base, bucket=lambda path: "scim")
        return self._scim_client

    def file_client(self, origin: str) -> ApiClient:
        """A client for Slack's file host, same token: `origin` is https://files.slack.com, or in the
        sandbox (a loopback Web API) the loopback origin its url_private names. contents.file_url checks
        a URL's origin before this is asked for it; the host check is repeated here so no caller can
        hand the token to another host."""
        parts = urlsplit(origin)
        sandbox = is_loopback(urlsplit(self.client.base_url).hostname) and is_loopback(parts.hostname)
        official = parts.scheme == "https" and parts.hostname == FILE_HOST and parts.port in (None, 443)
        if not (official or sandbox) or parts.path not in ("", "/") or parts.username or parts.password:
            raise InsecureURLError(f"refusing to send the Slack token to {parts.hostname!r}: not {FILE_HOST}")
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self._file_clients:
            self._file_clients[key] = self.new_client(key + "/", bucket=lambda path: "files")
        return self._file_clients[key]

    def close(self) -> None:
        super().close()
        if self._audit_client is not None:
            self._audit_client.close()
        if self._scim_client is not None:
            self._scim_client.close()
        for client in self._file_clients.values():
            client.close()
        self._file_clients.clear()

    def team(self) -> dict[str, str]:
        """What Web API methods need with an org-level (Grid) token: the workspace to read."""
        return {"team_id": self.options.team_id} if self.options.team_id else {}

    # -- authenticate -------------------------------------------------------------------------

    def authenticate(self) -> AuthReport:
        response, me = self.client.request("GET", "auth.test")
        header = response.headers.get("x-oauth-scopes") or ""
        permissions = {
            scope.strip(): "x-oauth-scopes header of auth.test" for scope in header.split(",") if scope.strip()
        }
        kind = "bot token" if me.get("bot_id") else "user token"
        enterprise = f", enterprise {me['enterprise_id']}" if me.get("enterprise_id") else ""
        who = f"{me.get('user')} ({me.get('user_id')})"
        identity = f"{kind} of {who} in {me.get('team')} ({me.get('team_id')}{enterprise})"
        team = self.team()
        declared = registry.app_spec(self.app)

        def declared_probe(stage: Stage) -> StageAccess:
            probe = declared.stage(stage).probe
            assert probe is not None, f"{self.title}: the {stage} stage declares its probe"
            return self.probe(stage, probe.path, {**probe.params, **team})

        stages: dict[str, StageAccess] = {}
        stages["users"] = declared_probe(Stage.USERS)
        stages["privileges"] = stages["users"]  # read from the same users.list
        stages["groups"] = declared_probe(Stage.GROUPS)
        stages["activities"] = self._activities_access(team)
        stages["app_permissions"] = declared_probe(Stage.APP_PERMISSIONS)
        stages["files"] = declared_probe(Stage.FILES)
        stages["settings"] = declared_probe(Stage.SETTINGS)
        # x-oauth-scopes lists every scope the token holds (https://docs.slack.dev/authentication/
        # tokens): a scope an action needs that is absent from it is known to be missing.
        return AuthReport(identity=identity, permissions=permissions, stages=stages, permissions_complete=bool(header))

    def acting_account(self) -> ActingAccount | None:
        """auth.test: the user a user token acts as (a bot token acts as its bot user)."""
        me = self.client.get_json("auth.test")
        user_id = me.get("user_id") if isinstance(me, dict) else None
        if not isinstance(user_id, str) or not user_id:
            raise MalformedResponseError(
                "auth.test named no user_id", method="GET", url=self.client.url_for("auth.test")
            )
        return ActingAccount(user_id, str(me.get("user") or ""))

    def _activities_access(self, team: Mapping[str, str]) -> StageAccess:
        """The stage may run when either stream may; the reason names the stream that may not."""
        streams = {
            AUDIT_STREAM: self._probe_on(self.audit_client, "logs", {"limit": 1}, "auditlogs:read"),
            ACCESS_STREAM: self._probe_on(self.client, "team.accessLogs", {"count": 1, **team}, "admin"),
        }
        denied = [f"{stream}: {access.reason}" for stream, access in streams.items() if not access.allowed]
        allowed = len(denied) < len(streams)
        if not denied:
            return StageAccess(True, None)
        return StageAccess(allowed, ("only some streams: " if allowed else "") + "; ".join(denied))

    def _probe_on(self, client: ApiClient, path: str, params: Mapping[str, Any], needed: str) -> StageAccess:
        """Like Connector.probe, for either of the two clients."""
        try:
            client.get_json(path, params)
        except AuthenticationError:
            raise
        except PermissionDeniedError as exc:
            code = exc.provider_code or exc.status
            return StageAccess(False, f"permission denied (needs {needed}): {code} {exc.detail}")
        except FeatureUnavailableError as exc:
            return StageAccess(False, f"not available on this plan or token: {exc.detail}")
        return StageAccess(True, None)
