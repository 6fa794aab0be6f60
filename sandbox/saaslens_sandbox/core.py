"""The sandbox framework: a local HTTP server that emulates SaaS provider APIs.

Each configured tenant is served by a *personality* (one per provider app, e.g. Okta) mounted at
``/{app}/{tenant}``, so a connection's base URL is ``http://127.0.0.1:8765/okta/acme`` and a
connector appends ``/api/v1/users`` exactly as it would to ``https://acme.okta.com``.

The framework owns everything that is not provider-specific:

* configuration (:class:`SandboxConfig`, :func:`load_sandbox_config`) and the lazy personality
  registry (:data:`APP_REGISTRY`);
* fault injection (:class:`FaultConfig`, ``kit.faults``): seeded by the tenant seed, so a given
  request sequence sees the same faults on every run; the personality supplies the provider's own
  429/5xx bodies;
* rate limiting (:class:`RateLimitConfig`, ``kit.ratelimit``): fixed windows per *endpoint bucket*;
  the personality supplies the bucket for a path, the documented per-minute limit and the header
  names;
* statistics per bucket and status code;
* admin endpoints under ``/_sandbox`` (not part of any provider API)::

      GET  /_sandbox/tenants
      GET  /_sandbox/{app}/{tenant}/ground-truth
      GET  /_sandbox/{app}/{tenant}/faults          PUT the same path with a FaultConfig JSON body
      GET  /_sandbox/{app}/{tenant}/stats
      POST /_sandbox/{app}/{tenant}/stats/reset
      POST /_sandbox/{app}/{tenant}/rate-limits/reset
      POST /_sandbox/{app}/{tenant}/advance         JSON body: what changes (personality-specific);
                                                    alias POST /_admin/tenants/{app}/{tenant}/advance
      GET  /_sandbox/{app}/{tenant}/hostile         PUT a HostileConfig (saaslens_sandbox.hostile) to
                                                    turn the tenant hostile, DELETE to make it faithful
      GET  /_sandbox/requests                       every request the server received (raw paths)

* running it: :func:`build_app` (an ASGI app), :class:`SandboxServer` (uvicorn in a background
  thread, for tests and benchmarks) and :func:`serve` (blocking, for the CLI).

Nothing here, nor in any personality, imports connector code: the sandbox emulates the provider
from its published documentation, not from what a connector happens to send.
"""

from __future__ import annotations

import abc
import asyncio
import gc
import importlib
import logging
import math
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
import pydantic
import starlette.applications
import starlette.routing
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, Router

from saaslens_sandbox.hostile import HostileApp, HostileConfig, RequestLog, new_request_log
from saaslens_sandbox.kit.errors import gateway_html_error
from saaslens_sandbox.kit.faults import FaultConfig, FaultInjector
from saaslens_sandbox.kit.paging import PagingStyle
from saaslens_sandbox.kit.ratelimit import FixedWindows, RateLimitConfig, limit_headers, retry_after_seconds

if TYPE_CHECKING:
    from saaslens_sandbox.workforce import Person, PlannedAccount

