"""The Dropbox personality: the Dropbox Business (team) API of one generated team.

Mounted at ``/dropbox/{tenant}``: RPC endpoints at ``{tenant}/2/<namespace>/<route>`` (as at
``https://api.dropboxapi.com/2/...``) and the token endpoint at ``{tenant}/oauth2/token`` (as at
``https://api.dropboxapi.com/oauth2/token``).

Behaviour emulated, from Dropbox's documentation and its Stone definitions (team.stone, team_log.stone,
sharing.stone, auth.stone in dropbox/dropbox-api-spec, the copies in shared/api-specs/dropbox):

* RPC endpoints are POSTs with a JSON body and a JSON answer; a route whose argument is Void takes
  no body or ``null`` (https://www.dropbox.com/developers/documentation/http/documentation,
  "Request and response formats"). Route names with a version are served as ``<route>_v2``
  (``members/list:2`` at ``/2/team/members/list_v2``).
* OAuth 2.0 with refresh tokens (https://developers.dropbox.com/oauth-guide,
  https://www.dropbox.com/developers/documentation/http/documentation#oauth2-token): a team-scoped
  app posts ``grant_type=refresh_token`` with its refresh token and its app key and secret (HTTP
  basic or ``client_id`` / ``client_secret`` in the form) and gets ``{"access_token", "token_type":
  "bearer", "expires_in": 14400}``; a bad refresh token is 400 ``invalid_grant``, a bad app key or
  secret 400 ``invalid_client``. The scopes are those the admin granted when linking the app
  (https://developers.dropbox.com/oauth-guide#dropbox-api-permissions).
* Errors (https://www.dropbox.com/developers/documentation/http/documentation#error-handling,
  https://developers.dropbox.com/error-handling-guide): 400 bad input as plain text; 401 with an
  auth.AuthError body (``invalid_access_token``, ``expired_access_token``, ``missing_scope`` with
  ``required_scope``, ``invalid_select_user``); 409 for the route's own error union,
  ``{"error_summary": "<tag>/..", "error": {".tag": <tag>, ...}}``; 429 with ``Retry-After``
  (seconds) and an auth.RateLimitError body (``reason`` too_many_requests); 5xx as plain text.
* Rate limits are per team for team endpoints and per team member for user endpoints
  (https://www.dropbox.com/developers/reference/data-ingress-guide); Dropbox publishes no numbers
  and sends no remaining-budget headers. The sandbox allows 1,000 calls a minute per bucket (an
  assumption, scaled by the tenant's rate-limit config).
* Team endpoints, each as team.stone / team_log.stone define it: ``team/token/get_authenticated_admin``
  (team_info.read), ``team/members/list_v2`` and ``/continue_v2`` (members.read; ``limit`` 1-1000;
  removed members only with ``include_removed``), ``team/members/get_info_v2`` (members.read;
  ``id_not_found`` items), ``team/groups/list`` and ``/continue``, ``team/groups/members/list`` and
  ``/continue`` (groups.read; 409 ``group_not_found``), ``team/linked_apps/list_members_linked_apps``
  (sessions.list; the cursor goes back to the same route), ``team_log/get_events`` and
  ``/continue`` (events.read; ``limit`` 1-1000, ``time`` range, ``category`` filter, not both
  ``category`` and ``event_type``: ``invalid_filters``). Audit events carry no id and are "not
  guaranteed to be sorted by their timestamp"; a page "may return no events, even with has_more set
  to true" (GetTeamEventsArg.limit): every third continuation page here is such an empty page.
* User endpoints with ``Dropbox-API-Select-User: <team_member_id>``
  (https://www.dropbox.com/developers/documentation/http/teams): ``sharing/list_shared_links``
  (sharing.read, team_data.member; the cursor goes back to the same route), and
  ``sharing/revoke_shared_link`` (sharing.write; 409 ``shared_link_not_found``). A team token on a
  user endpoint without the header is refused with Dropbox's 400 text; an unknown member is 401
  ``invalid_select_user``.
* Writes: ``team/members/suspend`` (members.write; ``user_not_found``, ``suspend_inactive_user`` for a
  member not active, ``suspend_last_admin``), ``team/members/unsuspend`` (``user_not_found``,
  ``unsuspend_non_suspended_member``); each change writes the audit event Dropbox records for it
  (member_change_status, shared_link_disable) with the app as the actor.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
import starlette.routing
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from saaslens_sandbox.core import Personality, Scope, TenantOptions, TenantSpec, json_response, server_start_time
from saaslens_sandbox.dropbox import generator
from saaslens_sandbox.kit.auth import bearer_token, oauth_error_body
from saaslens_sandbox.kit.faults import TokenLifetime
from saaslens_sandbox.kit.paging import PagingStyle, b64url, unb64url
from saaslens_sandbox.kit.ratelimit import retry_after_seconds

ALL_SCOPES = (
    "team_info.read",
    "members.read",
    "members.write",
    "groups.read",
    "events.read",
    "sessions.list",
    "team_data.member",
    "sharing.read",
    "sharing.write",
)
# Refresh tokens every tenant hands out: name -> the scopes the admin granted when linking the app.
DEFAULT_TOKENS: dict[str, tuple[str, ...]] = {
    "scanner": tuple(s for s in ALL_SCOPES if not s.endswith(".write")),
    "actions": ALL_SCOPES,
    "no-events": tuple(s for s in ALL_SCOPES if s not in ("events.read",) and not s.endswith(".write")),
    "members-only": ("team_info.read", "members.read"),
}
ACCESS_TOKEN_SECONDS = 14400  # "expires_in": 14400 in Dropbox's token responses (four hours)
EMPTY_PAGE_EVERY = 3


class DropboxOptions(TenantOptions):
    events: int = Field(default=300, ge=0)
    """Audit events over the 30 days before the anchor."""


class DropboxError(Exception):
    """A route's error answered as Dropbox does: 409 with the route's error union, or 401 AuthError."""

    def __init__(self, tag: str, status: int = 409, **fields: Any) -> None:
        super().__init__(tag)
        self.tag, self.status, self.fields = tag, status, fields

    def response(self) -> Response:
        return json_response(
            {"error_summary": f"{self.tag}/..", "error": {".tag": self.tag, **self.fields}}, self.status
        )


class BadInput(Exception):
    """Dropbox's 400: a plain-text message naming the route and what is wrong."""

    def __init__(self, route: str, message: str) -> None:
        super().__init__(f'Error in call to API function "{route}": {message}')


