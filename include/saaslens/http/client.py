"""ApiClient: the httpx client every connector talks through."""

from __future__ import annotations

import ipaddress
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay

from saaslens.http.errors import (
    ApiError,
    InsecureURLError,
    MalformedResponseError,
    ThrottledError,
    TransientError,
)
from saaslens.http.pagination import PageRequest, Paginator
from saaslens.http.policy import ErrorPolicy
from saaslens.http.ratelimit import RateLimitPacer
from saaslens.http.redaction import install_log_redaction, redact_url
from saaslens.memory import parse_json_uncollected

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=30.0)


@cache
def default_ssl_context() -> ssl.SSLContext:
    """One verifying context per process: building one costs tens of milliseconds, and a run
    creates a client per API host, credential and token endpoint."""
    return httpx.create_ssl_context(verify=True)


def token_endpoint_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The plain client token providers use: same TLS rules and explicit timeouts as ApiClient."""
    return httpx.Client(timeout=30.0, verify=default_ssl_context(), transport=transport, follow_redirects=False)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_secure_url(url: str) -> None:
    """Credentials only travel over HTTPS, except to this machine (the sandbox, a local proxy)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return
    raise InsecureURLError(
        f"refusing {redact_url(url)!r}: credentials are only sent over https:// (plain http:// is allowed "
        "for loopback hosts such as the sandbox)"
    )