__all__ = [
    "APP_REGISTRY",
    "AdvanceNotSupported",
    "FaultConfig",
    "Personality",
    "RateLimitConfig",
    "SandboxConfig",
    "SandboxConfigError",
    "SandboxServer",
    "TenantSpec",
    "build_app",
    "json_response",
    "load_sandbox_config",
    "personality_class",
    "request_origin",
    "serve",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: app name -> "module:Class". Looked up lazily so adding an app is one line here.
APP_REGISTRY: dict[str, str] = {
    "okta": "saaslens_sandbox.okta:OktaPersonality",
    "google_workspace": "saaslens_sandbox.google_workspace:GoogleWorkspacePersonality",
    "microsoft365": "saaslens_sandbox.microsoft365:Microsoft365Personality",
    "slack": "saaslens_sandbox.slack:SlackPersonality",
    "github": "saaslens_sandbox.github:GitHubPersonality",
    "dropbox": "saaslens_sandbox.dropbox:DropboxPersonality",
    "box": "saaslens_sandbox.box:BoxPersonality",
}

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")  # fullmatch: `$` would let a final newline through
logger = logging.getLogger("saaslens_sandbox")


# --------------------------------------------------------------------------------------------
# Configuration models
# --------------------------------------------------------------------------------------------


class ViewCache:
    """A small LRU of computed listings (filtered and sorted index lists), so the next pages of
    one query are served without recomputing it; old queries fall out."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._views: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], build: Callable[[], list[int]]) -> list[int]:
        with self._lock:
            view = self._views.get(key)
            if view is not None:
                self._views.move_to_end(key)
                return view
        view = build()
        with self._lock:
            self._views[key] = view
            while len(self._views) > self._size:
                self._views.popitem(last=False)
        return view


class TenantOptions(BaseModel):
    """Options every personality shares; each app's options model extends it."""

    model_config = ConfigDict(extra="forbid")
    anchor: datetime | None = None
    """"Now" for the generated history. Default: server start time, truncated to the second, UTC."""
    workforce: str | None = None
    """Also hold the people of this org's shared workforce (saaslens_sandbox.workforce), in the
    states its plan gives for this app; the email domain defaults to ``<org>.example.com``."""

    @field_validator("workforce")
    @classmethod
    def _known_workforce(cls, value: str | None) -> str | None:
        if value is not None:
            from saaslens_sandbox.workforce import workforce

            workforce(value)  # raises ValueError naming the bad org
        return value

    @field_validator("anchor")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class TenantSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    app: str
    name: str
    seed: int = 1
    users: int = Field(default=100, ge=0)
    options: dict[str, Any] = Field(default_factory=dict)
    faults: FaultConfig = Field(default_factory=FaultConfig)
    rate_limits: RateLimitConfig = Field(default_factory=RateLimitConfig)

    @field_validator("app")
    @classmethod
    def _known_app(cls, value: str) -> str:
        if value not in APP_REGISTRY:
            raise ValueError(f"unknown app {value!r}; the sandbox knows {sorted(APP_REGISTRY)}")
        return value

    @field_validator("name")
    @classmethod
    def _url_safe(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(
                "must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit "
                "(it becomes part of the tenant's URL)"
            )
        return value

    @property
    def key(self) -> tuple[str, str]:
        return (self.app, self.name)


class SandboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    tenants: list[TenantSpec]


class SandboxConfigError(ValueError):
    """A sandbox config that cannot be used; the message names the file, tenant and field."""


class AdvanceNotSupported(NotImplementedError):
    """The personality's data is static: it cannot move its tenant forward in time."""


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def load_sandbox_config(path: str | Path) -> SandboxConfig:
    """Read and validate a sandbox YAML file.

    Errors name the file, the tenant (by name when it has one, else by position) and the field,
    e.g. ``sandbox.yaml: tenant 'acme' (tenants[0]): field users: Input should be ...``.
    Personality options are validated too (by the personality's ``validate_options``).
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SandboxConfigError(f"{path}: no such file") from None
    except yaml.YAMLError as exc:
        raise SandboxConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SandboxConfigError(f"{path}: expected a mapping with 'tenants', got {type(raw).__name__}")
    tenants_raw = raw.get("tenants")
    if not isinstance(tenants_raw, list) or not tenants_raw:
        raise SandboxConfigError(f"{path}: field tenants: expected a non-empty list of tenants")

    problems: list[str] = []
    tenants: list[TenantSpec] = []
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(tenants_raw):
        label = f"tenants[{i}]"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            label = f"tenant {entry['name']!r} ({label})"
        if not isinstance(entry, dict):
            problems.append(f"{path}: {label}: expected a mapping, got {type(entry).__name__}")
            continue
        try:
            spec = TenantSpec.model_validate(entry)
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(f"{path}: {label}: field {_loc(err['loc'])}: {err['msg']}")
            continue
        try:
            personality_class(spec.app).validate_options(spec.options)
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(f"{path}: {label}: field options.{_loc(err['loc'])}: {err['msg']}")
            continue
        except ValueError as exc:
            problems.append(f"{path}: {label}: field options: {exc}")
            continue
        if spec.key in seen:
            problems.append(f"{path}: {label}: duplicate tenant {spec.app}/{spec.name}")
            continue
        seen.add(spec.key)
        tenants.append(spec)

    top = {k: v for k, v in raw.items() if k != "tenants"}
    try:
        config = SandboxConfig.model_validate({**top, "tenants": []})
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(f"{path}: field {_loc(err['loc'])}: {err['msg']}")
        config = None
    if problems:
        raise SandboxConfigError("\n".join(problems))
    assert config is not None
    return config.model_copy(update={"tenants": tenants})


# --------------------------------------------------------------------------------------------
# Helpers shared by personalities
# --------------------------------------------------------------------------------------------


def request_origin(scope: Scope) -> str:
    """``scheme://host[:port]`` as the client addressed us (Host header), for absolute URLs."""
    host = None
    for name, value in scope.get("headers") or ():
        if name == b"host":
            host = value.decode("latin-1")
            break
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}" if server[1] not in (80, 443) else str(server[0])
    return f"{scope.get('scheme', 'http')}://{host}"


def json_response(
    body: Any,
    status: int = 200,
    headers: list[tuple[str, str]] | None = None,
    media_type: str = "application/json",
) -> Response:
    """A response from already-serialized bytes or from a JSON-able object (serialized by orjson).

    ``headers`` is a list so a header may repeat (Okta sends one ``Link`` header per relation).
    """
    content = body if isinstance(body, bytes | bytearray) else orjson.dumps(body)
    response = Response(content=bytes(content), status_code=status, media_type=media_type)
    for name, value in headers or ():
        response.raw_headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return response


_server_start: datetime | None = None


def server_start_time() -> datetime:
    """When the app was built (UTC, whole seconds): the default "now" anchor for generated data."""
    return _server_start or datetime.now(UTC).replace(microsecond=0)


# --------------------------------------------------------------------------------------------
# Personality base class
# --------------------------------------------------------------------------------------------


class Personality(abc.ABC):
    """One provider app's emulation for one tenant.

    Subclasses implement :meth:`routes` (mounted at ``/{app}/{tenant}``) and :meth:`ground_truth`,
    and override the provider hooks below so the framework's faults and rate limits look like the
    provider's own.
    """

    app: ClassVar[str]
    paging: ClassVar[PagingStyle | None] = None
    """How the provider pages its listings (``kit.paging``); the hostile layer attacks through it."""

    def __init__(self, spec: TenantSpec, base_url_prefix: str):
        self.spec = spec
        self.base_url_prefix = base_url_prefix.rstrip("/")
        #: Absolute origin (``http://host:port``) the server was started on; set by SandboxServer
        #: and serve(). Responses use the request's own origin; this is for ground_truth().
        self.origin: str | None = None
        self._lock = threading.Lock()
        self._injector = FaultInjector(spec.faults, f"sandbox-faults:{spec.app}:{spec.name}:{spec.seed}")
        self._limiter = FixedWindows(spec.rate_limits.window_seconds)
        self._hostile: HostileConfig | None = None
        self.hostile_answers = 0
        self.reset_stats()

    # ---- required -------------------------------------------------------------------------

    @abc.abstractmethod
    def routes(self) -> list[starlette.routing.BaseRoute]:
        """Provider API routes, relative to the tenant mount (``/api/v1/users``...)."""

    @abc.abstractmethod
    def ground_truth(self) -> dict[str, Any]:
        """Everything the tenant holds, JSON-serializable, for tests to compare against."""

    # ---- provider hooks (override) ----------------------------------------------------------

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        """Raise pydantic.ValidationError / ValueError when ``options`` are unusable."""
        return None

    @classmethod
    def workforce_plan(cls, people: Mapping[str, Person]) -> tuple[PlannedAccount, ...] | None:
        """The shared workforce's accounts in this app (``saaslens_sandbox.workforce``), by the
        people's slots; None: the app holds no workforce. Each app keeps its plan in its folder."""
        return None

    def ground_truth_for(self, origin: str) -> dict[str, Any]:
        """Ground truth with absolute URLs under ``origin`` (the admin endpoint passes its own)."""
        return self.ground_truth()

    def advance(self, change: dict[str, Any]) -> dict[str, Any]:
        """Move the tenant forward: apply ``change`` (new events, changed users...) and return a
        summary of what changed (ids). Personalities with a "live" tenant override this; the
        admin route answers 400 for those that do not, and for a ``change`` they reject
        (``ValueError`` / ``pydantic.ValidationError``)."""
        raise AdvanceNotSupported(
            f"the {self.app} personality (tenant {self.spec.name!r}) does not support advance: its data is static"
        )

    def forget(self, kind: str, object_id: str) -> dict[str, Any]:
        """Remove one object from the tenant as if another admin deleted it outside saaslens
        (`kind`: account, privilege, app_grant, file_share, ...; `object_id`: its provider id, or
        "parent/child" for objects named by two ids). Tests use it to show a governance action on a
        target the lake still lists but the provider no longer has is recorded not-found. Raises
        ValueError (the admin route's 400) for a kind or id the personality does not know."""
        raise ValueError(f"the {self.app} personality cannot forget {kind!r} objects")

    def rate_limit_bucket(self, method: str, path: str) -> str | None:
        """The rate-limit/stats bucket for a request path (relative to the tenant), None = none."""
        return "default"

    def rate_limit_per_minute(self, bucket: str) -> int:
        """The provider's documented per-minute limit for ``bucket``."""
        return 600

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> list[tuple[str, str]]:
        return limit_headers("X-RateLimit-", limit, remaining, reset_epoch)

    def too_many_requests(self, scope: Scope, limit: int, reset_epoch: int) -> Response:
        retry = retry_after_seconds(reset_epoch, minimum=0)
        return json_response({"error": "rate_limited"}, 429, [("Retry-After", str(retry))])

    def server_error(self, scope: Scope, status: int) -> Response:
        return json_response({"error": "internal error"}, status)

    def html_error(self, scope: Scope, status: int) -> Response:
        return gateway_html_error(status)

    # ---- faults -----------------------------------------------------------------------------

    @property
    def faults(self) -> FaultConfig:
        return self._injector.config

    def set_faults(self, faults: FaultConfig | dict[str, Any]) -> FaultConfig:
        new = faults if isinstance(faults, FaultConfig) else FaultConfig.model_validate(faults)
        return self._injector.set(new)

    def _decide_fault(self) -> tuple[str | None, int]:
        """(fault kind or None, slow_ms). Bursts first, then one seeded draw per non-zero rate."""
        return self._injector.decide()

    def _pick_5xx(self) -> int:
        return self._injector.pick_5xx()

    # ---- rate limits ------------------------------------------------------------------------

    def _limit_for(self, bucket: str) -> int:
        cfg = self.spec.rate_limits
        return max(1, math.floor(self.rate_limit_per_minute(bucket) * cfg.scale))

    def _hit(self, bucket: str) -> tuple[int, int, int, bool]:
        """Count one request: (limit, remaining, reset epoch, allowed)."""
        return self._limiter.hit(bucket, self._limit_for(bucket))

    def requests_in_window(self, bucket: str) -> int:
        """Requests counted against ``bucket`` in its current (or last) window."""
        return self._limiter.count(bucket)

    def reset_rate_limits(self) -> None:
        self._limiter.reset()

    # ---- stats ------------------------------------------------------------------------------

    def reset_stats(self) -> None:
        with self._lock:
            self._stats: dict[str, Any] = {
                "requests": 0,
                "bytes_sent": 0,
                "rate_limited_429": 0,
                "by_status": {},
                "by_bucket": {},
                "faults_injected": {
                    "429": 0,
                    "5xx": 0,
                    "reset": 0,
                    "html": 0,
                    "truncated": 0,
                    "stall": 0,
                    "token_expired": 0,
                },
                "since": datetime.now(UTC).isoformat(),
            }

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return orjson.loads(orjson.dumps(self._stats))

    def _record(self, bucket: str | None, status: int, nbytes: int, fault: str | None) -> None:
        key = bucket or "(none)"
        code = str(status)
        with self._lock:
            s = self._stats
            s["requests"] += 1
            s["bytes_sent"] += nbytes
            s["by_status"][code] = s["by_status"].get(code, 0) + 1
            b = s["by_bucket"].setdefault(key, {"requests": 0, "bytes_sent": 0, "by_status": {}})
            b["requests"] += 1
            b["bytes_sent"] += nbytes
            b["by_status"][code] = b["by_status"].get(code, 0) + 1
            if status == 429:
                s["rate_limited_429"] += 1
            if fault:
                s["faults_injected"][fault] += 1

    def note_fault(self, kind: str) -> None:
        """Count a fault a personality applied itself (e.g. ``token_expired``)."""
        with self._lock:
            injected = self._stats["faults_injected"]
            injected[kind] = injected.get(kind, 0) + 1

    # ---- helpers ----------------------------------------------------------------------------

    def base_url(self, scope: Scope) -> str:
        """The provider base URL as the client sees it: origin + ``/{app}/{tenant}``."""
        return request_origin(scope) + self.base_url_prefix

    @property
    def hostile(self) -> HostileConfig | None:
        """The attack this tenant currently makes (:mod:`saaslens_sandbox.hostile`), if any."""
        with self._lock:
            return self._hostile

    def set_hostile(self, config: HostileConfig | dict[str, Any] | None) -> HostileConfig | None:
        new = config if config is None or isinstance(config, HostileConfig) else HostileConfig.model_validate(config)
        with self._lock:
            self._hostile = new
            self.hostile_answers = 0
            return new

    def count_hostile_answer(self) -> int:
        """Count one attacked answer; returns how many the current attack has made."""
        with self._lock:
            self.hostile_answers += 1
            return self.hostile_answers

    def asgi(self) -> HostileApp:
        return HostileApp(TenantApp(self), self)


# --------------------------------------------------------------------------------------------
# Per-tenant ASGI wrapper: rate limits, faults, stats
# --------------------------------------------------------------------------------------------


class TenantApp:
    """Wraps a personality's router with the generic rate-limit / fault / stats machinery."""

    def __init__(self, personality: Personality):
        self.p = personality
        self.router = Router(routes=personality.routes())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router(scope, receive, send)
            return
        p = self.p
        path = scope["path"]
        root = scope.get("root_path", "")
        rel = path[len(root) :] if root and path.startswith(root) else path
        bucket = p.rate_limit_bucket(scope["method"], rel or "/")
        fault, slow_ms = p._decide_fault()
        if slow_ms:
            await asyncio.sleep(slow_ms / 1000)

        rl_headers: list[tuple[str, str]] = []
        allowed = True
        limit = remaining = reset = 0
        if bucket is not None and p.spec.rate_limits.enabled:
            # Disabled means unlimited: no rate-limit headers at all. Headers announcing a
            # per-minute budget would (rightly) make a client pace itself to that budget.
            limit, remaining, reset, allowed = p._hit(bucket)
            rl_headers = p.rate_limit_headers(limit, remaining, reset)

        sent = {"status": 0, "bytes": 0}

        async def send_counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        if not allowed or fault == "429":
            if rl_headers:
                rl_headers = p.rate_limit_headers(limit, 0, reset)
            else:  # limits disabled: an injected 429 still says when to come back
                limit = p._limit_for(bucket) if bucket is not None else 0
                reset = int(time.time()) + p.spec.rate_limits.window_seconds
                rl_headers = p.rate_limit_headers(limit, 0, reset) if bucket is not None else []
            response = p.too_many_requests(scope, limit, reset)
            if p.faults.throttle_style == "retry_after":
                # a gateway's 429: only Retry-After (delta seconds), none of the provider's headers
                rl_headers = [("Retry-After", str(retry_after_seconds(reset)))]
                if "retry-after" in response.headers:
                    del response.headers["retry-after"]
            await _send_with_headers(response, scope, receive, send_counting, rl_headers)
            p._record(bucket, 429, sent["bytes"], fault if allowed else None)
            return
        if fault == "5xx":
            response = p.server_error(scope, p._pick_5xx())
            await _send_with_headers(response, scope, receive, send_counting, rl_headers)
            p._record(bucket, sent["status"], sent["bytes"], fault)
            return
        if fault == "html":
            response = p.html_error(scope, 502)
            await _send_with_headers(response, scope, receive, send_counting, [])
            p._record(bucket, sent["status"], sent["bytes"], fault)
            return

        if fault == "stall":
            # The first byte comes only after stall_ms: a client with a shorter read timeout gives
            # up (and retries); the response is still produced, as a slow upstream would.
            p.note_fault("stall")  # counted now: the client has long given up when it ends
            await asyncio.sleep(p.faults.stall_ms / 1000)
        mangled = False
        if fault in ("truncated", "reset"):
            mangled = await self._mangled(scope, receive, send_counting, rl_headers, fault)
        else:
            await self.router(scope, receive, _header_adder(send_counting, rl_headers))
        p._record(bucket, sent["status"], sent["bytes"], fault if mangled else None)

    async def _mangled(
        self, scope: Scope, receive: Receive, send: Send, extra: list[tuple[str, str]], fault: str
    ) -> bool:
        """Run the route, buffer its response, then truncate it or drop the connection midway.

        Returns whether the fault was applied (a truncation only applies to a 200).
        """
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.router(scope, receive, capture)
        assert start is not None
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra]
        if fault == "truncated" and start["status"] != 200:
            fault = ""  # only a 200's body is cut short; anything else goes out untouched
        if fault == "truncated":
            cut = body[: max(1, len(body) // 2)] if len(body) > 1 else b""
            headers.append((b"content-length", str(len(cut)).encode()))
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": cut, "more_body": False})
            return True
        if fault == "reset":
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": start["status"], "headers": headers})
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            # Returning without completing the response makes the server close the connection:
            # the client has headers and half a body, then EOF -> a protocol/read error.
            return True
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return False


def _header_adder(send: Send, extra: list[tuple[str, str]]) -> Send:
    if not extra:
        return send
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = list(message.get("headers", [])) + encoded
        await send(message)

    return wrapped


async def _send_with_headers(
    response: Response, scope: Scope, receive: Receive, send: Send, extra: list[tuple[str, str]]
) -> None:
    await response(scope, receive, _header_adder(send, extra))


# --------------------------------------------------------------------------------------------
# App assembly
# --------------------------------------------------------------------------------------------


def personality_class(app: str) -> type[Personality]:
    """Resolve ``app`` through :data:`APP_REGISTRY` (imports the module on first use)."""
    try:
        target = APP_REGISTRY[app]
    except KeyError:
        raise SandboxConfigError(f"unknown app {app!r}; the sandbox knows {sorted(APP_REGISTRY)}") from None
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Personality)):
        raise TypeError(f"{target} is not a Personality subclass")
    return cls


