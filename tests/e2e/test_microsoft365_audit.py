"""Microsoft 365's unified audit log through the Office 365 Management Activity API (stream
``sharepoint_audit``): the lake equals the sandbox's Audit.SharePoint records; a tenant without the
subscription, or an app without ActivityFeed.Read, skips only that stream and says why; a contentUri or
NextPageUri off the tenant's feed is refused before the token goes there; content listed late is read
by the next scan's lookback."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors import registry
from saaslens.connectors.kit import Target
from saaslens.connectors.microsoft365 import Microsoft365Connector
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, StageFailed, StageResult, run_stage
from saaslens.vocabulary import TargetKind
from saaslens_sandbox.core import SandboxServer, TenantSpec

pytestmark = pytest.mark.integration

APP = "microsoft365"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
OPTIONS = {
    "max_workers": 2,
    "retry_initial_backoff_seconds": 0.05,
    "activities_lag_seconds": 0,
    "sharepoint_audit": True,
}
NO_FEED_CLIENT = {
    "client_id": "6b8d0f2a-4c6e-4a8b-9c1d-3e5f7a9b1c30",
    "client_secret": "Rt5~sandbox.nofeed-secret",
    "management_roles": [],
}


class Recorder(BaseHTTPRequestHandler):
    """Another origin (another port of this machine): counts what reaches it, Authorization included."""

    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:
        Recorder.seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def elsewhere():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def server(elsewhere):
    anchor = ANCHOR.isoformat()
    other_tenant = "0f0e0d0c-0b0a-4909-8807-060504030201"
    base = {"anchor": anchor, "events": 200}
    specs = [
        TenantSpec(app=APP, name="tailspin", seed=51, users=60, options={**base, "audit_page_size": 7}),
        TenantSpec(app=APP, name="nosub", seed=52, users=20, options={**base, "audit_subscriptions": []}),
        TenantSpec(
            app=APP,
            name="nofeed",
            seed=53,
            users=20,
            options={**base, "clients": [NO_FEED_CLIENT]},
        ),
        TenantSpec(app=APP, name="otherhost", seed=54, users=20, options={**base, "hostile_content_uri": "X"}),
        TenantSpec(app=APP, name="othertenant", seed=55, users=20, options={**base, "hostile_content_uri": "X"}),
        TenantSpec(app=APP, name="nextpage", seed=56, users=20, options={**base, "hostile_next_page_uri": "X"}),
        TenantSpec(app=APP, name="late", seed=57, users=20, options={**base, "audit_listing_delay_seconds": 3600}),
    ]
    # Hostile URIs need the server's own address: set once it listens.
    with SandboxServer(specs) as running:
        origin = running.tenant_url(APP, "tailspin").split(f"/{APP}/")[0]
        for name, uri in (
            ("otherhost", f"{elsewhere}/api/v1.0/{{tid}}/activity/feed/audit/stolen"),
            ("othertenant", f"{origin}/{APP}/othertenant/api/v1.0/{other_tenant}/activity/feed/audit/stolen"),
            ("nextpage", f"{elsewhere}/api/v1.0/{{tid}}/activity/feed/subscriptions/content?nextPage=stolen"),
        ):
            personality = running.personality(APP, name)
            uri = uri.replace("{tid}", personality.tenant.tenant_id)
            field = "hostile_next_page_uri" if name == "nextpage" else "hostile_content_uri"
            personality.options = personality.options.model_copy(update={field: uri})
        yield running


def truth(server: SandboxServer, tenant: str) -> dict[str, Any]:
    return server.personality(APP, tenant).ground_truth()


def instance(name: str, **options: Any) -> InstanceConfig:
    return InstanceConfig(app=APP, name=name, conn_id=f"m365_{name}", options={**OPTIONS, **options})


def connection(server: SandboxServer, tenant: str, client: int = 0) -> ConnectionInfo:
    creds = truth(server, tenant)["credentials"]
    chosen = creds["clients"][client]
    extra = {
        "tenant_id": creds["tenant_id"],
        "client_id": chosen["client_id"],
        "client_secret": chosen["client_secret"],
        "token_url": creds["token_url"],
    }
    return ConnectionInfo(f"m365_{tenant}", "http", server.tenant_url(APP, tenant), extra=extra)


def sync(server: SandboxServer, lake: Lake, tenant: str, **options: Any) -> dict[str, StageResult]:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    return {
        stage: run_stage(instance(tenant, **options), stage, ctx, lake, connection=connection(server, tenant))
        for stage in ("authenticate", "activities")
    }


def file_events(lake: Lake, tenant: str) -> list[dict[str, Any]]:
    return [e for e in lake.read_events("activities", APP, tenant).to_pylist() if e["category"] == "file"]


def requests_seen(server: SandboxServer) -> list[dict[str, Any]]:
    base = server.tenant_url(APP, "tailspin").split(f"/{APP}/")[0]
    return httpx.get(f"{base}/_sandbox/requests").json()


def test_the_stream_equals_the_unified_audit_log_and_a_rescan_adds_nothing(server, lake_root):
    lake = Lake(lake_root)
    results = sync(server, lake, "tailspin")
    assert {s: r.status for s, r in results.items()} == {"authenticate": "success", "activities": "success"}, results
    t = truth(server, "tailspin")
    expected = {r["Id"]: r for r in t["sharepoint_audit"]}
    assert set(t["sharepoint_audit_listable"]) == set(expected) and len(expected) > 7  # several pages
    events = file_events(lake, "tailspin")
    assert len(events) == len({e["event_id"] for e in events}), "duplicated events"
    assert {e["event_id"]: (e["action"], e["actor_login"], e["target_id"]) for e in events} == {
        i: (r["Operation"], r["UserId"], r["ObjectId"]) for i, r in expected.items()
    }
    operations = {r["Operation"] for r in expected.values()}
    assert {"FileAccessed", "SharingSet"} <= operations and operations & {"AnonymousLinkCreated", "CompanyLinkCreated"}
    permissions = {p["name"]: p for p in lake.read_snapshot("instance_permissions", APP, "tailspin").to_pylist()}
    assert "manage.office.com" in permissions["ActivityFeed.Read"]["detail"]

    again = sync(server, lake, "tailspin")
    assert again["activities"].status == "success" and again["activities"].records == 0
    assert len(file_events(lake, "tailspin")) == len(expected)


def test_without_the_subscription_only_the_stream_is_skipped_naming_the_admins_call(server, lake_root):
    lake = Lake(lake_root)
    tenant_id = truth(server, "nosub")["tenant_id"]
    call = f"/api/v1.0/{tenant_id}/activity/feed/subscriptions/start?contentType=Audit.SharePoint"
    results = sync(server, lake, "nosub")
    assert results["authenticate"].status == "success"
    stages = {p["name"]: p for p in lake.read_snapshot("instance_permissions", APP, "nosub").to_pylist()}
    assert stages["activities"]["granted"] and call in stages["activities"]["detail"]
    activity = results["activities"]
    assert activity.status == "success", activity
    assert "skipped sharepoint_audit" in activity.detail and "AF20022" in activity.detail and call in activity.detail
    assert lake.read_events("activities", APP, "nosub").num_rows > 0  # the Graph streams still ran
    assert file_events(lake, "nosub") == []
    assert not [r for r in requests_seen(server) if "subscriptions/start" in r["raw_path"]]  # never started


def test_an_app_without_activity_feed_read_skips_the_stream_with_af10001(server, lake_root):
    lake = Lake(lake_root)
    results = sync(server, lake, "nofeed")
    activity = results["activities"]
    assert activity.status == "success", activity
    assert "skipped sharepoint_audit" in activity.detail
    assert "AF10001" in activity.detail and "ActivityFeed.Read" in activity.detail
    assert file_events(lake, "nofeed") == []


def test_the_stream_is_off_by_default_and_sends_nothing_to_the_activity_api(server, lake_root):
    lake = Lake(lake_root)
    mark = len(requests_seen(server))
    results = sync(server, lake, "tailspin", sharepoint_audit=False)
    assert results["activities"].status == "success"
    assert "skipped sharepoint_audit: " in results["activities"].detail and "option sharepoint_audit" in (
        results["activities"].detail
    )
    assert not [r for r in requests_seen(server)[mark:] if "/activity/feed/" in r["raw_path"]]


@pytest.mark.parametrize("tenant", ["otherhost", "othertenant", "nextpage"])
def test_a_uri_off_the_tenants_feed_is_refused_before_the_token_goes_there(server, lake_root, tenant):
    lake = Lake(lake_root)
    Recorder.seen.clear()
    mark = len(requests_seen(server))
    with pytest.raises(StageFailed) as failed:
        sync(server, lake, tenant)
    options = server.personality(APP, tenant).options
    hostile = options.hostile_content_uri or options.hostile_next_page_uri or ""
    named = "contentUri" if options.hostile_content_uri else "NextPageUri"
    message = str(failed.value)
    assert "InsecureURLError" in message and named in message
    assert f"host {hostile.split('/')[2]!r}" in message
    assert Recorder.seen == []  # nothing reached the other host, the token least of all
    assert not [r for r in requests_seen(server)[mark:] if "stolen" in r["raw_path"]]


def test_content_listed_late_is_read_by_the_lookback(server, lake_root):
    """A share removed now: its record's blob is not listed yet. A scan right away passes that time
    without seeing it; once the blob is listed, the next scan re-reads its lookback and stores it."""
    lake = Lake(lake_root)
    t = truth(server, "late")
    libraries = {d["id"] for d in t["drives"] if d["driveType"] == "documentLibrary"}
    file_id, share_id = next(
        (f["item"]["id"], p["id"])
        for f in t["files"]
        if f["drive_id"] in libraries
        for p in f["permissions"]
        if "owner" not in p["roles"] and "siteGroup" not in (p.get("grantedToV2") or {})
    )
    action = next(a for a in registry.app_spec(APP).actions if a.name == "remove_file_share")
    actions = t["credentials"]["actions"]
    conn = connection(server, "late")
    conn = ConnectionInfo(
        conn.conn_id,
        conn.conn_type,
        conn.host,
        extra={**conn.extra, "client_id": actions["client_id"], "client_secret": actions["client_secret"]},
    )
    assert sync(server, lake, "late", activities_lookback_seconds=60)["activities"].status == "success"
    acting = Microsoft365Connector(OPTIONS, conn)
    try:
        target = Target(TargetKind.FILE_SHARE, {"file_id": file_id, "share_id": share_id})
        assert action.apply(acting, action.plan(acting, target)).applied
    finally:
        acting.close()
    applied_at = datetime.now(UTC)
    first = sync(server, lake, "late", activities_lookback_seconds=60)
    assert first["activities"].status == "success"
    removals = {"AnonymousLinkRemoved", "CompanyLinkRemoved", "SecureLinkDeleted", "SharingRevoked"}

    def by_the_app() -> list[dict[str, Any]]:
        return [
            e
            for e in file_events(lake, "late")
            if e["action"] in removals and e["actor_id"] == actions["client_id"] and e["actor_type"] == "Application"
        ]

    assert by_the_app() == []  # its blob is not listed yet
    # Microsoft's listing catches up (the sandbox's delay ends; set, not slept, so a loaded machine
    # cannot let the first scan see it).
    server.personality(APP, "late").audit_log.listing_delay_ms = 0
    second = sync(server, lake, "late", activities_lookback_seconds=60)
    assert second["activities"].status == "success"
    (event,) = by_the_app()
    assert event["occurred_at"] <= applied_at  # before the first scan's window ended: found by the lookback
