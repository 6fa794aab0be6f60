"""The HTTP layer against hostile answers and dangerous URLs (issue 10, items 2, 4, 6, 7, 8, 12).

Every connector talks through saaslens.http, so each defence is proved here once, at the layer,
with the smallest server that shows it: httpx.MockTransport where the wire does not matter, a
real loopback server where it does (proxies, dripping bodies, gzip bombs, large pages).
tests/security/test_hostile_provider.py runs every connector against the same attacks.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import socketserver
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from saaslens.http import (
    ApiClient,
    ApiError,
    ErrorPolicy,
    InsecureURLError,
    MalformedResponseError,
    RateLimitHeaders,
    RetryPolicy,
    ThrottledError,
    TransientError,
)
from saaslens.http.auth import ClientCredentialsProvider, StaticTokenAuth
from saaslens.http.client import token_endpoint_client
from saaslens.http.pagination import (
    BodyCursorPaginator,
    LinkHeaderPaginator,
    NextUrlPaginator,
    PageTokenPaginator,
    SinglePage,
)
from tests.e2e.okta_helpers import rsa_keypair
from tests.unit.fake_clock import FakeClock

TOKEN = "00hardening-token-value"
SECRET = "client-secret-value-123"


def mock_client(handler: Callable[[httpx.Request], httpx.Response], base: str = "https://api.example.com/tenant"):
    fake = FakeClock(start=time.time())
    client = ApiClient(
        base,
        auth=StaticTokenAuth(TOKEN),
        error_policy=ErrorPolicy(RateLimitHeaders()),
        transport=httpx.MockTransport(handler),
        sleep=fake.sleep,
        clock=fake,
        retry=RetryPolicy(max_attempts=3),
    )
    return client, fake.slept


# -- a real loopback server for what only the wire shows ------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    respond: Callable[[http.server.BaseHTTPRequestHandler], None]

    def do_GET(self) -> None:
        self.server.respond(self)  # type: ignore[attr-defined]

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[Callable], str]]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(respond: Callable[[http.server.BaseHTTPRequestHandler], None]) -> str:
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.respond = respond  # type: ignore[attr-defined]
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/tenant"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def _send(handler: http.server.BaseHTTPRequestHandler, body: bytes, **headers: str) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client stopped reading, rightly
        handler.wfile.write(body)


class _RecordingProxy(socketserver.ThreadingTCPServer):
    """A proxy that records who connected and what they asked for, then answers 502."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)


