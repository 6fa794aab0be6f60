"""Where every credentialed byte leaves the process and every response byte comes back.

`GuardedTransport` wraps the transport of every client saaslens builds (API clients and token
endpoint clients, and any transport a test injects). It checks the URL of each request as it is
about to go out, so a token POST, a next link, a redirect target and a request an auth flow
sends again are all checked in this one place, before any byte is written. It also routes
proxies itself: `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` are honoured for real hosts (minus
`NO_PROXY`), never for loopback, where the plain-HTTP exception would otherwise hand the
credential to a proxy in the clear.

`read_body` reads a streamed response under `RequestLimits`: bytes on the wire and decompressed
bytes are counted as they arrive, and reading stops as soon as either passes the cap or the
request passes its overall deadline, so a gzip bomb is never inflated and a dripping body is cut.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import httpx

from saaslens.http.errors import (
    ApiError,
    InsecureURLError,
    MalformedResponseError,
    RequestDeadlineError,
    ResponseTooLargeError,
    Where,
)
from saaslens.http.redaction import redact_url

MIB = 1 << 20
# What we can decode with a bounded output size; never advertise more (httpx would add br and
# zstd as soon as their packages happen to be installed, and decode those unbounded).
ACCEPT_ENCODING = "gzip, deflate"
# Largest piece one decompress call may return: bounds the memory a bomb can claim per step.
_INFLATE_PIECE = 1 * MIB


@cache
def default_ssl_context() -> ssl.SSLContext:
    """One verifying context per process: building one costs tens of milliseconds, and a run
    creates a client per API host, credential and token endpoint."""
    return httpx.create_ssl_context(verify=True)


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


@dataclass(frozen=True)
class RequestLimits:
    """Per-request bounds (instance options `request_deadline_seconds`, `max_response_megabytes`).

    One size cap counts both the bytes on the wire and the decompressed bytes: decompressed bytes
    are what a page costs in memory (parsed, about ten times more), and a real compressed body is
    never larger than what it inflates to, so the same number bounds the download too (trailing
    junk after a gzip stream, or a stream that never ends, is cut by the wire count).
    """

    deadline_seconds: float = 300.0
    max_response_bytes: int = 32 * MIB

    @property
    def megabytes(self) -> str:
        return f"{self.max_response_bytes / MIB:g}"


# A token response is a few hundred bytes; an endpoint that sends more is not a token endpoint.
TOKEN_ENDPOINT_LIMITS = RequestLimits(deadline_seconds=60.0, max_response_bytes=1 * MIB)


class GuardedTransport(httpx.BaseTransport):
    """Refuses a request whose URL may not carry credentials, before any byte is sent, and keeps
    loopback requests off any proxy. `inner` is a transport a test injects (used as is, no
    proxies); otherwise a verifying HTTP/1.1 transport, and one per proxy the environment names."""

    def __init__(self, inner: httpx.BaseTransport | None = None, *, verify: ssl.SSLContext | None = None) -> None:
        self._verify = verify or default_ssl_context()
        self._direct = inner if inner is not None else httpx.HTTPTransport(verify=self._verify, http2=False)
        # Read once, like httpx does when it builds a client; an injected transport is the whole
        # network for a test, so no proxy applies to it.
        self._proxy_env = urllib.request.getproxies_environment() if inner is None else {}
        self._proxied: dict[str, httpx.HTTPTransport] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        require_secure_url(str(request.url))
        return self._route(request.url).handle_request(request)

    def _route(self, url: httpx.URL) -> httpx.BaseTransport:
        if not self._proxy_env or is_loopback(url.host):
            return self._direct
        proxy = self._proxy_env.get(url.scheme) or self._proxy_env.get("all")
        # The standard library's own NO_PROXY matching (what urllib.request.getproxies users get);
        # undocumented, so typeshed leaves it out.
        if not proxy or urllib.request.proxy_bypass_environment(url.host, self._proxy_env):  # type: ignore[attr-defined]
            return self._direct
        if "://" not in proxy:
            proxy = f"http://{proxy}"
        if proxy not in self._proxied:
            self._proxied[proxy] = httpx.HTTPTransport(verify=self._verify, http2=False, proxy=proxy)
        return self._proxied[proxy]

    def close(self) -> None:
        self._direct.close()
        for transport in self._proxied.values():
            transport.close()


def guarded_client(
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | float = 30.0,
    auth: httpx.Auth | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    """An httpx client whose every request goes through `GuardedTransport`: no redirects followed
    by httpx (the API client follows same-origin ones itself), no environment read by httpx
    (proxies are the transport's business), a verifying TLS context always."""
    return httpx.Client(
        auth=auth,
        headers={"Accept-Encoding": ACCEPT_ENCODING, **(headers or {})},
        timeout=timeout,
        transport=GuardedTransport(transport),
        follow_redirects=False,
        trust_env=False,
    )


def read_body(response: httpx.Response, limits: RequestLimits, *, started: float) -> bytes:
    """The decoded body of a streamed response, read under `limits`; `started` is the
    `time.monotonic()` at which the request went out. Raises ResponseTooLargeError or
    RequestDeadlineError as soon as a limit is crossed, having read no further."""
    parts = list(body_pieces(response, limits, started=started))
    return parts[0] if len(parts) == 1 else b"".join(parts)


def body_pieces(
    response: httpx.Response,
    limits: RequestLimits,
    *,
    started: float,
    cap: int | None = None,
    too_large: Callable[[str, int], ApiError] | None = None,
) -> Iterator[bytes]:
    """The decoded body of a streamed response in pieces, for a caller that writes them somewhere
    (a file download) instead of keeping them. `cap` replaces `limits.max_response_bytes` (a
    download has its own size cap); `too_large(what, size)` builds the error raised past it."""
    where = Where(
        status=response.status_code, method=response.request.method, url=redact_url(str(response.request.url))
    )
    cap = limits.max_response_bytes if cap is None else cap

    def over(what: str, size: int) -> ApiError:
        return too_large(what, size) if too_large is not None else _too_large(what, size, limits, where)

    try:
        body = response.content  # a test transport's response arrives already read
    except httpx.ResponseNotRead:
        pass
    else:
        if len(body) > cap:
            raise over("body", len(body))
        yield body
        return
    deadline = started + limits.deadline_seconds

    def on_the_wire() -> Iterator[bytes]:
        received = 0
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > cap:
                raise over("body on the wire", received)
            if time.monotonic() > deadline:
                raise RequestDeadlineError(
                    f"response still arriving after request_deadline_seconds={limits.deadline_seconds:g} "
                    f"({received} bytes so far): the request took longer than its deadline",
                    **where,
                )
            yield chunk

    pieces: Iterator[bytes] = on_the_wire()
    encodings = [e.strip().lower() for e in response.headers.get("content-encoding", "").split(",") if e.strip()]
    for encoding in reversed(encodings):  # the last one listed was applied last
        if encoding in ("gzip", "x-gzip"):
            pieces = _inflate(pieces, zlib.MAX_WBITS | 16, where)
        elif encoding == "deflate":
            pieces = _inflate(pieces, None, where)
        elif encoding != "identity":
            raise MalformedResponseError(
                f"Content-Encoding {encoding!r}, which was not asked for (Accept-Encoding: {ACCEPT_ENCODING})",
                **where,
            )
    size = 0
    for piece in pieces:
        size += len(piece)
        if size > cap:
            raise over("decompressed body", size)
        yield piece


def _too_large(what: str, size: int, limits: RequestLimits, where: Where) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{what} larger than max_response_megabytes={limits.megabytes} (over {size} bytes read when "
        "reading stopped); raise the instance option if the provider's pages are really this large",
        **where,
    )


def _inflate(chunks: Iterator[bytes], wbits: int | None, where: Where) -> Iterator[bytes]:
    """Decompress with every step's output bounded (zlib's `max_length`), so memory grows with
    what the caller keeps, never with what the compressed stream claims. `wbits` None: HTTP
    `deflate`, which RFC 9110 section 8.4.1.2 defines as the zlib format but some servers send
    raw; the first bytes tell which (RFC 1950 section 2.2 header check)."""
    decompressor = zlib.decompressobj(wbits) if wbits is not None else None
    try:
        for chunk in chunks:
            if decompressor is None:
                zlib_header = len(chunk) >= 2 and chunk[0] & 0x0F == 8 and (chunk[0] << 8 | chunk[1]) % 31 == 0
                decompressor = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
            data = chunk
            while not decompressor.eof:
                piece = decompressor.decompress(data, _INFLATE_PIECE)
                if piece:
                    yield piece
                data = decompressor.unconsumed_tail
                if not data and len(piece) < _INFLATE_PIECE:
                    break  # this chunk is used up and its output drained
        if decompressor is not None and not decompressor.eof:
            rest = decompressor.flush()
            if rest:
                yield rest
    except zlib.error as exc:
        raise MalformedResponseError(f"body does not decompress as its Content-Encoding says: {exc}", **where) from None