def _text(message: str, status: int) -> Response:
    return Response(message.encode(), status_code=status, media_type="text/plain; charset=utf-8")


class DropboxPersonality(Personality):
    app = "dropbox"
    # team/members/list_v2 answers `members`, `cursor` and `has_more`; the cursor goes back in the body
    # of a POST to team/members/list/continue_v2
    # (https://www.dropbox.com/developers/documentation/http/teams#team-members-list-continue).
    # Dropbox sends no rate-limit headers, only Retry-After (https://developers.dropbox.com/error-handling-guide).
    paging: ClassVar[PagingStyle] = PagingStyle(
        "body_cursor",
        accounts_listing=r"/2/team/members/list(?:_v2|/continue_v2)",
        items="members",
        cursor_field="cursor",
        cursor_body_field="cursor",
        more_field="has_more",
        id_field="profile.team_member_id",
        text_field="profile.name.display_name",
        far_reset_header="retry_after",
    )

    def __init__(self, spec: TenantSpec, base_url_prefix: str) -> None:
        super().__init__(spec, base_url_prefix)
        self.options = DropboxOptions.model_validate(spec.options)
        anchor = self.options.anchor or server_start_time()
        self.team = generator.generate(spec.seed, spec.users, self.options.events, anchor, spec.name)
        self._rng = random.Random(f"dropbox-live:{spec.seed}")
        self._data_lock = threading.Lock()
        self.client_id = f"sandbox-dropbox-{spec.name}-key"
        self.client_secret = f"sandbox-dropbox-{spec.name}-secret"
        self.refresh_tokens = {f"sandbox-dropbox-{spec.name}-{name}": scopes for name, scopes in DEFAULT_TOKENS.items()}
        self._access: dict[str, tuple[tuple[str, ...], float]] = {}  # access token -> (scopes, issued at)
        self._lifetime = TokenLifetime()
        self._issued = 0

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        DropboxOptions.model_validate(options)

    def routes(self) -> list[starlette.routing.BaseRoute]:
        return [
            Route("/oauth2/token", self._token_endpoint, methods=["POST"]),
            Route("/2/{route:path}", self._rpc, methods=["POST"]),
        ]

    def ground_truth(self) -> dict[str, Any]:
        with self._data_lock:
            team = self.team
            return orjson.loads(
                orjson.dumps(
                    {
                        "team": {"team_id": team.team_id, "name": team.name, "admin_id": team.admin_id},
                        "members": team.members,
                        "groups": team.groups,
                        "group_members": team.group_members,
                        "linked_apps": team.linked_apps,
                        "shared_links": team.shared_links,
                        "events": team.events,
                        "credentials": {
                            "client_id": self.client_id,
                            "client_secret": self.client_secret,
                            "refresh_tokens": {
                                name: {"token": token, "scopes": list(scopes)}
                                for name, (token, scopes) in zip(
                                    DEFAULT_TOKENS, self.refresh_tokens.items(), strict=True
                                )
                            },
                        },
                    }
                )
            )

    # ---- provider hooks ---------------------------------------------------------------------

    def rate_limit_bucket(self, method: str, path: str) -> str | None:
        if path.startswith("/oauth2/"):
            return "oauth2"
        return "user" if path.startswith("/2/sharing/") else "team"

    def rate_limit_per_minute(self, bucket: str) -> int:
        return 1000

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> list[tuple[str, str]]:
        return []  # Dropbox sends no remaining-budget headers

    def too_many_requests(self, scope: Scope, limit: int, reset_epoch: int) -> Response:
        retry = retry_after_seconds(reset_epoch, minimum=1)
        body = {
            "error_summary": "too_many_requests/..",
            "error": {"reason": {".tag": "too_many_requests"}, "retry_after": retry},
        }
        return json_response(body, 429, [("Retry-After", str(retry))])

    def server_error(self, scope: Scope, status: int) -> Response:
        return _text("An error occurred on the Dropbox servers. Check status.dropbox.com for announcements.", status)

    # ---- OAuth 2.0 -------------------------------------------------------------------------

    async def _token_endpoint(self, request: Request) -> Response:
        form = dict(await request.form())
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                client_id, _, client_secret = base64.b64decode(basic[6:].strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id = client_secret = None
        if form.get("grant_type") != "refresh_token":
            return json_response(oauth_error_body("unsupported_grant_type", "grant_type must be refresh_token"), 400)
        if client_id != self.client_id or client_secret != self.client_secret:
            return json_response(oauth_error_body("invalid_client", "Invalid client_id or client_secret"), 400)
        scopes = self.refresh_tokens.get(str(form.get("refresh_token") or ""))
        if scopes is None:
            return json_response(oauth_error_body("invalid_grant", "refresh token is invalid or revoked"), 400)
        with self._data_lock:
            self._issued += 1
            token = f"sl.sandbox-{self.spec.name}-{self._issued}-{self._rng.getrandbits(64):x}"
            now = time.time()
            self._access[token] = (scopes, now)
        self._lifetime.issued(token, now)
        return json_response({"access_token": token, "token_type": "bearer", "expires_in": ACCESS_TOKEN_SECONDS})

    def _scopes(self, request: Request) -> tuple[str, ...]:
        token = bearer_token(request.headers.get("authorization", ""))
        found = self._access.get(token or "")
        if token is None or found is None:
            raise DropboxError("invalid_access_token", 401)
        scopes, issued = found
        if self._lifetime.expired(self.faults, token, issued):
            self.note_fault("token_expired")
            raise DropboxError("expired_access_token", 401)
        return scopes

    @staticmethod
    def _require(scopes: tuple[str, ...], scope: str) -> None:
        if scope not in scopes:
            raise DropboxError("missing_scope", 401, required_scope=scope)

    # ---- dispatch --------------------------------------------------------------------------

    async def _rpc(self, request: Request) -> Response:
        route = request.path_params["route"]
        handler = ROUTES.get(route)
        if handler is None:
            return _text(f"Unknown API function: {route!r}", 404)
        try:
            scopes = self._scopes(request)
            raw = await request.body()
            try:
                args = orjson.loads(raw) if raw.strip() else None
            except orjson.JSONDecodeError:
                raise BadInput(route, "request body: could not decode input as JSON") from None
            if args is not None and not isinstance(args, dict):
                raise BadInput(route, "request body: expected an object")
            member = None
            if route.startswith("sharing/"):
                member = self._selected_user(request, route, scopes)
            result = handler(self, route, scopes, args or {}, member)
        except DropboxError as exc:
            return exc.response()
        except BadInput as exc:
            return _text(str(exc), 400)
        return json_response(result)

    def _selected_user(self, request: Request, route: str, scopes: tuple[str, ...]) -> dict[str, Any]:
        selected = request.headers.get("dropbox-api-select-user")
        if not selected:
            raise BadInput(
                route,
                "This API function operates on a single Dropbox account, but the OAuth 2 access token you "
                "provided is for an entire Dropbox Business team. Since your API app key has team member file "
                "access permissions, you can operate on a team member's Dropbox by providing the \"Dropbox-API-"
                'Select-User" HTTP header or "select_user" URL parameter.',
            )
        self._require(scopes, "team_data.member")
        member = self._member(selected)
        if member is None or member["profile"]["status"][".tag"] == "removed":
            raise DropboxError("invalid_select_user", 401)
        return member

    def _member(self, member_id: str) -> dict[str, Any] | None:
        return next((m for m in self.team.members if m["profile"]["team_member_id"] == member_id), None)

    # ---- cursors ---------------------------------------------------------------------------

    def _cursor(self, listing: str, **state: Any) -> str:
        return b64url(orjson.dumps({"l": listing, "t": self.spec.name, **state}))

    def _read_cursor(self, route: str, args: dict[str, Any], listing: str) -> dict[str, Any]:
        cursor = args.get("cursor")
        if not isinstance(cursor, str):
            raise BadInput(route, "request body: missing required field 'cursor'")
        try:
            state = orjson.loads(unb64url(cursor))
        except (ValueError, orjson.JSONDecodeError):
            state = None
        if not isinstance(state, dict) or state.get("l") != listing or state.get("t") != self.spec.name:
            raise DropboxError("invalid_cursor" if listing != "events" else "bad_cursor")
        return state

    @staticmethod
    def _limit(route: str, args: dict[str, Any], maximum: int = 1000) -> int:
        limit = args.get("limit", maximum)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= maximum:
            raise BadInput(route, f"request body: limit: {limit!r} is not within range [1, {maximum}]")
        return limit

    # ---- team routes -----------------------------------------------------------------------

    def _get_authenticated_admin(self, route: str, scopes: tuple[str, ...], args: dict[str, Any], _: Any) -> Any:
        self._require(scopes, "team_info.read")
        admin = self._member(self.team.admin_id)
        assert admin is not None
        return {"admin_profile": admin["profile"]}

    def _members_list(self, route: str, scopes: tuple[str, ...], args: dict[str, Any], _: Any) -> Any:
        self._require(scopes, "members.read")
        if route.endswith("continue_v2"):
            state = self._read_cursor(route, args, "members")
        else:
            state = {"o": 0, "n": self._limit(route, args), "r": bool(args.get("include_removed", False))}
        with self._data_lock:
            members = [m for m in self.team.members if state["r"] or m["profile"]["status"][".tag"] != "removed"]
        offset, limit = int(state["o"]), int(state["n"])
        page = members[offset : offset + limit]
        more = offset + limit < len(members)
        return {
            "members": page,
            "cursor": self._cursor("members", o=offset + limit, n=limit, r=state["r"]),
            "has_more": more,
        }

    def _members_get_info(self, route: str, scopes: tuple[str, ...], args: dict[str, Any], _: Any) -> Any:
        self._require(scopes, "members.read")
        found = []
        for selector in args.get("members") or []:
            tag = selector.get(".tag") if isinstance(selector, dict) else None
            value = selector.get(tag) if tag else None
            member = None
            with self._data_lock:
                for candidate in self.team.members:
                    profile = candidate["profile"]
                    key = {
                        "team_member_id": profile["team_member_id"],
                        "email": profile["email"],
                        "external_id": profile.get("external_id"),
                    }
                    if tag in key and key[tag] == value:
                        member = candidate
            if member is None:
                found.append({".tag": "id_not_found", "id_not_found": str(value)})
            else:
                found.append({".tag": "member_info", **member})
        return {"members_info": found}

    def _groups_list(self, route: str, scopes: tuple[str, ...], args: dict[str, Any], _: Any) -> Any:
        self._require(scopes, "groups.read")
        state = (
            self._read_cursor(route, args, "groups")
            if route.endswith("continue")
            else {"o": 0, "n": self._limit(route, args)}
        )
        offset, limit = int(state["o"]), int(state["n"])
        groups = self.team.groups
        return {
            "groups": groups[offset : offset + limit],
            "cursor": self._cursor("groups", o=offset + limit, n=limit),
            "has_more": offset + limit < len(groups),
        }

    def _group_members(self, route: str, scopes: tuple[str, ...], args: dict[str, Any], _: Any) -> Any:
        self._require(scopes, "groups.read")
        if route.endswith("continue"):
            state = self._read_cursor(route, args, "group_members")
        else:
            selector = args.get("group") or {}
            tag = selector.get(".tag") if isinstance(selector, dict) else None
            value = selector.get(tag) if tag else None
            key = "group_id" if tag == "group_id" else "group_external_id"
            group = next((g for g in self.team.groups if tag and g.get(key) == value), None)
            if group is None:
                raise DropboxError("group_not_found")
            state = {"g": group["group_id"], "o": 0, "n": self._limit(route, args)}
        entries = self.team.group_members.get(state["g"], [])
        offset, limit = int(state["o"]), int(state["n"])
        return {
            "members": entries[offset : offset + limit],
            "cursor": self._cursor("group_members", g=state["g"], o=offset + limit, n=limit),
            "has_more": offset + limit < len(entries),
        }

    def _linked_apps(self, route: str, scopes: tuple[str, ...], args: dict[str, Any], _: Any) -> Any:
        self._require(scopes, "sessions.list")
        # Dropbox chooses the page size of this route; a page holds up to 100 members' apps.
        offset = int(self._read_cursor(route, args, "apps")["o"]) if args.get("cursor") is not None else 0
        apps = self.team.linked_apps
        page = apps[offset : offset + 100]
        body: dict[str, Any] = {"apps": page, "has_more": offset + 100 < len(apps)}
        if body["has_more"]:
            body["cursor"] = self._cursor("apps", o=offset + 100)
        return body

    def _get_events(self, route: str, scopes: tuple[str, ...], args: dict[str, Any], _: Any) -> Any:
        self._require(scopes, "events.read")
        if route.endswith("continue"):
            state = self._read_cursor(route, args, "events")
        else:
            limit = self._limit(route, args)
            if args.get("category") is not None and args.get("event_type") is not None:
                raise DropboxError("invalid_filters")
            window = args.get("time") or {}
            start, end = window.get("start_time"), window.get("end_time")
            if start and end and start > end:
                raise DropboxError("invalid_time_range")
            category = (
                (args.get("category") or {}).get(".tag")
                if isinstance(args.get("category"), dict)
                else args.get("category")
            )
            state = {"s": start, "e": end, "c": category, "o": 0, "n": limit, "p": 0}
        with self._data_lock:
            matching = [
                event
                for event in self.team.events
                if (state["s"] is None or event["timestamp"] >= state["s"])
                and (state["e"] is None or event["timestamp"] < state["e"])
                and (state["c"] is None or event["event_category"][".tag"] == state["c"])
            ]
        offset, limit, number = int(state["o"]), int(state["n"]), int(state["p"]) + 1
        more = offset < len(matching)
        if route.endswith("continue") and number % EMPTY_PAGE_EVERY == 0 and more:
            # "may even return no events, even with has_more set to true": the caller must go on.
            return {"events": [], "cursor": self._cursor("events", **{**state, "p": number}), "has_more": True}
        page = matching[offset : offset + limit]
        # "events are not guaranteed to be sorted by their timestamp value"
        page = page[1::2] + page[::2]
        following = {**state, "o": offset + len(page), "p": number}
        return {
            "events": page,
            "cursor": self._cursor("events", **following),
            "has_more": offset + len(page) < len(matching),
        }

    # ---- writes ----------------------------------------------------------------------------

    def _selected_member(self, route: str, args: dict[str, Any]) -> dict[str, Any]:
        selector = args.get("user")
        tag = selector.get(".tag") if isinstance(selector, dict) else None
        if tag not in ("team_member_id", "email", "external_id"):
            raise BadInput(route, "request body: user: missing or unknown selector")
        value = selector[tag]
        for member in self.team.members:
            profile = member["profile"]
            if profile["status"][".tag"] != "removed" and profile.get(tag) == value:
                return member
        raise DropboxError("user_not_found")

    def _status_event(self, member: dict[str, Any], previous: str, new: str) -> None:
        event = generator.event(
            "member_change_status",
            datetime.now(UTC),
            member,
            rng=self._rng,
            team=self.team,
            details={"previous_value": {".tag": previous}, "new_value": {".tag": new}},
        )
        event["actor"] = {
            ".tag": "app",
            "app": {".tag": "team_linked_app", "app_id": "dbaid:saaslens-sandbox", "display_name": "saaslens"},
        }
        self.team.events.append(event)

    def _suspend(self, route: str, scopes: tuple[str, ...], args: dict[str, Any], _: Any) -> Any:
        self._require(scopes, "members.write")
        with self._data_lock:
            member = self._selected_member(route, args)
            profile = member["profile"]
            if profile["status"][".tag"] != "active":
                raise DropboxError("suspend_inactive_user")
            admins = [
                m
                for m in self.team.members
                if m["profile"]["status"][".tag"] == "active"
                and any(r["name"] == "Team admin" for r in m.get("roles") or [])
            ]
            if admins == [member]:
                raise DropboxError("suspend_last_admin")
            profile["status"] = {".tag": "suspended"}
            profile["suspended_on"] = generator.ts(datetime.now(UTC))
            self._status_event(member, "active", "suspended")
        return None

    def _unsuspend(self, route: str, scopes: tuple[str, ...], args: dict[str, Any], _: Any) -> Any:
        self._require(scopes, "members.write")
        with self._data_lock:
            member = self._selected_member(route, args)
            profile = member["profile"]
            if profile["status"][".tag"] != "suspended":
                raise DropboxError("unsuspend_non_suspended_member")
            profile["status"] = {".tag": "active"}
            profile.pop("suspended_on", None)
            self._status_event(member, "suspended", "active")
        return None

    # ---- user routes (Dropbox-API-Select-User) -----------------------------------------------

    def _list_shared_links(self, route: str, scopes: tuple[str, ...], args: dict[str, Any], member: Any) -> Any:
        self._require(scopes, "sharing.read")
        member_id = member["profile"]["team_member_id"]
        offset = int(self._read_cursor(route, args, f"links:{member_id}")["o"]) if args.get("cursor") is not None else 0
        with self._data_lock:
            links = list(self.team.shared_links.get(member_id, []))
        page = links[offset : offset + 50]  # Dropbox chooses this route's page size
        body: dict[str, Any] = {"links": page, "has_more": offset + 50 < len(links)}
        if body["has_more"]:
            body["cursor"] = self._cursor(f"links:{member_id}", o=offset + 50)
        return body

    def _revoke_shared_link(self, route: str, scopes: tuple[str, ...], args: dict[str, Any], member: Any) -> Any:
        self._require(scopes, "sharing.write")
        url = args.get("url")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise DropboxError("shared_link_malformed")
        member_id = member["profile"]["team_member_id"]
        with self._data_lock:
            links = self.team.shared_links.get(member_id, [])
            link = next((item for item in links if item["url"] == url), None)
            if link is None:
                owned_elsewhere = any(item["url"] == url for items in self.team.shared_links.values() for item in items)
                raise DropboxError("shared_link_access_denied" if owned_elsewhere else "shared_link_not_found")
            links.remove(link)
            event = generator.event(
                "shared_link_disable",
                datetime.now(UTC),
                member,
                rng=self._rng,
                team=self.team,
                details={"shared_link_owner": generator.user_log_info(member)},
            )
            self.team.events.append(event)
        return None

    def forget(self, kind: str, object_id: str) -> dict[str, Any]:
        with self._data_lock:
            if kind == "account":
                member = self._member(object_id)
                if member is None:
                    raise ValueError(f"no member {object_id!r}")
                self.team.members.remove(member)
                return {"forgot": object_id}
            if kind == "file_share":
                owner, _, url = object_id.partition("/")
                links = self.team.shared_links.get(owner, [])
                kept = [link for link in links if link["url"] != url]
                if len(kept) == len(links):
                    raise ValueError(f"no shared link {url!r} of {owner!r}")
                self.team.shared_links[owner] = kept
                return {"forgot": object_id}
        raise ValueError(f"the dropbox personality cannot forget {kind!r} objects")


ROUTES = {
    "team/token/get_authenticated_admin": DropboxPersonality._get_authenticated_admin,
    "team/members/list_v2": DropboxPersonality._members_list,
    "team/members/list/continue_v2": DropboxPersonality._members_list,
    "team/members/get_info_v2": DropboxPersonality._members_get_info,
    "team/groups/list": DropboxPersonality._groups_list,
    "team/groups/list/continue": DropboxPersonality._groups_list,
    "team/groups/members/list": DropboxPersonality._group_members,
    "team/groups/members/list/continue": DropboxPersonality._group_members,
    "team/linked_apps/list_members_linked_apps": DropboxPersonality._linked_apps,
    "team_log/get_events": DropboxPersonality._get_events,
    "team_log/get_events/continue": DropboxPersonality._get_events,
    "team/members/suspend": DropboxPersonality._suspend,
    "team/members/unsuspend": DropboxPersonality._unsuspend,
    "sharing/list_shared_links": DropboxPersonality._list_shared_links,
    "sharing/revoke_shared_link": DropboxPersonality._revoke_shared_link,
}
