"""ApiClient: the httpx client every connector talks through."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import httpx
import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay

from saaslens.http.errors import (
    ApiError,
    EmptyPageError,
    InsecureURLError,
    MalformedResponseError,
    PageShapeError,
    PaginationLoopError,
    RedirectRefusedError,
    ThrottledError,
    ThrottleWaitTooLongError,
    TransientError,
    UnsafePathSegmentError,
)
from saaslens.http.pagination import PageRequest, Paginator
from saaslens.http.policy import ErrorPolicy
from saaslens.http.ratelimit import RateLimitPacer
from saaslens.http.redaction import install_log_redaction, redact, redact_url
from saaslens.http.transport import (
    ACCEPT_ENCODING,
    TOKEN_ENDPOINT_LIMITS,
    RequestLimits,
    default_ssl_context,
    guarded_client,
    is_loopback,
    read_body,
    require_secure_url,
)
from saaslens.memory import parse_json_uncollected

__all__ = [
    "TOKEN_ENDPOINT_LIMITS",
    "ApiClient",
    "Page",
    "RequestLimits",
    "RetryPolicy",
    "RunMetrics",
    "api_path",
    "default_ssl_context",
    "is_loopback",
    "require_secure_url",
    "token_endpoint_client",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=30.0)
# Same-origin redirects followed per request (Okta and Graph redirect only on API version moves).
MAX_REDIRECTS = 5


def token_endpoint_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The plain client token providers use: same URL checks, TLS rules, proxy routing and
    explicit timeouts as ApiClient (see saaslens.http.transport)."""
    return guarded_client(transport=transport, timeout=30.0)


def api_path(base: str, *ids: object) -> str:
    """`base` followed by each of `ids` as exactly one path segment, percent-encoded whole
    (RFC 3986 section 3.3), so an id holding `/`, `?`, `#` or `%` stays inside its segment.
    `api_path("/api/v1/groups", group_id, "users")`. An id that is "." or ".." is refused: every
    URL parser (httpx included) removes such dot-segments (RFC 3986 section 5.2.4) however they
    are written, so they cannot be kept as data."""
    segments = []
    for value in ids:
        text = str(value)
        if text in ("", ".", "..") or unquote(text) in (".", ".."):
            raise UnsafePathSegmentError(
                f"provider id {redact(text)!r} cannot be a URL path segment (building a request below {base}); "
                "the provider sent an id no API would"
            )
        segments.append(quote(text, safe=""))
    return "/".join([base.rstrip("/"), *segments])


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


def _request_key(request: PageRequest) -> tuple[Any, ...]:
    """What makes two page requests the same: the URL without its query, and the query plus
    params as a sorted multiset (a next link may carry in its query what a cursor sends as a
    parameter)."""
    url = httpx.URL(request.url)
    query = parse_qsl(url.query.decode("ascii", "replace"), keep_blank_values=True)
    query += [(str(k), str(v)) for k, v in (request.params or {}).items()]
    return (url.scheme, url.host, url.port, url.path, tuple(sorted(query)))


class _ListingGuard:
    """Remembers the requests of one listing: a next request equal to one already made means the
    provider's paging loops (a next link to itself, a cursor that comes back), and following it
    would never end."""

    def __init__(self, first: PageRequest, listing: str) -> None:
        self.listing = listing
        self._seen = {_request_key(first)}

    def check(self, page: Page) -> None:
        following = page.next_request
        if following is None:
            return
        key = _request_key(following)
        if key in self._seen:
            raise PaginationLoopError(
                f"the listing {self.listing} asks again for a page it already read (page {len(self._seen)} "
                f"points back to {redact_url(following.url)!r}): the provider's paging loops, so the listing "
                "cannot be completed",
                status=page.response.status_code,
                method="GET",
                url=redact_url(page.request.url),
            )
        self._seen.add(key)


