"""The Microsoft 365 sandbox personality: determinism, paging, auth failures and throttling."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec
from saaslens_sandbox.microsoft365.personality import Microsoft365Personality, time_range
from saaslens_sandbox.microsoft365.tenant import Microsoft365Options, Microsoft365Tenant

APP = "microsoft365"
ANCHOR = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SCOPE = "https://graph.microsoft.com/.default"


def spec(name: str = "contoso", **kwargs) -> TenantSpec:
    options = {"anchor": ANCHOR.isoformat(), **kwargs.pop("options", {})}
    return TenantSpec(
        app=APP, name=name, seed=kwargs.pop("seed", 5), users=kwargs.pop("users", 50), options=options, **kwargs
    )


@pytest.fixture
def client_for():
    """Start a sandbox for a spec; every server started is stopped when the test ends."""
    servers: list[SandboxServer] = []

    def start(tenant_spec: TenantSpec) -> tuple[httpx.Client, Microsoft365Personality]:
        server = SandboxServer([tenant_spec]).start()
        servers.append(server)
        return httpx.Client(base_url=server.url, timeout=30), server.personality(APP, tenant_spec.name)

    yield start
    for server in servers:
        server.stop()


def token(http: httpx.Client, p: Microsoft365Personality, client: int = 0, **overrides) -> dict:
    creds = p.ground_truth()["credentials"]
    tenant = overrides.pop("tenant", creds["tenant_id"])
    data = {
        "grant_type": "client_credentials",
        "client_id": creds["clients"][client]["client_id"],
        "client_secret": creds["clients"][client]["client_secret"],
        "scope": SCOPE,
        **overrides,
    }
    response = http.post(f"/{APP}/{p.spec.name}/{tenant}/oauth2/v2.0/token", data=data)
    return {"status": response.status_code, **response.json()}


def bearer(http: httpx.Client, p: Microsoft365Personality, client: int = 0) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(http, p, client)['access_token']}"}


def collect(http: httpx.Client, p: Microsoft365Personality, path: str, params: dict, headers: dict) -> list[list[dict]]:
    pages, url = [], f"/{APP}/{p.spec.name}{path}"
    response = http.get(url, params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["value"])
        if "@odata.nextLink" not in body:
            return pages
        response = http.get(body["@odata.nextLink"], headers=headers)


# -- determinism and generation ------------------------------------------------------------------


def test_same_spec_same_tenant_and_another_seed_another_tenant():
    def make(seed: int) -> dict:
        options = Microsoft365Options(anchor=ANCHOR, events=300)
        return Microsoft365Tenant(name="contoso", seed=seed, users=40, options=options, anchor=ANCHOR).ground_truth()

    first, second, other = make(1), make(1), make(2)
    assert first == second
    assert {u["id"] for u in first["users"]}.isdisjoint({u["id"] for u in other["users"]})
    assert first["counts"]["sign_ins"] + first["counts"]["directory_audits"] == 300


def test_events_fill_the_history_window_and_default_to_ten_per_user():
    options = Microsoft365Options(anchor=ANCHOR, history_days=3)
    truth = Microsoft365Tenant(name="t", seed=3, users=30, options=options, anchor=ANCHOR).ground_truth()
    assert truth["counts"]["sign_ins"] + truth["counts"]["directory_audits"] == 300
    stamps = [e["createdDateTime"] for e in truth["sign_ins"]] + [
        e["activityDateTime"] for e in truth["directory_audits"]
    ]
    moments = [datetime.fromisoformat(s.replace("Z", "+00:00")) for s in stamps]
    assert min(moments) >= ANCHOR - timedelta(days=3) and max(moments) <= ANCHOR
    assert len({e["id"] for e in truth["sign_ins"]}) == truth["counts"]["sign_ins"]
    assert len({e["id"] for e in truth["directory_audits"]}) == truth["counts"]["directory_audits"]


def test_a_large_tenant_generates_quickly():
    started = time.perf_counter()
    options = Microsoft365Options(anchor=ANCHOR, events=200_000)
    tenant = Microsoft365Tenant(name="big", seed=1, users=10_000, options=options, anchor=ANCHOR)
    assert time.perf_counter() - started < 15
    assert len(tenant.users) == 10_000 and tenant.sign_in_count + tenant.audit_count == 200_000


# -- paging --------------------------------------------------------------------------------------


def test_users_page_with_next_links_and_select(client_for):
    http, p = client_for(spec())
    headers = bearer(http, p)
    pages = collect(http, p, "/v1.0/users", {"$top": "7", "$select": "id,accountEnabled"}, headers)
    assert [len(page) for page in pages] == [7] * 7 + [1]
    ids = [u["id"] for page in pages for u in page]
    assert ids == [u["id"] for u in p.ground_truth()["users"]]
    assert set(pages[0][0]) == {"id", "accountEnabled"}
    default = http.get(f"/{APP}/contoso/v1.0/users", params={"$top": "1"}, headers=headers).json()["value"][0]
    assert "accountEnabled" not in default and "userPrincipalName" in default  # only the default property set


def test_sign_in_activity_caps_pages_at_120(client_for):
    http, p = client_for(spec(users=130))
    pages = collect(http, p, "/v1.0/users", {"$top": "999", "$select": "id,signInActivity"}, bearer(http, p))
    assert [len(page) for page in pages] == [120, 10]


def test_audit_logs_filter_newest_first_across_pages(client_for):
    http, p = client_for(spec(options={"events": 400}))
    truth = p.ground_truth()
    since = ANCHOR - timedelta(days=2)
    expression = f"createdDateTime ge {since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    pages = collect(http, p, "/v1.0/auditLogs/signIns", {"$filter": expression, "$top": "25"}, bearer(http, p))
    got = [e["createdDateTime"] for page in pages for e in page]
    expected = [
        e["createdDateTime"] for e in truth["sign_ins"] if e["createdDateTime"] >= since.strftime("%Y-%m-%dT%H:%M:%SZ")
    ]
    assert len(pages) > 1 and got == sorted(expected, reverse=True)


def test_paging_errors_are_graphs(client_for):
    http, p = client_for(spec())
    headers = bearer(http, p)
    too_big = http.get(f"/{APP}/contoso/v1.0/users", params={"$top": "1000"}, headers=headers)
    assert too_big.status_code == 400
    assert (
        too_big.json()["error"]["message"]
        == "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
    )
    forged = http.get(f"/{APP}/contoso/v1.0/users", params={"$skiptoken": "bm9wZQ"}, headers=headers)
    assert (forged.status_code, forged.json()["error"]["code"]) == (400, "Directory_ExpiredPageToken")
    unknown = http.get(f"/{APP}/contoso/v1.0/users", params={"$select": "id,favouriteColour"}, headers=headers)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "Request_BadRequest")
    bad_filter = http.get(
        f"/{APP}/contoso/v1.0/auditLogs/signIns", params={"$filter": "userId eq 'x'"}, headers=headers
    )
    assert bad_filter.status_code == 400


def test_time_range_parses_bounds():
    low, high, low_inc, high_inc = time_range(
        "activityDateTime gt 2026-01-01T00:00:00Z and activityDateTime le 2026-01-02T00:00:00.500Z", "activityDateTime"
    )
    assert (low, high, low_inc, high_inc) == (1767225600000, 1767312000500, False, True)


# -- auth ----------------------------------------------------------------------------------------


def test_token_errors_are_entra_errors(client_for):
    http, p = client_for(spec())
    wrong = token(http, p, client_secret="wrong")
    assert (wrong["status"], wrong["error"], wrong["error_codes"]) == (401, "invalid_client", [7000215])
    assert wrong["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert wrong["error_uri"] == "https://login.microsoftonline.com/error?code=7000215"
    unknown = token(http, p, client_id=str(uuid.uuid4()))
    assert (unknown["status"], unknown["error"], unknown["error_codes"]) == (400, "unauthorized_client", [700016])
    no_tenant = token(http, p, tenant="nowhere.onmicrosoft.com")
    assert (no_tenant["status"], no_tenant["error_codes"]) == (400, [90002])
    bad_scope = token(http, p, scope="User.Read")
    assert (bad_scope["error"], bad_scope["error_codes"]) == ("invalid_scope", [1002012])
    by_domain = token(http, p, tenant="contoso.onmicrosoft.com")
    assert by_domain["status"] == 200 and by_domain["token_type"] == "Bearer" and by_domain["expires_in"] == 3599


def test_access_tokens_carry_the_granted_application_permissions(client_for):
    http, p = client_for(spec())
    full, reduced = (token(http, p, client=i)["access_token"] for i in (0, 1))
    claims = jwt.decode(full, options={"verify_signature": False})
    assert claims["tid"] == p.tenant.tenant_id and claims["aud"] == "https://graph.microsoft.com"
    assert "AuditLog.Read.All" in claims["roles"]
    assert "AuditLog.Read.All" not in jwt.decode(reduced, options={"verify_signature": False})["roles"]


def test_bearer_tokens_and_permissions_are_enforced(client_for):
    http, p = client_for(spec())
    missing = http.get(f"/{APP}/contoso/v1.0/users")
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "InvalidAuthenticationToken")
    forged = http.get(f"/{APP}/contoso/v1.0/users", headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401
    reduced = bearer(http, p, client=1)
    sign_ins = http.get(f"/{APP}/contoso/v1.0/auditLogs/signIns", headers=reduced)
    assert (sign_ins.status_code, sign_ins.json()["error"]["code"]) == (403, "Authentication_MSGraphPermissionMissing")
    activity = http.get(f"/{APP}/contoso/v1.0/users", params={"$select": "id,signInActivity"}, headers=reduced)
    assert (activity.status_code, activity.json()["error"]["code"]) == (403, "Authorization_RequestDenied")
    assert http.get(f"/{APP}/contoso/v1.0/users", params={"$select": "id"}, headers=reduced).status_code == 200


def test_an_unlicensed_tenant_refuses_sign_in_data(client_for):
    http, p = client_for(spec(options={"premium": False}))
    headers = bearer(http, p)
    for path, params in (("/v1.0/auditLogs/signIns", {}), ("/v1.0/users", {"$select": "id,signInActivity"})):
        response = http.get(f"/{APP}/contoso{path}", params=params, headers=headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
    assert http.get(f"/{APP}/contoso/v1.0/auditLogs/directoryAudits", headers=headers).status_code == 200


def _certificate() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "saaslens")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def test_certificate_assertions_are_verified(client_for):
    key, cert = _certificate()
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    client_id = "11111111-2222-4333-8444-555555555555"
    http, p = client_for(spec(options={"clients": [{"client_id": client_id, "certificate_pem": pem}]}))
    url = f"/{APP}/contoso/{p.tenant.tenant_id}/oauth2/v2.0/token"
    audience = f"{http.base_url}".rstrip("/") + url
    thumb = jwt.utils.base64url_encode(cert.fingerprint(hashes.SHA256())).decode()

    def assertion(**claims) -> str:
        now = int(time.time())
        body = {
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
            **claims,
        }
        return jwt.encode(body, key, algorithm="PS256", headers={"x5t#S256": claims.pop("thumb", thumb)})

    def post(signed: str) -> dict:
        data = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "scope": SCOPE,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": signed,
        }
        response = http.post(url, data=data)
        return {"status": response.status_code, **response.json()}

    assert post(assertion())["status"] == 200
    assert post(assertion(exp=int(time.time()) - 60))["error_codes"] == [700024]
    assert post(assertion(aud="https://login.microsoftonline.com/x/oauth2/v2.0/token"))["error_codes"] == [700027]
    other_key, _ = _certificate()
    forged = jwt.encode(
        {"aud": audience, "iss": client_id, "sub": client_id, "exp": int(time.time()) + 60},
        other_key,
        algorithm="PS256",
        headers={"x5t#S256": thumb},
    )
    assert post(forged)["error_codes"] == [700027]


# -- throttling and faults -----------------------------------------------------------------------


def test_throttling_answers_429_with_retry_after_and_graph_headers(client_for):
    limits = RateLimitConfig(scale=5 / 21_000, window_seconds=30)  # 5 directory requests per window
    http, p = client_for(spec(rate_limits=limits))
    headers = bearer(http, p)
    responses = [http.get(f"/{APP}/contoso/v1.0/groups", headers=headers) for _ in range(6)]
    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert responses[0].headers["x-ms-resource-unit"] == "1"
    assert "x-ms-throttle-limit-percentage" in responses[4].headers
    throttled = responses[5]
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 30
    # The audit logs are another throttling scope.
    assert http.get(f"/{APP}/contoso/v1.0/auditLogs/directoryAudits", headers=headers).status_code == 200


def test_injected_503_carries_retry_after(client_for):
    http, p = client_for(spec())
    headers = bearer(http, p)
    p.set_faults(FaultConfig(rate_5xx=1.0))
    statuses = set()
    for _ in range(12):
        response = http.get(f"/{APP}/contoso/v1.0/users", headers=headers)
        statuses.add(response.status_code)
        if response.status_code == 503:
            assert response.headers["Retry-After"] == "1"
            assert response.json()["error"]["code"] == "serviceNotAvailable"
        else:
            assert response.json()["error"]["code"] == "generalException"
    assert statuses <= {500, 502, 503} and 503 in statuses


def test_drives_and_files(client_for):
    http, p = client_for(spec())
    headers = bearer(http, p)
    truth = p.ground_truth()
    owners = {d["owner"]["user"].get("id"): d["id"] for d in truth["drives"] if d["driveType"] == "business"}
    without = next(u["id"] for u in truth["users"] if u["id"] not in owners)
    missing = http.get(f"/{APP}/contoso/v1.0/users/{without}/drive", headers=headers)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "ResourceNotFound")
    user_id, drive_id = next(iter(owners.items()))
    assert http.get(f"/{APP}/contoso/v1.0/users/{user_id}/drive", headers=headers).json()["id"] == drive_id
    pages = collect(http, p, f"/v1.0/drives/{drive_id}/root/delta", {"$top": "1"}, headers)
    items = [i for page in pages for i in page]
    assert "root" in items[0] and all("path" not in i["parentReference"] for i in items)
    expected = {f["item"]["id"] for f in truth["files"] if f["drive_id"] == drive_id}
    assert {i["id"] for i in items[1:]} == expected


# -- the unified audit log (Office 365 Management Activity API) -----------------------------------


def test_unified_audit_operations_follow_what_is_removed():
    from saaslens_sandbox.microsoft365.unified_audit import sharing_operation

    link = {"roles": ["read"], "link": {"scope": "anonymous"}}
    assert sharing_operation(link, removed=True) == "AnonymousLinkRemoved"
    assert sharing_operation(link, removed=False) == "AnonymousLinkCreated"
    assert sharing_operation({**link, "link": {"scope": "organization"}}, removed=True) == "CompanyLinkRemoved"
    assert sharing_operation({**link, "link": {"scope": "users"}}, removed=True) == "SecureLinkDeleted"
    invite = {"roles": ["read"], "invitation": {"email": "x@y.example"}, "grantedToV2": {"user": {}}}
    assert sharing_operation(invite, removed=False) == "SharingInvitationCreated"
    assert sharing_operation(invite, removed=True) == "SharingRevoked"
    assert sharing_operation({"roles": ["owner"]}, removed=True) is None


def test_content_listing_bounds_blob_visibility_and_expiry():
    from saaslens_sandbox.microsoft365.unified_audit import DAY_MS, ActivityError, UnifiedAuditLog, parse_time

    log = UnifiedAuditLog(tenant_id="t", seed=1, content_delay_ms=1000, listing_delay_ms=2000)
    record = {"Id": "r1", "Operation": "FileAccessed", "OrganizationId": "t"}
    log.add_generated([(10_000, dict(record)), (11_000, {**record, "Id": "r2"})])
    live = log.add_live({**record, "Id": "r3"}, 20_000)
    assert live["CreationTime"] == "1970-01-01T00:00:20"
    assert [b.created_ms for b in log.blobs] == [12_000, 21_000]  # newest record + the content delay
    assert [b.content_id for b in log.content(0, 30_000, 22_000)] == [log.blobs[0].content_id]  # r3 not yet listed
    assert len(log.content(0, 30_000, 23_000)) == 2
    assert log.content(12_000, 21_000, 23_000) == [log.blobs[0]]  # [start, end)
    with pytest.raises(ActivityError) as gone:
        log.blob(log.blobs[0].content_id, 12_000 + 7 * DAY_MS)
    assert gone.value.code == "AF20051"
    with pytest.raises(ActivityError) as unknown:
        log.blob("nope", 23_000)
    assert unknown.value.code == "AF20050"
    assert parse_time("startTime", "2026-03-10") < parse_time("startTime", "2026-03-10T00:01")
    with pytest.raises(ActivityError) as bad:
        parse_time("startTime", "2026-03-10T00:01:00.123Z")
    assert bad.value.code == "AF20002"
