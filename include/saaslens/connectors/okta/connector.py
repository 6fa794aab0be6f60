"""Okta: the Management API's users, groups, admin roles, user grants and System Log.

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
from saaslens.connectors.okta import transform
from saaslens.http import ErrorPolicy, RateLimitHeaders
from saaslens.http.auth import ClientCredentialsProvider, StaticTokenAuth, TokenAuth
from saaslens.http.client import api_path, token_endpoint_client
from saaslens.http.pagination import LinkHeaderPaginator, NextUrlPaginator, PageRequest
from saaslens.transform_utils import iso_z
from saaslens.vocabulary import Capability

DEFAULT_SCOPES = ("okta.users.read", "okta.groups.read", "okta.roles.read", "okta.logs.read")
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


def okta_bucket(path: str) -> str:
    """Okta limits per endpoint; ids in the path collapse so /users/{id}/grants is one bucket."""
    return "/".join("{id}" if _ID_SEGMENT.match(part) and i > 3 else part for i, part in enumerate(path.split("/")))


class OktaConnector(Connector):
    app = "okta"
    title = "Okta"
    capabilities = frozenset(
        {
            Capability.LIST_ACCOUNTS,
            Capability.LIST_GROUPS,
            Capability.LIST_PRIVILEGES,
            Capability.LOGON_ACTIVITY,
            Capability.USER_ACTIVITY,
            Capability.ADMIN_ACTIVITY,
            Capability.VIEW_APP_PERMISSIONS,
            Capability.USER_GOVERNANCE,  # /lifecycle/suspend, /deactivate, /clear_sessions
            Capability.REVOKE_APP_PERMISSIONS,  # DELETE /api/v1/users/{id}/grants/{grantId}
            Capability.SECURITY_POSTURE,  # /api/v1/policies, authenticators, network zones
        }
    )
    Options = OktaOptions
    options: OktaOptions
    # System Log events can take a little while to become queryable; re-read five minutes.
    default_lookback_seconds = 300
    default_lag_seconds = 30
    activity_streams = ("system_log",)
    resumable_stages = frozenset({"users"})
    incremental_stages = frozenset({"users", "groups"})
    # Admin ids read by the last change scan, to refresh is_admin on every carried-over row.
    _merge_admin_ids: set[str] | None = None
    stage_permissions = {
        "users": "okta.users.read",
        "groups": "okta.groups.read",
        "privileges": "okta.roles.read",
        "app_permissions": "okta.users.read",
        "activities": "okta.logs.read",
    }

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

    def _page_size(self, default: int, maximum: int) -> int:
        return min(self.options.page_size or default, maximum)

    # -- authenticate -------------------------------------------------------------------------

    def authenticate(self) -> AuthReport:
        auth = self.auth
        permissions: dict[str, str] = {}
        if isinstance(auth, TokenAuth):
            token = auth.token()
            identity = f"oauth client {auth.provider.client_id}"  # type: ignore[attr-defined]
            permissions = {scope: "granted in the token response" for scope in token.scopes}
        else:
            me = self.client.get_json("/api/v1/users/me")
            identity = f"API token of {(me.get('profile') or {}).get('login') or me.get('id')}"
            try:
                roles = self.client.get_json(api_path("/api/v1/users", me["id"], "roles")) or []
                permissions = {f"role:{r.get('type')}": "role of the token's admin" for r in roles}
            except Exception:  # the stage probes below say precisely what is allowed
                permissions = {}
        stages: dict[str, StageAccess] = {}
        stages["users"] = self.probe("users", "/api/v1/users", {"limit": 1})
        stages["groups"] = self.probe("groups", "/api/v1/groups", {"limit": 1})
        stages["privileges"] = self.probe("privileges", "/api/v1/iam/assignees/users", {"limit": 1})
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
        return AuthReport(identity=identity, permissions=permissions, stages=stages)

    # -- stages -------------------------------------------------------------------------------

    def _user_listings(self) -> Iterator[dict[str, Any]]:
        """Every user: Okta's list omits DEPROVISIONED users unless searched for by status."""
        queries: list[dict[str, Any]] = [{}]
        if self.options.deprovisioned_users:
            queries.append({"search": 'status eq "DEPROVISIONED"'})
        for query in queries:
            params = {"limit": self._page_size(200, 200), **query}
            for page in self.client.paginate("/api/v1/users", LinkHeaderPaginator(), params, prefetch=True):
                yield page.items

    def _admin_ids(self) -> set[str] | None:
        paginator = NextUrlPaginator(items_path="value", next_url_path="_links.next.href")
        try:
            return {u["id"] for u in self.client.iter_items("/api/v1/iam/assignees/users", paginator, {"limit": 100})}
        except Exception as exc:  # without okta.roles.read accounts still list; is_admin stays unknown
            from saaslens.http import PermissionDeniedError

            if isinstance(exc, PermissionDeniedError):
                return None
            raise

    def _user_queries(self, expression: str | None = None) -> list[dict[str, Any]]:
        """Okta's list omits DEPROVISIONED users unless the expression asks for that status."""
        if expression is None:
            queries: list[dict[str, Any]] = [{}]
            deprovisioned = {"search": 'status eq "DEPROVISIONED"'}
        else:
            queries = [{"filter": expression}]
            deprovisioned = {"filter": f'{expression} and status eq "DEPROVISIONED"'}
        if self.options.deprovisioned_users:
            queries.append(deprovisioned)
        return queries

    def scan_users(self, resume: dict[str, Any] | None = None) -> Iterator[SnapshotBatch]:
        """Every user, in two listings; each page is a checkpoint (which listing, its next request,
        and the admin ids, so a resumed scan asks for nothing it already read)."""
        if resume is not None:
            admin_list = resume.get("admin_ids")
            admin_ids = set(admin_list) if admin_list is not None else None
            first_query = int(resume["query"])
            request = PageRequest.from_state(resume["request"]) if resume.get("request") else None
        else:
            admin_ids, first_query, request = self._admin_ids(), 0, None
        admin_state = sorted(admin_ids) if admin_ids is not None else None
        queries = self._user_queries()
        for index in range(first_query, len(queries)):
            params = {"limit": self._page_size(200, 200), **queries[index]}
            pages = self.client.paginate("/api/v1/users", LinkHeaderPaginator(), params, resume=request)
            request = None
            for page in pages:
                checkpoint: dict[str, Any] | None = None
                if page.next_request is not None:
                    checkpoint = {"admin_ids": admin_state, "query": index, "request": page.next_request.to_state()}
                elif index + 1 < len(queries):
                    checkpoint = {"admin_ids": admin_state, "query": index + 1, "request": None}
                yield SnapshotBatch("accounts", [transform.account_row(u, admin_ids) for u in page.items], checkpoint)

    # -- incremental users: lastUpdated filter and deletion events ----------------------------

    def start_cursor(self, stage: str) -> dict[str, Any]:
        return {"watermark": iso_z(datetime.now(UTC))}

    def scan_changes(self, stage: str, cursor: dict[str, Any]) -> Iterator[ChangeBatch]:
        if stage == "groups":
            return self._group_changes(cursor)
        return self._user_changes(cursor)

    def _deleted_since(self, since: str, until: str, event_type: str, target_type: str) -> list[str]:
        """Ids the System Log says were deleted: Okta's own deletion signal."""
        params = {
            "since": since,
            "until": until,
            "filter": f'eventType eq "{event_type}"',
            "sortOrder": "ASCENDING",
            "limit": self._page_size(1000, 1000),
        }
        return [
            target["id"]
            for event in self.client.iter_items("/api/v1/logs", LinkHeaderPaginator(), params)
            for target in event.get("target") or []
            if (target.get("type") or "").lower() == target_type.lower() and target.get("id")
        ]

    def _group_changes(self, cursor: dict[str, Any]) -> Iterator[ChangeBatch]:
        """Groups whose profile or membership changed since the watermark (minus the lookback),
        each with its complete member list; groups the System Log reports deleted."""
        now = datetime.now(UTC)
        since = iso_z(datetime.fromisoformat(cursor["watermark"].replace("Z", "+00:00")) - self._change_lookback())
        expression = f'lastUpdated gt "{since}" or lastMembershipUpdated gt "{since}"'
        group_ids: list[str] = []
        params = {"limit": self._page_size(1000, 10000), "filter": expression}
        for page in self.client.paginate("/api/v1/groups", LinkHeaderPaginator(), params):
            group_ids += [g["id"] for g in page.items]
            yield ChangeBatch("groups", [transform.group_row(g) for g in page.items])
        for group_id, members in self.fan_out(group_ids, self._group_members):
            rows = [transform.member_row(group_id, user) for user in members]
            yield ChangeBatch("group_members", children={group_id: rows})
        removed = self._deleted_since(since, iso_z(now), "group.lifecycle.delete", "UserGroup")
        yield ChangeBatch("groups", [], removed, cursor={"watermark": iso_z(now)})

    def _user_changes(self, cursor: dict[str, Any]) -> Iterator[ChangeBatch]:
        """Users whose lastUpdated is after the watermark (minus the lookback, for Okta's eventual
        consistency), and users whose deletion the System Log reports (a deleted user is gone from
        every listing; user.lifecycle.delete.completed is Okta's own signal)."""
        now = datetime.now(UTC)
        since = iso_z(datetime.fromisoformat(cursor["watermark"].replace("Z", "+00:00")) - self._change_lookback())
        self._merge_admin_ids = self._admin_ids()
        for query in self._user_queries(f'lastUpdated gt "{since}"'):
            params = {"limit": self._page_size(200, 200), **query}
            for page in self.client.paginate("/api/v1/users", LinkHeaderPaginator(), params):
                yield ChangeBatch("accounts", [transform.account_row(u, self._merge_admin_ids) for u in page.items])
        removed = self._deleted_since(since, iso_z(now), "user.lifecycle.delete.completed", "User")
        yield ChangeBatch("accounts", [], removed, cursor={"watermark": iso_z(now)})

    def _change_lookback(self) -> timedelta:
        return timedelta(seconds=self.lookback_seconds("system_log"))

    def merge_incremental(
        self, table: str, previous: dict[str, Any] | None, changed: dict[str, Any] | None
    ) -> dict[str, Any]:
        row = dict(changed if changed is not None else previous or {})
        if table == "accounts" and self._merge_admin_ids is not None:  # roles change without lastUpdated moving
            row["is_admin"] = row["account_id"] in self._merge_admin_ids
        return row

    def _group_members(self, group_id: str) -> tuple[str, list[dict[str, Any]]]:
        params = {"limit": self._page_size(1000, 1000)}
        path = api_path("/api/v1/groups", group_id, "users")
        return group_id, list(self.client.iter_items(path, LinkHeaderPaginator(), params))

    def scan_groups(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        group_ids: list[str] = []
        params = {"limit": self._page_size(1000, 10000)}
        for page in self.client.paginate("/api/v1/groups", LinkHeaderPaginator(), params):
            group_ids += [g["id"] for g in page.items]
            yield "groups", [transform.group_row(g) for g in page.items]
        for group_id, members in self.fan_out(group_ids, self._group_members):
            yield "group_members", [transform.member_row(group_id, user) for user in members]

    def _user_roles(self, user_id: str) -> tuple[str, list[dict[str, Any]]]:
        return user_id, list(self.client.iter_items(api_path("/api/v1/users", user_id, "roles"), LinkHeaderPaginator()))

    def scan_privileges(self) -> Iterator[list[dict[str, Any]]]:
        paginator = NextUrlPaginator(items_path="value", next_url_path="_links.next.href")
        admin_ids = [u["id"] for u in self.client.iter_items("/api/v1/iam/assignees/users", paginator, {"limit": 100})]
        for user_id, roles in self.fan_out(admin_ids, self._user_roles):
            yield [transform.privilege_row(user_id, role) for role in roles]

    def _user_grants(self, user_id: str) -> list[dict[str, Any]]:
        params = {"limit": self._page_size(200, 200)}
        return list(self.client.iter_items(api_path("/api/v1/users", user_id, "grants"), LinkHeaderPaginator(), params))

    def scan_app_permissions(self) -> Iterator[list[dict[str, Any]]]:
        user_ids = (user["id"] for users in self._user_listings() for user in users)
        for grants in self.fan_out(user_ids, self._user_grants):
            if grants:
                yield [transform.grant_row(grant) for grant in grants]

    def scan_activities(self, stream: str, window: ActivityWindow, resume: PageRequest | None) -> Iterator[EventBatch]:
        # A bounded query (with `until`) ends when the next link disappears, unlike polling.
        params = {
            "since": iso_z(window.since),
            "until": iso_z(window.until),
            "sortOrder": "ASCENDING",
            "limit": self._page_size(1000, 1000),
        }
        pages = self.client.paginate("/api/v1/logs", LinkHeaderPaginator(), params, resume=resume, prefetch=True)
        for page in pages:
            yield EventBatch([transform.activity_row(event) for event in page.items], page.next_request)
