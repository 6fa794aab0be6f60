"""The GitHub sandbox personality: determinism, pagination, auth failures and throttling."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec
from saaslens_sandbox.github.audit_query import PhraseError, decode_cursor, encode_cursor, parse_phrase
from saaslens_sandbox.github.generator import DAY_MS, GitHubOptions, GitHubTenant

ANCHOR = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
# One keep-alive client for every request: a new httpx client per call costs a TLS context.
HTTP = httpx.Client(timeout=30)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
PUBLIC = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
APP = {"app_id": 777, "client_id": "Iv23liSandbox0001", "installation_id": 9001, "public_key_pem": PUBLIC.decode()}


def tenant(users: int = 60, seed: int = 1, **options) -> GitHubTenant:
    return GitHubTenant("acme", seed, users, GitHubOptions(**options), ANCHOR, api_base="https://x")


# -- generation -----------------------------------------------------------------------------


def test_same_seed_same_org_and_different_seed_different_org():
    first, second = tenant().ground_truth(), tenant().ground_truth()
    assert first == second
    other = tenant(seed=2).ground_truth()
    assert other["users"] != first["users"] and other["audit_events"] != first["audit_events"]


def test_population_shape():
    t = tenant(users=400)
    roles = [u.role for u in t.users]
    assert roles.count("admin") >= 2 and roles.count("outside_collaborator") == 32
    assert len({u.id for u in t.users}) == len({u.login for u in t.users}) == 400
    assert [u.id for u in t.users] == sorted(u.id for u in t.users)  # lists are served in id order
    assert all(member in t.members for team in t.teams for member in team.members)  # no outsiders in teams
    assert any(team.parent is not None for team in t.teams)
    assert all(t.teams[team.parent].privacy == "closed" for team in t.teams if team.parent is not None)
    assert {c.type for c in t.credentials} == {
        "personal access token",
        "SSH key",
        "OAuth app token",
        "GitHub app token",
    }
    assert not tenant(users=400, saml_sso=False).credentials


def test_events_default_to_ten_per_user_inside_the_history_window():
    t = tenant(users=50, history_days=3)
    assert t.event_count == 500
    assert all(t.anchor_ms - 3 * DAY_MS <= ts <= t.anchor_ms for ts in t.ev_ts)
    assert list(t.ev_ts) == sorted(t.ev_ts)
    keys = [(t.ev_ts[i], t.doc_id_at(i)) for i in range(t.event_count)]
    assert keys == sorted(keys) and len({k[1] for k in keys}) == t.event_count
    assert tenant(users=50, events=77).event_count == 77


def test_ten_thousand_users_and_two_hundred_thousand_events_generate_quickly():
    started = time.perf_counter()
    t = tenant(users=10_000, events=200_000)
    elapsed = time.perf_counter() - started
    assert t.event_count == 200_000 and len(t.users) == 10_000
    assert elapsed < 10, f"generation took {elapsed:.1f}s"
    started = time.perf_counter()
    page = [t.render_event(i) for i in range(150_000, 150_100)]
    assert time.perf_counter() - started < 0.5 and len(page) == 100


def test_phrase_syntax():
    query = parse_phrase("created:2024-01-01T10:00:00+00:00..2024-01-01T11:00:00+00:00 action:team -actor:bot")
    assert query.since_ms == int(datetime(2024, 1, 1, 10, tzinfo=UTC).timestamp() * 1000)
    assert query.until_ms == int(datetime(2024, 1, 1, 11, 0, 1, tzinfo=UTC).timestamp() * 1000)  # inclusive second
    assert query.include == [("action", "team")] and query.exclude == [("actor", "bot")]
    day = parse_phrase("created:>2024-01-01")
    assert day.since_ms == int(datetime(2024, 1, 2, tzinfo=UTC).timestamp() * 1000)
    assert parse_phrase("created:<=2024-01-01T00:00:00+02:00").until_ms == int(
        datetime(2023, 12, 31, 22, 0, 1, tzinfo=UTC).timestamp() * 1000
    )
    for bad in ("hello", "country:de", "created:yesterday", "-created:2024-01-01"):
        with pytest.raises(PhraseError):
            parse_phrase(bad)
    assert decode_cursor(encode_cursor(1664383359927, "9hC0quDshWUmYKZ91EOf5w")) == (
        1664383359927,
        "9hC0quDshWUmYKZ91EOf5w",
    )
    # the shape of the cursor in GitHub's documentation
    assert (
        encode_cursor(1664383359927, "9hC0quDshWUmYKZ91EOf5w")
        == "MS42NjQzODMzNTk5MjdlKzEyfDloQzBxdURzaFdVbVlLWjkxRU9mNXc="
    )


# -- over HTTP ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    anchor = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0).isoformat()
    specs = [
        TenantSpec(
            app="github",
            name="acme",
            seed=5,
            users=230,
            options={"anchor": anchor, "apps": [APP]},
            rate_limits=RateLimitConfig(scale=50),
        ),
        TenantSpec(
            app="github", name="legacy", seed=6, users=40, options={"plan": "team", "team_member_fields": False}
        ),
        TenantSpec(
            app="github",
            name="tight",
            seed=7,
            users=20,
            options={"core_limit_per_hour": 300},
            rate_limits=RateLimitConfig(window_seconds=1),
        ),
    ]
    with SandboxServer(specs) as running:
        yield running


_TRUTHS: dict[tuple[int, str], dict] = {}


def truth(server, name="acme"):
    """Ground truth renders every event: computed once per tenant (it does not change)."""
    key = (id(server), name)
    if key not in _TRUTHS:
        _TRUTHS[key] = server.personality("github", name).ground_truth()
    return _TRUTHS[key]


def token(server, name="acme", **match) -> str:
    for entry in truth(server, name)["credentials"]["tokens"]:
        if all(entry[key] == value for key, value in match.items()):
            return entry["token"]
    raise LookupError(match)


def get(server, path, tok=None, name="acme", headers=None, **params) -> httpx.Response:
    base = {"User-Agent": "saaslens-test", "Accept": "application/vnd.github+json"}
    if tok:
        base["Authorization"] = f"Bearer {tok}"
    return HTTP.get(server.tenant_url("github", name) + path, params=params, headers={**base, **(headers or {})})


def follow(server, path, tok, **params) -> list[httpx.Response]:
    pages = [get(server, path, tok, **params)]
    while "next" in pages[-1].links:
        pages.append(
            HTTP.get(pages[-1].links["next"]["url"], headers={"Authorization": f"Bearer {tok}", "User-Agent": "t"})
        )
    return pages


def test_members_pages_cover_every_member_once(server):
    owner = token(server, kind="classic", owner=True, scopes=["read:org", "read:audit_log"])
    pages = follow(server, "/orgs/acme/members", owner, per_page=40)
    logins = [m["login"] for page in pages for m in page.json()]
    expected = [u["login"] for u in truth(server)["users"] if u["role"] != "outside_collaborator"]
    assert logins == expected and len(pages) == -(-len(expected) // 40)
    assert pages[0].links["last"]["url"].endswith(f"page={len(pages)}")
    assert "/organizations/" in pages[0].links["next"]["url"]  # GitHub links name the org by id
    assert len(get(server, "/orgs/acme/members", owner, per_page=1000).json()) == 100  # max 100
    admins = get(server, "/orgs/ACME/members", owner, role="admin", per_page=100).json()
    assert {m["login"] for m in admins} == {u["login"] for u in truth(server)["users"] if u["role"] == "admin"}
    without = get(server, "/orgs/acme/members", owner, filter="2fa_disabled", per_page=100).json()
    assert {m["login"] for m in without} == {
        u["login"]
        for u in truth(server)["users"]
        if u["role"] != "outside_collaborator" and u["two_factor"] == "disabled"
    }


def test_team_members_show_roles_and_inherited_child_members(server):
    owner = token(server, kind="classic", owner=True, scopes=["read:org", "read:audit_log"])
    t = server.personality("github", "acme").tenant
    parent = next(i for i, team in enumerate(t.teams) if i in t.children)
    listed = get(server, f"/orgs/acme/teams/{t.teams[parent].slug}/members", owner, per_page=100).json()
    direct = {t.users[u].id: role for u, role in t.teams[parent].members.items()}
    assert {m["id"]: m["role"] for m in listed if not m["inherited"]} == direct
    inherited = {m["id"] for m in listed if m["inherited"]}
    descendants, stack = set(), list(t.children[parent])
    while stack:
        child = stack.pop()
        descendants.add(child)
        stack.extend(t.children.get(child, ()))
    children = {t.users[u].id for c in descendants for u in t.teams[c].members}
    assert inherited == children - set(direct)
    maintainers = get(server, f"/orgs/acme/teams/{t.teams[parent].slug}/members", owner, role="maintainer").json()
    assert {m["id"] for m in maintainers} == {i for i, role in direct.items() if role == "maintainer"}
    owner = token(server, "legacy", owner=True, kind="classic")
    legacy = get(server, "/orgs/legacy/teams", owner, name="legacy", per_page=1).json()
    plain = get(server, f"/orgs/legacy/teams/{legacy[0]['slug']}/members", owner, name="legacy")
    assert plain.status_code == 200 and all("role" not in m for m in plain.json())


def test_audit_log_cursor_pages_in_both_orders(server):
    owner = token(server, kind="classic", owner=True, scopes=["read:org", "read:audit_log"])
    events = truth(server)["audit_events"]
    ascending = follow(server, "/orgs/acme/audit-log", owner, include="all", order="asc", per_page=100,
                       phrase="created:>=2000-01-01")  # fmt: skip
    ids = [e["_document_id"] for page in ascending for e in page.json()]
    assert ids == [e["_document_id"] for e in events]
    assert all(page.links["first"]["url"] for page in ascending)
    descending = follow(
        server, "/orgs/acme/audit-log", owner, include="all", per_page=250, phrase="created:>=2000-01-01"
    )
    assert [e["_document_id"] for page in descending for e in page.json()] == ids[::-1]
    # prev goes back one page
    second = ascending[1]
    back = HTTP.get(second.links["prev"]["url"], headers={"Authorization": f"Bearer {owner}", "User-Agent": "t"})
    assert [e["_document_id"] for e in back.json()] == ids[:100]
    assert parse_qs(urlsplit(second.links["prev"]["url"]).query)["before"]


def test_audit_log_filters(server):
    owner = token(server, kind="classic", owner=True, scopes=["read:org", "read:audit_log"])
    events = truth(server)["audit_events"]
    web = [e for page in follow(server, "/orgs/acme/audit-log", owner, per_page=100, phrase="created:>=2000-01-01")
           for e in page.json()]  # fmt: skip
    assert web and not any(e["action"].startswith("git.") for e in web)  # include defaults to web
    middle = events[len(events) // 2]["@timestamp"] // 1000
    since = datetime.fromtimestamp(middle, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    until = datetime.fromtimestamp(middle + 3600, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    window = [e for page in follow(server, "/orgs/acme/audit-log", owner, include="all", order="asc", per_page=100,
                                   phrase=f"created:{since}..{until}") for e in page.json()]  # fmt: skip
    expected = [e["_document_id"] for e in events if middle * 1000 <= e["@timestamp"] < (middle + 3601) * 1000]
    assert [e["_document_id"] for e in window] == expected and expected
    teams = get(server, "/orgs/acme/audit-log", owner, include="all", per_page=100, phrase="action:team").json()
    assert teams and all(e["action"].startswith("team.") for e in teams)
    assert get(server, "/orgs/acme/audit-log", owner, phrase="what happened").status_code == 422
    assert get(server, "/orgs/acme/audit-log", owner, after="!!").status_code == 422


def test_ties_on_one_millisecond_do_not_lose_events_across_pages(server):
    t = server.personality("github", "acme").tenant
    tie = next(i for i in range(1, t.event_count) if t.ev_ts[i] == t.ev_ts[i - 1])
    owner = token(server, kind="classic", owner=True, scopes=["read:org", "read:audit_log"])
    stamp = datetime.fromtimestamp(t.ev_ts[tie] // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    pages = follow(server, "/orgs/acme/audit-log", owner, include="all", order="asc", per_page=1,
                   phrase=f"created:{stamp}..{stamp}")  # fmt: skip
    ids = [e["_document_id"] for page in pages for e in page.json()]
    assert t.doc_id_at(tie - 1) in ids and t.doc_id_at(tie) in ids and len(ids) == len(set(ids))


def test_auth_failures_speak_githubs_language(server):
    bad = get(server, "/orgs/acme/members", "ghp_notarealtoken0000000000000000000000")
    assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"
    assert get(server, "/orgs/acme/members").json()["message"] == "Requires authentication"
    reduced = token(server, kind="classic", owner=True, scopes=["read:org"])
    denied = get(server, "/orgs/acme/audit-log", reduced)
    assert denied.status_code == 403 and "read:audit_log" in denied.json()["message"]
    assert (
        denied.headers["x-oauth-scopes"] == "read:org" and denied.headers["x-accepted-oauth-scopes"] == "read:audit_log"
    )
    member = token(server, owner=False)
    assert get(server, "/orgs/acme/members", member, filter="2fa_disabled").status_code == 422
    assert get(server, "/orgs/acme/audit-log", member).json()["message"].startswith("Must have admin rights")
    fine = token(server, kind="fine_grained")
    assert "x-oauth-scopes" not in get(server, "/orgs/acme/members", fine).headers
    assert get(server, "/orgs/other/members", fine).status_code == 404
    assert get(server, "/user", headers={"User-Agent": ""}, tok=fine).status_code == 403  # User-Agent required
    unsupported = get(server, "/user", fine, headers={"X-GitHub-Api-Version": "2099-01-01"})
    assert unsupported.status_code == 400 and "2099-01-01" in unsupported.json()["message"]


def test_enterprise_only_endpoints_are_absent_on_other_plans(server):
    owner = token(server, "legacy", kind="classic", owner=True, scopes=["read:org", "read:audit_log"])
    assert get(server, "/orgs/legacy/audit-log", owner, name="legacy").status_code == 404
    assert get(server, "/orgs/legacy/credential-authorizations", owner, name="legacy").status_code == 404
    assert get(server, "/orgs/legacy/members", owner, name="legacy").status_code == 200


def _app_jwt(**claims) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(APP["app_id"]), **claims}, PRIVATE, "RS256")


def test_github_app_installation_tokens(server):
    url = server.tenant_url("github", "acme") + f"/app/installations/{APP['installation_id']}/access_tokens"
    created = HTTP.post(url, headers={"Authorization": f"Bearer {_app_jwt()}", "User-Agent": "t"})
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("ghs_") and body["permissions"]["organization_administration"] == "read"
    assert len(get(server, "/orgs/acme/audit-log", body["token"]).json()) == 30  # per_page defaults to 30
    assert get(server, "/user", body["token"]).json()["message"] == "Resource not accessible by integration"
    expired = HTTP.post(
        url, headers={"Authorization": f"Bearer {_app_jwt(exp=int(time.time()) - 5)}", "User-Agent": "t"}
    )
    assert expired.status_code == 401 and "'Expiration time'" in expired.json()["message"]
    far = HTTP.post(
        url, headers={"Authorization": f"Bearer {_app_jwt(exp=int(time.time()) + 3600)}", "User-Agent": "t"}
    )
    assert far.status_code == 401
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"iat": int(time.time()), "exp": int(time.time()) + 60, "iss": "777"}, other_key, "RS256")
    assert HTTP.post(url, headers={"Authorization": f"Bearer {forged}", "User-Agent": "t"}).status_code == 401


def test_installation_tokens_expire(server):
    personality = server.personality("github", "acme")
    personality.options.installation_token_ttl_seconds = 1
    try:
        url = server.tenant_url("github", "acme") + f"/app/installations/{APP['installation_id']}/access_tokens"
        body = HTTP.post(url, headers={"Authorization": f"Bearer {_app_jwt()}", "User-Agent": "t"}).json()
        assert get(server, "/orgs/acme/teams", body["token"]).status_code == 200
        time.sleep(1.2)
        assert get(server, "/orgs/acme/teams", body["token"]).json()["message"] == "Bad credentials"
    finally:
        personality.options.installation_token_ttl_seconds = 3600


def test_primary_limit_is_403_with_remaining_zero_then_resets(server):
    tok = token(server, "tight", kind="classic", owner=True, scopes=["read:org", "read:audit_log"])
    server.personality("github", "tight").reset_rate_limits()
    time.sleep(1 - time.time() % 1 + 0.05)  # start at the beginning of a one-second window
    statuses = []
    for _ in range(6):
        response = get(server, "/orgs/tight/teams", tok, name="tight")
        statuses.append(response.status_code)
    assert statuses[:5] == [200] * 5 and statuses[5] == 403  # 300/hour -> 5 per window
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.json()["message"].startswith("API rate limit exceeded for user ID")
    reset = int(response.headers["x-ratelimit-reset"])
    time.sleep(max(0.0, reset - time.time()) + 0.1)
    assert get(server, "/orgs/tight/teams", tok, name="tight").status_code == 200


def test_injected_throttles_are_secondary_limits_with_retry_after(server):
    personality = server.personality("github", "acme")
    owner = token(server, kind="classic", owner=True, scopes=["read:org", "read:audit_log"])
    personality.set_faults(FaultConfig(burst_429=2, burst_5xx=1))
    try:
        first, second, third = (get(server, "/orgs/acme/teams", owner) for _ in range(3))
    finally:
        personality.set_faults(FaultConfig())
    assert {first.status_code, second.status_code} == {403, 429}
    for throttled in (first, second):
        assert "secondary rate limit" in throttled.json()["message"] and throttled.headers["retry-after"] == "1"
    assert third.status_code in (500, 502, 503) and "message" in third.json()
