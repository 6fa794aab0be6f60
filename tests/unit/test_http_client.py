"""The HTTP layer against httpx.MockTransport: retries, throttling, errors, TLS rules, redaction."""

from __future__ import annotations

import time

import httpx
import pytest

from saaslens.http import (
    ApiClient,
    AuthenticationError,
    ErrorPolicy,
    InsecureURLError,
    MalformedResponseError,
    PermissionDeniedError,
    RateLimitHeaders,
    RetryPolicy,
    ThrottledError,
    TransientError,
)
from saaslens.http.auth import StaticTokenAuth
from saaslens.http.pagination import LinkHeaderPaginator
from tests.unit.fake_clock import FakeClock

TOKEN = "00secret-token-value-xyz"


def make_client(handler, **kwargs) -> tuple[ApiClient, list[float]]:
    fake = FakeClock(start=time.time())  # the tests' rate-limit headers carry real reset times
    sleeps = fake.slept
    client = ApiClient(
        "https://example.okta.com",
        auth=StaticTokenAuth(TOKEN, scheme="SSWS"),
        error_policy=kwargs.pop("error_policy", ErrorPolicy(RateLimitHeaders())),
        transport=httpx.MockTransport(handler),
        sleep=fake.sleep,
        clock=fake,
        retry=kwargs.pop("retry", RetryPolicy(max_attempts=5)),
        **kwargs,
    )
    return client, sleeps


def test_retries_5xx_with_backoff_then_succeeds():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(503, json={"error": "busy"}) if len(calls) < 3 else httpx.Response(200, json=[1])

    client, sleeps = make_client(handler)
    assert client.get_json("/api/v1/users") == [1]
    assert len(calls) == 3
    assert client.metrics.retries == 2
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)
    assert sleeps[1] >= sleeps[0] * 0.5  # grows (with jitter)


def test_429_honours_retry_after_and_counts_throttled():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "7"}, json={"errorCode": "E0000047"})
        return httpx.Response(200, json=[])

    client, sleeps = make_client(handler)
    client.get_json("/api/v1/logs")
    assert client.metrics.throttled == 1
    assert 7 <= sleeps[0] <= 7.6


def test_429_without_retry_after_uses_reset_header():
    reset = int(time.time()) + 20

    def handler(request):
        if not handler.seen:
            handler.seen = True
            return httpx.Response(
                429,
                headers={
                    "X-Rate-Limit-Limit": "10",
                    "X-Rate-Limit-Remaining": "0",
                    "X-Rate-Limit-Reset": str(reset),
                },
            )
        return httpx.Response(200, json=[])

    handler.seen = False
    client, sleeps = make_client(handler)
    client.get_json("/x")
    assert 17 <= sleeps[0] <= 21.6


def test_401_is_not_retried_and_message_is_redacted():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(401, json={"errorCode": "E0000011", "errorSummary": f"Invalid token {TOKEN}"})

    client, _ = make_client(handler)
    with pytest.raises(AuthenticationError) as info:
        client.get_json("/api/v1/users")
    assert len(calls) == 1
    assert TOKEN not in str(info.value)
    assert "401" in str(info.value)


def test_403_is_permission_denied():
    client, _ = make_client(lambda r: httpx.Response(403, json={"error": {"code": "Forbidden", "message": "no"}}))
    with pytest.raises(PermissionDeniedError) as info:
        client.get_json("/x")
    assert info.value.provider_code == "Forbidden"


def test_html_body_is_malformed_and_retried_then_fails_clearly():
    client, _ = make_client(
        lambda r: httpx.Response(200, html="<html>gateway</html>"), retry=RetryPolicy(max_attempts=3)
    )
    with pytest.raises(MalformedResponseError) as info:
        client.get_json("/x")
    assert "not valid JSON" in str(info.value) and "text/html" in str(info.value)
    assert client.metrics.requests == 3


def test_connection_errors_are_transient():
    def handler(request):
        raise httpx.ConnectError("connection refused")

    client, _ = make_client(handler, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(TransientError):
        client.get_json("/x")
    assert client.metrics.requests == 2 and client.metrics.retries == 1


def test_https_required_except_loopback():
    with pytest.raises(InsecureURLError):
        ApiClient("http://example.okta.com")
    ApiClient("http://127.0.0.1:8765/okta/acme").close()
    ApiClient("http://localhost:1").close()
    ApiClient("http://[::1]:1").close()


def test_next_link_to_another_host_is_refused():
    def handler(request):
        return httpx.Response(200, json=[{"id": 1}], headers={"Link": '<https://evil.example.com/next>; rel="next"'})

    client, _ = make_client(handler)
    with pytest.raises(InsecureURLError):
        list(client.paginate("/api/v1/users", LinkHeaderPaginator()))


def test_auth_header_sent_and_tls_verification_on():
    seen = {}

    def handler(request):
        seen["auth"] = request.headers["Authorization"]
        return httpx.Response(200, json={})

    client, _ = make_client(handler)
    client.get_json("/x")
    assert seen["auth"] == f"SSWS {TOKEN}"


def test_throttle_classification_can_be_overridden():
    class GitHubLike(ErrorPolicy):
        def is_throttle(self, response, payload):
            return response.status_code == 429 or (
                response.status_code == 403 and response.headers.get("x-ratelimit-remaining") == "0"
            )

    responses = iter(
        [
            httpx.Response(403, headers={"x-ratelimit-remaining": "0", "retry-after": "1"}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    client, _ = make_client(lambda r: next(responses), error_policy=GitHubLike())
    assert client.get_json("/x") == {"ok": True}
    assert client.metrics.throttled == 1


def test_throttled_error_is_retryable_type():
    assert ThrottledError("x").retryable
