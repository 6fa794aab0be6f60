"""The Box personality: a generated enterprise behind Box's Platform API (api.box.com/2.0) and its
token endpoint (api.box.com/oauth2/token).

Built from Box's OpenAPI description (``shared/api-specs/box/openapi.json``, read by the contract
test, never copied here) and Box's documentation. Facts relied on, with sources:

* Auth: Client Credentials Grant, ``POST /oauth2/token`` with ``grant_type=client_credentials``,
  ``client_id``, ``client_secret``, ``box_subject_type=enterprise`` and ``box_subject_id=<enterprise
  id>`` for the app's Service Account (``box_subject_type=user`` for a user, which needs "Generate
  user access tokens"): https://developer.box.com/guides/authentication/client-credentials/ .
  Token answer ``{access_token, expires_in, restricted_to: [], token_type: "bearer"}``; refusals as
  OAuth errors: ``invalid_client`` "The client credentials are invalid", ``invalid_grant`` "Grant
  credentials are invalid" (a wrong subject id), ``unauthorized_client`` 'The "box_subject_type"
  value is unauthorized for this client_id'
  (https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/, and the answers
  quoted in support.box.com community posts 4410731918355 and 7814447391763).
* An invalid or expired access token: ``401`` with an empty body and ``WWW-Authenticate: Bearer
  realm="Service", error="invalid_token", error_description="The access token provided is invalid."``
  (as recorded in box/box-node-sdk#157). A token without the scope an endpoint needs: ``403``
  ``insufficient_scope`` (ClientError's code enum) with ``error="insufficient_scope"`` in the challenge.
* Errors: ``{"type": "error", "status", "code", "message", "help_url", "request_id"}`` (ClientError,
  https://developer.box.com/reference/resources/client-error/).
* Rate limits: about 1,000 API requests per minute per user; over it ``429`` with ``retry-after``
  (seconds) and ``{"type": "error", "status": 429, "code": "rate_limit_exceeded", "message":
  "Request rate limit exceeded, please try again later", ...}``; Box sends no remaining-budget
  headers: https://developer.box.com/guides/api-calls/permissions-and-errors/rate-limits/ .
* Paging: offset/limit with ``total_count`` (groups, memberships: ``limit`` max 1,000, ``offset``
  above 10,000 refused with 400), or marker based with ``usemarker=true`` / ``marker`` /
  ``next_marker`` (users, folder items, collaborations; ``next_marker`` null on the last page):
  https://developer.box.com/guides/api-calls/pagination/ and the spec's parameters.
* ``fields``: the response holds ``type``, ``id`` (and ``etag`` for items) plus the fields asked for,
  none of the standard ones (https://developer.box.com/guides/api-calls/fields/).
* ``As-User: <user id>``: an admin's or a service account's request made as that managed user (the
  only way to list another user's folders): https://developer.box.com/guides/authentication/jwt/as-user/ .
* Events: ``GET /events`` with ``stream_type=admin_logs`` (history up to a year, ``created_after`` /
  ``created_before``, chronological, no duplicates) or ``admin_logs_streaming`` (two weeks, no date
  filters, "may return events more than once and out of chronological order"); ``limit`` default 100,
  max 500; ``stream_position`` ``0`` / absent for the start, ``now`` for the end; ``chunk_size`` and
  ``next_stream_position`` in the answer; fewer than ``limit`` events may come back while more
  remain. Admin or co-admin, app scope "Manage enterprise properties":
  https://developer.box.com/guides/events/enterprise-events/for-enterprise/ ,
  https://developer.box.com/guides/events/enterprise-events/migrate-to-stream/ ,
  https://developer.box.com/reference/get-events/ .
* Writes: ``PUT /users/{id}`` with ``{"status": "inactive"}`` (and back to ``active``), "Manage users"
  (https://developer.box.com/reference/put-users-id/); ``PUT /files/{id}`` with ``{"shared_link":
  null}`` removes a file's shared link, "Read and write all files and folders"
  (https://developer.box.com/guides/shared-links/remove/). Both answer the updated object; setting
  what is already set is a 200 (a PUT).

* Contents: ``GET /files/{id}/content`` answers ``302`` to a download URL on ``dl.boxcloud.com`` that
  needs no token (https://developer.box.com/reference/get-files-id-content/); contents.py says how the
  sandbox serves it.

Sandbox choices where Box publishes nothing: the Service Account is not in ``GET /users``; the
primary admin cannot be made inactive (403 ``access_denied_insufficient_permissions``); an
``As-User`` naming nobody in the enterprise is 403 ``access_denied_insufficient_permissions``;
which event writes cause (``EDIT_USER``, ``UNSHARE``) follows the enterprise events list.
"""