def _admin_routes(personalities: dict[tuple[str, str], Personality]) -> list[starlette.routing.BaseRoute]:
    def lookup(request: Request) -> Personality | Response:
        key = (request.path_params["app"], request.path_params["tenant"])
        p = personalities.get(key)
        if p is None:
            return json_response({"error": f"no tenant {key[0]}/{key[1]}"}, 404)
        return p

    async def tenants(request: Request) -> Response:
        origin = request_origin(request.scope)
        return json_response(
            [
                {
                    "app": p.spec.app,
                    "name": p.spec.name,
                    "seed": p.spec.seed,
                    "users": p.spec.users,
                    "base_url": origin + p.base_url_prefix,
                }
                for p in personalities.values()
            ]
        )

    async def ground_truth(request: Request) -> Response:
        p = lookup(request)
        if isinstance(p, Response):
            return p
        return json_response(p.ground_truth_for(request_origin(request.scope)))

    async def faults(request: Request) -> Response:
        p = lookup(request)
        if isinstance(p, Response):
            return p
        if request.method == "PUT":
            try:
                payload = orjson.loads(await request.body() or b"{}")
                new = p.set_faults(FaultConfig.model_validate(payload))
            except (orjson.JSONDecodeError, pydantic.ValidationError) as exc:
                return json_response({"error": "invalid FaultConfig", "detail": str(exc)}, 400)
            return json_response(new.model_dump())
        return json_response(p.faults.model_dump())

    async def stats(request: Request) -> Response:
        p = lookup(request)
        if isinstance(p, Response):
            return p
        return json_response(p.stats())

    async def stats_reset(request: Request) -> Response:
        p = lookup(request)
        if isinstance(p, Response):
            return p
        p.reset_stats()
        return json_response(p.stats())

    async def advance(request: Request) -> Response:
        p = lookup(request)
        if isinstance(p, Response):
            return p
        try:
            change = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError as exc:
            return json_response({"error": "the advance body is not JSON", "detail": str(exc)}, 400)
        if not isinstance(change, dict):
            return json_response({"error": "the advance body must be a JSON object"}, 400)
        try:
            # Runs on the server's event loop, like every API handler: no request sees half a change.
            return json_response(p.advance(change))
        except AdvanceNotSupported as exc:
            return json_response({"error": str(exc)}, 400)
        except pydantic.ValidationError as exc:
            return json_response({"error": "invalid advance body", "detail": str(exc)}, 400)
        except ValueError as exc:
            return json_response({"error": "invalid advance body", "detail": str(exc)}, 400)

    async def forget(request: Request) -> Response:
        p = lookup(request)
        if isinstance(p, Response):
            return p
        try:
            body = orjson.loads(await request.body() or b"{}")
            if (
                not isinstance(body, dict)
                or not isinstance(body.get("kind"), str)
                or not isinstance(body.get("id"), str)
            ):
                raise ValueError('the forget body is {"kind": "...", "id": "..."}')
            return json_response(p.forget(body["kind"], body["id"]))
        except (orjson.JSONDecodeError, ValueError) as exc:
            return json_response({"error": "cannot forget", "detail": str(exc)}, 400)

    async def hostile(request: Request) -> Response:
        p = lookup(request)
        if isinstance(p, Response):
            return p
        if request.method == "DELETE":
            p.set_hostile(None)
        elif request.method == "PUT":
            try:
                p.set_hostile(HostileConfig.model_validate(orjson.loads(await request.body() or b"{}")))
            except (orjson.JSONDecodeError, pydantic.ValidationError) as exc:
                return json_response({"error": "invalid HostileConfig", "detail": str(exc)}, 400)
        current = p.hostile
        return json_response(current.model_dump() if current is not None else None)

    async def requests(request: Request) -> Response:
        return json_response(list(request.app.state.request_log))

    async def rate_limits_reset(request: Request) -> Response:
        p = lookup(request)
        if isinstance(p, Response):
            return p
        p.reset_rate_limits()
        return json_response({"reset": True})

    return [
        Route("/_sandbox/tenants", tenants, methods=["GET"]),
        Route("/_sandbox/{app}/{tenant}/ground-truth", ground_truth, methods=["GET"]),
        Route("/_sandbox/{app}/{tenant}/faults", faults, methods=["GET", "PUT"]),
        Route("/_sandbox/{app}/{tenant}/stats", stats, methods=["GET"]),
        Route("/_sandbox/{app}/{tenant}/stats/reset", stats_reset, methods=["POST"]),
        Route("/_sandbox/{app}/{tenant}/rate-limits/reset", rate_limits_reset, methods=["POST"]),
        Route("/_sandbox/{app}/{tenant}/advance", advance, methods=["POST"]),
        Route("/_sandbox/{app}/{tenant}/hostile", hostile, methods=["GET", "PUT", "DELETE"]),
        Route("/_sandbox/{app}/{tenant}/forget", forget, methods=["POST"]),
        Route("/_sandbox/requests", requests, methods=["GET"]),
        Route("/_admin/tenants/{app}/{tenant}/advance", advance, methods=["POST"]),
    ]


