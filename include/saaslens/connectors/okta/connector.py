"""Okta through its Management API: the connector (credentials, Okta's error and rate-limit
conventions, authenticate) and the listings several stages share. Each stage's scan is in its own
module (users, groups, privileges, grants, activities); `__init__` declares them.

References (Okta developer documentation):
- Pagination (Link header, `after`, `limit`): https://developer.okta.com/docs/api/#pagination
- Rate limits (X-Rate-Limit-*, per-endpoint buckets, E0000047):
  https://developer.okta.com/docs/reference/rl-best-practices/
- List users excludes DEPROVISIONED unless asked: the listUsers operation in the OpenAPI description.
- System Log polling (ascending order, bounded queries with `until`):
  https://developer.okta.com/docs/reference/api/system-log/
- Incremental users: `filter=lastUpdated gt "..."` (List users, filter parameter:
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers);
  deletions from the System Log's user.lifecycle.delete.completed events
  (https://developer.okta.com/docs/reference/api/event-types/)
- Service apps with private_key_jwt: https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import Field

from saaslens.connections import ConnectionInvalidError
from saaslens.connectors import registry
from saaslens.connectors.base import ActingAccount, AuthReport, Connector, ConnectorOptions, StageAccess
from saaslens.http import ErrorPolicy, PermissionDeniedError, RateLimitHeaders
from saaslens.http.auth import ClientCredentialsProvider, StaticTokenAuth, TokenAuth
from saaslens.http.client import api_path, token_endpoint_client
from saaslens.http.errors import ApiError, FeatureUnavailableError, MalformedResponseError
from saaslens.http.pagination import LinkHeaderPaginator, NextUrlPaginator
from saaslens.transform_utils import iso_z
from saaslens.vocabulary import Stage

DEFAULT_SCOPES = ("okta.users.read", "okta.groups.read", "okta.roles.read", "okta.logs.read")
# What an API token may change through its admin's standard roles, named as the actions' scopes: super
# admins manage users and assign or unassign admin roles, org admins manage users but not roles
# (https://help.okta.com/en-us/content/topics/security/administrators-admin-comparison.htm). Other
# and custom roles are left out (their reach depends on their targets): the action then shows unknown.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "SUPER_ADMIN": ("okta.users.manage", "okta.roles.manage"),
    "ORG_ADMIN": ("okta.users.manage",),
}
_ID_SEGMENT = re.compile(r"^(me|[0-9A-Za-z]{15,})$")


class OktaOptions(ConnectorOptions):
    activities_initial_days: int = Field(default=30, ge=1, le=90, description="Okta keeps the System Log 90 days")
    deprovisioned_users: bool = Field(default=True, description="Also list DEPROVISIONED users (a second query)")


class OktaErrorPolicy(ErrorPolicy):
    rate_limit_headers = RateLimitHeaders("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")

    def parse_error_body(self, payload: Any) -> tuple[str | None, str | None]:
        if isinstance(payload, dict) and "errorCode" in payload:
            causes = "; ".join(
                str(c.get("errorSummary")) for c in payload.get("errorCauses") or [] if isinstance(c, dict)
            )
            summary = payload.get("errorSummary") or "error"
            return payload["errorCode"], f"{summary} ({causes})" if causes else summary
        return super().parse_error_body(payload)

    def error_for(self, response: httpx.Response) -> ApiError:
        error = super().error_for(response)
        # E0000015 (HTTP 401) is a feature the org does not have, not a rejected credential
        # ("You do not have permission to access the feature you are requesting":
        # https://developer.okta.com/docs/reference/error-codes/), e.g. authentication policies in
        # a Classic Engine org: the setting is unlicensed, the scan goes on.
        if error.provider_code == "E0000015":
            return FeatureUnavailableError(
                error.detail,
                status=error.status,
                provider_code=error.provider_code,
                method=error.method,
                url=error.url,
            )
        return error


def okta_bucket(path: str) -> str:
    """Okta limits per endpoint; ids in the path collapse so /users/{id}/grants is one bucket."""
    return "/".join("{id}" if _ID_SEGMENT.match(part) and i > 3 else part for i, part in enumerate(path.split("/")))


class OktaConnector(Connector):
    app = "okta"
    title = "Okta"
    Options = OktaOptions
    options: OktaOptions
    # System Log events can take a little while to become queryable; re-read five minutes.
    default_lookback_seconds = 300
    default_lag_seconds = 30

    # -- declaration --------------------------------------------------------------------------

    def _uses_oauth(self) -> bool:
        return bool(self.connection.extra.get("client_id")) and self.connection.extra.get("auth") != "ssws"

    def build_auth(self) -> httpx.Auth:
        if not self._uses_oauth():
            token = self.connection.require("password", "an Okta API token (SSWS)")
            return StaticTokenAuth(token, scheme="SSWS")
        extra = self.connection.extra
        scopes = extra.get("scopes") or DEFAULT_SCOPES
        if isinstance(scopes, str):
            scopes = scopes.split()
        provider = ClientCredentialsProvider(
            token_url=f"{self.connection.base_url}/oauth2/v1/token",
            client_id=str(extra["client_id"]),
            private_key=extra.get("private_key") or self.connection.password,
            key_id=extra.get("key_id"),
            scopes=tuple(scopes),
        )
        if not provider.private_key:
            raise ConnectionInvalidError(
                f"Airflow connection {self.connection.conn_id!r}: extra.private_key is empty; an Okta service "
                "app authenticates with private_key_jwt"
            )
        return TokenAuth(provider, token_endpoint_client(self._transport))

    def error_policy(self) -> ErrorPolicy:
        return OktaErrorPolicy()

    def rate_limit_bucket(self, relative_path: str) -> str | None:
        return okta_bucket(relative_path)

    # -- authenticate -------------------------------------------------------------------------

    def authenticate(self) -> AuthReport:
        auth = self.auth
        permissions: dict[str, str] = {}
        complete = False
        if isinstance(auth, TokenAuth):
            token = auth.token()
            identity = f"oauth client {auth.provider.client_id}"  # type: ignore[attr-defined]
            permissions = {scope: "granted in the token response" for scope in token.scopes}
            # The token response's `scope` is every scope the access token carries: an okta.* scope
            # absent from it is one the token cannot use (the service app's admin roles may narrow it
            # further, which only a change would show).
            complete = bool(token.scopes)
        else:
            me = self.client.get_json("/api/v1/users/me")
            identity = f"API token of {(me.get('profile') or {}).get('login') or me.get('id')}"
            try:
                roles = self.client.get_json(api_path("/api/v1/users", me["id"], "roles")) or []
                permissions = {f"role:{r.get('type')}": "role of the token's admin" for r in roles}
                types = {r.get("type") for r in roles if isinstance(r, dict)}
                for role, scopes in ROLE_PERMISSIONS.items():
                    if role in types:
                        for scope in scopes:
                            permissions.setdefault(scope, f"the token's admin holds {role}")
            except Exception:  # the stage probes below say precisely what is allowed
                permissions = {}
        declared = registry.app_spec(self.app)
        stages: dict[str, StageAccess] = {}
        for stage in (Stage.USERS, Stage.GROUPS, Stage.PRIVILEGES, Stage.SETTINGS):
            probe = declared.stage(stage).probe
            assert probe is not None, f"{self.title}: the {stage} stage declares its probe"
            stages[str(stage)] = self.probe(stage, probe.path, probe.params)
        # Grants are listed per user, so their probe needs a user id; the System Log's a window.
        first_user = None
        if stages["users"].allowed:
            users = self.client.get_json("/api/v1/users", {"limit": 1}) or []
            first_user = users[0]["id"] if users else None
        stages["app_permissions"] = (
            self.probe("app_permissions", api_path("/api/v1/users", first_user, "grants"), {"limit": 1})
            if first_user
            else stages["users"]
        )
        now = datetime.now(UTC)
        stages["activities"] = self.probe(
            "activities",
            "/api/v1/logs",
            {"since": iso_z(now - timedelta(minutes=1)), "until": iso_z(now), "limit": 1},
        )
        return AuthReport(identity=identity, permissions=permissions, stages=stages, permissions_complete=complete)

    def acting_account(self) -> ActingAccount | None:
        """The admin an API token acts as (GET /api/v1/users/me); an OAuth service app acts as itself,
        with no user of its own (https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/)."""
        if self._uses_oauth():
            return None
        me = self.client.get_json("/api/v1/users/me")
        if not isinstance(me, dict) or not isinstance(me.get("id"), str):
            raise MalformedResponseError("GET /api/v1/users/me answered no user id")
        profile = me.get("profile")
        login = profile.get("login") if isinstance(profile, dict) else None
        return ActingAccount(account_id=me["id"], login=login if isinstance(login, str) else "")

    # -- listings several stages share --------------------------------------------------------

    def user_queries(self, expression: str | None = None) -> list[dict[str, Any]]:
        """The queries that list every user (matching `expression`): Okta's list omits DEPROVISIONED
        users unless the query asks for that status (the listUsers operation in the OpenAPI description)."""
        if expression is None:
            queries: list[dict[str, Any]] = [{}]
            deprovisioned = {"search": 'status eq "DEPROVISIONED"'}
        else:
            queries = [{"filter": expression}]
            deprovisioned = {"filter": f'{expression} and status eq "DEPROVISIONED"'}
        if self.options.deprovisioned_users:
            queries.append(deprovisioned)
        return queries

    def user_pages(self) -> Iterator[list[dict[str, Any]]]:
        """Every user, page by page, both listings."""
        for query in self.user_queries():
            params = {"limit": self.page_size(200), **query}
            for page in self.client.paginate("/api/v1/users", LinkHeaderPaginator(), params, prefetch=True):
                yield page.items

    def role_holder_ids(self) -> list[str]:
        """Users holding an admin role (List all users with role assignments, `_links.next` paging)."""
        paginator = NextUrlPaginator(items_path="value", next_url_path="_links.next.href")
        return [u["id"] for u in self.client.iter_items("/api/v1/iam/assignees/users", paginator, {"limit": 100})]

    def admin_ids(self) -> set[str] | None:
        """The role holders; None without okta.roles.read (accounts still list, is_admin unknown)."""
        try:
            return set(self.role_holder_ids())
        except PermissionDeniedError:
            return None

    def group_members(self, group_id: str) -> list[dict[str, Any]]:
        params = {"limit": self.page_size(1000)}
        path = api_path("/api/v1/groups", group_id, "users")
        return list(self.client.iter_items(path, LinkHeaderPaginator(), params))

    def changes_since(self, cursor: dict[str, Any]) -> str:
        """Where a change listing starts: the stored watermark minus the lookback, for Okta's
        eventual consistency."""
        watermark = datetime.fromisoformat(cursor["watermark"].replace("Z", "+00:00"))
        return iso_z(watermark - timedelta(seconds=self.lookback_seconds("system_log")))

    def deleted_since(self, since: str, until: str, event_type: str, target_type: str) -> list[str]:
        """Ids the System Log says were deleted: Okta's own deletion signal (a deleted object is gone
        from every listing; https://developer.okta.com/docs/reference/api/event-types/)."""
        params = {
            "since": since,
            "until": until,
            "filter": f'eventType eq "{event_type}"',
            "sortOrder": "ASCENDING",
            "limit": self.page_size(1000),
        }
        return [
            target["id"]
            for event in self.client.iter_items("/api/v1/logs", LinkHeaderPaginator(), params)
            for target in event.get("target") or []
            if (target.get("type") or "").lower() == target_type.lower() and target.get("id")
        ]
