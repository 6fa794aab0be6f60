"""The sandbox framework: config loading, registry, admin API, fault injection and rate limits.

Faults and rate limits are generic (core.py) but observed here through the Okta personality, the
only one registered, with a plain httpx client, the way a connector would see them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest

from saaslens_sandbox import core
from saaslens_sandbox.core import (
    APP_REGISTRY,
    FaultConfig,
    RateLimitConfig,
    SandboxConfigError,
    SandboxServer,
    TenantSpec,
    load_sandbox_config,
    personality_class,
)

ROOT = Path(__file__).resolve().parents[2]
ANCHOR = datetime(2025, 3, 1, 12, 0, tzinfo=UTC).isoformat()
TOKEN = "sandbox-okta-core-admin"


@pytest.fixture(scope="module")
def server():
    specs = [
        TenantSpec(app="okta", name="core", seed=5, users=40, options={"anchor": ANCHOR}),
        TenantSpec(
            app="okta",
            name="tight",
            seed=6,
            users=20,
            options={"anchor": ANCHOR},
            # /api/v1/logs is 120/min for the workforce tier: 0.05 -> 6 per window
            rate_limits=RateLimitConfig(scale=0.05, window_seconds=60),
        ),
    ]
    with SandboxServer(specs) as running:
        yield running


@pytest.fixture
def core_tenant(server):
    p = server.personality("okta", "core")
    p.set_faults(FaultConfig())
    p.reset_rate_limits()
    yield p
    p.set_faults(FaultConfig())


def client(token: str = TOKEN) -> httpx.Client:
    return httpx.Client(headers={"Authorization": f"SSWS {token}"}, timeout=10)


# ----------------------------------------------------------------------------- config


def test_fault_config_defaults_mean_no_fault():
    f = FaultConfig()
    assert (f.rate_429, f.burst_429, f.rate_5xx, f.burst_5xx, f.rate_reset) == (0, 0, 0, 0, 0)
    assert (f.slow_ms, f.rate_html_error, f.rate_truncated) == (0, 0, 0)
    with pytest.raises(ValueError, match="less than or equal to 1"):
        FaultConfig(rate_5xx=1.5)


def test_default_sandbox_yaml_loads():
    config = load_sandbox_config(ROOT / "include" / "sandbox.yaml")
    assert (config.host, config.port) == ("127.0.0.1", 8765)
    tenants = {(t.app, t.name): t for t in config.tenants}
    assert set(tenants) == {("okta", "acme"), ("okta", "globex")}
    assert (tenants["okta", "acme"].seed, tenants["okta", "acme"].users) == (1, 2000)
    assert (tenants["okta", "globex"].seed, tenants["okta", "globex"].users) == (2, 300)
    for t in tenants.values():
        (token,) = t.options["api_tokens"]
        assert token["roles"] == ["SUPER_ADMIN"]
        assert token["token"] == f"sandbox-okta-{t.name}-admin"


def test_config_errors_name_file_tenant_and_field(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "tenants:\n"
        "  - {app: okta, name: acme, users: -5}\n"
        "  - {app: nosuchapp, name: x}\n"
        "  - {app: okta, name: ok, options: {api_tokens: [{token: t, roles: [GOD_MODE]}]}}\n"
        "  - {app: okta, name: Bad Name}\n"
    )
    with pytest.raises(SandboxConfigError) as err:
        load_sandbox_config(path)
    text = str(err.value)
    assert f"{path}: tenant 'acme' (tenants[0]): field users:" in text
    assert "tenant 'x' (tenants[1]): field app: Value error, unknown app 'nosuchapp'" in text
    assert "tenant 'ok' (tenants[2]): field options.api_tokens.0.roles.0:" in text
    assert "tenant 'Bad Name' (tenants[3]): field name:" in text


def test_config_file_problems_are_clear(tmp_path):
    with pytest.raises(SandboxConfigError, match="no such file"):
        load_sandbox_config(tmp_path / "missing.yaml")
    (tmp_path / "a.yaml").write_text("tenants: [")
    with pytest.raises(SandboxConfigError, match="not valid YAML"):
        load_sandbox_config(tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("tenants:\n  - {app: okta, name: a}\n  - {app: okta, name: a}\nport: -1\n")
    with pytest.raises(SandboxConfigError) as err:
        load_sandbox_config(tmp_path / "b.yaml")
    assert "duplicate tenant okta/a" in str(err.value) and "field port" in str(err.value)


def test_registry_resolves_lazily_by_app_name():
    assert APP_REGISTRY["okta"] == "saaslens_sandbox.okta:OktaPersonality"
    cls = personality_class("okta")
    assert cls.app == "okta" and issubclass(cls, core.Personality)
    with pytest.raises(SandboxConfigError, match="unknown app"):
        personality_class("nope")


def test_sandbox_imports_no_connector_code():
    import sys

    import saaslens_sandbox.okta  # noqa: F401

    source = "\n".join(p.read_text() for p in (ROOT / "sandbox/saaslens_sandbox").rglob("*.py"))
    assert "saaslens.connectors" not in source
    assert not any(name.startswith("saaslens.connectors") for name in sys.modules if "sandbox" in name)


# ----------------------------------------------------------------------------- server + admin API


def test_server_urls_and_admin_endpoints(server, core_tenant):
    assert server.url.startswith("http://127.0.0.1:") and server.port > 0
    assert server.tenant_url("okta", "core") == f"{server.url}/okta/core"
    with pytest.raises(KeyError):
        server.tenant_url("okta", "missing")

    tenants = httpx.get(f"{server.url}/_sandbox/tenants").json()
    assert {"app": "okta", "name": "core", "seed": 5, "users": 40, "base_url": f"{server.url}/okta/core"} in tenants

    truth = httpx.get(f"{server.url}/_sandbox/okta/core/ground-truth").json()
    assert truth == core_tenant.ground_truth()
    assert truth["base_url"] == f"{server.url}/okta/core"

    assert httpx.get(f"{server.url}/_sandbox/okta/core/faults").json() == FaultConfig().model_dump()
    put = httpx.put(f"{server.url}/_sandbox/okta/core/faults", json={"burst_5xx": 1, "slow_ms": 1})
    assert put.status_code == 200 and put.json()["burst_5xx"] == 1
    assert core_tenant.faults.burst_5xx == 1
    bad = httpx.put(f"{server.url}/_sandbox/okta/core/faults", json={"rate_429": 7})
    assert bad.status_code == 400
    assert httpx.get(f"{server.url}/_sandbox/okta/nope/faults").status_code == 404


def test_stats_count_buckets_statuses_and_bytes(server, core_tenant):
    base = server.tenant_url("okta", "core")
    httpx.post(f"{server.url}/_sandbox/okta/core/stats/reset")
    with client() as c:
        r1 = c.get(f"{base}/api/v1/users")
        c.get(f"{base}/api/v1/users/00uDoesNotExist")
        c.get(f"{base}/api/v1/logs")
    httpx.get(f"{base}/api/v1/groups")  # no token: 401
    stats = httpx.get(f"{server.url}/_sandbox/okta/core/stats").json()
    assert stats["requests"] == 4
    assert stats["by_status"] == {"200": 2, "404": 1, "401": 1}
    assert stats["by_bucket"]["/api/v1/users"]["by_status"] == {"200": 1}
    assert stats["by_bucket"]["/api/v1/users/{id}"]["by_status"] == {"404": 1}
    assert stats["by_bucket"]["/api/v1/groups"]["by_status"] == {"401": 1}
    assert stats["by_bucket"]["/api/v1/users"]["bytes_sent"] == len(r1.content)
    assert stats["bytes_sent"] > len(r1.content)
    reset = httpx.post(f"{server.url}/_sandbox/okta/core/stats/reset").json()
    assert reset["requests"] == 0 and reset["by_bucket"] == {}


# ----------------------------------------------------------------------------- faults


def test_burst_429_then_success(server, core_tenant):
    core_tenant.set_faults(FaultConfig(burst_429=2))
    url = server.tenant_url("okta", "core") + "/api/v1/users"
    with client() as c:
        for _ in range(2):
            r = c.get(url)
            assert r.status_code == 429
            assert r.json()["errorCode"] == "E0000047"
            assert r.headers["X-Rate-Limit-Remaining"] == "0"
            assert int(r.headers["X-Rate-Limit-Reset"]) >= int(time.time())
        assert c.get(url).status_code == 200
    assert core_tenant.faults.burst_429 == 0
    assert core_tenant.stats()["faults_injected"]["429"] == 2


def test_burst_5xx_has_the_providers_error_body(server, core_tenant):
    core_tenant.set_faults(FaultConfig(burst_5xx=3))
    url = server.tenant_url("okta", "core") + "/api/v1/groups"
    with client() as c:
        codes = []
        for _ in range(3):
            r = c.get(url)
            codes.append(r.status_code)
            assert r.json()["errorCode"] == "E0000009"
        assert set(codes) <= {500, 502, 503}
        assert c.get(url).status_code == 200


def test_html_error_page_is_not_json(server, core_tenant):
    core_tenant.set_faults(FaultConfig(rate_html_error=1.0))
    with client() as c:
        r = c.get(server.tenant_url("okta", "core") + "/api/v1/users")
    assert r.status_code == 502
    assert r.headers["content-type"].startswith("text/html")
    assert "<html>" in r.text
    with pytest.raises(ValueError, match=r"JSON|Expecting value"):
        r.json()


def test_truncated_200_has_a_cut_json_body(server, core_tenant):
    core_tenant.set_faults(FaultConfig(rate_truncated=1.0))
    with client() as c:
        r = c.get(server.tenant_url("okta", "core") + "/api/v1/users")
        assert r.status_code == 200
        assert int(r.headers["content-length"]) == len(r.content)
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(r.content)
        # a non-200 is never truncated
        assert c.get(server.tenant_url("okta", "core") + "/api/v1/users/nope").json()["errorCode"] == "E0000007"


def test_reset_drops_the_connection_mid_response(server, core_tenant):
    core_tenant.set_faults(FaultConfig(rate_reset=1.0))
    with client() as c, pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        c.get(server.tenant_url("okta", "core") + "/api/v1/users")
    core_tenant.set_faults(FaultConfig())
    with client() as c:
        assert c.get(server.tenant_url("okta", "core") + "/api/v1/users").status_code == 200


def test_slow_ms_adds_latency(server, core_tenant):
    core_tenant.set_faults(FaultConfig(slow_ms=150))
    with client() as c:
        started = time.monotonic()
        assert c.get(server.tenant_url("okta", "core") + "/api/v1/users?limit=1").status_code == 200
    assert time.monotonic() - started >= 0.15


def test_fault_draws_are_seeded_by_the_tenant():
    def draws(seed: int) -> list[str | None]:
        spec = TenantSpec(app="okta", name="f", seed=seed, users=3, faults=FaultConfig(rate_429=0.3, rate_5xx=0.3))
        p = personality_class("okta")(spec, "/okta/f")
        return [p._decide_fault()[0] for _ in range(60)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)
    assert {"429", "5xx", None} <= set(draws(1))


# ----------------------------------------------------------------------------- rate limits


def test_rate_limit_headers_count_down_then_429(server):
    p = server.personality("okta", "tight")
    p.reset_rate_limits()
    url = server.tenant_url("okta", "tight") + "/api/v1/logs"
    with client("sandbox-okta-tight-admin") as c:
        remaining = []
        for _ in range(6):
            r = c.get(url)
            assert r.status_code == 200
            assert r.headers["X-Rate-Limit-Limit"] == "6"
            remaining.append(int(r.headers["X-Rate-Limit-Remaining"]))
            reset = int(r.headers["X-Rate-Limit-Reset"])
            assert 0 <= reset - time.time() <= 61
        assert remaining == [5, 4, 3, 2, 1, 0]
        r = c.get(url)
        assert r.status_code == 429
        assert r.json()["errorCode"] == "E0000047"
        assert r.headers["X-Rate-Limit-Remaining"] == "0"
        # buckets are independent: users still has capacity (600 x 0.05 = 30)
        users = c.get(server.tenant_url("okta", "tight") + "/api/v1/users")
        assert users.status_code == 200 and users.headers["X-Rate-Limit-Limit"] == "30"
    assert p.stats()["rate_limited_429"] >= 1
    p.reset_rate_limits()


def test_read_timeout_fault_stalls_past_the_clients_read_timeout(server, core_tenant):
    core_tenant.set_faults(FaultConfig(burst_read_timeout=1, stall_ms=800))
    url = server.tenant_url("okta", "core") + "/api/v1/users?limit=1"
    with httpx.Client(headers={"Authorization": f"SSWS {TOKEN}"}, timeout=httpx.Timeout(5, read=0.3)) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.get(url)
        assert c.get(url).status_code == 200  # the burst is used up: the retry gets through
    assert core_tenant.stats()["faults_injected"]["stall"] == 1


def test_throttle_styles_provider_headers_or_retry_after_only(server, core_tenant):
    url = server.tenant_url("okta", "core") + "/api/v1/users"
    core_tenant.set_faults(FaultConfig(burst_429=1))
    with client() as c:
        r = c.get(url)
    assert r.status_code == 429 and "retry-after" not in r.headers
    assert int(r.headers["X-Rate-Limit-Reset"]) > time.time() - 1
    core_tenant.set_faults(FaultConfig(burst_429=1, throttle_style="retry_after"))
    with client() as c:
        r = c.get(url)
    assert r.status_code == 429 and r.json()["errorCode"] == "E0000047"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert not any(h.lower().startswith("x-rate-limit") for h in r.headers)


def test_injected_429_says_when_to_return_even_with_limits_disabled():
    spec = TenantSpec(app="okta", name="open", users=5, rate_limits=RateLimitConfig(enabled=False, window_seconds=5))
    with SandboxServer([spec]) as sb:
        p = sb.personality("okta", "open")
        p.set_faults(FaultConfig(burst_429=1))
        with httpx.Client(headers={"Authorization": "SSWS sandbox-okta-open-admin"}) as c:
            r = c.get(sb.tenant_url("okta", "open") + "/api/v1/users")
            assert r.status_code == 429
            assert 0 <= int(r.headers["X-Rate-Limit-Reset"]) - time.time() <= 6
            ok = c.get(sb.tenant_url("okta", "open") + "/api/v1/users")
            assert ok.status_code == 200 and "x-rate-limit-reset" not in ok.headers


def test_large_pages_serve_the_documented_maximum(server, core_tenant):
    base = server.tenant_url("okta", "core")
    with client() as c:
        assert len(c.get(base + "/api/v1/users?limit=5").json()) == 5
        core_tenant.set_faults(FaultConfig(large_pages=True))
        users = c.get(base + "/api/v1/users?limit=5")
        logs = c.get(base + "/api/v1/logs", params={"since": "2000-01-01T00:00:00Z", "limit": 5})
    listed = [u for u in core_tenant.tenant.users if u["status"] != "DEPROVISIONED"]
    assert len(users.json()) == len(listed) > 5  # all of them: the 200 maximum is more than the tenant has
    assert "next" not in users.links
    assert len(logs.json()) == min(1000, core_tenant.tenant.event_count)
