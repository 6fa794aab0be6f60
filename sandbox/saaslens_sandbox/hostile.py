"""A hostile provider: the attacks an outside review made on saaslens, as a sandbox personality layer.

Every tenant's API can be turned hostile through ``PUT /_sandbox/{app}/{tenant}/hostile`` (or
:meth:`Personality.set_hostile`). The layer sits in front of the tenant's faithful personality and
rewrites what it answers for one listing endpoint in that provider's own paging style (Okta and
GitHub: a ``Link`` header; Google: ``nextPageToken``; Graph: ``@odata.nextLink``; Slack:
``response_metadata.next_cursor``; Dropbox: a ``cursor`` POSTed back in a JSON body), so each
attack reaches every connector the way a compromised or buggy provider (or anyone on the path to
it) would deliver it:

=======================  ======================================================================
attack                   what the listing answers
=======================  ======================================================================
``self_loop``            a next page that is the page just served, for ever
``redirect_off_origin``  ``302`` to ``redirect_to`` (another origin: credentials must not follow)
``redirect_same_origin`` ``307`` to the same URL with a marker (following it is fine)
``no_content``           ``204`` with no body
``empty_body``           ``200`` with an empty body
``null_body``            ``200`` with the JSON ``null``
``wrong_shape``          the page's items are not a list of objects (``shape`` says how)
``drip``                 the real page, one byte every ``drip_seconds``
``gzip_bomb``            ``Content-Encoding: gzip``, a small body inflating to ``bomb_megabytes``
``huge_page``            a valid page padded to ``huge_megabytes``
``far_reset``            the provider's own throttle answer, with its reset ``far_seconds`` ahead
``traversal_id``         the first item's id replaced by ``traversal_id`` (``../../x?y=``)
``secret_in_next_link``  the next link / cursor carries ``secret`` (as ``access_token=``)
``echo_secret``          the first item's display text contains ``secret``
``markup_text``          the first item's display text is terminal markup and escape sequences
``error_markup``         ``400`` whose error message is terminal markup and escape sequences
=======================  ======================================================================

Requests the layer itself caused (a marker it put into a next link or a redirect) are restored
before the personality sees them, so the tenant behind it stays faithful. Every request that
reaches the server, inside a tenant's path or not, is recorded by :class:`RequestLog`, so a test
can prove where credentials went.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import zlib
from collections import deque
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode

import orjson
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from saaslens_sandbox.core import Message, Personality, Receive, Scope, Send
    from saaslens_sandbox.kit.paging import PagingStyle


class Attack(StrEnum):
    SELF_LOOP = "self_loop"
    REDIRECT_OFF_ORIGIN = "redirect_off_origin"
    REDIRECT_SAME_ORIGIN = "redirect_same_origin"
    NO_CONTENT = "no_content"
    EMPTY_BODY = "empty_body"
    NULL_BODY = "null_body"
    WRONG_SHAPE = "wrong_shape"
    DRIP = "drip"
    GZIP_BOMB = "gzip_bomb"
    HUGE_PAGE = "huge_page"
    FAR_RESET = "far_reset"
    TRAVERSAL_ID = "traversal_id"
    SECRET_IN_NEXT_LINK = "secret_in_next_link"
    ECHO_SECRET = "echo_secret"
    MARKUP_TEXT = "markup_text"
    ERROR_MARKUP = "error_markup"


#: What ``markup_text`` puts into a provider's display text: rich markup that crashed the CLI
#: (``[/]`` closes a tag never opened), an ANSI colour escape, a cursor-moving CSI, and the
#: right-to-left override that reorders what a terminal shows.
MARKUP_TEXT = "[/] [bold]b[/bold] \x1b[31mred\x1b[0m \x1b[2J \u202eevil"
SELF_LOOP_CURSOR = "hostile-loop"
_SAME_ORIGIN_MARKER = "hostile_redirected"
_SECRET_SEPARATOR = "~"
_REQUEST_JSON = "saaslens.hostile.request_json"  # scope key: a POSTed request's JSON, read by the layer


class HostileConfig(BaseModel):
    """One attack on one tenant. ``path`` (a regex over the path below the tenant, full match)
    says which requests it applies to; by default the provider's accounts listing, or its group
    listing for ``traversal_id`` (whose ids the connector then puts into member-listing paths)."""

    model_config = ConfigDict(extra="forbid")

    attack: Attack
    path: str | None = None
    items: str | None = None
    """Where the attacked listing's records are (dotted path; "" for a body that is the list);
    by default the provider's accounts listing's."""
    text_field: str | None = None
    """Which display text ``echo_secret`` and ``markup_text`` replace (dotted path in a record)."""
    redirect_to: str = "http://127.0.0.1:9/elsewhere"
    shape: Literal["items_not_a_list", "item_not_an_object"] = "item_not_an_object"
    drip_seconds: float = Field(default=1.0, gt=0, le=60)
    bomb_megabytes: int = Field(default=400, ge=1, le=4096)
    huge_megabytes: int = Field(default=52, ge=1, le=1024)
    far_seconds: int = Field(default=10**9, ge=1)
    traversal_id: str = "../../x?y="
    secret: str = "hostile-secret-0123456789"
    secret_param: str = "access_token"
    fail_after: int = Field(default=0, ge=0)
    """After this many attacked answers, the listing answers a final 400 (0: never), so a scan
    stops part way with its checkpoints on disk, as a crash or a revoked grant would leave them."""


def paging_styles() -> dict[str, PagingStyle]:
    """app -> how that provider pages (each personality declares its own ``paging``)."""
    from saaslens_sandbox.core import APP_REGISTRY, personality_class

    styles = {app: personality_class(app).paging for app in APP_REGISTRY}
    return {app: style for app, style in styles.items() if style is not None}


@cache
def gzip_bomb(megabytes: int) -> bytes:
    """``megabytes`` MiB of JSON whitespace, gzip-compressed (about 1,000:1)."""
    chunk = b" " * (1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16 + window bits: gzip framing
    parts = [deflate.compress(chunk) for _ in range(megabytes)]
    parts.append(deflate.flush())
    return b"".join(parts)


class RequestLog:
    """Pure ASGI middleware that remembers every request reaching the server: method, the raw
    path and query as sent (before any decoding), and whether it carried a credential."""

    def __init__(self, app: Any, entries: deque[dict[str, Any]]) -> None:
        self.app = app
        self.entries = entries

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {name.lower() for name, _ in scope.get("headers") or ()}
            raw = scope.get("raw_path") or scope["path"].encode()
            query = scope.get("query_string") or b""
            self.entries.append(
                {
                    "method": scope["method"],
                    "raw_path": raw.decode("latin-1"),
                    "query": query.decode("latin-1"),
                    "credentialed": b"authorization" in headers or b"cookie" in headers,
                    "at": time.time(),
                }
            )
        await self.app(scope, receive, send)


def _dig(payload: Any, path: str | None) -> Any:
    if not path:
        return payload
    for part in path.split("."):
        if not isinstance(payload, dict):
            return None
        payload = payload.get(part)
    return payload


def _set(payload: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        payload = payload.setdefault(part, {})
    payload[last] = value


def _headers(scope_or_message: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    return list(scope_or_message.get("headers") or [])


class HostileApp:
    """The tenant's ASGI app behind the attack configured on its personality (if any)."""

    def __init__(self, inner: Any, personality: Personality) -> None:
        self.inner = inner
        self.p = personality
        self.style = personality.paging

    # -- entry -----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        config = self.p.hostile
        if scope["type"] != "http" or config is None or self.style is None:
            await self.inner(scope, receive, send)
            return
        redirected = _SAME_ORIGIN_MARKER.encode() in _raw_query(scope)
        scope = self._undo_own_markers(scope, config)
        if self.style.cursor_body_field and scope["method"] == "POST":
            scope, receive = await self._undo_body_markers(scope, receive, config)
        path = scope["path"]
        root = scope.get("root_path", "")
        rel = path[len(root) :] if root and path.startswith(root) else path
        if not re.fullmatch(self._target(config), rel):
            await self.inner(scope, receive, send)
            return
        made = self.p.count_hostile_answer()
        if config.fail_after and made > config.fail_after:
            body = orjson.dumps({"error": "hostile_stop", "message": "the hostile listing stops here"})
            await _answer(send, 400, body, [(b"content-type", b"application/json")])
            return
        await self._attack(config, scope, receive, send, redirected=redirected)

    def _target(self, config: HostileConfig) -> str:
        if config.path:
            return config.path
        assert self.style is not None
        if config.attack is Attack.TRAVERSAL_ID:
            if not self.style.group_listing:
                return r"(?!)"  # never matches: this provider has no such listing
            return self.style.group_listing
        return self.style.accounts_listing

    def _undo_own_markers(self, scope: Scope, config: HostileConfig) -> Scope:
        """Take out what this layer added to a URL (a redirect marker, a secret, a loop cursor)
        so the personality behind it answers the request the connector meant."""
        query = (scope.get("query_string") or b"").decode("latin-1")
        if not query:
            return scope
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = []
        for name, value in pairs:
            if name == _SAME_ORIGIN_MARKER:
                continue
            if name == config.secret_param and value == config.secret:
                continue
            if self.style and name == self.style.cursor_param:
                if value == SELF_LOOP_CURSOR:
                    continue
                if value.endswith(_SECRET_SEPARATOR + config.secret):
                    value = value[: -len(_SECRET_SEPARATOR + config.secret)]
            kept.append((name, value))
        if kept == pairs:
            return scope
        return {**scope, "query_string": urlencode(kept).encode("latin-1")}

    async def _undo_body_markers(self, scope: Scope, receive: Receive, config: HostileConfig) -> tuple[Scope, Receive]:
        """The same for a cursor POSTed in a JSON body (an RPC API's): the secret this layer appended
        is taken out. The request's JSON is kept in the scope, for a loop to repeat its cursor."""
        assert self.style is not None and self.style.cursor_body_field is not None
        chunks: list[bytes] = []
        ended: Message | None = None
        while True:
            message = await receive()
            if message["type"] != "http.request":
                ended = message  # the client hung up: replayed after the body
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            payload = orjson.loads(body) if body.strip() else None
        except orjson.JSONDecodeError:
            payload = None
        cursor = _dig(payload, self.style.cursor_body_field)
        suffix = _SECRET_SEPARATOR + config.secret
        if isinstance(payload, dict) and isinstance(cursor, str) and cursor.endswith(suffix):
            _set(payload, self.style.cursor_body_field, cursor[: -len(suffix)])
            body = orjson.dumps(payload)
        headers = [(k, v) for k, v in scope.get("headers") or () if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return ended if ended is not None else await receive()

        return {**scope, "headers": headers, _REQUEST_JSON: payload}, replay

    # -- attacks ---------------------------------------------------------------------------------

    async def _attack(
        self, config: HostileConfig, scope: Scope, receive: Receive, send: Send, *, redirected: bool
    ) -> None:
        attack = config.attack
        if attack is Attack.REDIRECT_OFF_ORIGIN:
            await _answer(send, 302, b"", [(b"location", config.redirect_to.encode())])
        elif attack is Attack.REDIRECT_SAME_ORIGIN and not redirected:
            marker = f"{_SAME_ORIGIN_MARKER}=1"
            query = _raw_query(scope).decode("latin-1")
            target = self._absolute(scope) + "?" + (f"{query}&{marker}" if query else marker)
            await _answer(send, 307, b"", [(b"location", target.encode())])
        elif attack is Attack.NO_CONTENT:
            await _answer(send, 204, b"", [])
        elif attack is Attack.EMPTY_BODY:
            await _answer(send, 200, b"", [(b"content-type", b"application/json")])
        elif attack is Attack.NULL_BODY:
            await _answer(send, 200, b"null", [(b"content-type", b"application/json")])
        elif attack is Attack.GZIP_BOMB:
            body = gzip_bomb(config.bomb_megabytes)
            headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]
            await _answer(send, 200, body, headers)
        elif attack is Attack.ERROR_MARKUP:
            body = orjson.dumps(self._error_body(MARKUP_TEXT))
            await _answer(send, 400, body, [(b"content-type", b"application/json")])
        elif attack is Attack.FAR_RESET:
            await self._far_reset(config, scope, receive, send)
        else:
            await self._rewrite(config, scope, receive, send)

    async def _far_reset(self, config: HostileConfig, scope: Scope, receive: Receive, send: Send) -> None:
        """The provider's own throttle answer (its body, its headers), due back in ~31 years."""
        reset = int(time.time()) + config.far_seconds
        response = self.p.too_many_requests(scope, 100, reset)
        status, body, headers = await _capture(response, scope, receive)
        extra = [(k.lower().encode(), v.encode()) for k, v in self.p.rate_limit_headers(100, 0, reset)]
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"] + extra
        if self.style is not None and self.style.far_reset_header == "retry_after":
            headers = [(k, v) for k, v in headers if k.lower() != b"retry-after"]
            headers.append((b"retry-after", str(config.far_seconds).encode()))
        await _answer(send, status, body, headers)

    async def _rewrite(self, config: HostileConfig, scope: Scope, receive: Receive, send: Send) -> None:
        status, body, headers = await _capture(self.inner, scope, receive)
        if status != 200:
            await _answer(send, status, body, [(k, v) for k, v in headers if k.lower() != b"content-length"])
            return
        payload = orjson.loads(body) if body else None
        attack = config.attack
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        if attack is Attack.SELF_LOOP:
            payload, headers = self._next(scope, payload, headers, loop=True, secret=None)
        elif attack is Attack.SECRET_IN_NEXT_LINK:
            payload, headers = self._next(scope, payload, headers, loop=False, secret=config)
        elif attack is Attack.WRONG_SHAPE:
            payload = self._wrong_shape(payload, config.shape)
        elif attack in (Attack.TRAVERSAL_ID, Attack.ECHO_SECRET, Attack.MARKUP_TEXT, Attack.HUGE_PAGE):
            payload = self._first_item(payload, config)
        body = orjson.dumps(payload)
        if attack is Attack.DRIP:
            await _drip(send, receive, status, body, headers, config.drip_seconds)
            return
        await _answer(send, status, body, headers)

    # -- payload rewriting -----------------------------------------------------------------------

    def _error_body(self, message: str) -> dict[str, Any]:
        """An error body with ``message`` wherever this provider puts its human-readable text."""
        if self.p.app == "slack":  # https://api.slack.com/web#evaluating_responses
            return {"ok": False, "error": message}
        return {
            "errorCode": "E0000001",  # Okta: https://developer.okta.com/docs/reference/error-codes/
            "errorSummary": message,
            "error": {"code": "BadRequest", "message": message},  # Graph, Google
            "message": message,  # GitHub
        }

    def _absolute(self, scope: Scope) -> str:
        from saaslens_sandbox.core import request_origin

        raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        return request_origin(scope) + raw.split("?", 1)[0]

    def _next(
        self,
        scope: Scope,
        payload: Any,
        headers: list[tuple[bytes, bytes]],
        *,
        loop: bool,
        secret: HostileConfig | None,
    ) -> tuple[Any, list[tuple[bytes, bytes]]]:
        style = self.style
        assert style is not None
        query = _raw_query(scope).decode("latin-1")
        here = self._absolute(scope) + (f"?{query}" if query else "")
        if style.kind == "link_header":
            links = [(k, v) for k, v in headers if k.lower() == b"link"]
            others = [(k, v) for k, v in headers if k.lower() != b"link"]
            if loop:
                return payload, [*others, (b"link", f'<{here}>; rel="next"'.encode())]
            assert secret is not None
            rewritten = []
            for name, value in links:
                text = value.decode("latin-1")
                text = re.sub(r'<([^>]*)>(\s*;\s*rel="next")', lambda m: f"<{_with_secret(m[1], secret)}>{m[2]}", text)
                rewritten.append((name, text.encode("latin-1")))
            return payload, others + rewritten
        if not isinstance(payload, dict) or style.cursor_field is None:
            return payload, headers
        current = _dig(payload, style.cursor_field)
        if style.kind == "next_url":
            if loop:
                payload[style.cursor_field] = here
            elif current:
                assert secret is not None
                payload[style.cursor_field] = _with_secret(str(current), secret)
            return payload, headers
        if loop and style.cursor_body_field:
            # A POSTed cursor cannot carry a marker the personality would not know: the next page
            # asked for is this very request again (its own cursor; the first page's real one).
            asked = _dig(scope.get(_REQUEST_JSON), style.cursor_body_field)
            if isinstance(asked, str):
                _set(payload, style.cursor_field, asked)
            if style.more_field:
                _set(payload, style.more_field, True)
        elif loop:
            _set(payload, style.cursor_field, SELF_LOOP_CURSOR)
        elif current:
            assert secret is not None
            _set(payload, style.cursor_field, f"{current}{_SECRET_SEPARATOR}{secret.secret}")
        return payload, headers

    def _items_path(self) -> str | None:
        assert self.style is not None
        config = self.p.hostile
        if config is not None and config.items is not None:
            return config.items or None
        if config is not None and config.attack is Attack.TRAVERSAL_ID:
            return self.style.group_items
        return self.style.items

    def _items(self, payload: Any) -> list[Any] | None:
        found = _dig(payload, self._items_path())
        return found if isinstance(found, list) else None

    def _wrong_shape(self, payload: Any, shape: str) -> Any:
        assert self.style is not None
        items = self._items(payload)
        if shape == "item_not_an_object":
            if items is not None:
                items[:1] = ["not an object"]
            return payload
        items_path = self._items_path()
        if items_path is None:  # the body is the list: answer an object instead
            return {"unexpected": "an object where a list of records belongs"}
        _set(payload, items_path, "a string where a list of records belongs")
        return payload

    def _first_item(self, payload: Any, config: HostileConfig) -> Any:
        assert self.style is not None
        items = self._items(payload)
        if not items or not isinstance(items[0], dict):
            return payload
        first = items[0]
        text_field = config.text_field or self.style.text_field
        if config.attack is Attack.TRAVERSAL_ID:
            first[self.style.id_field] = config.traversal_id
        elif config.attack is Attack.ECHO_SECRET:
            _set(first, text_field, f"echo {config.secret} echo")
        elif config.attack is Attack.MARKUP_TEXT:
            _set(first, text_field, MARKUP_TEXT)
        elif config.attack is Attack.HUGE_PAGE:
            first["hostile_padding"] = "x" * (config.huge_megabytes << 20)
        return payload


def _with_secret(url: str, config: HostileConfig) -> str:
    return f"{url}{'&' if '?' in url else '?'}{config.secret_param}={config.secret}"


def _raw_query(scope: Scope) -> bytes:
    return scope.get("query_string") or b""


async def _capture(app: Any, scope: Scope, receive: Receive) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    return int(start.get("status", 500)), b"".join(chunks), _headers(start)


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    if status != 204:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _drip(
    send: Send, receive: Receive, status: int, body: bytes, headers: list[tuple[bytes, bytes]], every: float
) -> None:
    """The whole page, a byte at a time: each byte comes well within any read timeout. Stops when
    the client hangs up (the server would otherwise keep dripping into a closed socket)."""
    gone = asyncio.Event()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.ensure_future(watch())
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    try:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for index in range(len(body)):
            if gone.is_set():
                return
            await send({"type": "http.response.body", "body": body[index : index + 1], "more_body": True})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gone.wait(), timeout=every)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except OSError:  # the client gave up, as it should
        return
    finally:
        watcher.cancel()


def new_request_log(size: int = 20_000) -> deque[dict[str, Any]]:
    return deque(maxlen=size)
