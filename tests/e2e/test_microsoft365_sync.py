"""Microsoft 365 end to end: every stage through the runner against the sandbox, lake == ground truth."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import CredentialsRejected, RunContext, StageResult, run_stage
from saaslens.transform_utils import parse_time
from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec

pytestmark = pytest.mark.integration

APP = "microsoft365"
STAGES = ["authenticate", "users", "groups", "privileges", "app_permissions", "activities", "files"]
# The generated history ends ten minutes ago, so no event falls inside the connector's lag.
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
FULL_CLIENT = "8f3e2c1a-0b7d-4e6f-9a21-3c5d7e9f1b20"
CERT_CLIENT = "2d4f6a8c-1e3b-4d5f-8a7c-9e0b1d2f3a40"
NOAUDIT_CLIENT = "5a7c9e1b-3d5f-4a6c-8e0a-2c4e6a8c0e60"
FULL_SECRET = "Xy7~sandbox.full-secret"
NOAUDIT_SECRET = "Qw3~sandbox.noaudit-secret"
ALL_ROLES = [
    "User.Read.All",
    "GroupMember.Read.All",
    "RoleManagement.Read.Directory",
    "Application.Read.All",
    "Directory.Read.All",
    "AuditLog.Read.All",
    "Files.Read.All",
    "Sites.Read.All",
]


def certificate() -> tuple[str, str, str]:
    """(private key PEM, certificate PEM, SHA-256 thumbprint hex), as an admin would upload it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "saaslens")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode(), cert.fingerprint(hashes.SHA256()).hex()


PRIVATE_KEY, CERT_PEM, THUMBPRINT_SHA256 = certificate()


@pytest.fixture(scope="module")
def server():
    clients = [
        {"client_id": FULL_CLIENT, "client_secret": FULL_SECRET, "roles": ALL_ROLES},
        {"client_id": CERT_CLIENT, "certificate_pem": CERT_PEM, "roles": ALL_ROLES},
        {"client_id": NOAUDIT_CLIENT, "client_secret": NOAUDIT_SECRET, "roles": ALL_ROLES[:5] + ALL_ROLES[6:]},
    ]
    anchor = ANCHOR.isoformat()
    specs = [
        TenantSpec(app=APP, name="contoso", seed=21, users=70, options={"anchor": anchor, "clients": clients}),
        TenantSpec(app=APP, name="fabrikam", seed=22, users=45, options={"anchor": anchor, "events": 300}),
        TenantSpec(app=APP, name="basic", seed=23, users=25, options={"anchor": anchor, "premium": False}),
        TenantSpec(
            app=APP,
            name="flaky",
            seed=24,
            users=30,
            options={"anchor": anchor, "events": 250},
            rate_limits=RateLimitConfig(window_seconds=1),
        ),
    ]
    with SandboxServer(specs) as running:
        yield running


def truth(server, tenant: str) -> dict[str, Any]:
    return server.personality(APP, tenant).ground_truth()


def instance(name: str, **options: Any) -> InstanceConfig:
    return InstanceConfig(
        app=APP,
        name=name,
        conn_id=f"m365_{name}",
        options={"max_workers": 4, "retry_initial_backoff_seconds": 0.05, **options},
    )


def connection(server, tenant: str, client: int = 0, **extra: Any) -> ConnectionInfo:
    """A connection for one of the tenant's clients, as an admin would fill it in."""
    creds = truth(server, tenant)["credentials"]
    chosen = creds["clients"][client]
    fields = {
        "tenant_id": creds["tenant_id"],
        "client_id": chosen["client_id"],
        "client_secret": chosen["client_secret"],
        "token_url": creds["token_url"],
        **extra,
    }
    return ConnectionInfo(
        conn_id=f"m365_{tenant}",
        conn_type="http",
        host=server.tenant_url(APP, tenant),
        extra={k: v for k, v in fields.items() if v is not None},
    )


def sync(
    inst: InstanceConfig, conn: ConnectionInfo, lake: Lake, stages=STAGES, moment: datetime | None = None
) -> dict[str, StageResult]:
    moment = moment or datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    return {stage: run_stage(inst, stage, ctx, lake, connection=conn) for stage in stages}


def expected_status(user: dict[str, Any]) -> str:
    if user.get("externalUserState") == "PendingAcceptance":
        return "pending"
    return "active" if user["accountEnabled"] else "suspended"


