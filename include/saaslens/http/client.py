"""ApiClient: the httpx client every connector talks through."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote, unquote, urlsplit

import httpx
import orjson

from saaslens.http.errors import (
    ApiError,
    ContentTooLargeError,
    InsecureURLError,
    MalformedResponseError,
    RedirectRefusedError,
    ThrottledError,
    ThrottleWaitTooLongError,
    TransientError,
    UnsafePathSegmentError,
    Where,
)
from saaslens.http.listing import ListingGuard, Page, follow, follow_ahead, page_from
from saaslens.http.metrics import RunMetrics
from saaslens.http.pagination import PageRequest, Paginator
from saaslens.http.policy import ErrorPolicy
from saaslens.http.ratelimit import RateLimitPacer
from saaslens.http.redaction import install_log_redaction, redact, redact_url
from saaslens.http.retry import Retrier, RetryPolicy
from saaslens.http.transport import (
    ACCEPT_ENCODING,
    TOKEN_ENDPOINT_LIMITS,
    RequestLimits,
    body_pieces,
    default_ssl_context,
    guarded_client,
    is_loopback,
    read_body,
    require_secure_url,
)
from saaslens.http.urls import BaseUrl
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


def json_body(response: httpx.Response, method: str) -> Any:
    """The parsed JSON of a body already read; None when it is empty. Not JSON: malformed (retried)."""
    content = response.content
    try:
        return parse_json_uncollected(content) if content else None
    except orjson.JSONDecodeError:
        content_type = response.headers.get("content-type", "no content type")
        raise MalformedResponseError(
            f"body is not valid JSON ({content_type}, {len(content)} bytes, starts {content[:60]!r})",
            status=response.status_code,
            method=method,
            url=redact_url(str(response.request.url)),
        ) from None


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
        self.base = BaseUrl(base_url)
        self.base_url = self.base.url
        self.error_policy = error_policy or ErrorPolicy()
        self.retry = retry or RetryPolicy()
        self.limits = limits or RequestLimits()
        self.metrics = metrics or RunMetrics()
        self._retrier = Retrier(self.retry, self.metrics, sleep)
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
            self._transport = None
            self._timeout = timeout
            return
        # A verifying context always: there is deliberately no option to switch TLS checks off.
        self._http = guarded_client(transport=transport, timeout=timeout, auth=auth, headers=headers)
        self._transport = transport
        self._timeout = timeout

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
        """Absolute URL for a path below the base URL, or for an absolute URL on its origin and below
        its path (saaslens.http.urls.BaseUrl)."""
        return self.base.url_for(path_or_url)

    def relative_path(self, url: str) -> str:
        return self.base.relative_path(url)

    def bucket(self, url: str) -> str:
        """Rate-limit bucket: the connector's, else the first three path segments, which is
        how most providers group their limits (/api/v1/users, /api/v1/logs)."""
        if self._bucket_for is not None:
            chosen = self._bucket_for(url)
            if chosen:
                return chosen
        return "/" + "/".join(self.relative_path(url).strip("/").split("/")[:3])

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
                url, params = self.base.redirect_target(method, response), None  # Location carries its query
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
                payload = json_body(response, method)
                try:
                    self.error_policy.check_payload(response, payload)
                except ThrottledError:
                    self.metrics.add(throttled=1)
                    raise
            return response, payload
        except ThrottleWaitTooLongError:
            raise
        except ThrottledError as exc:
            too_long = self._retrier.too_long_a_wait(exc)
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
        idempotent: bool = True,
        **kwargs: Any,
    ) -> tuple[httpx.Response, Any]:
        """One logical request with pacing and retries; returns (response, parsed JSON body).

        `idempotent=False` is for a change the provider does not document as safe to repeat (a
        POST that creates, a lifecycle transition that errors the second time): it is retried only
        after an answer saying the provider did not act on it (429 and the like), never after a
        timeout or a 5xx, where the change may have happened. The governance engine's verify step
        finds out instead."""
        url = self.url_for(path_or_url)
        retrying = self._retrier.retrying() if idempotent else self._retrier.retrying(only_throttles=True)
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
        json: Mapping[str, Any] | None = None,
    ) -> Iterator[Page]:
        """Yield pages until the paginator finds no next request. `resume` restarts from a
        checkpointed request instead of the first page.

        Every page must be a page: a 204, an empty body, `null` or a body of the wrong shape is a
        malformed response (retried), never an empty listing. A next request equal to one the
        listing already made raises PaginationLoopError.

        `prefetch` asks for the next page while the caller works on this one, so a sequential
        listing costs max(server, caller) instead of their sum. At most one request is ahead; an
        error it meets is raised when the caller asks for that page, as without prefetch.

        `json` makes the first page a POST of that body (an RPC API's arguments, Dropbox's); the
        paginator's next requests say themselves whether they are GETs or POSTs."""
        first_params: dict[str, Any] = getattr(paginator, "first_params", dict)()
        request = resume or PageRequest(
            url=self.url_for(path_or_url), params={**first_params, **(params or {})}, json=json
        )
        guard = ListingGuard(request, redact_url(self.relative_path(request.url)))

        def fetch(page_request: PageRequest) -> Page:
            return self._fetch_page(page_request, paginator)

        yield from (follow_ahead if prefetch else follow)(request, fetch, guard)

    def _fetch_page(self, request: PageRequest, paginator: Paginator) -> Page:
        """One page, retried as a whole: a malformed page (empty, wrong shape) is retried like a
        garbled body, since proxies and overloaded backends produce both."""
        url = self.url_for(request.url)
        return self._retrier.retrying()(self._attempt_page, request, url, paginator)

    def _attempt_page(self, request: PageRequest, url: str, paginator: Paginator) -> Page:
        body: dict[str, Any] = {} if request.json is None else {"json": dict(request.json)}
        response, payload = self._attempt(request.method, url, request.params or None, body, True)
        return page_from(request, response, payload, paginator, self.url_for)

    def iter_items(
        self, path_or_url: str, paginator: Paginator, params: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        for page in self.paginate(path_or_url, paginator, params):
            yield from page.items

    # -- file contents ------------------------------------------------------------------------

    def download(
        self,
        path_or_url: str,
        sink: IO[bytes],
        *,
        max_bytes: int,
        params: Mapping[str, Any] | None = None,
        unauthenticated_hosts: tuple[str, ...] = (),
    ) -> Downloaded:
        """Stream a file's content into `sink`, never more than `max_bytes` of it, with the same
        pacing, retries, TLS and deadline as every other request; `sink` is rewound and emptied
        before each attempt, so a retried download never appends to a broken one.

        A redirect on the API's origin is followed with the credentials. A redirect elsewhere is
        followed only to a host in `unauthenticated_hosts` (an exact host, or `.suffix` for its
        subdomains), and then *without* them: a pre-authenticated download URL (Graph's
        `@microsoft.graph.downloadUrl`) carries its own short-lived authorization in its query, and
        the API's token must not reach a storage host. When the API itself is on a loopback host (the
        sandbox), other loopback hosts count as such a host too.

        A file over `max_bytes` raises ContentTooLargeError before its body is read when the
        provider declares its length, else as soon as the count passes the cap."""
        url = self.url_for(path_or_url)
        retrying = self._retrier.retrying()
        result: Downloaded = retrying(self._download_attempt, url, params, sink, max_bytes, unauthenticated_hosts)
        return result

    def _download_attempt(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        sink: IO[bytes],
        max_bytes: int,
        unauthenticated_hosts: tuple[str, ...],
    ) -> Downloaded:
        sink.seek(0)
        sink.truncate()
        http, authenticated = self._http, True
        for _ in range(MAX_REDIRECTS + 1):
            started = time.monotonic()
            response = self._open("GET", url, params, http, paced=authenticated)
            try:
                if 300 <= response.status_code < 400:
                    target = self._download_redirect(response, unauthenticated_hosts)
                    if target.authenticated:
                        url = target.url
                    else:
                        url, http, authenticated = target.url, self._anonymous_client(), False
                    params = None  # Location carries its query
                    continue
                if response.status_code >= 400:
                    raise self._error_from(response, started)
                return self._stream_into(response, sink, max_bytes, started, authenticated)
            finally:
                response.close()
        raise RedirectRefusedError(
            f"more than {MAX_REDIRECTS} redirects in a row", status=300, method="GET", url=redact_url(url)
        )

    def _open(
        self, method: str, url: str, params: Mapping[str, Any] | None, http: httpx.Client, *, paced: bool
    ) -> httpx.Response:
        """One streamed request, its body not read yet (the caller reads or closes it)."""
        bucket = self.bucket(url) if paced else ""
        if paced and self.pacer is not None:
            waited = self.pacer.before_request(bucket)
            if waited:
                self.metrics.add(pacing_wait_seconds=waited)
        try:
            response = http.send(http.build_request(method, url, params=params), stream=True)
        except httpx.TransportError as exc:
            if paced and self.pacer is not None:
                self.pacer.abandon(bucket)
            self.metrics.add(requests=1)
            raise TransientError(
                f"{type(exc).__name__}: {exc}".split(" for url")[0], method=method, url=redact_url(url)
            ) from None
        self.metrics.add(requests=1)
        if paced and self.pacer is not None:
            self.pacer.observe(bucket, response)
        return response

    def _download_redirect(self, response: httpx.Response, unauthenticated_hosts: tuple[str, ...]) -> _Redirect:
        location = response.headers.get("location")
        if location:
            target = str(response.request.url.join(location))
            host = (urlsplit(target).hostname or "").lower()
            base_host = urlsplit(self.base_url).hostname
            if urlsplit(target).netloc != urlsplit(self.base_url).netloc and (
                any(host == h or (h.startswith(".") and host.endswith(h)) for h in unauthenticated_hosts)
                or (is_loopback(base_host) and is_loopback(host))
            ):
                try:
                    require_secure_url(target)
                except InsecureURLError:
                    raise RedirectRefusedError(
                        f"refusing the download redirect to {redact_url(target)!r}: not https",
                        status=response.status_code,
                        method="GET",
                        url=redact_url(str(response.request.url)),
                    ) from None
                return _Redirect(target, authenticated=False)
        return _Redirect(self.base.redirect_target("GET", response), authenticated=True)

    def _anonymous_client(self) -> httpx.Client:
        """A client with no credentials and no default headers of the API client's (some carry keys)."""
        client = guarded_client(
            transport=self._transport,
            timeout=self._timeout,
            headers={"User-Agent": "saaslens/0.1 (+https://github.com/saaslens/saaslens)"},
        )
        return client

    def _error_from(self, response: httpx.Response, started: float) -> ApiError:
        body = read_body(response, self.limits, started=started)
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
        read = httpx.Response(response.status_code, headers=headers, content=body, request=response.request)
        error = self.error_policy.error_for(read)
        if isinstance(error, ThrottledError):
            self.metrics.add(throttled=1)
            too_long = self._retrier.too_long_a_wait(error)
            if too_long is not None:
                return too_long
        return error

    def _stream_into(
        self, response: httpx.Response, sink: IO[bytes], max_bytes: int, started: float, authenticated: bool
    ) -> Downloaded:
        where = Where(status=response.status_code, method="GET", url=redact_url(str(response.request.url)))
        declared = response.headers.get("content-length", "")
        # A compressed body's length says nothing about the file's; only an identity one is checked early.
        identity = not response.headers.get("content-encoding")
        if identity and declared.isdigit() and int(declared) > max_bytes:
            raise ContentTooLargeError(
                f"the file is {int(declared)} bytes (Content-Length), over the size cap of {max_bytes} bytes",
                size=int(declared),
                cap=max_bytes,
                **where,
            )

        def too_large(what: str, size: int) -> ApiError:
            return ContentTooLargeError(
                f"the file's {what} passed the size cap of {max_bytes} bytes (over {size} read when reading stopped)",
                size=None,
                cap=max_bytes,
                **where,
            )

        # A file download is allowed the whole deadline for its body, whatever its size.
        written = 0
        for piece in body_pieces(response, self.limits, started=started, cap=max_bytes, too_large=too_large):
            sink.write(piece)
            written += len(piece)
        sink.flush()
        self.metrics.add(bytes=written)
        content_type = response.headers.get("content-type")
        return Downloaded(bytes=written, content_type=content_type, pre_authenticated=not authenticated)


@dataclass(frozen=True)
class Downloaded:
    """What `ApiClient.download` wrote: its length, the Content-Type served, and whether it came from a
    pre-authenticated URL (followed without the API's credentials)."""

    bytes: int
    content_type: str | None
    pre_authenticated: bool = False


@dataclass(frozen=True)
class _Redirect:
    url: str
    authenticated: bool
