"""Token providers and TokenAuth against httpx.MockTransport."""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import httpx
import jwt
import pytest

from saaslens.http import ApiClient, AuthenticationError
from saaslens.http.auth import (
    CLIENT_ASSERTION_TYPE,
    JWT_BEARER_GRANT,
    ClientCredentialsProvider,
    JwtBearerProvider,
    TokenAuth,
)
from saaslens.http.redaction import redact
from tests.e2e.okta_helpers import rsa_keypair

PRIVATE, PUBLIC = rsa_keypair()
TOKEN_URL = "https://idp.example.com/oauth2/v1/token"


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def test_private_key_jwt_assertion_is_signed_for_the_token_endpoint():
    seen = {}

    def handler(request):
        seen.update(form(request))
        return httpx.Response(200, json={"access_token": "at-123456789", "expires_in": 3600, "scope": "a b"})

    provider = ClientCredentialsProvider(TOKEN_URL, "client-1", private_key=PRIVATE, key_id="kid-1", scopes=("a", "b"))
    token = provider.fetch(httpx.Client(transport=httpx.MockTransport(handler)))
    assert token.scopes == ("a", "b") and token.expires_at > time.time() + 3000
    assert seen["client_assertion_type"] == CLIENT_ASSERTION_TYPE and seen["scope"] == "a b"
    claims = jwt.decode(seen["client_assertion"], PUBLIC, algorithms=["RS256"], audience=TOKEN_URL)
    assert claims["iss"] == claims["sub"] == "client-1"
    assert jwt.get_unverified_header(seen["client_assertion"])["kid"] == "kid-1"
    assert "at-123456789" not in redact("token at-123456789")


def test_client_secret_basic_and_post():
    seen = []

    def handler(request):
        seen.append((request.headers.get("Authorization"), form(request)))
        return httpx.Response(200, json={"access_token": "tok-abcdefgh", "expires_in": 60})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    ClientCredentialsProvider(TOKEN_URL, "cid", client_secret="s3cret-value").fetch(http)
    ClientCredentialsProvider(TOKEN_URL, "cid", client_secret="s3cret-value", secret_method="post").fetch(http)
    assert seen[0][0].startswith("Basic ") and "client_secret" not in seen[0][1]
    assert seen[1][0] is None and seen[1][1]["client_secret"] == "s3cret-value"


def test_token_endpoint_429_and_garbled_200_are_retried_but_400_is_final():
    responses = iter(
        [
            httpx.Response(429, headers={"Retry-After": "0"}),
            httpx.Response(200, text="<html>proxy</html>"),
            httpx.Response(200, json={"access_token": "tok-12345678"}),
        ]
    )
    http = httpx.Client(transport=httpx.MockTransport(lambda r: next(responses)))
    assert ClientCredentialsProvider(TOKEN_URL, "cid", client_secret="sss-secret").fetch(http).value == "tok-12345678"

    calls = []

    def reject(request):
        calls.append(request)
        return httpx.Response(401, json={"error": "invalid_client", "error_description": "bad secret sss-secret"})

    with pytest.raises(AuthenticationError) as info:
        ClientCredentialsProvider(TOKEN_URL, "cid", client_secret="sss-secret").fetch(
            httpx.Client(transport=httpx.MockTransport(reject))
        )
    assert len(calls) == 1 and info.value.provider_code == "invalid_client"
    assert "sss-secret" not in str(info.value)


def test_jwt_bearer_grant_carries_subject_and_scopes():
    seen = {}

    def handler(request):
        seen.update(form(request))
        return httpx.Response(200, json={"access_token": "ya29.token-value", "expires_in": 3599})

    JwtBearerProvider(
        TOKEN_URL, "sa@proj.iam.gserviceaccount.com", PRIVATE, scopes=("s1",), subject="admin@example.com"
    ).fetch(httpx.Client(transport=httpx.MockTransport(handler)))
    assert seen["grant_type"] == JWT_BEARER_GRANT
    claims = jwt.decode(seen["assertion"], PUBLIC, algorithms=["RS256"], audience=TOKEN_URL)
    assert claims["sub"] == "admin@example.com" and claims["scope"] == "s1"


def test_token_auth_refreshes_on_401_and_before_expiry():
    issued = []

    def token_handler(request):
        issued.append(f"tok-{len(issued)}-abcdef")
        return httpx.Response(200, json={"access_token": issued[-1], "expires_in": 3600})

    def api_handler(request):
        # The first token is "revoked" by the provider; the second works.
        ok = request.headers["Authorization"] != "Bearer tok-0-abcdef"
        return httpx.Response(200 if ok else 401, json={} if ok else {"error": "expired"})

    auth = TokenAuth(
        ClientCredentialsProvider(TOKEN_URL, "cid", client_secret="secret-xyz"),
        httpx.Client(transport=httpx.MockTransport(token_handler)),
    )
    client = ApiClient("https://api.example.com", auth=auth, transport=httpx.MockTransport(api_handler))
    assert client.get_json("/x") == {}
    assert issued == ["tok-0-abcdef", "tok-1-abcdef"] and auth.refreshes == 1
    # a token inside its refresh margin is replaced before use
    auth._token = type(auth._token)(value="tok-1-abcdef", expires_at=time.time() + 30)
    client.get_json("/x")
    assert len(issued) == 3


def test_token_auth_refreshes_again_when_another_threads_token_has_expired_too():
    """Thread A's request fails with tok-0; meanwhile thread B replaced it with tok-1, which has
    since expired as well. A must not give up after trying B's token: it fetches its own."""
    issued = []
    dead = {"Bearer tok-0", "Bearer tok-1"}

    def token_handler(request):
        issued.append(f"tok-{len(issued)}")
        return httpx.Response(200, json={"access_token": issued[-1], "expires_in": 3600})

    auth = TokenAuth(
        ClientCredentialsProvider(TOKEN_URL, "cid", client_secret="secret-xyz"),
        httpx.Client(transport=httpx.MockTransport(token_handler)),
    )
    flow = auth.auth_flow(httpx.Request("GET", "https://api.example.com/x"))
    request = next(flow)  # thread A's request leaves with tok-0 ...
    auth.token(force=True, stale=auth.token())  # ... and thread B replaces it with tok-1 meanwhile
    auth_header = request.headers["Authorization"]
    sent = []
    while True:
        sent.append(auth_header)
        try:
            request = flow.send(httpx.Response(401 if auth_header in dead else 200, request=request))
        except StopIteration:
            break
        auth_header = request.headers["Authorization"]
    assert sent == ["Bearer tok-0", "Bearer tok-1", "Bearer tok-2"]


def test_token_auth_gives_up_when_its_own_fresh_token_is_refused():
    issued = []

    def token_handler(request):
        issued.append(f"tok-{len(issued)}")
        return httpx.Response(200, json={"access_token": issued[-1], "expires_in": 3600})

    auth = TokenAuth(
        ClientCredentialsProvider(TOKEN_URL, "cid", client_secret="secret-xyz"),
        httpx.Client(transport=httpx.MockTransport(token_handler)),
    )
    client = ApiClient(
        "https://api.example.com",
        auth=auth,
        transport=httpx.MockTransport(lambda request: httpx.Response(401, json={"error": "invalid_token"})),
    )
    with pytest.raises(AuthenticationError):
        client.get_json("/x")
    assert issued == ["tok-0", "tok-1"]  # one refresh, not a loop