def build_app(specs: list[TenantSpec]) -> starlette.applications.Starlette:
    """An ASGI app serving every tenant at ``/{app}/{tenant}`` plus the ``/_sandbox`` admin API.

    ``app.state.personalities`` maps ``(app, tenant)`` to the :class:`Personality` instance.
    """
    global _server_start
    _server_start = datetime.now(UTC).replace(microsecond=0)
    personalities: dict[tuple[str, str], Personality] = {}
    routes: list[starlette.routing.BaseRoute] = []
    for spec in specs:
        if spec.key in personalities:
            raise SandboxConfigError(f"duplicate tenant {spec.app}/{spec.name}")
        prefix = f"/{spec.app}/{spec.name}"
        personality = personality_class(spec.app)(spec, prefix)
        personalities[spec.key] = personality
    routes.extend(_admin_routes(personalities))
    for (app_name, tenant), personality in personalities.items():
        routes.append(Mount(f"/{app_name}/{tenant}", app=personality.asgi()))
    app = starlette.applications.Starlette(routes=routes)
    app.state.personalities = personalities
    app.state.request_log = new_request_log()
    app.add_middleware(RequestLog, entries=app.state.request_log)
    # Generated tenants are large, long-lived and never freed: keep them out of the cyclic GC's
    # generations so serving pages (which allocates many short-lived dicts) stays cheap.
    gc.collect()
    gc.freeze()
    return app