@dataclass
class RunMetrics:
    """Per-run counters, stored in scan_runs."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    bytes: int = 0
    records: int = 0
    pacing_wait_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: float) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    max_elapsed_seconds: float = 900.0
    initial_backoff: float = 0.5
    max_backoff: float = 60.0
    max_throttle_wait: float = 300.0


@dataclass
class Page:
    items: list[Any]
    request: PageRequest
    next_request: PageRequest | None
    response: httpx.Response
    payload: Any


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ApiError) and exc.retryable


class ApiClient:
    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        error_policy: ErrorPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        bucket_for: Callable[[str], str | None] | None = None,
        metrics: RunMetrics | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        http_client: httpx.Client | None = None,
    ) -> None:
        """`http_client` wraps a client someone else owns (a token provider's), keeping its
        transport and TLS settings; everything else builds its own. `sleep` and `clock` go
        together: a test that fakes one fakes both, or the pacer would wait for a reset its
        clock never reaches."""
        require_secure_url(base_url)
        install_log_redaction()
        self.base_url = base_url.rstrip("/")
        self._origin = urlsplit(self.base_url)
        self.error_policy = error_policy or ErrorPolicy()
        self.retry = retry or RetryPolicy()
        self.metrics = metrics or RunMetrics()
        self._sleep = sleep
        self._bucket_for = bucket_for
        headers = {"User-Agent": "saaslens/0.1 (+https://github.com/saaslens/saaslens)", **(headers or {})}
        self.pacer = (
            RateLimitPacer(self.error_policy.rate_limit_headers, sleep=sleep, clock=clock)
            if self.error_policy.rate_limit_headers
            else None
        )
        if http_client is not None:
            if auth is not None:
                raise ValueError("pass auth to the wrapped http_client, not to ApiClient")
            http_client.headers.update(headers)
            self._http = http_client
            return
        # A verifying context always: there is deliberately no option to switch TLS checks off.
        self._http = httpx.Client(
            auth=auth,
            headers=headers,
            timeout=timeout,
            verify=default_ssl_context(),
            transport=transport,
            follow_redirects=False,
            http2=False,
        )

    # -- plumbing -----------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def http(self) -> httpx.Client:
        """The underlying client, for token endpoints that must share TLS and timeout rules."""
        return self._http

    def url_for(self, path_or_url: str) -> str:
        """Absolute URL for a path; an absolute URL (a next link) must stay on the same origin."""
        if path_or_url.startswith(("http://", "https://")):
            parts = urlsplit(path_or_url)
            if (parts.scheme, parts.netloc) != (self._origin.scheme, self._origin.netloc):
                raise InsecureURLError(
                    f"refusing to follow {redact_url(path_or_url)!r}: it leaves {self._origin.scheme}://"
                    f"{self._origin.netloc}, and the credentials must not go with it"
                )
            return path_or_url
        return urljoin(self.base_url + "/", path_or_url.lstrip("/"))

    def relative_path(self, url: str) -> str:
        """The path of `url` below the base URL (the sandbox mounts tenants under a prefix)."""
        path = urlsplit(url).path
        base = self._origin.path.rstrip("/")
        return path[len(base) :] if base and path.startswith(base) else path

    def bucket(self, url: str) -> str:
        """Rate-limit bucket: the connector's, else the first three path segments, which is
        how most providers group their limits (/api/v1/users, /api/v1/logs)."""
        if self._bucket_for is not None:
            chosen = self._bucket_for(url)
            if chosen:
                return chosen
        return "/" + "/".join(self.relative_path(url).strip("/").split("/")[:3])

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ThrottledError) and exc.retry_after is not None:
            return min(exc.retry_after + random.uniform(0.05, 0.5), self.retry.max_throttle_wait)
        backoff = self.retry.initial_backoff * 2 ** (state.attempt_number - 1)
        return min(self.retry.max_backoff, backoff) * random.uniform(0.5, 1.5)

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.metrics.add(retries=1)
        wait = state.next_action.sleep if state.next_action else 0
        log.warning("retrying in %.1fs after attempt %d: %s", wait, state.attempt_number, exc)

    # -- requests -----------------------------------------------------------------------------

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        kwargs: dict[str, Any],
        parse_json: bool,
    ) -> tuple[httpx.Response, Any]:
        bucket = self.bucket(url)
        if self.pacer is not None:
            waited = self.pacer.before_request(bucket)  # this thread's own wait, not its neighbours'
            if waited:
                self.metrics.add(pacing_wait_seconds=waited)
        try:
            response = self._http.request(method, url, params=params, **kwargs)
        except httpx.TransportError as exc:
            if self.pacer is not None:
                self.pacer.abandon(bucket)
            self.metrics.add(requests=1)
            raise TransientError(
                f"{type(exc).__name__}: {exc}".split(" for url")[0], method=method, url=redact_url(url)
            ) from None
        except BaseException:  # e.g. a token endpoint refusing: no response to learn from
            if self.pacer is not None:
                self.pacer.abandon(bucket)
            raise
        self.metrics.add(requests=1, bytes=len(response.content))
        if self.pacer is not None:
            self.pacer.observe(bucket, response)
        if response.status_code >= 400:
            error = self.error_policy.error_for(response)
            if isinstance(error, ThrottledError):
                self.metrics.add(throttled=1)
            raise error
        payload = None
        if parse_json:
            try:
                payload = parse_json_uncollected(response.content) if response.content else None
            except orjson.JSONDecodeError:
                content_type = response.headers.get("content-type", "no content type")
                raise MalformedResponseError(
                    f"body is not valid JSON ({content_type}, {len(response.content)} bytes, starts "
                    f"{response.content[:60]!r})",
                    status=response.status_code,
                    method=method,
                    url=redact_url(str(response.request.url)),
                ) from None
            try:
                self.error_policy.check_payload(response, payload)
            except ThrottledError:
                self.metrics.add(throttled=1)
                raise
        return response, payload

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        parse_json: bool = True,
        **kwargs: Any,
    ) -> tuple[httpx.Response, Any]:
        """One logical request with pacing and retries; returns (response, parsed JSON body)."""
        url = self.url_for(path_or_url)
        retrying = Retrying(
            retry=retry_if_exception(_is_retryable),
            stop=stop_after_attempt(self.retry.max_attempts) | stop_after_delay(self.retry.max_elapsed_seconds),
            wait=self._wait,
            before_sleep=self._before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(self._attempt, method, url, params, kwargs, parse_json)

    def get_json(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path_or_url, params=params)[1]

    def paginate(
        self,
        path_or_url: str,
        paginator: Paginator,
        params: Mapping[str, Any] | None = None,
        *,
        resume: PageRequest | None = None,
        prefetch: bool = False,
    ) -> Iterator[Page]:
        """Yield pages until the paginator finds no next request. `resume` restarts from a
        checkpointed request instead of the first page.

        `prefetch` asks for the next page while the caller works on this one, so a sequential
        listing costs max(server, caller) instead of their sum. At most one request is ahead; an
        error it meets is raised when the caller asks for that page, as without prefetch."""
        first_params = getattr(paginator, "first_params", dict)()
        request = resume or PageRequest(url=self.url_for(path_or_url), params={**first_params, **(params or {})})
        if prefetch:
            yield from self._paginate_ahead(request, paginator)
            return
        while request is not None:
            page = self._page(request, paginator, self.request("GET", request.url, params=request.params or None))
            yield page
            request = page.next_request

    def _paginate_ahead(self, request: PageRequest, paginator: Paginator) -> Iterator[Page]:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="saaslens-prefetch") as ahead:
            pending: Future | None = ahead.submit(self.request, "GET", request.url, params=request.params or None)
            try:
                while pending is not None:
                    page = self._page(request, paginator, pending.result())
                    pending = None
                    if page.next_request is not None:
                        request = page.next_request
                        pending = ahead.submit(self.request, "GET", request.url, params=request.params or None)
                    yield page
            finally:
                if pending is not None:  # the caller stopped early: let the request in flight finish
                    pending.cancel()

    def _page(self, request: PageRequest, paginator: Paginator, answer: tuple[httpx.Response, Any]) -> Page:
        response, payload = answer
        try:
            items = paginator.items(payload)
        except TypeError as exc:
            raise MalformedResponseError(
                str(exc), status=response.status_code, method="GET", url=redact_url(request.url)
            ) from None
        next_request = paginator.next_request(request, response, payload, items)
        if next_request is not None:
            next_request = PageRequest(url=self.url_for(next_request.url), params=next_request.params)
        return Page(items=items, request=request, next_request=next_request, response=response, payload=payload)

    def iter_items(
        self, path_or_url: str, paginator: Paginator, params: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        for page in self.paginate(path_or_url, paginator, params):
            yield from page.items