class ApiClient:
    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        error_policy: ErrorPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        limits: RequestLimits | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        bucket_for: Callable[[str], str | None] | None = None,
        metrics: RunMetrics | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        http_client: httpx.Client | None = None,
    ) -> None:
        """`http_client` wraps a client someone else owns (a token provider's, built by
        `token_endpoint_client`), keeping its transport and TLS settings; everything else builds
        its own. `sleep` and `clock` go together: a test that fakes one fakes both, or the pacer
        would wait for a reset its clock never reaches."""
        require_secure_url(base_url)
        install_log_redaction()
        self.base_url = base_url.rstrip("/")
        self._origin = urlsplit(self.base_url)
        self._base_path = self._origin.path.rstrip("/")
        self.error_policy = error_policy or ErrorPolicy()
        self.retry = retry or RetryPolicy()
        self.limits = limits or RequestLimits()
        self.metrics = metrics or RunMetrics()
        self._sleep = sleep
        self._bucket_for = bucket_for
        headers = {
            "User-Agent": "saaslens/0.1 (+https://github.com/saaslens/saaslens)",
            "Accept-Encoding": ACCEPT_ENCODING,
            **(headers or {}),
        }
        self.pacer = (
            RateLimitPacer(
                self.error_policy.rate_limit_headers,
                sleep=sleep,
                clock=clock,
                max_wait=self.retry.max_throttle_wait,
            )
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
        self._http = guarded_client(transport=transport, timeout=timeout, auth=auth, headers=headers)

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
        """Absolute URL for a path below the base URL, or for an absolute URL (a next link, a
        redirect) that stays on the base URL's origin and below its path.

        A path is appended to the base URL's path, never resolved against it (urljoin would let
        `../` or a leading `//host` walk out), and a dot-segment in it is refused: URL parsers
        remove those (RFC 3986 section 5.2.4), so `/users/../../admin` would leave the base path
        on the wire. Provider ids go in through `api_path`, one encoded segment each."""
        if path_or_url.startswith(("http://", "https://")):
            parts = urlsplit(path_or_url)
            if (parts.scheme, parts.netloc) != (self._origin.scheme, self._origin.netloc):
                raise InsecureURLError(
                    f"refusing to follow {redact_url(path_or_url)!r}: it leaves {self._origin.scheme}://"
                    f"{self._origin.netloc}, and the credentials must not go with it"
                )
            self._require_below_base(path_or_url, parts.path)
            return path_or_url
        path = path_or_url.lstrip("/")
        url = f"{self.base_url}/{path}"
        self._require_below_base(url, urlsplit(url).path)
        return url

    def _require_below_base(self, url: str, path: str) -> None:
        segments = [unquote(segment) for segment in path.split("/")]
        below = not self._base_path or path == self._base_path or path.startswith(self._base_path + "/")
        if below and "." not in segments and ".." not in segments:
            return
        raise InsecureURLError(
            f"refusing {redact_url(url)!r}: its path leaves {self._base_path or '/'} of {self._origin.scheme}://"
            f"{self._origin.netloc} (a dot-segment or another prefix), and the credentials must not go with it"
        )

    def relative_path(self, url: str) -> str:
        """The path of `url` below the base URL (the sandbox mounts tenants under a prefix)."""
        path = urlsplit(url).path
        base = self._base_path
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

    def _retrying(self) -> Retrying:
        return Retrying(
            retry=retry_if_exception(_is_retryable),
            stop=stop_after_attempt(self.retry.max_attempts) | stop_after_delay(self.retry.max_elapsed_seconds),
            wait=self._wait,
            before_sleep=self._before_sleep,
            sleep=self._sleep,
            reraise=True,
        )

    def _too_long_a_wait(self, exc: ThrottledError) -> ThrottleWaitTooLongError | None:
        """A throttle asking for longer than the cap fails at once: sleeping the cap again and
        again would hold the task for hours and still not reach the provider's time."""
        cap = self.retry.max_throttle_wait
        if exc.retry_after is None or exc.retry_after <= cap:
            return None
        return ThrottleWaitTooLongError(
            f"provider asked to wait {exc.retry_after:.0f} s, more than max_throttle_wait_seconds={cap:g}; "
            f"rerun later or raise the option ({exc.detail})",
            retry_after=exc.retry_after,
            status=exc.status,
            provider_code=exc.provider_code,
            method=exc.method,
            url=exc.url,
        )

    # -- requests -----------------------------------------------------------------------------

    def _exchange(
        self, method: str, url: str, params: Mapping[str, Any] | None, kwargs: dict[str, Any]
    ) -> httpx.Response:
        """One request on the wire (paced), its body read under the limits. A redirect is
        returned unread: the caller decides whether to follow it."""
        bucket = self.bucket(url)
        if self.pacer is not None:
            try:
                waited = self.pacer.before_request(bucket)  # this thread's own wait, not its neighbours'
            except ThrottleWaitTooLongError as exc:
                raise ThrottleWaitTooLongError(
                    exc.detail, retry_after=exc.retry_after, method=method, url=redact_url(url)
                ) from None
            if waited:
                self.metrics.add(pacing_wait_seconds=waited)
        started = time.monotonic()
        try:
            request = self._http.build_request(method, url, params=params, **kwargs)
            response = self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            if self.pacer is not None:
                self.pacer.abandon(bucket)
            self.metrics.add(requests=1)
            raise TransientError(
                f"{type(exc).__name__}: {exc}".split(" for url")[0], method=method, url=redact_url(url)
            ) from None
        except BaseException:  # e.g. a token endpoint refusing, a URL refused: no response to learn from
            if self.pacer is not None:
                self.pacer.abandon(bucket)
            raise
        self.metrics.add(requests=1)
        if self.pacer is not None:
            self.pacer.observe(bucket, response)
        try:
            if 300 <= response.status_code < 400:
                return response
            body = read_body(response, self.limits, started=started)
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise TransientError(
                f"{type(exc).__name__} while reading the body: {exc}".split(" for url")[0],
                status=response.status_code,
                method=method,
                url=redact_url(str(response.request.url)),
            ) from None
        finally:
            response.close()
        self.metrics.add(bytes=len(body))
        # The body is decoded already: the copy must not claim an encoding it no longer has.
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=body,
            request=response.request,
            extensions=response.extensions,
        )

    def _redirect_target(self, method: str, response: httpx.Response) -> str:
        """Where a 3xx points, if the credentials may go there: the same origin and below the
        base path, for a GET or HEAD (a redirected POST would re-send its body)."""
        where = {"status": response.status_code, "method": method, "url": redact_url(str(response.request.url))}
        location = response.headers.get("location")
        if not location:
            raise MalformedResponseError("answered a redirect without a Location header", **where)
        target = str(response.request.url.join(location))
        if method not in ("GET", "HEAD"):
            raise RedirectRefusedError(f"refusing a redirect of a {method} to {redact_url(target)!r}", **where)
        try:
            return self.url_for(target)
        except InsecureURLError:
            raise RedirectRefusedError(
                f"refusing the redirect to {redact_url(target)!r}: redirects are followed only on "
                f"{self._origin.scheme}://{self._origin.netloc}{self._base_path}, so the credentials do not follow it",
                **where,
            ) from None

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        kwargs: dict[str, Any],
        parse_json: bool,
    ) -> tuple[httpx.Response, Any]:
        try:
            for _ in range(MAX_REDIRECTS + 1):
                response = self._exchange(method, url, params, kwargs)
                if not 300 <= response.status_code < 400:
                    break
                url, params = self._redirect_target(method, response), None  # Location carries its query
            else:
                raise RedirectRefusedError(
                    f"more than {MAX_REDIRECTS} redirects in a row",
                    status=response.status_code,
                    method=method,
                    url=redact_url(url),
                )
            if response.status_code >= 400:
                error = self.error_policy.error_for(response)
                if isinstance(error, ThrottledError):
                    self.metrics.add(throttled=1)
                raise error
            payload = None
            if parse_json:
                content = response.content
                try:
                    payload = parse_json_uncollected(content) if content else None
                except orjson.JSONDecodeError:
                    content_type = response.headers.get("content-type", "no content type")
                    raise MalformedResponseError(
                        f"body is not valid JSON ({content_type}, {len(content)} bytes, starts {content[:60]!r})",
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
        except ThrottleWaitTooLongError:
            raise
        except ThrottledError as exc:
            too_long = self._too_long_a_wait(exc)
            if too_long is None:
                raise
            raise too_long from None

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
        return self._retrying()(self._attempt, method, url, params, kwargs, parse_json)

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

        Every page must be a page: a 204, an empty body, `null` or a body of the wrong shape is a
        malformed response (retried), never an empty listing. A next request equal to one the
        listing already made raises PaginationLoopError.

        `prefetch` asks for the next page while the caller works on this one, so a sequential
        listing costs max(server, caller) instead of their sum. At most one request is ahead; an
        error it meets is raised when the caller asks for that page, as without prefetch."""
        first_params = getattr(paginator, "first_params", dict)()
        request = resume or PageRequest(url=self.url_for(path_or_url), params={**first_params, **(params or {})})
        guard = _ListingGuard(request, redact_url(self.relative_path(request.url)))
        if prefetch:
            yield from self._paginate_ahead(request, paginator, guard)
            return
        while request is not None:
            page = self._fetch_page(request, paginator)
            guard.check(page)
            yield page
            request = page.next_request

    def _paginate_ahead(self, request: PageRequest, paginator: Paginator, guard: _ListingGuard) -> Iterator[Page]:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="saaslens-prefetch") as ahead:
            pending: Future | None = ahead.submit(self._fetch_page, request, paginator)
            try:
                while pending is not None:
                    page = pending.result()
                    pending = None
                    guard.check(page)
                    if page.next_request is not None:
                        pending = ahead.submit(self._fetch_page, page.next_request, paginator)
                    yield page
            finally:
                if pending is not None:  # the caller stopped early: let the request in flight finish
                    pending.cancel()

    def _fetch_page(self, request: PageRequest, paginator: Paginator) -> Page:
        """One page, retried as a whole: a malformed page (empty, wrong shape) is retried like a
        garbled body, since proxies and overloaded backends produce both."""
        url = self.url_for(request.url)
        return self._retrying()(self._attempt_page, request, url, paginator)

    def _attempt_page(self, request: PageRequest, url: str, paginator: Paginator) -> Page:
        response, payload = self._attempt("GET", url, request.params or None, {}, True)
        where = {"status": response.status_code, "method": "GET", "url": redact_url(str(response.request.url))}
        if response.status_code == 204 or payload is None:
            answer = (
                "HTTP 204 No Content"
                if response.status_code == 204
                else ("an empty body" if not response.content else "JSON null")
            )
            raise EmptyPageError(f"answered {answer} where a page of {paginator.describe()} was expected", **where)
        try:
            items = paginator.items(payload)
            next_request = paginator.next_request(request, response, payload, items)
        except PageShapeError as exc:
            raise PageShapeError(exc.detail, **where) from None
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            # A connector's own paginator reading a body of the wrong shape.
            raise PageShapeError(
                f"a page of {paginator.describe()} of an unexpected shape ({type(exc).__name__}: {redact(str(exc))})",
                **where,
            ) from None
        if next_request is not None:
            next_request = PageRequest(url=self.url_for(next_request.url), params=next_request.params)
        return Page(items=items, request=request, next_request=next_request, response=response, payload=payload)

    def iter_items(
        self, path_or_url: str, paginator: Paginator, params: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        for page in self.paginate(path_or_url, paginator, params):
            yield from page.items