class _ProxyHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.server.seen.append(self.rfile.readline().decode("latin-1").strip())  # type: ignore[attr-defined]
        self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[_RecordingProxy]:
    server = _RecordingProxy()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, url)
        monkeypatch.setenv(name.lower(), url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    yield server
    server.shutdown()
    server.server_close()


# -- 2: credentials only over https, or plain http to loopback, checked before sending ------------


@pytest.mark.parametrize("credential", ["client_secret", "private_key_jwt"])
def test_a_token_request_to_plain_http_off_loopback_is_refused_before_sending(credential):
    reached: list[httpx.Request] = []

    def recorder(request: httpx.Request) -> httpx.Response:
        reached.append(request)
        return httpx.Response(200, json={"access_token": "at-issued-123456", "expires_in": 3600})

    token_url = "http://login.example.com/tenant/oauth2/v2.0/token?api_key=leaked-in-url"
    if credential == "client_secret":
        provider = ClientCredentialsProvider(token_url, "client-1", client_secret=SECRET, secret_method="post")
    else:
        provider = ClientCredentialsProvider(token_url, "client-1", private_key=rsa_keypair()[0])
    with pytest.raises(InsecureURLError) as refused:
        provider.fetch(token_endpoint_client(httpx.MockTransport(recorder)))
    assert reached == [], "the credential was sent before the URL was checked"
    message = str(refused.value)
    assert "http://login.example.com/tenant/oauth2/v2.0/token" in message
    assert "leaked-in-url" not in message and SECRET not in message


def test_a_request_an_auth_flow_sends_again_is_checked_too():
    class DowngradingAuth(httpx.Auth):
        """An auth flow that answers a 401 by re-sending the request somewhere else."""

        def auth_flow(self, request):
            request.headers["Authorization"] = f"Bearer {TOKEN}"
            response = yield request
            if response.status_code == 401:
                yield httpx.Request("GET", "http://api.example.com/tenant/retry", headers=request.headers)

    reached: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        reached.append(str(request.url))
        return httpx.Response(401) if len(reached) == 1 else httpx.Response(200, json={})

    client = ApiClient("https://api.example.com/tenant", auth=DowngradingAuth(), transport=httpx.MockTransport(handler))
    with pytest.raises(InsecureURLError, match=r"http://api\.example\.com/tenant/retry"):
        client.get_json("/users")
    assert reached == ["https://api.example.com/tenant/users"]


def test_a_loopback_request_never_goes_through_the_environment_proxy(serve, proxy):
    base = serve(lambda handler: _send(handler, b"[]"))
    with ApiClient(base, auth=StaticTokenAuth(TOKEN), retry=RetryPolicy(max_attempts=1)) as client:
        assert client.get_json("/users") == []
    with token_endpoint_client() as http:
        assert http.get(f"{base}/token").status_code == 200
    assert proxy.seen == [], "a loopback request carrying a credential went through the proxy"


def test_a_real_host_still_goes_through_the_environment_proxy(proxy):
    client = ApiClient("https://api.example.test", retry=RetryPolicy(max_attempts=1))
    with client, pytest.raises(TransientError):
        client.get_json("/users")
    assert proxy.seen and proxy.seen[0].startswith("CONNECT api.example.test:443"), proxy.seen


# -- 4: provider ids stay in one path segment ----------------------------------------------------


def test_a_provider_id_is_one_encoded_path_segment():
    from saaslens.http.client import api_path

    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        return httpx.Response(200, json=[])

    client, _ = mock_client(handler)
    client.get_json(api_path("/api/v1/groups", "../../x?y=#z%2F", "users"))
    assert seen == [b"/tenant/api/v1/groups/..%2F..%2Fx%3Fy%3D%23z%252F/users"]


@pytest.mark.parametrize("hostile", ["..", ".", "", "%2e%2E"])
def test_a_dot_segment_id_is_refused_naming_it(hostile):
    from saaslens.http.client import api_path

    with pytest.raises(MalformedResponseError, match="provider id") as refused:
        api_path("/api/v1/users", hostile, "roles")
    assert repr(hostile) in str(refused.value)
    assert not refused.value.retryable


@pytest.mark.parametrize("path", ["../../admin", "/users/../../admin", "users/%2e%2e/%2E%2E/admin", "./x"])
def test_a_relative_path_cannot_walk_out_of_the_base_path(path):
    client, _ = mock_client(lambda request: httpx.Response(200, json={}))
    with pytest.raises(InsecureURLError, match="leaves /tenant"):
        client.url_for(path)


def test_a_next_link_on_the_same_origin_must_stay_below_the_base_path():
    link = '<https://api.example.com/other/users>; rel="next"'
    handler, calls = _looping(lambda request: httpx.Response(200, json=[{"id": 1}], headers={"Link": link}))
    client, _ = mock_client(handler)
    with pytest.raises(InsecureURLError, match="leaves /tenant"):
        list(client.paginate("/users", LinkHeaderPaginator()))
    assert calls == ["https://api.example.com/tenant/users"]


# -- 6: redirects, empty answers -------------------------------------------------------------------


def test_a_redirect_to_another_origin_is_refused_and_no_credential_follows():
    reached: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        reached.append((str(request.url), request.headers.get("Authorization")))
        if request.url.host == "api.example.com":
            return httpx.Response(302, headers={"Location": "https://elsewhere.example.net/collect?x=1"})
        return httpx.Response(200, json=[{"id": "stolen"}])

    client, _ = mock_client(handler)
    with pytest.raises(ApiError, match="redirect") as refused:
        list(client.paginate("/users", LinkHeaderPaginator()))
    assert type(refused.value).__name__ == "RedirectRefusedError" and not refused.value.retryable
    assert "elsewhere.example.net" in str(refused.value)
    assert reached == [("https://api.example.com/tenant/users", f"Bearer {TOKEN}")]


def test_a_redirect_on_the_same_origin_is_followed_and_checked_again():
    reached: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        reached.append(str(request.url))
        if request.url.path == "/tenant/users":
            return httpx.Response(301, headers={"Location": "/tenant/v2/users?moved=1"})
        if request.url.path == "/tenant/v2/users":
            return httpx.Response(307, headers={"Location": "https://api.example.com/admin"})
        return httpx.Response(200, json=[{"id": "u1"}])

    client, _ = mock_client(handler)
    with pytest.raises(ApiError, match="redirect"):
        client.get_json("/users")
    assert reached == ["https://api.example.com/tenant/users", "https://api.example.com/tenant/v2/users?moved=1"]

    reached.clear()
    client, _ = mock_client(
        lambda request: (
            reached.append(str(request.url))
            or (
                httpx.Response(302, headers={"Location": "/tenant/v2/users?moved=1"})
                if request.url.path == "/tenant/users"
                else httpx.Response(200, json=[{"id": "u1"}])
            )
        )
    )
    assert list(client.iter_items("/users", LinkHeaderPaginator())) == [{"id": "u1"}]
    assert reached[-1] == "https://api.example.com/tenant/v2/users?moved=1"


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        (lambda: httpx.Response(204), "204"),
        (lambda: httpx.Response(200, content=b""), "empty body"),
        (lambda: httpx.Response(200, content=b"null"), "JSON null"),
    ],
)
@pytest.mark.parametrize(
    "paginator",
    [LinkHeaderPaginator(), NextUrlPaginator("value"), BodyCursorPaginator("members"), PageTokenPaginator("users")],
    ids=["okta-github", "graph", "slack", "google"],
)
def test_an_empty_answer_is_not_an_empty_page(answer, named, paginator):
    client, _ = mock_client(lambda request: answer())
    with pytest.raises(MalformedResponseError, match=named) as refused:
        list(client.paginate("/users", paginator))
    assert "was expected" in str(refused.value)
    assert type(refused.value).__name__ == "EmptyPageError"


