"""Okta-specific faults: OAuth access tokens that stop working mid-scan."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest

from saaslens_sandbox.core import FaultConfig, SandboxServer, TenantSpec
from tests.e2e.okta_helpers import rsa_keypair

PRIVATE, PUBLIC = rsa_keypair()
CLIENT = "0oatokenexpiry000001"


@pytest.fixture(scope="module")
def server():
    spec = TenantSpec(
        app="okta",
        name="tok",
        users=10,
        options={"oauth_clients": [{"client_id": CLIENT, "public_key_pem": PUBLIC, "scopes": ["okta.users.read"]}]},
    )
    with SandboxServer([spec]) as sb:
        yield sb


def _token(base: str) -> str:
    now = int(time.time())
    url = f"{base}/oauth2/v1/token"
    claims = {"iss": CLIENT, "sub": CLIENT, "aud": url, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex}
    form = {
        "grant_type": "client_credentials",
        "scope": "okta.users.read",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": jwt.encode(claims, PRIVATE, algorithm="RS256"),
    }
    r = httpx.post(url, data=form)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _expired(r: httpx.Response) -> bool:
    challenge = r.headers.get("www-authenticate", "")
    return r.status_code == 401 and r.json()["errorCode"] == "E0000011" and 'error="invalid_token"' in challenge


def test_tokens_expire_after_n_requests_and_a_fresh_one_works(server):
    p = server.personality("okta", "tok")
    base = server.tenant_url("okta", "tok")
    p.set_faults(FaultConfig(token_max_requests=3))
    try:
        token = _token(base)
        headers = {"Authorization": f"Bearer {token}"}
        codes = [httpx.get(f"{base}/api/v1/users", headers=headers).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        assert _expired(httpx.get(f"{base}/api/v1/users", headers=headers))
        fresh = {"Authorization": f"Bearer {_token(base)}"}
        assert httpx.get(f"{base}/api/v1/users", headers=fresh).status_code == 200
        assert p.stats()["faults_injected"]["token_expired"] >= 1
    finally:
        p.set_faults(FaultConfig())


def test_tokens_expire_after_s_seconds_whatever_expires_in_said(server):
    p = server.personality("okta", "tok")
    base = server.tenant_url("okta", "tok")
    p.set_faults(FaultConfig(token_max_seconds=0.3))
    try:
        headers = {"Authorization": f"Bearer {_token(base)}"}
        assert httpx.get(f"{base}/api/v1/users", headers=headers).status_code == 200
        time.sleep(0.4)
        assert _expired(httpx.get(f"{base}/api/v1/users", headers=headers))
    finally:
        p.set_faults(FaultConfig())
    # without the fault the same old token works again: nothing but the fault expired it
    assert httpx.get(f"{base}/api/v1/users", headers=headers).status_code == 200
