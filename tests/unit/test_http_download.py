"""ApiClient.download: file contents streamed under a size cap, retried from the start, and a
redirect to a pre-authenticated storage URL followed without the API's credentials."""

from __future__ import annotations

import gzip
import io
import zlib

import httpx
import pytest

from saaslens.http import ContentTooLargeError, NotFoundError, RedirectRefusedError
from tests.unit.test_http_client import TOKEN, make_client

STORAGE = "https://tenant.sharepoint.com/_layouts/15/download.aspx?tempauth=short-lived"


def test_streams_the_body_into_the_sink_with_its_content_type():
    body = b"line\n" * 100_000

    def handler(request):
        assert request.headers["authorization"] == f"SSWS {TOKEN}"
        return httpx.Response(200, content=body, headers={"content-type": "text/plain"})

    client, _ = make_client(handler)
    sink = io.BytesIO()
    got = client.download("/files/1/content", sink, max_bytes=10 << 20)
    assert sink.getvalue() == body
    assert got.bytes == len(body) and got.content_type == "text/plain" and not got.pre_authenticated


def test_a_declared_length_over_the_cap_is_refused_before_the_body_is_read():
    def handler(request):
        return httpx.Response(200, content=b"x" * 2048, headers={"content-length": "2048"})

    client, _ = make_client(handler)
    sink = io.BytesIO()
    with pytest.raises(ContentTooLargeError) as caught:
        client.download("/files/1/content", sink, max_bytes=1024)
    assert caught.value.size == 2048 and caught.value.cap == 1024
    assert sink.getvalue() == b""


def test_a_compressed_body_is_capped_by_what_it_inflates_to():
    """A small gzip body that inflates past the cap stops at the cap (a decompression bomb)."""
    bomb = gzip.compress(b"\0" * (8 << 20))

    def handler(request):
        return httpx.Response(200, content=bomb, headers={"content-encoding": "gzip"})

    client, _ = make_client(handler)
    with pytest.raises(ContentTooLargeError):
        client.download("/files/1/content", io.BytesIO(), max_bytes=1 << 20)
    assert len(bomb) < 1 << 20  # the wire count alone would have let it through


def test_a_retried_download_starts_the_sink_over():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(503, json={"error": "busy"})
        return httpx.Response(200, content=b"whole file")

    client, _ = make_client(handler)
    sink = io.BytesIO(b"stale bytes from an earlier attempt that must not survive")
    client.download("/files/1/content", sink, max_bytes=1024)
    assert sink.getvalue() == b"whole file" and len(calls) == 2


def test_a_pre_authenticated_redirect_is_followed_without_the_token():
    seen: list[httpx.Request] = []

    def handler(request):
        seen.append(request)
        if request.url.host == "example.okta.com":
            return httpx.Response(302, headers={"location": STORAGE})
        return httpx.Response(200, content=b"%PDF-1.7 ...", headers={"content-type": "application/pdf"})

    client, _ = make_client(handler)
    sink = io.BytesIO()
    got = client.download("/drives/d/items/i/content", sink, max_bytes=1024, unauthenticated_hosts=(".sharepoint.com",))
    assert got.pre_authenticated and sink.getvalue().startswith(b"%PDF")
    api, storage = seen
    assert api.headers["authorization"] == f"SSWS {TOKEN}"
    assert "authorization" not in storage.headers
    assert TOKEN not in str(storage.headers) and storage.url.params["tempauth"] == "short-lived"


def test_a_redirect_to_a_host_not_listed_is_refused_and_never_requested():
    seen: list[str] = []

    def handler(request):
        seen.append(request.url.host)
        return httpx.Response(302, headers={"location": "https://attacker.example/steal"})

    client, _ = make_client(handler)
    with pytest.raises(RedirectRefusedError):
        client.download("/files/1/content", io.BytesIO(), max_bytes=1024, unauthenticated_hosts=(".sharepoint.com",))
    assert seen == ["example.okta.com"]


def test_a_lookalike_host_does_not_match_a_suffix():
    def handler(request):
        return httpx.Response(302, headers={"location": "https://evilsharepoint.com/x"})

    client, _ = make_client(handler)
    with pytest.raises(RedirectRefusedError):
        client.download("/files/1/content", io.BytesIO(), max_bytes=1024, unauthenticated_hosts=(".sharepoint.com",))


def test_a_plain_http_storage_url_is_refused():
    def handler(request):
        return httpx.Response(302, headers={"location": "http://tenant.sharepoint.com/x"})

    client, _ = make_client(handler)
    with pytest.raises(RedirectRefusedError, match="https"):
        client.download("/files/1/content", io.BytesIO(), max_bytes=1024, unauthenticated_hosts=(".sharepoint.com",))


def test_provider_errors_keep_their_classes():
    def handler(request):
        return httpx.Response(404, json={"errorCode": "E0000007", "errorSummary": "Not found"})

    client, _ = make_client(handler)
    with pytest.raises(NotFoundError):
        client.download("/files/gone/content", io.BytesIO(), max_bytes=1024)


def test_deflate_bodies_are_inflated():
    body = b"a,b\n1,2\n" * 1000

    def handler(request):
        return httpx.Response(200, content=zlib.compress(body), headers={"content-encoding": "deflate"})

    client, _ = make_client(handler)
    sink = io.BytesIO()
    assert client.download("/f", sink, max_bytes=1 << 20).bytes == len(body)
    assert sink.getvalue() == body