def test_only_google_may_leave_out_an_empty_list():
    client, _ = mock_client(lambda request: httpx.Response(200, json={"kind": "admin#directory#members"}))
    assert list(client.iter_items("/groups/g/members", PageTokenPaginator("members"))) == []
    for paginator in (NextUrlPaginator("value"), BodyCursorPaginator("members"), SinglePage("usergroups")):
        with pytest.raises(MalformedResponseError, match="found none"):
            list(client.iter_items("/users", paginator))


# -- 12: a page of the wrong shape -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "paginator", "named"),
    [
        ({"value": {"id": "u1"}}, NextUrlPaginator("value"), "expected a list at 'value', got an object"),
        ([{"id": "u1"}], NextUrlPaginator("value"), "expected a JSON object holding a list at 'value', got a list"),
        ([{"id": "u1"}, "u2"], LinkHeaderPaginator(), "item 1 of the list at the top level is a string"),
        ({"members": [["u1"]], "ok": True}, BodyCursorPaginator("members"), "item 0 .* is a list, expected an object"),
    ],
)
def test_a_page_of_the_wrong_shape_is_a_malformed_response_naming_the_url(body, paginator, named):
    client, _ = mock_client(lambda request: httpx.Response(200, json=body))
    with pytest.raises(MalformedResponseError, match=named) as refused:
        list(client.paginate("/users", paginator))
    assert "https://api.example.com/tenant/users" in str(refused.value)


def test_a_listing_of_plain_ids_says_so():
    client, _ = mock_client(lambda request: httpx.Response(200, json={"ok": True, "users": ["U1", "U2"]}))
    assert list(client.iter_items("/usergroups.users.list", SinglePage("users", items_are=str))) == ["U1", "U2"]


# -- 7: listings and requests that never end -------------------------------------------------------


def _looping(body: Callable[[httpx.Request], httpx.Response]) -> tuple[Callable, list[str]]:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if len(calls) > 50:
            raise RuntimeError("the client kept following a loop")
        return body(request)

    return handler, calls


@pytest.mark.parametrize("prefetch", [False, True])
def test_a_next_link_to_itself_is_a_pagination_loop(prefetch):
    handler, calls = _looping(
        lambda request: httpx.Response(200, json=[{"id": 1}], headers={"Link": f'<{request.url}>; rel="next"'})
    )
    client, _ = mock_client(handler)
    with pytest.raises(MalformedResponseError, match="loops") as refused:
        list(client.paginate("/users", LinkHeaderPaginator(), {"limit": 2}, prefetch=prefetch))
    assert type(refused.value).__name__ == "PaginationLoopError" and not refused.value.retryable
    assert "/users" in str(refused.value)
    assert len(calls) == 1


def test_a_cursor_that_comes_back_is_a_pagination_loop():
    def body(request: httpx.Request) -> httpx.Response:
        following = "c2" if request.url.params.get("cursor") != "c2" else "c1"
        return httpx.Response(
            200, json={"ok": True, "members": [{"id": 1}], "response_metadata": {"next_cursor": following}}
        )

    handler, calls = _looping(body)
    client, _ = mock_client(handler)
    with pytest.raises(MalformedResponseError, match="loops"):
        list(client.paginate("/users.list", BodyCursorPaginator("members"), {"limit": 1}))
    assert len(calls) == 3  # first page, c2, c1: c2 again is refused before it is asked for