def expected_privileges(t: dict[str, Any]) -> set[tuple[str, str]]:
    users_of = {}
    for m in t["group_members"]:
        if m["member_type"] == "user":
            users_of.setdefault(m["group_id"], set()).add(m["member_id"])
    pairs = set()
    for m in t["directory_role_members"]:
        if m["member_type"] == "group":
            pairs |= {(u, m["role_id"]) for u in users_of.get(m["member_id"], ())}
        else:
            pairs.add((m["member_id"], m["role_id"]))
    return pairs


def assert_lake_equals_ground_truth(lake: Lake, name: str, t: dict[str, Any], *, last_login: bool = True) -> None:
    accounts = lake.read_snapshot("accounts", APP, name).to_pylist()
    assert len(accounts) == len({a["account_id"] for a in accounts}), "duplicate accounts"
    admins = set(t["admin_user_ids"])

    def last(user: dict[str, Any]) -> datetime | None:
        activity = user.get("signInActivity") or {}
        return parse_time(activity.get("lastSuccessfulSignInDateTime")) if last_login else None

    def last_attempt(user: dict[str, Any]) -> datetime | None:
        activity = user.get("signInActivity") or {}
        attempts = [parse_time(activity.get(f)) for f in ("lastSignInDateTime", "lastNonInteractiveSignInDateTime")]
        return max((a for a in attempts if a), default=None) if last_login else None

    assert {
        a["account_id"]: (
            a["login"],
            a["status"],
            a["account_type"],
            a["is_admin"],
            a["last_login_at"],
            a["last_login_attempt_at"],
        )
        for a in accounts
    } == {
        u["id"]: (
            u["userPrincipalName"],
            expected_status(u),
            u["userType"].lower(),
            u["id"] in admins,
            last(u),
            last_attempt(u),
        )
        for u in t["users"]
    }
    if last_login:  # the tenant has accounts whose every sign-in attempt failed: no login for them
        assert any(last(u) is None and last_attempt(u) is not None for u in t["users"])

    groups = lake.read_snapshot("groups", APP, name).to_pylist()
    assert sorted(g["group_id"] for g in groups) == sorted(g["id"] for g in t["groups"])
    members = Counter(
        (m["group_id"], m["account_id"]) for m in lake.read_snapshot("group_members", APP, name).to_pylist()
    )
    assert max(members.values(), default=1) == 1, "duplicate memberships"
    assert set(members) == {(m["group_id"], m["user_id"]) for m in t["group_user_members"]}

    privileges = lake.read_snapshot("privileges", APP, name).to_pylist()
    assert sorted((p["account_id"], p["privilege_id"]) for p in privileges) == sorted(expected_privileges(t))

    grants = lake.read_snapshot("app_permissions", APP, name).to_pylist()
    expected_grants = {g["id"]: g["scope"].split() for g in t["oauth2_permission_grants"]}
    roles = {r["id"]: r["value"] for sp in t["service_principals"] for r in sp["appRoles"]}
    expected_grants |= {a["id"]: [roles[a["appRoleId"]]] for a in t["app_role_assignments"]}
    assert {g["grant_id"]: g["scopes"] for g in grants} == expected_grants
    assert len(grants) == len(expected_grants), "duplicate grants"

    events = lake.read_events("activities", APP, name).to_pylist()
    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} duplicated events"
    sign_ins = {e["id"] for e in t["sign_ins"]} if t["premium"] else set()
    assert set(ids) == sign_ins | {e["id"] for e in t["directory_audits"]}
    assert {e["category"] for e in events if e["event_id"] in sign_ins} <= {"logon"}

    files = lake.read_snapshot("files", APP, name).to_pylist()
    assert sorted(f["file_id"] for f in files) == sorted(f["item"]["id"] for f in t["files"])
    shares = lake.read_snapshot("file_shares", APP, name).to_pylist()
    assert sorted((s["file_id"], s["share_id"]) for s in shares) == sorted(
        (f["item"]["id"], p["id"]) for f in t["files"] for p in f["permissions"]
    )
    anonymous = {
        f["item"]["id"]
        for f in t["files"]
        if any((p.get("link") or {}).get("scope") == "anonymous" for p in f["permissions"])
    }
    assert {f["file_id"] for f in files if f["visibility"] == "public"} == anonymous


