"""The Slack personality: Web API methods and the Audit Logs API for one generated workspace.

Mounted at ``/slack/{tenant}``: Web API methods at ``{tenant}/<method>`` (as at
``https://slack.com/api/<method>``) and the Audit Logs API at ``{tenant}/audit/v1/...`` (as at
``https://api.slack.com/audit/v1/...``).

Behaviour emulated, from Slack's documentation:

* Web API errors are HTTP 200 with ``{"ok": false, "error": code}``; ``missing_scope`` adds
  ``needed`` and ``provided`` (https://api.slack.com/web#evaluating_responses). Tokens come in the
  ``Authorization: Bearer`` header or a ``token`` argument; none is ``not_authed``, an unknown one
  ``invalid_auth``. Every authenticated answer carries ``x-oauth-scopes`` and
  ``x-accepted-oauth-scopes`` (https://api.slack.com/authentication/oauth-v2#scopes).
* Cursor pagination with ``limit`` / ``cursor`` and ``response_metadata.next_cursor`` ("" at the end)
  for users.list (https://api.slack.com/docs/pagination); classic ``page`` / ``count`` with a
  ``paging`` object for files.list and team.accessLogs, whose ``page`` may not exceed 100 nor
  ``count`` 1000 (``over_pagination_limit``); team.accessLogs is ``paid_only`` on the free plan and
  needs the ``admin`` scope of a user token. admin.apps.approved.list (``admin.apps:read``) pages
  with a cursor and ``limit`` 1-1000 and exists only on Enterprise Grid.
* Rate limits per method and tier (https://api.slack.com/docs/rate-limits): Tier 2 = 20, Tier 3 =
  50, Tier 4 = 100 calls per minute; auth.test is a special tier (treated as Tier 4). Over the
  limit: HTTP 429, ``Retry-After`` seconds, ``{"ok": false, "error": "ratelimited"}``. Slack sends
  no remaining-budget headers.
* The Audit Logs API (https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference)
  uses real HTTP statuses: 401 for a missing or invalid token, 403 ``missing_scope`` without
  ``auditlogs:read``, 403 ``feature_not_enabled`` outside Enterprise Grid; ``oldest`` / ``latest``
  (epoch seconds, inclusive), ``limit`` (max 9999), ``action`` / ``actor`` / ``entity`` filters,
  newest first, cursor in ``response_metadata.next_cursor``; Tier 3 (50 per minute) per org.
* The write methods governance actions use, each as its page documents it (arguments, scope, errors;
  a change leaves the Audit Logs API action Slack records for it, by the token's user):
  admin.users.session.reset (``admin.users:write``; ``user_not_found``, ``cannot_reset_bot``,
  ``cannot_reset_primary_owner``; user_session_reset_by_admin),
  https://docs.slack.dev/reference/methods/admin.users.session.reset;
  admin.users.setRegular (``admin.users:write``; ``team_id`` a workspace or, for the org level, the
  organization; ``cannot_modify_primary_owner``, ``cannot_set_org_admin_to_regular_at_workspace_level``,
  ``team_not_found``, ``user_not_found``; role_change_to_user),
  https://docs.slack.dev/reference/methods/admin.users.setRegular;
  files.revokePublicURL (``files:write``; ``file_not_found``; answers the file object;
  file_public_link_revoked), https://docs.slack.dev/reference/methods/files.revokePublicURL;
  admin.apps.restrict (``admin.apps:write``; exactly one of ``team_id`` / ``enterprise_id``, either
  ``app_id`` or ``request_id``; voids the approval, leaves installations; ``invalid_app_id``;
  app_restricted), https://docs.slack.dev/reference/methods/admin.apps.restrict, and its read side
  admin.apps.restricted.list (``admin.apps:read``); the reads plans use, users.info
  (``user_not_found``) and files.info (``file_not_found``).
* The SCIM API (https://docs.slack.dev/reference/scim-api/scim-api-1.1, base ``/scim/v1``, a user
  token with the ``admin`` scope): ``GET /Users/<id>``, ``DELETE /Users/<id>`` "sets a Slack user to
  deactivated" (user_deactivated), ``PATCH /Users/<id>`` with ``active: true`` reactivates
  (user_reactivated). Errors are SCIM-shaped, ``{"Errors": {"description": ..., "code": status}}``.
  A change already in place (a second deactivation, a revoked link revoked again, an app restricted
  again, a regular member set regular) answers success without a new audit entry: Slack documents no
  error for it.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import math
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import orjson
import starlette.routing
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from saaslens_sandbox.core import Personality, Scope, TenantSpec, json_response, server_start_time
from saaslens_sandbox.kit.auth import bearer_token
from saaslens_sandbox.kit.paging import PagingStyle
from saaslens_sandbox.kit.ratelimit import retry_after_seconds
from saaslens_sandbox.slack import workforce as slack_workforce
from saaslens_sandbox.slack.generator import AUDIT_ACTIONS, AUDIT_KINDS, SlackSandboxOptions, SlackTenant, TokenSpec
from saaslens_sandbox.workforce import Person, PlannedAccount

# method -> (scope it needs, rate-limit tier)
METHODS: dict[str, tuple[str | None, int]] = {
    "auth.test": (None, 4),
    "users.list": ("users:read", 2),
    "usergroups.list": ("usergroups:read", 2),
    "usergroups.users.list": ("usergroups:read", 2),
    "team.accessLogs": ("admin", 2),
    "files.list": ("files:read", 3),
    "admin.apps.approved.list": ("admin.apps:read", 2),
    "admin.apps.restricted.list": ("admin.apps:read", 2),
    "users.info": ("users:read", 4),
    "files.info": ("files:read", 4),
    "admin.users.session.reset": ("admin.users:write", 2),
    "admin.users.setRegular": ("admin.users:write", 2),
    "files.revokePublicURL": ("files:write", 3),
    "admin.apps.restrict": ("admin.apps:write", 2),
}
# Methods whose team_id may name the organization, checked by the method itself.
ORG_OR_TEAM = frozenset({"admin.users.setRegular", "admin.apps.restrict"})
SCIM_USER_SCHEMA = "urn:scim:schemas:core:1.0"
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
AUDIT_BUCKET = "audit/logs"
AUDIT_MAX_LIMIT = 9999
AUDIT_DEFAULT_LIMIT = 100
USERS_MAX_LIMIT = 1000
USERS_UNPAGED_MAX = 1000
CLASSIC_MAX_PAGE = 100
CLASSIC_MAX_COUNT = 1000

_TRUE = {"1", "true", "yes", "on"}


class SlackError(Exception):
    def __init__(self, code: str, status: int = 200, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.extra = extra


def _flag(params: dict[str, str], name: str) -> bool:
    return params.get(name, "").strip().lower() in _TRUE


def _int(params: dict[str, str], name: str, default: int | None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(float(value))
    except ValueError:
        raise SlackError("invalid_arguments") from None


def _encode_cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _decode_cursor(cursor: str, prefix: str) -> str:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SlackError("invalid_cursor") from None
    if not text.startswith(prefix):
        raise SlackError("invalid_cursor")
    return text[len(prefix) :]


class SlackPersonality(Personality):
    app = "slack"
    # https://api.slack.com/apis/pagination (response_metadata.next_cursor). Slack's Web API takes
    # ids as arguments, never as path segments, so it has no listing for traversal_id.
    paging: ClassVar[PagingStyle] = PagingStyle(
        "body_cursor",
        accounts_listing=r"/users\.list",
        items="members",
        cursor_field="response_metadata.next_cursor",
        cursor_param="cursor",
        text_field="real_name",
    )

    def __init__(self, spec: TenantSpec, base_url_prefix: str) -> None:
        super().__init__(spec, base_url_prefix)
        self.options = SlackSandboxOptions.model_validate(spec.options)
        anchor = self.options.anchor or server_start_time()
        self.tenant = SlackTenant(name=spec.name, seed=spec.seed, users=spec.users, options=self.options, anchor=anchor)
        self.tokens: dict[str, TokenSpec] = {t.token: t for t in self.tenant.tokens}

    @classmethod
    def workforce_plan(cls, people: Mapping[str, Person]) -> tuple[PlannedAccount, ...]:
        return slack_workforce.plan(people)

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        SlackSandboxOptions.model_validate(options)

    # ---- framework hooks --------------------------------------------------------------------

    def routes(self) -> list[starlette.routing.BaseRoute]:
        return [
            Route("/audit/v1/logs", self._audit_logs, methods=["GET"]),
            Route("/audit/v1/actions", self._audit_actions, methods=["GET"]),
            Route("/scim/v1/Users/{user_id}", self._scim_user, methods=["GET", "DELETE", "PATCH"]),
            Route("/{method:path}", self._web_api, methods=["GET", "POST"]),
        ]

    def ground_truth(self) -> dict[str, Any]:
        return self.tenant.ground_truth()

    def rate_limit_bucket(self, method: str, path: str) -> str | None:
        name = path.strip("/")
        if name.startswith("audit/v1/"):
            return AUDIT_BUCKET if name == "audit/v1/logs" else None
        return name if name in METHODS else None

    def rate_limit_per_minute(self, bucket: str) -> int:
        if bucket == AUDIT_BUCKET:
            return TIER_PER_MINUTE[3]
        return TIER_PER_MINUTE[METHODS[bucket][1]] if bucket in METHODS else TIER_PER_MINUTE[4]

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> list[tuple[str, str]]:
        return []  # Slack publishes no remaining-budget headers

    def too_many_requests(self, scope: Scope, limit: int, reset_epoch: int) -> Response:
        retry = retry_after_seconds(reset_epoch)  # whole seconds, rounded up
        return json_response({"ok": False, "error": "ratelimited"}, 429, [("Retry-After", str(retry))])

    def server_error(self, scope: Scope, status: int) -> Response:
        code = "internal_error" if status == 500 else "service_unavailable"
        return json_response({"ok": False, "error": code}, status)

    # ---- auth -------------------------------------------------------------------------------

    @staticmethod
    async def _params(request: Request) -> dict[str, str]:
        params = dict(request.query_params)
        if request.method == "POST":
            content_type = request.headers.get("content-type", "")
            if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                form = await request.form()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    def _token(self, request: Request, params: dict[str, str]) -> TokenSpec:
        value = bearer_token(request.headers.get("authorization", "")) or params.get("token", "")
        if not value:
            raise SlackError("not_authed")
        spec = self.tokens.get(value)
        if spec is None:
            raise SlackError("invalid_auth")
        return spec

    @staticmethod
    def _require_scope(token: TokenSpec, scope: str | None) -> None:
        if scope and scope not in token.scopes:
            raise SlackError("missing_scope", needed=scope, provided=",".join(token.scopes))

    def _check_team(self, params: dict[str, str]) -> None:
        team_id = params.get("team_id")
        if team_id and team_id != self.tenant.team_id:
            raise SlackError("team_access_not_granted")

    # ---- Web API ----------------------------------------------------------------------------

    async def _web_api(self, request: Request) -> Response:
        method = request.path_params["method"]
        params = await self._params(request)
        headers: list[tuple[str, str]] = []
        try:
            if method not in METHODS:
                raise SlackError("unknown_method")
            token = self._token(request, params)
            needed, _tier = METHODS[method]
            headers = [("x-oauth-scopes", ",".join(token.scopes)), ("x-accepted-oauth-scopes", needed or "")]
            self._require_scope(token, needed)
            if method not in ORG_OR_TEAM:
                self._check_team(params)
            body = getattr(self, "_" + method.replace(".", "_"))(token, params)
        except SlackError as exc:
            return json_response({"ok": False, "error": exc.code, **exc.extra}, exc.status, headers)
        return json_response({"ok": True, **body}, 200, headers)

    def _auth_test(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        user = self.tenant.token_users[token.token]
        body: dict[str, Any] = {
            "url": f"https://{self.tenant.name}.slack.com/",
            "team": self.tenant.team_name,
            "user": user.name,
            "team_id": self.tenant.team_id,
            "user_id": user.id,
        }
        if token.kind == "bot":
            body["bot_id"] = self.tenant.bot_ids[user.id]
        body["is_enterprise_install"] = False
        return body

    def _user_view(self, token: TokenSpec, doc: dict[str, Any]) -> dict[str, Any]:
        """has_2fa is shown to admins and owners only; emails need users:read.email."""
        caller = self.tenant.token_users[token.token]
        show_2fa = token.kind == "user" and caller.admin
        show_email = "users:read.email" in token.scopes
        if show_2fa and show_email:
            return doc
        view = {k: v for k, v in doc.items() if show_2fa or k not in ("has_2fa", "two_factor_type")}
        if not show_email and "email" in doc["profile"]:
            view["profile"] = {k: v for k, v in doc["profile"].items() if k != "email"}
        return view

    def _users_list(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        ids = self.tenant.user_ids
        limit = _int(params, "limit", 0) or 0
        cursor = params.get("cursor")
        start = 0
        if cursor:
            start = self._cursor_index(ids, _decode_cursor(cursor, "user:"))
        if limit <= 0:
            if len(ids) - start > USERS_UNPAGED_MAX:
                raise SlackError("limit_required")
            limit = len(ids)
        end = min(len(ids), start + min(limit, USERS_MAX_LIMIT))
        members = [self._user_view(token, doc) for doc in self.tenant.users[start:end]]
        next_cursor = _encode_cursor(f"user:{ids[end]}") if end < len(ids) else ""
        return {
            "members": members,
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": next_cursor},
        }

    @staticmethod
    def _cursor_index(ids: list[str], user_id: str) -> int:
        index = bisect.bisect_left(ids, user_id)
        if index >= len(ids) or ids[index] != user_id:
            raise SlackError("invalid_cursor")
        return index

    def _usergroups_list(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        include_users, include_count = _flag(params, "include_users"), _flag(params, "include_count")
        include_disabled = _flag(params, "include_disabled")
        groups = []
        for group in self.tenant.usergroups:
            if group["date_delete"] and not include_disabled:
                continue
            view = {k: v for k, v in group.items() if k not in ("users", "user_count")}
            if include_count:
                view["user_count"] = group["user_count"]
            if include_users:
                view["users"] = group["users"]
            groups.append(view)
        return {"usergroups": groups}

    def _usergroups_users_list(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        group_id = params.get("usergroup")
        if not group_id:
            raise SlackError("invalid_arguments")
        index = self.tenant.usergroup_index.get(group_id)
        if index is None:
            raise SlackError("no_such_subteam")
        group = self.tenant.usergroups[index]
        if group["date_delete"] and not _flag(params, "include_disabled"):
            raise SlackError("no_such_subteam")
        return {"users": group["users"]}

    @staticmethod
    def _classic_paging(params: dict[str, str], total: int, default_count: int) -> tuple[int, int, dict[str, int]]:
        count = _int(params, "count", default_count) or default_count
        page = _int(params, "page", 1) or 1
        if count > CLASSIC_MAX_COUNT or page > CLASSIC_MAX_PAGE or count < 1 or page < 1:
            raise SlackError("over_pagination_limit")
        pages = max(1, math.ceil(total / count))
        return (page - 1) * count, count, {"count": count, "total": total, "page": page, "pages": pages}

    def _team_accessLogs(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        if token.kind == "bot":
            raise SlackError("not_allowed_token_type")
        if self.options.plan == "free":
            raise SlackError("paid_only")
        before = _int(params, "before", None)
        first = self.tenant.access_slice(before)
        total = len(self.tenant.access_logs) - first
        offset, count, paging = self._classic_paging(params, total, 100)
        start = first + offset
        return {"logins": self.tenant.access_logs[start : start + count], "paging": paging}

    def _files_list(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        files = self.tenant.files
        ts_to, ts_from = _int(params, "ts_to", None), _int(params, "ts_from", None)
        # files are newest first: bisect the created range, then apply the cheap filters.
        lo = 0 if ts_to is None else self._bisect_desc(self.tenant.file_created_desc, ts_to, right=False)
        hi = len(files) if ts_from is None else self._bisect_desc(self.tenant.file_created_desc, ts_from, right=True)
        selected = files[lo:hi]
        if self.tenant.forgotten_files:
            selected = [f for f in selected if f["id"] not in self.tenant.forgotten_files]
        user, channel = params.get("user"), params.get("channel")
        types = {t for t in (params.get("types") or "all").split(",") if t}
        if user:
            selected = [f for f in selected if f["user"] == user]
        if channel:
            selected = [f for f in selected if channel in f["channels"] + f["groups"] + f["ims"]]
        if types and "all" not in types:
            selected = [f for f in selected if _file_type_matches(f, types)]
        offset, count, paging = self._classic_paging(params, len(selected), 100)
        return {"files": selected[offset : offset + count], "paging": paging}

    def _admin_apps_approved_list(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        if token.kind == "bot":
            raise SlackError("not_allowed_token_type")
        if not self.tenant.enterprise_grid:
            raise SlackError("feature_not_enabled")
        enterprise_id = params.get("enterprise_id")
        if enterprise_id and enterprise_id != self.tenant.enterprise_id:
            raise SlackError("team_access_not_granted")
        limit = _int(params, "limit", 100)
        if limit is None or not 1 <= limit <= 1000:
            raise SlackError("invalid_limit")
        apps = self.tenant.approved_apps
        start = 0
        if params.get("cursor"):
            index = _decode_cursor(params["cursor"], "app:")
            if not index.isdigit() or int(index) >= len(apps):
                raise SlackError("invalid_cursor")
            start = int(index)
        end = min(len(apps), start + limit)
        next_cursor = _encode_cursor(f"app:{end}") if end < len(apps) else ""
        return {"approved_apps": apps[start:end], "response_metadata": {"next_cursor": next_cursor}}

    def _admin_apps_restricted_list(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        self._admin_only(token)
        limit = _int(params, "limit", 100)
        if limit is None or not 1 <= limit <= 1000:
            raise SlackError("invalid_limit")
        apps = self.tenant.restricted_apps
        start = 0
        if params.get("cursor"):
            index = _decode_cursor(params["cursor"], "restricted:")
            if not index.isdigit() or int(index) >= len(apps):
                raise SlackError("invalid_cursor")
            start = int(index)
        end = min(len(apps), start + limit)
        next_cursor = _encode_cursor(f"restricted:{end}") if end < len(apps) else ""
        return {"restricted_apps": apps[start:end], "response_metadata": {"next_cursor": next_cursor}}

    # ---- reads the governance plans use, and the write methods ---------------------------------

    def _target_user(self, params: dict[str, str], name: str = "user_id") -> dict[str, Any]:
        user_id = params.get(name)
        if not user_id:
            raise SlackError("invalid_arguments")
        doc = self.tenant.user_doc(user_id)
        if doc is None:
            raise SlackError("user_not_found")
        return doc

    def _admin_only(self, token: TokenSpec) -> None:
        """The Admin API: a user token of an org admin or owner, on Enterprise Grid only."""
        if token.kind == "bot":
            raise SlackError("not_allowed_token_type")
        if not self.tenant.enterprise_grid:
            raise SlackError("feature_not_enabled")
        if not self.tenant.token_users[token.token].admin:
            raise SlackError("not_an_admin")

    def _users_info(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        return {"user": self._user_view(token, self._target_user(params, "user"))}

    def _files_info(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        file = self.tenant.file_doc(params.get("file") or "")
        if file is None:
            raise SlackError("file_not_found")
        return {"file": file, "comments": [], "response_metadata": {"next_cursor": ""}}

    def _admin_users_session_reset(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        self._admin_only(token)
        doc = self._target_user(params)
        caller = self.tenant.token_users[token.token]
        if doc.get("is_bot"):
            raise SlackError("cannot_reset_bot")
        if doc.get("is_primary_owner") and not caller.primary_owner:
            raise SlackError("cannot_reset_primary_owner")
        rec = self.tenant.urec(doc["id"])
        if rec is not None:
            self.tenant.record_audit("user_session_reset_by_admin", caller, rec.index)
        return {}

    def _admin_users_setRegular(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        self._admin_only(token)
        team_id = params.get("team_id")
        if not team_id:
            raise SlackError("invalid_arguments")
        if team_id not in (self.tenant.team_id, self.tenant.enterprise_id):
            raise SlackError("team_not_found")
        org_level = team_id == self.tenant.enterprise_id
        doc = self._target_user(params)
        if doc.get("is_primary_owner"):
            raise SlackError("cannot_modify_primary_owner")
        enterprise = doc.get("enterprise_user") or {}
        if not org_level and (enterprise.get("is_admin") or enterprise.get("is_owner")):
            raise SlackError("cannot_set_org_admin_to_regular_at_workspace_level")
        flags = ("is_admin", "is_owner", "is_restricted", "is_ultra_restricted")
        changed = any(doc.get(flag) for flag in flags) or (
            org_level and bool(enterprise.get("is_admin") or enterprise.get("is_owner"))
        )
        if changed:
            self.tenant.set_regular(doc["id"], org_level=org_level)
            rec = self.tenant.urec(doc["id"])
            if rec is not None:
                self.tenant.record_audit("role_change_to_user", self.tenant.token_users[token.token], rec.index)
        return {}

    def _files_revokePublicURL(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        if token.kind == "user" and self.tenant.token_users[token.token].guest:
            raise SlackError("user_is_restricted")
        file = self.tenant.file_doc(params.get("file") or "")
        if file is None:
            raise SlackError("file_not_found")
        if file.get("public_url_shared"):
            file["public_url_shared"] = False
            file["updated"] = int(time.time())
            index = next(k for k, f in enumerate(self.tenant.files) if f is file)
            self.tenant.record_audit("file_public_link_revoked", self.tenant.token_users[token.token], index)
        return {"file": file}

    def _admin_apps_restrict(self, token: TokenSpec, params: dict[str, str]) -> dict[str, Any]:
        self._admin_only(token)
        team_id, enterprise_id = params.get("team_id"), params.get("enterprise_id")
        if bool(team_id) == bool(enterprise_id):
            raise SlackError("invalid_arguments")  # exactly one of them, the page says
        if team_id and team_id != self.tenant.team_id:
            raise SlackError("team_access_not_granted")
        if enterprise_id and enterprise_id != self.tenant.enterprise_id:
            raise SlackError("team_access_not_granted")
        app_id = params.get("app_id")
        if not app_id:
            raise SlackError("invalid_request_id" if params.get("request_id") else "invalid_arguments")
        index = self.tenant.app_index(app_id)
        if index is None:
            raise SlackError("invalid_app_id")
        caller = self.tenant.token_users[token.token]
        if self.tenant.restrict_app(app_id, caller):
            self.tenant.record_audit("app_restricted", caller, index)
        return {}

    # ---- SCIM API ----------------------------------------------------------------------------

    @staticmethod
    def _scim_error(description: str, status: int) -> Response:
        return json_response({"Errors": {"description": description, "code": status}}, status)

    def _scim_view(self, request: Request, doc: dict[str, Any]) -> dict[str, Any]:
        profile = doc.get("profile") or {}
        location = f"{self.base_url(request.scope)}/scim/v1/Users/{doc['id']}"
        view: dict[str, Any] = {
            "schemas": [SCIM_USER_SCHEMA],
            "id": doc["id"],
            "externalId": "",
            "meta": {"created": "", "location": location},
            "userName": doc.get("name"),
            "nickName": doc.get("name"),
            "name": {"givenName": profile.get("first_name", ""), "familyName": profile.get("last_name", "")},
            "displayName": profile.get("display_name", ""),
            "title": profile.get("title", ""),
            "timezone": doc.get("tz"),
            "active": not doc.get("deleted"),
            "emails": [{"value": profile["email"], "primary": True}] if profile.get("email") else [],
            "groups": [],
        }
        return view

    async def _scim_user(self, request: Request) -> Response:
        value = bearer_token(request.headers.get("authorization", ""))
        if not value:
            return self._scim_error("missing_authentication", 401)
        token = self.tokens.get(value)
        if token is None:
            return self._scim_error("invalid_authentication", 401)
        if token.kind == "bot" or "admin" not in token.scopes:
            return self._scim_error("permission_denied", 403)
        if not self.tenant.enterprise_grid and self.options.plan != "business_plus":
            return self._scim_error("feature_not_enabled", 403)
        doc = self.tenant.user_doc(request.path_params["user_id"])
        if doc is None or doc.get("is_bot") or doc["id"] == "USLACKBOT":
            return self._scim_error("user_not_found", 404)
        caller = self.tenant.token_users[token.token]
        rec = self.tenant.urec(doc["id"])
        if request.method == "DELETE":
            if doc.get("is_primary_owner"):
                return self._scim_error("cannot_disable_primary_owner", 403)
            if not doc.get("deleted"):
                self.tenant.set_deleted(doc["id"], True)
                if rec is not None:
                    self.tenant.record_audit("user_deactivated", caller, rec.index)
            return Response(status_code=200)
        if request.method == "PATCH":
            try:
                body = orjson.loads(await request.body() or b"{}")
            except orjson.JSONDecodeError:
                return self._scim_error("invalid_json", 400)
            if not isinstance(body, dict) or not isinstance(body.get("active", True), bool):
                return self._scim_error("bad_request", 400)
            if body.get("active") is True and doc.get("deleted"):
                self.tenant.set_deleted(doc["id"], False)
                if rec is not None:
                    self.tenant.record_audit("user_reactivated", caller, rec.index)
            elif body.get("active") is False and not doc.get("deleted"):
                if doc.get("is_primary_owner"):
                    return self._scim_error("cannot_disable_primary_owner", 403)
                self.tenant.set_deleted(doc["id"], True)
                if rec is not None:
                    self.tenant.record_audit("user_deactivated", caller, rec.index)
        return json_response(self._scim_view(request, doc))

    # ---- forget (tests: an object deleted behind saaslens' back) -----------------------------

    def forget(self, kind: str, object_id: str) -> dict[str, Any]:
        tenant = self.tenant
        if kind == "account":
            tenant.forget_user(object_id)
        elif kind == "privilege":
            user_id, _, role = object_id.partition("/")
            doc = tenant.user_doc(user_id)
            flag = {"admin": "is_admin", "owner": "is_owner", "primary_owner": "is_primary_owner"}.get(role)
            if doc is None or flag is None or not doc.get(flag):
                raise ValueError(f"no privilege {object_id!r}")
            doc[flag] = False
        elif kind == "app_grant":
            app_id = object_id.rpartition(":")[2]
            kept = [a for a in tenant.approved_apps if a["app"]["id"] != app_id]
            if len(kept) == len(tenant.approved_apps):
                raise ValueError(f"no approved app {object_id!r}")
            tenant.approved_apps = kept
        elif kind == "file":
            if tenant.file_doc(object_id) is None:
                raise ValueError(f"no file {object_id!r}")
            # Kept in place (audit entries name files by position), but gone from every answer.
            tenant.forgotten_files.add(object_id)
        elif kind == "file_share":
            file_id, _, share_id = object_id.partition("/")
            file = tenant.file_doc(file_id)
            if file is None:
                raise ValueError(f"no file {file_id!r}")
            if share_id == "public_url":
                file["public_url_shared"] = False
            else:
                for key in ("channels", "groups", "ims"):
                    file[key] = [c for c in file[key] if c != share_id]
                for entries in (file.get("shares") or {}).values():
                    entries.pop(share_id, None)
        else:
            raise ValueError(f"the slack personality cannot forget {kind!r} objects")
        return {"forgotten": {"kind": kind, "id": object_id}}

    @staticmethod
    def _bisect_desc(negated: list[int], bound: int, *, right: bool) -> int:
        return (bisect.bisect_right if right else bisect.bisect_left)(negated, -bound)

    # ---- Audit Logs API ---------------------------------------------------------------------

    def _audit_error(self, code: str, status: int, **extra: Any) -> Response:
        return json_response({"ok": False, "error": code, **extra}, status)

    async def _audit_actions(self, request: Request) -> Response:
        groups: dict[str, list[str]] = {}
        for kind in AUDIT_KINDS:
            group = {"self": "user", "user": "user", "workspace": "workspace_or_org"}.get(kind.entity, kind.entity)
            groups.setdefault(group, []).append(kind.action)
        return json_response({"actions": groups})

    async def _audit_logs(self, request: Request) -> Response:
        params = dict(request.query_params)
        header = request.headers.get("authorization", "")
        value = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not value:
            return self._audit_error("not_authed", 401)
        token = self.tokens.get(value)
        if token is None:
            return self._audit_error("invalid_auth", 401)
        if token.kind == "bot":
            return self._audit_error("not_allowed_token_type", 403)
        if not self.tenant.enterprise_grid:
            return self._audit_error("feature_not_enabled", 403)
        if "auditlogs:read" not in token.scopes:
            return self._audit_error("missing_scope", 403, needed="auditlogs:read", provided=",".join(token.scopes))
        try:
            return json_response(self._audit_page(params))
        except SlackError as exc:
            return self._audit_error(exc.code, 400)

    def _audit_page(self, params: dict[str, str]) -> dict[str, Any]:
        tenant = self.tenant
        oldest, latest = _int(params, "oldest", None), _int(params, "latest", None)
        limit = _int(params, "limit", AUDIT_DEFAULT_LIMIT)
        if limit is None or not 1 <= limit <= AUDIT_MAX_LIMIT:
            raise SlackError("invalid_arguments")
        if oldest is not None and latest is not None and oldest > latest:
            raise SlackError("invalid_range")
        action, actor, entity = params.get("action"), params.get("actor"), params.get("entity")
        if action and action not in AUDIT_ACTIONS:
            raise SlackError("invalid_action")
        lo, hi = tenant.audit_bounds(oldest, latest)
        position = hi - 1  # newest first: walk indexes downwards
        if params.get("cursor"):
            index_text, _, check = _decode_cursor(params["cursor"], "audit:").partition(":")
            if not index_text.isdigit() or int(index_text) >= tenant.audit_count:
                raise SlackError("invalid_cursor")
            if tenant.audit_id(int(index_text))[:8] != check:
                raise SlackError("invalid_cursor")
            position = min(position, int(index_text))
        entries: list[dict[str, Any]] = []
        while position >= lo and len(entries) < limit:
            entry = tenant.render_audit(position)
            position -= 1
            if action and entry["action"] != action:
                continue
            if actor and entry["actor"]["user"]["id"] != actor:
                continue
            if entity and (entry["entity"].get(entry["entity"]["type"]) or {}).get("id") != entity:
                continue
            entries.append(entry)
        next_cursor = ""
        if position >= lo:
            next_cursor = _encode_cursor(f"audit:{position}:{tenant.audit_id(position)[:8]}")
        return {"entries": entries, "response_metadata": {"next_cursor": next_cursor}}


def _file_type_matches(file: dict[str, Any], types: set[str]) -> bool:
    """files.list `types`: spaces, snippets, images, gdocs, zips, pdfs."""
    kind = {
        "png": "images",
        "gif": "images",
        "jpg": "images",
        "zip": "zips",
        "pdf": "pdfs",
        "text": "snippets",
    }.get(file["filetype"])
    if file.get("external_type") == "gdrive":
        kind = "gdocs"
    return kind in types