class _DropIncompleteResponseNoise(logging.Filter):
    """The 'reset' fault ends responses early on purpose; uvicorn logs that as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


def _quiet_uvicorn() -> None:
    log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropIncompleteResponseNoise) for f in log.filters):
        log.addFilter(_DropIncompleteResponseNoise())


class SandboxServer:
    """Run the sandbox in a background thread (uvicorn on ``host``; port 0 picks a free port).

    ::

        with SandboxServer([TenantSpec(app="okta", name="acme", users=200)]) as sb:
            base = sb.tenant_url("okta", "acme")      # http://127.0.0.1:54321/okta/acme
            truth = sb.personality("okta", "acme").ground_truth()
    """

    def __init__(self, specs: list[TenantSpec], host: str = "127.0.0.1", port: int = 0):
        self.specs = list(specs)
        self.host = host
        self.port = port
        self.url = ""
        self.app = build_app(self.specs)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> SandboxServer:
        import uvicorn

        if self._thread is not None:
            return self
        _quiet_uvicorn()
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="saaslens-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"sandbox server failed to start on {self.host}:{self.port}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("sandbox server did not start in time")
            time.sleep(0.01)
        sockname = self._server.servers[0].sockets[0].getsockname()
        self.port = sockname[1]
        self.url = f"http://{self.host}:{self.port}"
        for p in self.app.state.personalities.values():
            p.origin = self.url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None
        self._server = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def tenant_url(self, app: str, name: str) -> str:
        """The provider base URL for a tenant, e.g. ``http://127.0.0.1:54321/okta/acme``."""
        self.personality(app, name)  # raises KeyError for unknown tenants
        return f"{self.url}/{app}/{name}"

    def personality(self, app: str, name: str) -> Personality:
        try:
            return self.app.state.personalities[(app, name)]
        except KeyError:
            raise KeyError(f"no sandbox tenant {app}/{name}") from None


def serve(config: SandboxConfig) -> None:
    """Serve ``config`` in the foreground until interrupted (the ``saaslens sandbox`` command)."""
    import uvicorn

    app = build_app(config.tenants)
    origin = f"http://{config.host}:{config.port}"
    for (app_name, tenant), p in app.state.personalities.items():
        p.origin = origin
        print(f"sandbox tenant {app_name}/{tenant}: {origin}/{app_name}/{tenant}", file=sys.stderr, flush=True)
    print(f"sandbox admin API: {origin}/_sandbox/tenants", file=sys.stderr, flush=True)
    _quiet_uvicorn()
    uvicorn.run(app, host=config.host, port=config.port, log_level="info", lifespan="off")