from __future__ import annotations

import bisect
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from saaslens_sandbox.box.generator import (
    MANAGE_ENTERPRISE,
    MANAGE_GROUPS,
    MANAGE_USERS,
    READ_ALL,
    STREAM_BASE,
    WRITE_ALL,
    BoxSandboxOptions,
    BoxTenant,
    ClientSpec,
    iso,
)
from saaslens_sandbox.core import Personality, Scope, TenantSpec, json_response, request_origin, server_start_time
from saaslens_sandbox.kit.auth import bearer_token, challenge, oauth_error_body
from saaslens_sandbox.kit.faults import TokenLifetime
from saaslens_sandbox.kit.paging import PagingStyle
from saaslens_sandbox.kit.ratelimit import retry_after_seconds

HELP_URL = "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/"
DOWNLOAD_GRANT_SECONDS = 60  # a dl.boxcloud.com URL "is not persistent"; the sandbox's lasts a minute
API_PER_MINUTE = 1000  # "approximately 1000 API calls/minute" per user (rate-limits page)
MAX_LIMIT = 1000
MAX_OFFSET = 10_000
EVENTS_DEFAULT_LIMIT, EVENTS_MAX_LIMIT = 100, 500
STREAMING_RETENTION = timedelta(days=14)
READ_SCOPES = frozenset({READ_ALL, WRITE_ALL})
ITEM_STANDARD = ("type", "id", "etag", "sequence_id", "name", "sha1", "file_version")
USER_STANDARD = (
    "type",
    "id",
    "name",
    "login",
    "created_at",
    "modified_at",
    "language",
    "timezone",
    "space_amount",
    "space_used",
    "max_upload_size",
    "status",
    "job_title",
    "phone",
    "address",
    "avatar_url",
    "notification_email",
)


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class BoxError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or []


