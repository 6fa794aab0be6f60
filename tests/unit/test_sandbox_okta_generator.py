"""The Okta personality: deterministic tenant data, and how the API serves it.

Generator tests work on OktaTenant directly. API tests go through a real SandboxServer with a plain
httpx client (Link-header pagination, System Log polling semantics, auth, OAuth token endpoint).
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec, personality_class
from saaslens_sandbox.okta.generator import ORIGIN_MARKER, USER_STATUSES, OktaOptions, OktaTenant

ANCHOR = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ANCHOR_MS = int(ANCHOR.timestamp() * 1000)
DAY_MS = 86_400_000


def tenant(seed: int = 1, users: int = 300, **options) -> OktaTenant:
    opts = OktaOptions.model_validate({"anchor": ANCHOR, **options})
    return OktaTenant(name="acme", seed=seed, users=users, options=opts, anchor=ANCHOR, link_base=ORIGIN_MARKER)


def ms(text: str | None) -> int | None:
    return None if text is None else int(datetime.fromisoformat(text).timestamp() * 1000)


# ============================================================================ generator


def test_same_seed_and_size_give_byte_identical_ground_truth():
    a, b = tenant(seed=7, users=250), tenant(seed=7, users=250)
    assert orjson.dumps(a.ground_truth()) == orjson.dumps(b.ground_truth())
    spec = TenantSpec(app="okta", name="x", seed=7, users=250, options={"anchor": ANCHOR.isoformat()})
    cls = personality_class("okta")
    assert orjson.dumps(cls(spec, "/okta/x").ground_truth()) == orjson.dumps(cls(spec, "/okta/x").ground_truth())


def test_different_seeds_differ():
    a, b = tenant(seed=1).ground_truth(), tenant(seed=2).ground_truth()
    assert [u["id"] for u in a["users"]] != [u["id"] for u in b["users"]]
    assert {e["uuid"] for e in a["log_events"]}.isdisjoint({e["uuid"] for e in b["log_events"]})


def test_every_status_present_with_realistic_timestamps():
    t = tenant(users=200)
    counts = Counter(u["status"] for u in t.users)
    assert set(counts) == set(USER_STATUSES)
    assert counts["ACTIVE"] > len(t.users) / 2
    for u in t.users:
        created, activated = ms(u["created"]), ms(u["activated"])
        status_changed, last_updated = ms(u["statusChanged"]), ms(u["lastUpdated"])
        assert created <= last_updated <= ANCHOR_MS
        if u["status"] == "STAGED":
            assert activated is None and u["lastLogin"] is None and status_changed is None
        else:
            assert created <= activated <= status_changed <= last_updated
        if u["lastLogin"]:
            assert activated <= ms(u["lastLogin"]) <= ANCHOR_MS
        if u["passwordChanged"]:
            assert activated <= ms(u["passwordChanged"]) <= last_updated
        assert u["profile"]["login"] == u["profile"]["email"]
        assert u["profile"]["firstName"] and u["profile"]["lastName"]
    assert len({u["profile"]["login"].lower() for u in t.users}) == len(t.users)
    assert any(not u["profile"]["lastName"].isascii() or not u["profile"]["firstName"].isascii() for u in t.users)


def test_groups_memberships_roles_and_grants():
    t = tenant(users=400)
    truth = t.ground_truth()
    types = Counter(g["type"] for g in truth["groups"])
    assert types["BUILT_IN"] == 1 and types["OKTA_GROUP"] >= 5 and types["APP_GROUP"] >= 2
    everyone = next(g for g in truth["groups"] if g["type"] == "BUILT_IN")
    assert everyone["profile"]["name"] == "Everyone"
    members = Counter(m["group_id"] for m in truth["memberships"])
    assert members[everyone["id"]] == len(truth["users"])
    app_group = next(g for g in truth["groups"] if g["type"] == "APP_GROUP")
    assert app_group["_links"]["source"]["href"].startswith(f"{ORIGIN_MARKER}/api/v1/apps/0oa")

    roles = truth["role_assignments"]
    assert {r["role_type"] for r in roles} >= {
        "SUPER_ADMIN", "ORG_ADMIN", "READ_ONLY_ADMIN", "APP_ADMIN", "USER_ADMIN", "HELP_DESK_ADMIN"
    }  # fmt: skip
    assert {r["assignment_type"] for r in roles} == {"USER", "GROUP"}
    users = {u["id"]: u for u in truth["users"]}
    assert all(r["user_id"] in users for r in roles)
    group_roles = [r for r in roles if r["assignment_type"] == "GROUP"]
    assert all((r["group_id"], r["user_id"]) in {(m["group_id"], m["user_id"]) for m in truth["memberships"]}
               for r in group_roles)  # fmt: skip
    (owner,) = [r for r in roles if r["role_type"] == "SUPER_ADMIN" and users[r["user_id"]]["profile"]["login"]
                .startswith("okta.admin@")]  # fmt: skip
    assert owner["assignment_type"] == "USER"

    assert truth["grants"], "some users consented to OAuth apps"
    for g in truth["grants"]:
        assert users[g["userId"]]["status"] == "ACTIVE"
        assert g["scopeId"].startswith("okta.") and g["issuer"] == ORIGIN_MARKER
        assert g["source"] in ("END_USER", "ADMIN") and g["clientId"].startswith("0oa")


def test_system_log_window_order_ties_and_volume():
    t = tenant(users=300)
    events = list(t.iter_events())
    assert len(events) == (12 * 300)  # events_per_user default
    keys = [(e["published"], e["uuid"]) for e in events]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    times = [ms(e["published"]) for e in events]
    assert min(times) >= ANCHOR_MS - 7 * DAY_MS and max(times) <= ANCHOR_MS
    last_day = sum(1 for x in times if x > ANCHOR_MS - DAY_MS)
    assert 0.09 < last_day / len(events) < 0.2  # about a day's worth of a 7-day history
    ties = sum(1 for a, b in itertools.pairwise(times) if a == b)
    assert ties > len(events) * 0.05
    types = Counter(e["eventType"] for e in events)
    assert types["user.session.start"] and types["user.authentication.sso"] > 0
    for needed in ("user.authentication.auth_via_mfa", "group.user_membership.add", "group.user_membership.remove",
                   "user.lifecycle.create", "user.account.lock", "policy.lifecycle.update"):  # fmt: skip
        assert types[needed] > 0, needed
    outcomes = Counter((e["eventType"], e["outcome"]["result"]) for e in events)
    assert outcomes["user.session.start", "FAILURE"] > 0 and outcomes["user.session.start", "DENY"] > 0
    failure = next(e for e in events if e["outcome"]["result"] == "FAILURE")
    assert failure["outcome"]["reason"] and failure["severity"] == "WARN"
    e = events[0]
    assert uuid.UUID(e["uuid"]).version == 4
    assert e["client"]["ipAddress"] and e["client"]["userAgent"]["rawUserAgent"]
    assert e["client"]["geographicalContext"]["country"]
    assert e["transaction"]["id"] and isinstance(e["debugContext"]["debugData"], dict)
    # lastLogin agrees with the newest successful sign-in each user has in the log
    newest: dict[str, int] = {}
    for ev in events:
        if ev["eventType"] == "user.session.start" and ev["outcome"]["result"] == "SUCCESS":
            newest[ev["actor"]["id"]] = max(newest.get(ev["actor"]["id"], 0), ms(ev["published"]) // 1000 * 1000)
    users = {u["id"]: u for u in t.users}
    assert all(ms(users[uid]["lastLogin"]) == last for uid, last in newest.items())


def test_event_volume_options_and_anchor_default():
    assert tenant(users=50, events_per_user=2).event_count == 100
    assert tenant(users=50, log_events=777).event_count == 777
    assert tenant(users=50, log_events=0).event_count == 0
    spec = TenantSpec(app="okta", name="now", users=5)
    p = personality_class("okta")(spec, "/okta/now")
    now = datetime.now(UTC)
    assert now - timedelta(seconds=5) <= p.tenant.anchor <= now and p.tenant.anchor.microsecond == 0


def test_two_thousand_users_build_fast():
    started = time.perf_counter()
    t = tenant(users=2000)
    assert time.perf_counter() - started < 0.8
    assert len(t.users) == 2000 and t.event_count == 24_000


# ============================================================================ API


def _keypair() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return key, public


CLIENT_KEY, CLIENT_PUB = _keypair()
OTHER_KEY, _ = _keypair()
FULL, LIMITED = "0oasandboxfull000001", "0oasandboxlimited001"


@pytest.fixture(scope="module")
def server():
    clients = [
        {"client_id": FULL, "public_key_pem": CLIENT_PUB,
         "scopes": ["okta.users.read", "okta.groups.read", "okta.roles.read", "okta.logs.read"]},
        {"client_id": LIMITED, "public_key_pem": CLIENT_PUB, "scopes": ["okta.users.read"]},
    ]  # fmt: skip
    specs = [
        # walking the log 7 events at a time is far beyond Okta's 120 requests/min: raise the ceiling
        TenantSpec(
            app="okta",
            name="acme",
            seed=3,
            users=260,
            rate_limits=RateLimitConfig(scale=100),
            options={
                "anchor": ANCHOR.isoformat(),
                "oauth_clients": clients,
                "access_token_ttl_seconds": 1,
                "api_tokens": [
                    {"token": "admin-token", "roles": ["SUPER_ADMIN"]},
                    {"token": "helpdesk-token", "roles": ["HELP_DESK_ADMIN"]},
                ],
            },
        ),
        # anchored "now" so the default since (7 days before now) sees it
        TenantSpec(app="okta", name="live", seed=4, users=30, options={"history_days": 2}),
    ]
    with SandboxServer(specs) as running:
        yield running


@pytest.fixture(scope="module")
def truth(server):
    return server.personality("okta", "acme").ground_truth()


def api(server, token="admin-token", tenant_name="acme") -> httpx.Client:
    return httpx.Client(base_url=server.tenant_url("okta", tenant_name),
                        headers={"Authorization": f"SSWS {token}"}, timeout=10)  # fmt: skip


def walk(c: httpx.Client, url: str, params=None, max_pages=10_000) -> tuple[list, list[httpx.Response]]:
    items, responses = [], []
    r = c.get(url, params=params)
    while True:
        assert r.status_code == 200, r.text
        responses.append(r)
        items.extend(r.json())
        nxt = r.links.get("next", {}).get("url")
        if not nxt or len(responses) >= max_pages:
            return items, responses
        r = c.get(nxt)


def test_users_pagination_walks_every_user_once_via_link_headers(server, truth):
    with api(server) as c:
        users, responses = walk(c, "/api/v1/users", {"limit": 37})
    expected = [u for u in truth["users"] if u["status"] != "DEPROVISIONED"]
    assert [u["id"] for u in users] == [u["id"] for u in expected]
    assert users == expected
    assert all(len(r.json()) == 37 for r in responses[:-1]) and "next" not in responses[-1].links
    prefix = server.tenant_url("okta", "acme")
    for r in responses:
        assert r.links["self"]["url"].startswith(prefix + "/api/v1/users")
    assert responses[0].links["next"]["url"].startswith(prefix + "/api/v1/users?limit=37&after=00u")
    assert users[0]["_links"]["self"]["href"] == f"{prefix}/api/v1/users/{users[0]['id']}"
    with api(server) as c:
        assert len(c.get("/api/v1/users", params={"limit": 1000}).json()) == 200  # clamped to the max


def test_deprovisioned_only_when_asked_and_filters(server, truth):
    deprovisioned = [u["id"] for u in truth["users"] if u["status"] == "DEPROVISIONED"]
    assert deprovisioned
    with api(server) as c:
        got, _ = walk(c, "/api/v1/users", {"filter": 'status eq "DEPROVISIONED"', "limit": 5})
        assert [u["id"] for u in got] == deprovisioned
        cutoff = "2025-02-25T00:00:00.000Z"
        recent, _ = walk(c, "/api/v1/users", {"search": f'lastUpdated gt "{cutoff}"'})
        want = {u["id"] for u in truth["users"] if u["lastUpdated"] > cutoff and u["status"] != "DEPROVISIONED"}
        assert {u["id"] for u in recent} == want and want
        both = c.get("/api/v1/users", params={"filter": f'lastUpdated gt "{cutoff}" and status eq "ACTIVE"'}).json()
        assert {u["id"] for u in both} == {
            u["id"] for u in truth["users"] if u["lastUpdated"] > cutoff and u["status"] == "ACTIVE"
        }
        bad = c.get("/api/v1/users", params={"filter": 'profile.department eq "IT"'})  # not filterable
        assert bad.status_code == 400 and bad.json()["errorCode"] == "E0000031"
        assert c.get("/api/v1/users", params={"search": "status eq"}).json()["errorCode"] == "E0000031"
        assert c.get("/api/v1/users", params={"limit": "ten"}).json()["errorCode"] == "E0000001"


def test_single_user_me_roles_grants_and_404s(server, truth):
    owner = next(c for c in truth["credentials"]["api_tokens"] if c["token"] == "admin-token")
    with api(server) as c:
        me = c.get("/api/v1/users/me").json()
        assert me["id"] == owner["user_id"] and "deactivate" in me["_links"]
        assert c.get(f"/api/v1/users/{owner['user_login']}").json()["id"] == owner["user_id"]
        roles = c.get(f"/api/v1/users/{owner['user_id']}/roles").json()
        assert [r["type"] for r in roles] == ["SUPER_ADMIN"] and roles[0]["assignmentType"] == "USER"
        grant = truth["grants"][0]
        listed = c.get(f"/api/v1/users/{grant['userId']}/grants", params={"expand": "scope"}).json()
        assert grant["id"] in {g["id"] for g in listed}
        assert all(g["_embedded"]["scope"]["id"] == g["scopeId"] for g in listed)
        for path in ("/api/v1/users/00uNOPE", "/api/v1/users/00uNOPE/roles", "/api/v1/users/00uNOPE/grants",
                     "/api/v1/groups/00gNOPE/users"):  # fmt: skip
            r = c.get(path)
            assert r.status_code == 404 and r.json()["errorCode"] == "E0000007", path
        assert c.get("/api/v1/nothing-here").json()["errorCode"] == "E0000008"
        assert c.post("/api/v1/users").json()["errorCode"] == "E0000022"


def test_groups_group_members_and_role_assignees(server, truth):
    with api(server) as c:
        groups, _ = walk(c, "/api/v1/groups", {"limit": 7})
        assert sorted(g["id"] for g in groups) == sorted(g["id"] for g in truth["groups"])
        okta_groups = c.get("/api/v1/groups", params={"filter": 'type eq "OKTA_GROUP"'}).json()
        assert okta_groups and {g["type"] for g in okta_groups} == {"OKTA_GROUP"}
        everyone = next(g for g in groups if g["type"] == "BUILT_IN")
        stats = c.get(f"/api/v1/groups/{everyone['id']}", params={"expand": "stats"}).json()
        assert stats["_embedded"]["stats"]["usersCount"] == len(truth["users"])
        members, _ = walk(c, f"/api/v1/groups/{everyone['id']}/users", {"limit": 50})
        assert [u["id"] for u in members] == [u["id"] for u in truth["users"]]

        holders, url = [], "/api/v1/iam/assignees/users?limit=4"
        while url:
            body = c.get(url).json()
            holders += [v["id"] for v in body["value"]]
            url = body["_links"].get("next", {}).get("href")
            assert url is None or url.startswith(server.tenant_url("okta", "acme"))
    assert holders == sorted({r["user_id"] for r in truth["role_assignments"]})


def _log_walk(c, params, max_pages=10_000):
    return walk(c, "/api/v1/logs", params, max_pages=max_pages)


def test_logs_bounded_walk_returns_everything_in_order_across_tied_timestamps(server, truth):
    since = (ANCHOR - timedelta(days=8)).isoformat().replace("+00:00", "Z")
    until = (ANCHOR + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    with api(server) as c:
        events, responses = _log_walk(c, {"since": since, "until": until, "limit": 7})
    assert [e["uuid"] for e in events] == [e["uuid"] for e in truth["log_events"]]
    assert "next" not in responses[-1].links  # bounded: next only while more results exist
    # at least one page boundary falls inside a run of identical `published` values
    straddles = sum(
        1 for a, b in itertools.pairwise(responses) if a.json()[-1]["published"] == b.json()[0]["published"]
    )
    assert straddles > 0
    with api(server) as c:
        desc, _ = _log_walk(c, {"since": since, "until": until, "limit": 500, "sortOrder": "DESCENDING"})
    assert [e["uuid"] for e in desc] == [e["uuid"] for e in reversed(truth["log_events"])]


def test_logs_polling_next_link_is_always_present(server, truth):
    since = (ANCHOR - timedelta(days=8)).isoformat()
    with api(server) as c:
        r = c.get("/api/v1/logs", params={"since": since, "limit": 1000})
        seen = []
        for _ in range(20):  # follow next until the pages come back empty
            assert r.status_code == 200 and "next" in r.links
            seen += r.json()
            if not r.json():
                break
            r = c.get(r.links["next"]["url"])
        assert r.json() == [] and "next" in r.links  # empty page, still a next link
        again = c.get(r.links["next"]["url"])
        assert again.json() == [] and again.links["next"]["url"] == r.links["next"]["url"]
    assert [e["uuid"] for e in seen] == [e["uuid"] for e in truth["log_events"]]


def test_logs_defaults_filter_and_errors(server, truth):
    with api(server) as c:
        # default since is 7 days before *now*; this tenant's history ended on ANCHOR (the past)
        r = c.get("/api/v1/logs")
        assert r.status_code == 200 and r.json() == [] and "next" in r.links
        since = (ANCHOR - timedelta(days=8)).isoformat()
        until = ANCHOR.isoformat()
        flt = 'eventType eq "user.session.start" and outcome.result eq "FAILURE"'
        got, _ = _log_walk(c, {"since": since, "until": until, "filter": flt, "limit": 50})
        want = [e["uuid"] for e in truth["log_events"]
                if e["eventType"] == "user.session.start" and e["outcome"]["result"] == "FAILURE"
                and e["published"] < "2025-03-01T12:00:00.000Z"]  # fmt: skip
        assert [e["uuid"] for e in got] == want and want
        actor = truth["log_events"][0]["actor"]["id"]
        mine, _ = _log_walk(c, {"since": since, "until": until, "filter": f'actor.id eq "{actor}"', "limit": 1000})
        assert mine and {e["actor"]["id"] for e in mine} == {actor}
        assert len(c.get("/api/v1/logs", params={"since": since, "limit": 5000}).json()) == 1000
        assert c.get("/api/v1/logs", params={"since": "yesterday"}).json()["errorCode"] == "E0000001"
        assert c.get("/api/v1/logs", params={"filter": "eventType eq"}).json()["errorCode"] == "E0000031"
        assert c.get("/api/v1/logs", params={"after": "garbage"}).json()["errorCode"] == "E0000001"
    with api(server, token="sandbox-okta-live-admin", tenant_name="live") as c:
        live = c.get("/api/v1/logs", params={"limit": 1000}).json()
        assert live and len(live) == server.personality("okta", "live").tenant.event_count


def test_auth_errors_and_role_scopes(server):
    url = server.tenant_url("okta", "acme")
    r = httpx.get(url + "/api/v1/users")
    assert r.status_code == 401 and r.json()["errorCode"] == "E0000011"
    r = httpx.get(url + "/api/v1/users", headers={"Authorization": "SSWS wrong"})
    assert r.status_code == 401 and r.json()["errorSummary"] == "Invalid token provided"
    with api(server, token="helpdesk-token") as c:
        assert c.get("/api/v1/users").status_code == 200
        for path in ("/api/v1/logs", "/api/v1/iam/assignees/users"):
            r = c.get(path)
            assert r.status_code == 403 and r.json()["errorCode"] == "E0000006", path


# ----------------------------------------------------------------------------- OAuth token endpoint


def assertion(server, client_id=FULL, key=CLIENT_KEY, aud=None, exp_in=300, **claims) -> str:
    now = int(time.time())
    payload = {
        "aud": aud or server.tenant_url("okta", "acme") + "/oauth2/v1/token",
        "iss": client_id,
        "sub": client_id,
        "iat": now,
        "exp": now + exp_in,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256")


def token_request(server, jwt_assertion: str, scope="okta.users.read okta.logs.read") -> httpx.Response:
    return httpx.post(
        server.tenant_url("okta", "acme") + "/oauth2/v1/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": jwt_assertion,
        },
    )


def test_token_endpoint_issues_a_bearer_token_for_a_signed_assertion(server):
    r = token_request(server, assertion(server))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1
    assert body["scope"] == "okta.users.read okta.logs.read"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    base = server.tenant_url("okta", "acme")
    assert httpx.get(base + "/api/v1/users?limit=2", headers=bearer).status_code == 200
    assert httpx.get(base + "/api/v1/logs?limit=2", headers=bearer).status_code == 200
    denied = httpx.get(base + "/api/v1/groups", headers=bearer)  # scope not requested
    assert denied.status_code == 403 and denied.json()["errorCode"] == "E0000006"
    assert 'error="insufficient_scope"' in denied.headers["www-authenticate"]
    time.sleep(2.05)
    expired = httpx.get(base + "/api/v1/users", headers=bearer)
    assert expired.status_code == 401 and expired.json()["errorCode"] == "E0000011"
    assert "expired" in expired.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"key": OTHER_KEY}, "signature"),
        ({"aud": "https://acme.okta.com/oauth2/v1/token"}, "audience"),
        ({"exp_in": -30}, "expired"),
        ({"exp_in": 7200}, "too far"),
        ({"client_id": "0oaunknown"}, "client_id"),
    ],
)
def test_token_endpoint_rejects_bad_assertions(server, kwargs, needle):
    r = token_request(server, assertion(server, **kwargs))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client" and needle in r.json()["error_description"]


def test_token_endpoint_scopes_and_replay(server):
    r = token_request(server, assertion(server, client_id=LIMITED), scope="okta.users.read okta.logs.read")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    assert "okta.logs.read" in r.json()["error_description"]
    reused = assertion(server)
    assert token_request(server, reused).status_code == 200
    replay = token_request(server, reused)
    assert replay.status_code == 401 and "already been used" in replay.json()["error_description"]
    r = httpx.post(server.tenant_url("okta", "acme") + "/oauth2/v1/token", data={"grant_type": "password"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