def test_a_dripping_body_is_cut_at_the_request_deadline(serve):
    from saaslens.http.transport import RequestLimits

    body = b"[" + b" " * 200 + b"]"

    def drip(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            for byte in body:  # one byte every 0.1 s: each well within the read timeout
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass

    base = serve(drip)
    client = ApiClient(
        base,
        retry=RetryPolicy(max_attempts=1),
        timeout=httpx.Timeout(3.0),
        limits=RequestLimits(deadline_seconds=1.0),
    )
    started = time.monotonic()
    with pytest.raises(TransientError, match="request_deadline_seconds=1") as cut:
        client.get_json("/users")
    assert time.monotonic() - started < 3
    assert f"{base}/users" in str(cut.value)


def test_a_throttle_decades_ahead_fails_at_once_naming_the_option():
    client, sleeps = mock_client(lambda request: httpx.Response(429, headers={"Retry-After": "1000000000"}))
    with pytest.raises(ThrottledError) as refused:
        client.get_json("/logs")
    assert sleeps == [], "slept before giving up"
    message = str(refused.value)
    assert "asked to wait 1000000000 s" in message and "max_throttle_wait_seconds=300" in message
    assert not refused.value.retryable


def test_the_pacer_does_not_wait_for_a_reset_decades_ahead():
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        headers = {
            "X-Rate-Limit-Limit": "600",
            "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Reset": str(int(time.time()) + 10**9),
        }
        return httpx.Response(200, json=[], headers=headers)

    client, sleeps = mock_client(handler)
    client.get_json("/logs")
    with pytest.raises(ThrottledError, match="max_throttle_wait_seconds=300") as refused:
        client.get_json("/logs")
    assert sleeps == [] and len(calls) == 1
    assert "/logs" in str(refused.value) and not refused.value.retryable


# -- 8: response sizes --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """400 MiB of JSON whitespace, gzip-compressed to about 400 KB (1,000:1)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b" " * (1 << 20)
    body = b"".join([deflate.compress(chunk) for _ in range(400)] + [deflate.flush()])
    assert len(body) < 500_000
    return body


def test_a_gzip_bomb_is_refused_without_inflating_it(serve, bomb):
    base = serve(lambda handler: _send(handler, bomb, Content_Encoding="gzip"))
    client = ApiClient(base, retry=RetryPolicy(max_attempts=1))
    tracemalloc.start()
    try:
        with pytest.raises(MalformedResponseError, match="decompressed body larger than max_response_megabytes=32"):
            client.get_json("/users")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.0f} MiB while refusing a 400 MiB body"


def test_a_page_over_the_size_cap_is_refused_naming_the_cap(serve):
    item = b'{"id": "u", "pad": "' + b"x" * 1000 + b'"},'
    page = b"[" + item * (52_000_000 // len(item)) + b'{"id": "last"}]'
    base = serve(lambda handler: _send(handler, page))
    client = ApiClient(base, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(MalformedResponseError, match="larger than max_response_megabytes=32") as refused:
        list(client.paginate("/users", LinkHeaderPaginator()))
    assert type(refused.value).__name__ == "ResponseTooLargeError" and not refused.value.retryable


def test_a_compressed_page_within_the_cap_is_read_whole(serve):
    page = b"[" + b",".join(b'{"id": %d}' % i for i in range(50_000)) + b"]"
    base = serve(lambda handler: _send(handler, gzip.compress(page), Content_Encoding="gzip"))
    client = ApiClient(base, retry=RetryPolicy(max_attempts=1))
    items = list(client.iter_items("/users", LinkHeaderPaginator()))
    assert len(items) == 50_000 and items[-1] == {"id": 49_999}
    assert client.metrics.bytes == len(page)


# -- 12: a field of the wrong shape inside an item, met by a transform -----------------------------


@pytest.mark.integration
def test_a_transform_meeting_a_field_of_the_wrong_shape_fails_as_a_malformed_answer(tmp_path, monkeypatch):
    """The HTTP layer checks pages and items; a field inside an item is the transform's to read.
    A provider sending `profile` as a string must fail the stage as a malformed answer naming the
    instance, the stage and the transform, not as a bare AttributeError."""
    from saaslens.connectors.okta import transform as okta_transform
    from saaslens.lake.writer import Lake, snapshot_id_for
    from saaslens.runner import RunContext, StageFailed, run_stage
    from saaslens_sandbox.core import SandboxServer, TenantSpec
    from tests.e2e.okta_helpers import ANCHOR, instance, ssws

    real = okta_transform.account_row
    monkeypatch.setattr(
        okta_transform, "account_row", lambda user, *args, **kwargs: real({**user, "profile": "x"}, *args, **kwargs)
    )
    spec = TenantSpec(app="okta", name="shape", seed=3, users=5, options={"anchor": ANCHOR.isoformat()})
    with SandboxServer([spec]) as server:
        moment = time.strftime("%H%M%S")
        ctx = RunContext(run_id=f"shape-{moment}", snapshot_id=snapshot_id_for(datetime.now(UTC)))
        with pytest.raises(StageFailed) as failed:
            run_stage(instance("shape"), "users", ctx, Lake(tmp_path / "lake"), connection=ssws(server, "shape"))
    detail = str(failed.value)
    assert detail.startswith("okta/shape: users failed: MalformedResponseError: provider data of an unexpected shape")
    assert "okta/transform.py" in detail and "account_row" in detail and "'str' object" in detail
    assert "AttributeError" not in detail
