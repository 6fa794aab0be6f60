"""Slack (Enterprise Grid): users, user groups, admins, access logs, Audit Logs API and files.

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
- admin.apps.approved.list (admin.apps:read, Enterprise Grid; Tier 2; cursor, `limit` 1-1000),
  https://api.slack.com/methods/admin.apps.approved.list
- Audit Logs API /logs (auditlogs:read; Tier 3, 50 calls per minute per organization).
With an org-level token, Web API methods need `team_id` (the `team_id` option).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
from pydantic import Field

from saaslens.connectors.base import (
    ActivityWindow,
    AuthReport,
    Connector,
    ConnectorOptions,
    EventBatch,
    StageAccess,
)
from saaslens.connectors.slack import transform
from saaslens.http import (
    ApiClient,
    ApiError,
    AuthenticationError,
    ErrorPolicy,
    FeatureUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    TransientError,
)
from saaslens.http.auth import StaticTokenAuth
from saaslens.http.pagination import BodyCursorPaginator, PageRequest, Paginator, SinglePage, dig
from saaslens.http.ratelimit import retry_after_seconds
from saaslens.http.redaction import redact, redact_url
from saaslens.vocabulary import Capability

DEFAULT_AUDIT_BASE_URL = "https://api.slack.com/audit/v1"
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
    {"missing_scope", "no_permission", "access_denied", "org_login_required", "two_factor_setup_required"}
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
NOT_FOUND_ERRORS = frozenset({"no_such_subteam", "user_not_found", "team_not_found"})

# Documented tier of each method we call, for buckets and docs (https://api.slack.com/docs/rate-limits).
METHOD_TIERS: dict[str, str] = {
    "auth.test": "special",
    "users.list": "tier2",
    "usergroups.list": "tier2",
    "usergroups.users.list": "tier2",
    "team.accessLogs": "tier2",
    "files.list": "tier3",
    "admin.apps.approved.list": "tier2",
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
        kwargs = {
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

    def next_request(self, current, response, payload, items):
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

    def next_request(self, current, response, payload, items):
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
    capabilities = frozenset(
        {
            Capability.LIST_ACCOUNTS,
            Capability.LIST_GROUPS,
            Capability.LIST_PRIVILEGES,
            Capability.LOGON_ACTIVITY,
            Capability.USER_ACTIVITY,
            Capability.ADMIN_ACTIVITY,
            # admin.users.session.reset / admin.users.setInactive / SCIM deprovisioning
            Capability.USER_GOVERNANCE,
            # admin.apps.approved.list; admin.apps.restrict and apps.uninstall revoke
            Capability.VIEW_APP_PERMISSIONS,
            Capability.REVOKE_APP_PERMISSIONS,
            # admin.teams.settings.info and org-level session / SSO settings
            Capability.SECURITY_POSTURE,
            # files.list plus conversations history for content; Events API file_shared for near-real-time
            Capability.DLP_PERIODIC_SCAN,
            Capability.DLP_NEAR_REAL_TIME,
            # files.revokePublicURL and files.delete
            Capability.SHARING_CONTROL,
            Capability.FILE_GOVERNANCE,
        }
    )
    Options = SlackOptions
    options: SlackOptions
    activity_streams = (AUDIT_STREAM, ACCESS_STREAM)
    stage_permissions = {
        "users": "users:read (and users:read.email for emails)",
        "groups": "usergroups:read",
        "privileges": "users:read",
        "app_permissions": "admin.apps:read (Enterprise Grid org admin or owner)",
        "activities": "auditlogs:read (Audit Logs API) and admin (team.accessLogs)",
        "files": "files:read",
    }
    # Audit events are not searchable the instant they happen; access-log aggregates move their
    # date_last forward as users sign in again, so that stream re-reads an hour.
    _stream_lookback = {AUDIT_STREAM: 900, ACCESS_STREAM: 3600}
    _stream_lag = {AUDIT_STREAM: 120, ACCESS_STREAM: 60}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._audit_client: ApiClient | None = None

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
            client = ApiClient(
                str(extra.get("audit_base_url") or DEFAULT_AUDIT_BASE_URL),
                auth=auth,
                error_policy=self.error_policy(),
                headers=self.default_headers(),
                metrics=self.metrics,
                transport=self._transport,
                retry=self.retry_policy(),
                limits=self.request_limits(),
                bucket_for=lambda url: "audit/" + slack_bucket(client.relative_path(url)).removeprefix("audit/"),
            )
            self._audit_client = client
        return self._audit_client

    def close(self) -> None:
        super().close()
        if self._audit_client is not None:
            self._audit_client.close()

    def _team(self) -> dict[str, str]:
        return {"team_id": self.options.team_id} if self.options.team_id else {}

    def _page_size(self, default: int, maximum: int) -> int:
        return min(self.options.page_size or default, maximum)

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
        team = self._team()
        stages: dict[str, StageAccess] = {}
        stages["users"] = self.probe("users", "users.list", {"limit": 1, **team})
        stages["privileges"] = stages["users"]
        stages["groups"] = self.probe("groups", "usergroups.list", team)
        stages["activities"] = self._activities_access(team)
        stages["app_permissions"] = self.probe("app_permissions", "admin.apps.approved.list", {"limit": 1, **team})
        stages["files"] = self.probe("files", "files.list", {"count": 1, **team})
        return AuthReport(identity=identity, permissions=permissions, stages=stages)

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

    # -- users and privileges -----------------------------------------------------------------

    def _user_pages(self) -> Iterator[list[dict[str, Any]]]:
        params = {"limit": self._page_size(200, 1000), **self._team()}
        for page in self.client.paginate("users.list", BodyCursorPaginator("members"), params):
            yield page.items

    def scan_users(self) -> Iterator[list[dict[str, Any]]]:
        for users in self._user_pages():
            yield [transform.account_row(user) for user in users]

    def scan_privileges(self) -> Iterator[list[dict[str, Any]]]:
        for users in self._user_pages():
            rows = [row for user in users for row in transform.privilege_rows(user)]
            if rows:
                yield rows

    # -- user groups --------------------------------------------------------------------------

    def _group_members(self, group_id: str) -> tuple[str, list[str]]:
        params = {"usergroup": group_id, "include_disabled": True, **self._team()}
        user_ids = SinglePage("users", items_are=str)  # this listing holds user ids, not objects
        return group_id, list(self.client.iter_items("usergroups.users.list", user_ids, params))

    def scan_groups(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        with_members = self.options.usergroup_members_in_list
        params = {"include_disabled": True, "include_count": True, "include_users": with_members, **self._team()}
        groups = list(self.client.iter_items("usergroups.list", SinglePage("usergroups"), params))
        yield "groups", [transform.group_row(group) for group in groups]
        to_fetch: list[str] = []
        for group in groups:
            members = group.get("users")
            # A list answer without members, or with fewer than user_count, is completed per group.
            if not with_members or members is None or len(members) < int(group.get("user_count") or 0):
                to_fetch.append(group["id"])
            elif members:
                yield "group_members", [transform.member_row(group["id"], user_id) for user_id in members]
        for group_id, members in self.fan_out(to_fetch, self._group_members):
            if members:
                yield "group_members", [transform.member_row(group_id, user_id) for user_id in members]

    # -- app permissions ----------------------------------------------------------------------

    def scan_app_permissions(self) -> Iterator[list[dict[str, Any]]]:
        params = {"limit": self._page_size(100, 1000), **self._team()}
        paginator = BodyCursorPaginator("approved_apps")
        for page in self.client.paginate("admin.apps.approved.list", paginator, params):
            if page.items:
                yield [transform.app_grant_row(approved, self.options.team_id) for approved in page.items]

    # -- activities ---------------------------------------------------------------------------

    def scan_activities(self, stream: str, window: ActivityWindow, resume: PageRequest | None) -> Iterator[EventBatch]:
        oldest, latest = math.floor(window.since.timestamp()), math.floor(window.until.timestamp())
        if stream == AUDIT_STREAM:
            params = {"oldest": oldest, "latest": latest, "limit": self._page_size(1000, 9999)}
            pages = self.audit_client.paginate("logs", BodyCursorPaginator("entries"), params, resume=resume)
            for page in pages:
                yield EventBatch([transform.audit_row(entry) for entry in page.items], page.next_request)
            return
        if stream == ACCESS_STREAM:
            paginator = AccessLogPaginator(count=self._page_size(1000, 1000), since=oldest)
            params = {"before": latest, **self._team()}
            for page in self.client.paginate("team.accessLogs", paginator, params, resume=resume):
                rows = [
                    transform.access_log_row(login)
                    for login in page.items
                    if oldest <= int(login["date_last"]) <= latest
                ]
                yield EventBatch(rows, page.next_request)
            return
        raise ValueError(f"unknown Slack activity stream {stream!r} (streams: {', '.join(self.activity_streams)})")

    # -- files --------------------------------------------------------------------------------

    def scan_files(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        paginator = PageNumberPaginator("files", count=self._page_size(200, 1000))
        for page in self.client.paginate("files.list", paginator, self._team()):
            yield "files", [transform.file_row(file) for file in page.items]
            shares = [row for file in page.items for row in transform.share_rows(file)]
            if shares:
                yield "file_shares", shares
