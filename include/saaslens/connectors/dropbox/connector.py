"""Dropbox (Business / team API): the connector (refresh-token OAuth, the RPC conventions, errors,
authenticate). Each stage's scan is in its own module (users, groups, grants, activities); `__init__`
declares them.

A team-scoped app (https://www.dropbox.com/developers/documentation/http/teams), linked to the team by
an admin, holds a refresh token; access tokens (four hours) come from
https://api.dropboxapi.com/oauth2/token with `grant_type=refresh_token` and the app key and secret
(https://developers.dropbox.com/oauth-guide). Every endpoint is an RPC-style POST with a JSON body
(https://www.dropbox.com/developers/documentation/http/documentation, "Request and response
formats"); listings answer `cursor` and `has_more` and continue through a `/continue` route with
`{"cursor": ...}` (or through the same route, for linked_apps/list_members_linked_apps and
sharing/list_shared_links). Errors (https://developers.dropbox.com/error-handling-guide): 400 plain
text (a bad argument), 401 with auth.AuthError (`invalid_access_token`, `expired_access_token`,
`missing_scope` naming `required_scope`, `invalid_select_user`), 409 with the route's error union
`{"error_summary", "error": {".tag"}}`, 429 with `Retry-After`, 5xx. Rate limits are per team for team
endpoints and per member for user endpoints (https://www.dropbox.com/developers/reference/data-ingress-guide);
no remaining-budget headers are sent, so only Retry-After can be honoured.

Scopes used: team_info.read (team/token/get_authenticated_admin), members.read (team/members/list_v2,
get_info_v2), groups.read (team/groups/*), sessions.list (team/linked_apps/list_members_linked_apps),
events.read (team_log/get_events), members.write (suspend / unsuspend), team_data.member with
sharing.read / sharing.write (sharing/* as a member, `Dropbox-API-Select-User`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
from pydantic import Field

from saaslens.connectors.base import ActingAccount, AuthReport, Connector, ConnectorOptions, StageAccess
from saaslens.http import (
    ApiError,
    AuthenticationError,
    ErrorPolicy,
    FeatureUnavailableError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
)
from saaslens.http.auth import AccessToken, TokenAuth, TokenProvider, post_token_request
from saaslens.http.client import token_endpoint_client
from saaslens.http.listing import Page
from saaslens.http.pagination import PageRequest, Paginator, dig
from saaslens.http.redaction import register_secret

DEFAULT_TOKEN_PATH = "/oauth2/token"
AUDIT_STREAM = "team_log"

# 409 tags (the routes' error unions in team.stone, team_log.stone, sharing.stone) by what they mean.
NOT_FOUND_TAGS = frozenset(
    {"user_not_found", "id_not_found", "group_not_found", "shared_link_not_found", "member_not_found"}
)
PERMISSION_TAGS = frozenset(
    {"missing_scope", "shared_link_access_denied", "no_permission", "team_access_denied", "invalid_select_admin"}
)
AUTH_TAGS = frozenset({"invalid_access_token", "expired_access_token", "user_suspended", "invalid_select_user"})
FEATURE_TAGS = frozenset({"invalid_account_type", "paper_access_denied", "route_access_denied"})


class DropboxOptions(ConnectorOptions):
    include_removed_members: bool = Field(
        default=False,
        description="List removed members too (members/list_v2 include_removed), as deprovisioned accounts",
    )


class RefreshTokenProvider(TokenProvider):
    """OAuth 2.0 refresh token grant (RFC 6749 section 6) with the app key and secret as HTTP basic
    credentials, as Dropbox's token endpoint takes them."""

    def __init__(self, token_url: str, client_id: str, client_secret: str, refresh_token: str) -> None:
        register_secret(client_secret)
        register_secret(refresh_token)
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token

    def fetch(self, http: httpx.Client) -> AccessToken:
        data = {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        payload = post_token_request(http, self.token_url, data, auth=(self.client_id, self._client_secret))
        value = str(payload["access_token"])
        register_secret(value)
        # Dropbox's answer names no scopes: what the token may do is learned by probing (authenticate).
        expires_in = float(payload.get("expires_in") or 14400)
        return AccessToken(value=value, expires_at=time.time() + expires_in)


class DropboxErrorPolicy(ErrorPolicy):
    """Dropbox's error bodies: `{"error_summary": "...", "error": {".tag": ...}}` for 401 and 409, a
    RateLimitError for 429, plain text for 400 and 5xx. The tag decides the class, not the status:
    a 401 `missing_scope` is a missing permission (the stage is skipped), not rejected credentials."""

    def parse_error_body(self, payload: Any) -> tuple[str | None, str | None]:
        if isinstance(payload, dict) and "error_summary" in payload:
            error = payload.get("error")
            tag = error.get(".tag") if isinstance(error, dict) else None
            summary = str(payload.get("error_summary") or "")
            if isinstance(error, dict) and error.get("required_scope"):
                summary = f"{summary} (required scope: {error['required_scope']})"
            return (str(tag) if tag else None), summary
        return super().parse_error_body(payload)

    def error_for(self, response: httpx.Response) -> ApiError:
        error = super().error_for(response)
        if isinstance(error, ThrottledError):
            return error
        tag = error.provider_code
        mapped: type[ApiError] | None = None
        if tag in PERMISSION_TAGS:
            mapped = PermissionDeniedError
        elif tag in AUTH_TAGS:
            mapped = AuthenticationError
        elif tag in NOT_FOUND_TAGS:
            mapped = NotFoundError
        elif tag in FEATURE_TAGS:
            mapped = FeatureUnavailableError
        if mapped is None or type(error) is mapped:
            return error
        return mapped(error.detail, status=error.status, provider_code=tag, method=error.method, url=error.url)


class ContinueCursorPaginator(Paginator):
    """Dropbox's listings: `has_more` and `cursor` in the body; the next page is a POST of
    `{"cursor": ...}` to `continue_path` (the same route when None). A page may hold no items while
    `has_more` is true (team_log/get_events documents it): the listing goes on."""

    def __init__(self, items_path: str, continue_url: str) -> None:
        super().__init__(items_path)
        self.continue_url = continue_url

    def next_request(
        self, current: PageRequest, response: httpx.Response, payload: Any, items: list[Any]
    ) -> PageRequest | None:
        if not dig(payload, "has_more"):
            return None
        cursor = dig(payload, "cursor")
        if not isinstance(cursor, str) or not cursor:
            raise MalformedResponseError("has_more is true but the page holds no cursor")
        return PageRequest(url=self.continue_url, json={"cursor": cursor})


class DropboxConnector(Connector):
    app = "dropbox"
    title = "Dropbox"
    Options = DropboxOptions
    options: DropboxOptions
    # Dropbox does not say how late an event may appear in the audit log; re-read 15 minutes.
    default_lookback_seconds = 900
    default_lag_seconds = 120

    def build_auth(self) -> httpx.Auth:
        client_id = self.connection.extra_or("app_key", "login", "the app key of the team-scoped Dropbox app")
        secret = self.connection.extra_or("app_secret", "password", "the app secret of the team-scoped Dropbox app")
        refresh = self.connection.require("refresh_token", "the refresh token the team admin's link gave the app")
        token_url = str(self.connection.extra.get("token_url") or self.connection.base_url + DEFAULT_TOKEN_PATH)
        provider = RefreshTokenProvider(token_url, client_id, secret, refresh)
        return TokenAuth(provider, token_endpoint_client(self._transport))

    def error_policy(self) -> ErrorPolicy:
        return DropboxErrorPolicy()

    def default_headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    def rate_limit_bucket(self, relative_path: str) -> str | None:
        # per team for team endpoints, per member for user endpoints (data-ingress guide)
        return "user" if relative_path.lstrip("/").startswith("2/sharing/") else "team"

    # -- RPC helpers ---------------------------------------------------------------------------

    def rpc(self, route: str, args: Mapping[str, Any] | None = None, *, member: str | None = None) -> Any:
        """One read-only RPC call (safe to repeat); `member` selects the team member a user endpoint
        acts as (Dropbox-API-Select-User)."""
        headers = {"Dropbox-API-Select-User": member} if member else {}
        kwargs: dict[str, Any] = {"json": dict(args)} if args is not None else {}
        return self.client.request("POST", f"2/{route}", headers=headers, **kwargs)[1]

    def listing(
        self,
        route: str,
        continue_route: str | None,
        items: str,
        args: Mapping[str, Any],
        *,
        resume: PageRequest | None = None,
    ) -> Iterator[Page]:
        """Every page of a listing route, continued through `continue_route` (None: the route itself);
        `resume` continues from a checkpointed continuation instead of the first page."""
        paginator = ContinueCursorPaginator(items, self.client.url_for(f"2/{continue_route or route}"))
        return self.client.paginate(f"2/{route}", paginator, json=args, resume=resume)

    def probe_rpc(self, stage: str, route: str, args: Mapping[str, Any] | None, needed: str) -> StageAccess:
        """Connector.probe for an RPC route: denied or unavailable skips the stage, naming the scope."""
        try:
            self.rpc(route, args)
        except AuthenticationError:
            raise
        except PermissionDeniedError as exc:
            return StageAccess(
                False, f"permission denied (needs {needed}): {exc.provider_code or exc.status} {exc.detail}"
            )
        except FeatureUnavailableError as exc:
            return StageAccess(False, f"not available on this plan or app: {exc.detail}")
        return StageAccess(True, None)

    # -- authenticate --------------------------------------------------------------------------

    def authenticate(self) -> AuthReport:
        admin = self.rpc("team/token/get_authenticated_admin")
        profile = (admin or {}).get("admin_profile") or {}
        identity = f"team app linked by {profile.get('email')} ({profile.get('team_member_id')})"
        stages: dict[str, StageAccess] = {
            "users": self.probe_rpc("users", "team/members/list_v2", {"limit": 1}, "members.read"),
            "groups": self.probe_rpc("groups", "team/groups/list", {"limit": 1}, "groups.read"),
            "app_permissions": self.probe_rpc(
                "app_permissions", "team/linked_apps/list_members_linked_apps", {}, "sessions.list"
            ),
            "activities": self.probe_rpc("activities", "team_log/get_events", {"limit": 1}, "events.read"),
        }
        stages["privileges"] = stages["users"]  # roles come with members/list_v2
        permissions = {"team_info.read": "team/token/get_authenticated_admin answered"}
        for stage, scope in (
            ("users", "members.read"),
            ("groups", "groups.read"),
            ("app_permissions", "sessions.list"),
            ("activities", "events.read"),
        ):
            if stages[stage].allowed:
                permissions[scope] = f"probe of the {stage} stage answered"
        # Dropbox's token response lists no scopes, and write scopes cannot be proven without a change.
        return AuthReport(identity=identity, permissions=permissions, stages=stages, permissions_complete=False)

    def acting_account(self) -> ActingAccount | None:
        """The admin who linked the team app (team/token/get_authenticated_admin)."""
        admin = self.rpc("team/token/get_authenticated_admin")
        profile = (admin or {}).get("admin_profile") or {}
        member_id = profile.get("team_member_id")
        if not isinstance(member_id, str) or not member_id:
            raise MalformedResponseError("team/token/get_authenticated_admin named no team_member_id")
        return ActingAccount(member_id, str(profile.get("email") or ""))