def runs(lake: Lake, name: str) -> list[dict[str, Any]]:
    files = sorted((lake.root / "scan_runs").glob(f"app={APP}/instance={name}/*/*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def test_two_tenants_side_by_side_equal_ground_truth_and_resync_adds_no_events(server, lake_root):
    lake = Lake(lake_root)
    for tenant in ("contoso", "fabrikam"):
        results = sync(instance(tenant), connection(server, tenant), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), {
            s: r.detail for s, r in results.items()
        }
        assert_lake_equals_ground_truth(lake, tenant, truth(server, tenant))
    permissions = lake.read_snapshot("instance_permissions", APP, "contoso").to_pylist()
    assert {p["name"] for p in permissions if p["kind"] == "permission"} == set(ALL_ROLES)
    later = datetime.now(UTC) + timedelta(seconds=1)
    again = sync(instance("contoso"), connection(server, "contoso"), lake, stages=["activities"], moment=later)
    assert again["activities"].status == "success" and again["activities"].records == 0
    assert_lake_equals_ground_truth(lake, "contoso", truth(server, "contoso"))


def test_certificate_credential_authenticates_with_a_signed_assertion(server, lake_root):
    lake = Lake(lake_root)
    conn = connection(
        server, "contoso", client=1, private_key=PRIVATE_KEY, certificate_thumbprint=THUMBPRINT_SHA256.upper()
    )
    results = sync(instance("contoso"), conn, lake, stages=["authenticate", "users"])
    assert {s: r.status for s, r in results.items()} == {"authenticate": "success", "users": "success"}
    assert CERT_CLIENT in results["authenticate"].detail
    accounts = lake.read_snapshot("accounts", APP, "contoso").num_rows
    assert accounts == len(truth(server, "contoso")["users"])


def test_missing_audit_permission_skips_activities_with_the_reason(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("contoso"), connection(server, "contoso", client=2), lake)
    assert results["activities"].status == "skipped"
    assert "AuditLog.Read.All" in results["activities"].detail
    assert "Authentication_MSGraphPermissionMissing" in results["activities"].detail
    assert all(results[s].status == "success" for s in STAGES if s != "activities")
    assert lake.read_events("activities", APP, "contoso").num_rows == 0
    # Without AuditLog.Read.All users still list; their last sign-in is unknown, not wrong.
    accounts = lake.read_snapshot("accounts", APP, "contoso").to_pylist()
    assert len(accounts) == len(truth(server, "contoso")["users"])
    assert {a["last_login_at"] for a in accounts} == {None}
    stage_runs = {r["stage"]: r for r in runs(lake, "contoso")}
    assert stage_runs["activities"]["status"] == "skipped"
    assert "AuditLog.Read.All" in stage_runs["activities"]["error"]


def test_unlicensed_tenant_skips_sign_ins_only_and_last_login_is_unknown(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("basic"), connection(server, "basic"), lake)
    assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success")
    detail = results["activities"].detail
    assert "skipped sign_ins" in detail and "Authentication_RequestFromNonPremiumTenantOrB2CTenant" in detail
    permissions = {p["name"]: p for p in lake.read_snapshot("instance_permissions", APP, "basic").to_pylist()}
    assert "premium" in permissions["activities"]["detail"]
    assert_lake_equals_ground_truth(lake, "basic", truth(server, "basic"), last_login=False)


def test_429s_5xx_resets_and_bad_bodies_still_end_equal_to_ground_truth(server, lake_root):
    flaky = server.personality(APP, "flaky")
    flaky.set_faults(
        FaultConfig(
            burst_429=2, rate_429=0.02, rate_5xx=0.04, rate_reset=0.02, rate_html_error=0.02, rate_truncated=0.02
        )
    )
    try:
        lake = Lake(lake_root)
        results = sync(instance("flaky", retry_max_attempts=12), connection(server, "flaky"), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), {
            s: r.detail for s, r in results.items()
        }
        assert sum(r.metrics["retries"] for r in results.values()) > 0
        assert sum(r.metrics["throttled"] for r in results.values()) > 0
    finally:
        flaky.set_faults(FaultConfig())
    assert flaky.stats()["faults_injected"]["429"] >= 2
    assert_lake_equals_ground_truth(lake, "flaky", truth(server, "flaky"))


def test_rejected_secret_raises_credentials_rejected_with_the_entra_code(server, lake_root):
    lake = Lake(lake_root)
    bad = connection(server, "fabrikam", client_secret="not-the-secret-value")
    ctx = RunContext(run_id="bad", snapshot_id="20261127T000000000000Z")
    with pytest.raises(CredentialsRejected) as info:
        run_stage(instance("fabrikam"), "authenticate", ctx, lake, connection=bad)
    message = str(info.value)
    assert "invalid_client" in message and "AADSTS7000215" in message
    assert "not-the-secret-value" not in message
    assert lake.snapshot_ids("instance_permissions", APP, "fabrikam") == []