class BoxPersonality(Personality):
    app = "box"
    # Marker paging of users (https://developer.box.com/guides/api-calls/pagination/marker-based/).
    paging: ClassVar[PagingStyle] = PagingStyle(
        "body_cursor",
        accounts_listing=r"/2\.0/users",
        items="entries",
        cursor_field="next_marker",
        cursor_param="marker",
        text_field="name",
        far_reset_header="retry_after",
    )

    def __init__(self, spec: TenantSpec, base_url_prefix: str) -> None:
        super().__init__(spec, base_url_prefix)
        self.options = BoxSandboxOptions.model_validate(spec.options)
        anchor = self.options.anchor or server_start_time()
        self.tenant = BoxTenant(name=spec.name, seed=spec.seed, users=spec.users, options=self.options, anchor=anchor)
        self.clients: dict[str, ClientSpec] = {c.client_id: c for c in self.tenant.clients}
        self._tokens: dict[str, tuple[str, float, float]] = {}  # token -> (client id, issued, expires)
        self._token_lifetime = TokenLifetime()
        self._event_stamps: list[float] = []
        self._index_events()
        self._downloads: dict[str, tuple[str, float]] = {}  # download grant -> (file id, expires)
        self.download_log: list[dict[str, Any]] = []

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        BoxSandboxOptions.model_validate(options)

    def _index_events(self) -> None:
        self._event_stamps = [parse_time(e["created_at"]).timestamp() for e in self.tenant.events]

    # ---- framework hooks --------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/oauth2/token", self._token, methods=["POST"]),
            Route("/2.0/users/me", self._me, methods=["GET"]),
            Route("/2.0/users", self._users, methods=["GET"]),
            Route("/2.0/users/{user_id}", self._user, methods=["GET", "PUT"]),
            Route("/2.0/groups", self._groups, methods=["GET"]),
            Route("/2.0/groups/{group_id}/memberships", self._memberships, methods=["GET"]),
            Route("/2.0/events", self._events, methods=["GET"]),
            Route("/2.0/folders/{folder_id}/items", self._folder_items, methods=["GET"]),
            Route("/2.0/folders/{folder_id}/collaborations", self._collaborations, methods=["GET"]),
            Route("/2.0/files/{file_id}/collaborations", self._collaborations, methods=["GET"]),
            Route("/2.0/files/{file_id}/content", self._file_content, methods=["GET"]),
            Route("/2.0/files/{file_id}", self._file, methods=["GET", "PUT"]),
            Route("/_boxcloud/d/1/{grant}/download", self._download, methods=["GET"]),
            Route("/{rest:path}", self._not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        ]

    def ground_truth(self) -> dict[str, Any]:
        t = self.tenant
        base = (self.origin or "http://127.0.0.1:8765") + self.base_url_prefix
        return {
            "seed": self.spec.seed,
            "anchor": t.anchor.isoformat(),
            "base_url": base,
            "enterprise": t.enterprise,
            "users": [dict(u) for u in t.user_docs],
            "service_accounts": {cid: dict(doc) for cid, doc in t.service_accounts.items()},
            "groups": [dict(g) for g in t.groups],
            "memberships": [dict(m) for m in t.memberships],
            "folders": [dict(f) for f in t.folders],
            "files": [dict(t.contents.materialize(f)) for f in t.files],
            "collaborations": [dict(c) for c in t.collaborations],
            "events": [dict(e) for e in t.events],
            "stream_base": STREAM_BASE,
            "dlp": t.contents.dlp_truth(t.files),
            "credentials": {
                "token_url": f"{base}/oauth2/token",
                "enterprise_id": t.enterprise["id"],
                "clients": [c.model_dump() for c in t.clients],
            },
            "counts": {
                "users": len(t.user_docs),
                "groups": len(t.groups),
                "memberships": len(t.memberships),
                "files": len(t.files),
                "collaborations": len(t.collaborations),
                "events": len(t.events),
            },
        }

    def forget(self, kind: str, object_id: str) -> dict[str, Any]:
        t = self.tenant
        if kind == "account":
            user = next((u for u in t.user_docs if u["id"] == object_id), None)
            if user is None:
                raise ValueError(f"no user {object_id!r}")
            t.user_docs.remove(user)
            t.memberships = [m for m in t.memberships if m["user"]["id"] != object_id]
        elif kind == "file":
            file = t.file(object_id)
            if file is None:
                raise ValueError(f"no file {object_id!r}")
            t.files.remove(file)
        elif kind == "file_share":
            file_id, _, share = object_id.partition("/")
            file = t.file(file_id)
            if file is None or (share == "shared_link" and file["shared_link"] is None):
                raise ValueError(f"no file share {object_id!r}")
            if share == "shared_link":
                file["shared_link"] = None
            else:
                before = len(t.collaborations)
                t.collaborations = [c for c in t.collaborations if c["id"] != share]
                if len(t.collaborations) == before:
                    raise ValueError(f"no file share {object_id!r}")
        else:
            raise ValueError(f"the box personality cannot forget {kind!r} objects (account, file, file_share)")
        return {"kind": kind, "id": object_id, "forgotten": True}

    def rate_limit_bucket(self, method: str, path: str) -> str | None:
        if path.startswith("/_boxcloud/"):
            return None  # the download host is not the API: its URLs are not counted against it
        return "token" if path.rstrip("/") == "/oauth2/token" else "api"

    def rate_limit_per_minute(self, bucket: str) -> int:
        return API_PER_MINUTE

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> list[tuple[str, str]]:
        return []  # Box announces no budget; only retry-after on a 429

    def too_many_requests(self, scope: Scope, limit: int, reset_epoch: int) -> Response:
        body = self._error_body(429, "rate_limit_exceeded", "Request rate limit exceeded, please try again later")
        return json_response(body, 429, [("retry-after", str(retry_after_seconds(reset_epoch)))])

    def server_error(self, scope: Scope, status: int) -> Response:
        code, message = (
            ("internal_server_error", "Internal Server Error") if status == 500 else ("unavailable", "Unavailable")
        )
        return json_response(self._error_body(status, code, message), status)

    # ---- errors and auth --------------------------------------------------------------------

    @staticmethod
    def _error_body(status: int, code: str, message: str) -> dict[str, Any]:
        return {
            "type": "error",
            "status": status,
            "code": code,
            "help_url": HELP_URL,
            "message": message,
            "request_id": secrets.token_hex(6),
        }

    def _error(self, exc: BoxError) -> Response:
        if exc.status == 401:
            return Response(b"", 401, headers=dict(exc.headers))
        return json_response(self._error_body(exc.status, exc.code, exc.message), exc.status, exc.headers)

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str)}
        grant = data.get("grant_type")
        if grant != "client_credentials":
            return json_response(
                oauth_error_body("unsupported_grant_type", "Grant type is not supported by this client_id"), 400
            )
        client = self.clients.get(data.get("client_id", ""))
        if client is None or not secrets.compare_digest(client.client_secret, data.get("client_secret", "")):
            return json_response(oauth_error_body("invalid_client", "The client credentials are invalid"), 400)
        subject_type, subject_id = data.get("box_subject_type"), data.get("box_subject_id")
        if subject_type not in ("enterprise", "user"):
            message = 'The "box_subject_type" value is unauthorized for this client_id'
            return json_response(oauth_error_body("unauthorized_client", message), 400)
        if subject_type != "enterprise" or subject_id != self.tenant.enterprise["id"]:
            # user subjects need "Generate user access tokens", which the sandbox's apps do not have
            return json_response(oauth_error_body("invalid_grant", "Grant credentials are invalid"), 400)
        token = secrets.token_urlsafe(24)
        issued = time.time()
        ttl = self.options.access_token_ttl_seconds
        self._tokens[token] = (client.client_id, issued, issued + ttl)
        self._token_lifetime.issued(token, issued)
        return json_response({"access_token": token, "expires_in": ttl, "restricted_to": [], "token_type": "bearer"})

    def _client(self, request: Request, *scopes: str) -> tuple[ClientSpec, dict[str, Any]]:
        """The app behind the bearer token and its service account; BoxError when refused.
        `scopes`: any one of them is enough."""
        invalid = [
            challenge(realm="Service", error="invalid_token", error_description="The access token provided is invalid.")
        ]
        token = bearer_token(request.headers.get("authorization", ""))
        found = self._tokens.get(token or "")
        if token is None or found is None:
            raise BoxError(401, "unauthorized", "Unauthorized", invalid)
        client_id, issued, expires = found
        if time.time() >= expires or self._token_lifetime.expired(self.faults, token, issued):
            if time.time() < expires:
                self.note_fault("token_expired")
            raise BoxError(401, "unauthorized", "Unauthorized", invalid)
        client = self.clients[client_id]
        if scopes and not set(scopes) & set(client.scopes):
            raise BoxError(
                403,
                "insufficient_scope",
                "The request requires higher privileges than provided by the access token.",
                [
                    challenge(
                        realm="Service",
                        error="insufficient_scope",
                        error_description="The request requires higher privileges than provided by the access token.",
                    )
                ],
            )
        return client, self.tenant.service_accounts[client_id]

    @staticmethod
    def _fields(request: Request) -> list[str] | None:
        raw = request.query_params.get("fields")
        return [f.strip() for f in raw.split(",") if f.strip()] if raw else None

    @staticmethod
    def _view(doc: dict[str, Any], fields: list[str] | None, standard: tuple[str, ...] | None = None) -> dict[str, Any]:
        if fields is None:
            return {k: doc[k] for k in standard if k in doc} if standard else dict(doc)
        keep = ["type", "id", *(["etag"] if doc.get("type") in ("file", "folder") else []), *fields]
        return {k: doc[k] for k in dict.fromkeys(keep) if k in doc}

    @staticmethod
    def _limit(request: Request, default: int, maximum: int) -> int:
        raw = request.query_params.get("limit")
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BoxError(400, "bad_request", f"Invalid value '{raw}' for query parameter 'limit'") from None
        if value < 1:
            raise BoxError(400, "bad_request", f"Invalid value '{raw}' for query parameter 'limit'")
        return min(value, maximum)

    def _offset_page(self, request: Request, items: list[dict[str, Any]], default: int = 100) -> dict[str, Any]:
        limit = self._limit(request, default, MAX_LIMIT)
        try:
            offset = int(request.query_params.get("offset", "0"))
        except ValueError:
            raise BoxError(400, "bad_request", "Invalid value for query parameter 'offset'") from None
        if offset < 0 or offset > MAX_OFFSET:
            raise BoxError(400, "bad_request", "Queries with offset parameter value exceeding 10000 will be rejected")
        if self.faults.large_pages:
            limit = MAX_LIMIT
        return {
            "total_count": len(items),
            "limit": limit,
            "offset": offset,
            "order": [{"by": "id", "direction": "ASC"}],
            "entries": items[offset : offset + limit],
        }

    def _marker_page(self, request: Request, items: list[dict[str, Any]], default: int = 100) -> dict[str, Any]:
        """Marker paging: the marker is opaque to the client (the sandbox's is the next index, base64)."""
        limit = self._limit(request, default, MAX_LIMIT)
        if self.faults.large_pages:
            limit = MAX_LIMIT
        marker = request.query_params.get("marker")
        start = 0
        if marker:
            try:
                start = int(bytes.fromhex(marker).decode())
            except ValueError:
                raise BoxError(400, "bad_request", "Invalid value for query parameter 'marker'") from None
        end = start + limit
        following = end < len(items)
        return {
            "limit": limit,
            "next_marker": str(end).encode().hex() if following else None,
            "entries": items[start:end],
        }

    async def _not_found(self, request: Request) -> Response:
        return self._error(BoxError(404, "not_found", "Not Found"))

    # ---- users and groups ---------------------------------------------------------------------

    async def _me(self, request: Request) -> Response:
        try:
            _, account = self._client(request)
        except BoxError as exc:
            return self._error(exc)
        return json_response(self._view(account, self._fields(request), USER_STANDARD))

    async def _users(self, request: Request) -> Response:
        try:
            self._client(request, MANAGE_USERS)
            users = self.tenant.user_docs
            user_type = request.query_params.get("user_type", "all")
            term = (request.query_params.get("filter_term") or "").lower()
            if term:
                users = [u for u in users if u["name"].lower().startswith(term) or u["login"].lower().startswith(term)]
            if user_type == "external":
                users = []
            fields = self._fields(request)
            if request.query_params.get("usemarker") in ("true", "1"):
                page = self._marker_page(request, users)
            else:
                page = self._offset_page(request, users)
            page["entries"] = [self._view(u, fields, USER_STANDARD) for u in page["entries"]]
        except BoxError as exc:
            return self._error(exc)
        return json_response(page)

    async def _user(self, request: Request) -> Response:
        try:
            _, account = self._client(request, MANAGE_USERS)
            user = self.tenant.user(request.path_params["user_id"])
            if user is None:
                raise BoxError(404, "not_found", "Not Found")
            if request.method == "PUT":
                self._update_user(request, user, account, await self._json(request))
        except BoxError as exc:
            return self._error(exc)
        return json_response(self._view(user, self._fields(request), USER_STANDARD))

    @staticmethod
    async def _json(request: Request) -> dict[str, Any]:
        try:
            body = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            raise BoxError(400, "bad_request", "Invalid JSON body") from None
        if not isinstance(body, dict):
            raise BoxError(400, "bad_request", "Invalid JSON body")
        return body

    def _update_user(self, request: Request, user: dict[str, Any], actor: dict[str, Any], body: dict[str, Any]) -> None:
        status = body.get("status")
        if set(body) - {"status"} or status not in (
            "active",
            "inactive",
            "cannot_delete_edit",
            "cannot_delete_edit_upload",
        ):
            raise BoxError(400, "bad_request", "Bad Request")
        if user["role"] == "admin" and status != "active":
            raise BoxError(403, "access_denied_insufficient_permissions", "Access denied - insufficient permission")
        if user["status"] == status:
            return
        now = datetime.now(UTC)
        user["status"] = status
        user["modified_at"] = iso(now)
        source = {"type": "user", "id": user["id"], "name": user["name"], "login": user["login"]}
        event = self.tenant.append_event("EDIT_USER", actor, source, now)
        event["additional_details"] = {"status": status}
        self._index_events()

    async def _groups(self, request: Request) -> Response:
        try:
            self._client(request, MANAGE_GROUPS)
            fields = self._fields(request)
            page = self._offset_page(request, self.tenant.groups)
            standard = ("type", "id", "name", "group_type")
            page["entries"] = [self._view(g, fields, standard) for g in page["entries"]]
        except BoxError as exc:
            return self._error(exc)
        return json_response(page)

    async def _memberships(self, request: Request) -> Response:
        try:
            self._client(request, MANAGE_GROUPS)
            group_id = request.path_params["group_id"]
            if not any(g["id"] == group_id for g in self.tenant.groups):
                raise BoxError(404, "not_found", "Not Found")
            members = [m for m in self.tenant.memberships if m["group"]["id"] == group_id]
            page = self._offset_page(request, members)
        except BoxError as exc:
            return self._error(exc)
        return json_response(page)

    # ---- events -------------------------------------------------------------------------------

    async def _events(self, request: Request) -> Response:
        try:
            self._client(request, MANAGE_ENTERPRISE)
            body = self._event_page(request)
        except BoxError as exc:
            return self._error(exc)
        return json_response(body)

    def _position_json(self, position: int) -> int | str:
        return position if self.options.stream_position_json == "number" else str(position)

    def _event_page(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        stream = q.get("stream_type", "all")
        limit = self._limit(request, EVENTS_DEFAULT_LIMIT, EVENTS_MAX_LIMIT)
        events = self.tenant.events
        if stream not in ("admin_logs", "admin_logs_streaming"):
            # the user streams of the service account, which does nothing in the sandbox
            return {"chunk_size": 0, "next_stream_position": self._position_json(STREAM_BASE), "entries": []}
        raw = q.get("stream_position")
        end = len(events)
        if raw in (None, "", "0", "null"):
            start = 0
        elif raw == "now":
            return {"chunk_size": 0, "next_stream_position": self._position_json(STREAM_BASE + end), "entries": []}
        else:
            try:
                start = max(0, int(raw) - STREAM_BASE)
            except ValueError:
                raise BoxError(
                    400, "bad_request", f"Invalid value '{raw}' for query parameter 'stream_position'"
                ) from None
        lo, hi = 0, end
        if stream == "admin_logs":
            try:
                after, before = q.get("created_after"), q.get("created_before")
                if after:
                    lo = bisect.bisect_left(self._event_stamps, parse_time(after).timestamp())
                if before:
                    hi = bisect.bisect_right(self._event_stamps, parse_time(before).timestamp())
            except ValueError:
                raise BoxError(400, "bad_request", "Invalid value for created_after or created_before") from None
        else:
            oldest = (datetime.now(UTC) - STREAMING_RETENTION).timestamp()
            lo = bisect.bisect_left(self._event_stamps, oldest)
            # at least once: the streaming feed may hand out again the event before the position
            if start > lo and (start * 2654435761) % 5 == 0:
                start -= 1
        wanted = {t.strip() for t in (q.get("event_type") or "").split(",") if t.strip()}
        chosen: list[dict[str, Any]] = []
        index = max(start, lo)
        while index < hi and len(chosen) < limit:
            event = events[index]
            index += 1
            if not wanted or event["event_type"] in wanted:
                chosen.append(event)
        following = STREAM_BASE + index if chosen else STREAM_BASE + max(start, lo)
        return {"chunk_size": len(chosen), "next_stream_position": self._position_json(following), "entries": chosen}

    # ---- folders, files, collaborations ------------------------------------------------------

    def _as_user(self, request: Request, account: dict[str, Any]) -> dict[str, Any]:
        header = request.headers.get("as-user")
        if header is None:
            return account
        user = next((u for u in self.tenant.user_docs if u["id"] == header.strip()), None)
        if user is None or account["role"] not in ("admin", "coadmin"):
            raise BoxError(403, "access_denied_insufficient_permissions", "Access denied - insufficient permission")
        return user

    async def _folder_items(self, request: Request) -> Response:
        try:
            _, account = self._client(request, *READ_SCOPES)
            who = self._as_user(request, account)
            folder_id = request.path_params["folder_id"]
            t = self.tenant
            if folder_id == "0":
                folders = [f for f in t.folders if f["owned_by"]["id"] == who["id"]]
                files = [f for f in t.files if f["owned_by"]["id"] == who["id"] and f["parent"]["id"] == "0"]
            else:
                folder = t.folder(folder_id)
                if folder is None or folder["owned_by"]["id"] != who["id"]:
                    raise BoxError(404, "not_found", "Not Found")
                folders = []
                files = [f for f in t.files if f["parent"]["id"] == folder_id]
            files = [t.contents.materialize(f) for f in files]
            items = [self._with_collaborations(x) for x in [*folders, *files]]
            fields = self._fields(request)
            if request.query_params.get("usemarker") in ("true", "1"):
                page = self._marker_page(request, items)
            else:
                page = self._offset_page(request, items)
            page["entries"] = [self._view(x, fields, ITEM_STANDARD) for x in page["entries"]]
        except BoxError as exc:
            return self._error(exc)
        return json_response(page)

    def _with_collaborations(self, item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "has_collaborations": bool(self.tenant.item_collaborations(item["type"], item["id"]))}

    async def _collaborations(self, request: Request) -> Response:
        try:
            _, account = self._client(request, *READ_SCOPES)
            self._as_user(request, account)
            if "file_id" in request.path_params:
                kind, item_id = "file", request.path_params["file_id"]
                found = self.tenant.file(item_id)
            else:
                kind, item_id = "folder", request.path_params["folder_id"]
                found = self.tenant.folder(item_id)
            if found is None:
                raise BoxError(404, "not_found", "Not Found")
            # "The field is null when the collaboration status is pending" (Collaboration `item`).
            listed = [
                {**c, "item": None} if c["status"] == "pending" else c
                for c in self.tenant.item_collaborations(kind, item_id)
            ]
            page = self._marker_page(request, listed)
            fields = self._fields(request)
            page["entries"] = [self._view(c, fields) for c in page["entries"]]
        except BoxError as exc:
            return self._error(exc)
        return json_response(page)

    async def _file(self, request: Request) -> Response:
        try:
            scopes = (WRITE_ALL,) if request.method == "PUT" else tuple(READ_SCOPES)
            _, account = self._client(request, *scopes)
            self._as_user(request, account)
            file = self.tenant.file(request.path_params["file_id"])
            if file is None:
                raise BoxError(404, "not_found", "Not Found")
            if request.method == "PUT":
                body = await self._json(request)
                if set(body) != {"shared_link"} or body["shared_link"] is not None:
                    raise BoxError(400, "bad_request", "Bad Request")
                if file["shared_link"] is not None:
                    now = datetime.now(UTC)
                    file["shared_link"] = None
                    file["modified_at"] = iso(now)
                    source = {
                        "item_type": "file",
                        "item_id": file["id"],
                        "item_name": file["name"],
                        "parent": {"type": "folder", "id": file["parent"]["id"], "name": file["parent"]["name"]},
                        "owned_by": file["owned_by"],
                    }
                    self.tenant.append_event("UNSHARE", account, source, now)
                    self._index_events()
            view = self._view(self._with_collaborations(file), self._fields(request))
        except BoxError as exc:
            return self._error(exc)
        return json_response(view)

    # ---- file contents -------------------------------------------------------------------------

    def _can_read(self, who: dict[str, Any], file: dict[str, Any]) -> bool:
        """The owner, or a user collaborating on the file or the folder holding it (directly)."""
        if file["owned_by"]["id"] == who["id"]:
            return True
        places = {("file", file["id"]), ("folder", file["parent"]["id"])}
        return any(
            (c.get("accessible_by") or {}).get("id") == who["id"] and (c["item"]["type"], c["item"]["id"]) in places
            for c in self.tenant.collaborations
        )

    def _download_origin(self, scope: Scope) -> str:
        """dl.boxcloud.com's stand-in: the other loopback name of this server, a distinct origin."""
        origin = urlsplit(request_origin(scope))
        host, port = origin.hostname or "127.0.0.1", f":{origin.port}" if origin.port else ""
        other = "127.0.0.1" if host == "localhost" else "localhost"
        return f"{origin.scheme}://{other}{port}"

    async def _file_content(self, request: Request) -> Response:
        """GET /files/{id}/content: 302 to a download URL that carries its own grant."""
        try:
            _, account = self._client(request, *READ_SCOPES)
            who = self._as_user(request, account)
            file = self.tenant.file(request.path_params["file_id"])
            if file is None or not self._can_read(who, file):
                raise BoxError(404, "not_found", "Not Found")
        except BoxError as exc:
            return self._error(exc)
        grant = "b1!" + secrets.token_urlsafe(32)
        self._downloads[grant] = (file["id"], time.time() + DOWNLOAD_GRANT_SECONDS)
        location = f"{self._download_origin(request.scope)}{self.base_url_prefix}/_boxcloud/d/1/{grant}/download"
        return Response(status_code=302, headers={"Location": location})

    async def _download(self, request: Request) -> Response:
        grant = request.path_params["grant"]
        self.download_log.append(
            {
                "authorization": "authorization" in request.headers,
                "as_user": "as-user" in request.headers,
                "host": request.headers.get("host"),
            }
        )
        found = self._downloads.get(grant)
        if found is None or time.time() >= found[1]:
            return self._error(BoxError(403, "forbidden", "Forbidden"))
        file = self.tenant.file(found[0])
        if file is None:
            return self._error(BoxError(404, "not_found", "Not Found"))
        document = self.tenant.contents.document(self.tenant.contents.materialize(file))
        body = document.content()
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(len(body))}
        return Response(body, 200, headers=headers)
