"""Issue 10, item 6 (the lake's part): a listing that suddenly returns nothing, or far less than the
previous snapshot, is a mass deletion the quality gate refuses unless the instance allows it; and
the current-state views honour a truly empty snapshot instead of showing the older rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saaslens.catalog.build import build_catalog, connect
from saaslens.lake.writer import Lake
from saaslens.runner import StageFailed
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.okta_helpers import ANCHOR, instance, rsa_keypair, ssws, sync
from tests.unit.lake_builder import LakeBuilder, ago

USERS = 20
# An OAuth service app, not an API token: an API token acts as its admin, and the tests below delete
# every user, that admin included, which revokes the admin's tokens in Okta (and so in the sandbox).
PRIVATE_KEY, PUBLIC_KEY = rsa_keypair()
SERVICE_APP = "0oamassdeletion00001"
SCOPES = ["okta.users.read", "okta.groups.read", "okta.roles.read", "okta.logs.read"]


def _current_count(root, name: str, table: str = "accounts") -> int:
    build_catalog(root)
    with connect(root) as con:
        return con.execute(f"select count(*) from {table} where instance = ?", [name]).fetchone()[0]


# -- the catalog: "current" is the newest published snapshot, rows or none ------------------------


def test_the_current_view_honours_an_empty_newest_snapshot(tmp_path):
    lake = LakeBuilder(tmp_path)
    lake.accounts("okta", "acme", {"account_id": "u1"}, {"account_id": "u2"}, at=ago(days=2))
    lake.accounts("okta", "other", {"account_id": "o1"}, at=ago(days=2))
    lake.accounts("okta", "acme", at=ago(days=1))  # the provider says: no accounts any more
    con = lake.catalog()
    assert con.execute("select count(*) from accounts where instance = 'acme'").fetchone()[0] == 0
    assert con.execute("select count(*) from accounts where instance = 'other'").fetchone()[0] == 1
    assert con.execute("select count(*) from accounts_history where instance = 'acme'").fetchone()[0] == 2
    as_of = "select count(*) from accounts_as_of(?) where instance = 'acme'"
    assert con.execute(as_of, [ago(days=1, hours=12)]).fetchone()[0] == 2
    assert con.execute(as_of, [ago(hours=1)]).fetchone()[0] == 0
    assert con.execute("select count(*) from identities where instance = 'acme'").fetchone()[0] == 0


def test_an_empty_first_snapshot_is_published_and_current(tmp_path):
    lake = LakeBuilder(tmp_path)
    lake.snapshot("groups", "okta", "new", [], at=ago(days=1))
    assert lake.lake.snapshot_ids("groups", "okta", "new")
    con = lake.catalog()
    assert con.execute("select count(*) from groups where instance = 'new'").fetchone()[0] == 0


# -- the quality gate's mass-deletion guard, through a real Okta scan ----------------------------


@pytest.fixture
def okta():
    client = {"client_id": SERVICE_APP, "public_key_pem": PUBLIC_KEY, "scopes": SCOPES}
    options = {"anchor": ANCHOR.isoformat(), "oauth_clients": [client]}
    spec = TenantSpec(app="okta", name="md", seed=61, users=USERS, options=options)
    with SandboxServer([spec]) as server:
        personality = server.personality("okta", "md")

        def keep_only(count: int) -> None:
            """The provider now lists only its first `count` users (the others deleted)."""
            personality.tenant.deleted.update(range(count, len(personality.tenant.users)))
            personality._rebuild_views()

        scan_as = ssws(server, "md")
        service_app = type(scan_as)(
            conn_id="okta_md", host=scan_as.host, extra={"client_id": SERVICE_APP, "private_key": PRIVATE_KEY}
        )
        yield service_app, keep_only


def _later(minutes: int) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


def test_a_listing_that_suddenly_returns_nothing_is_refused(okta, lake_root):
    connection, keep_only = okta
    lake = Lake(lake_root)
    assert sync(instance("md"), connection, lake, stages=["users"])["users"].status == "success"
    before = lake.snapshot_ids("accounts", "okta", "md")
    listed = lake.read_snapshot("accounts", "okta", "md").num_rows
    assert listed >= 10
    keep_only(0)
    with pytest.raises(StageFailed) as info:
        sync(instance("md", snapshot_reconcile_hours=0), connection, lake, ["users"], _later(1))
    message = str(info.value)
    assert "accounts" in message and f"{listed} rows" in message and "0 rows" in message
    assert "allow_empty_snapshots" in message and "okta/md" in message
    assert lake.snapshot_ids("accounts", "okta", "md") == before
    assert list((lake_root / "_quarantine" / "accounts").glob("app=okta/instance=md/snapshot=*"))
    assert _current_count(lake_root, "md") == listed
    # The owner says the tenant really is empty now: the empty snapshot publishes and is current.
    allowed = instance("md", snapshot_reconcile_hours=0, allow_empty_snapshots=True)
    assert sync(allowed, connection, lake, ["users"], _later(2))["users"].status == "success"
    assert _current_count(lake_root, "md") == 0


def test_a_listing_that_loses_more_than_half_is_refused_unless_the_threshold_allows_it(okta, lake_root):
    connection, keep_only = okta
    lake = Lake(lake_root)
    assert sync(instance("md"), connection, lake, stages=["users"])["users"].status == "success"
    listed = lake.read_snapshot("accounts", "okta", "md").num_rows
    keep_only(8)
    with pytest.raises(StageFailed) as info:
        sync(instance("md", snapshot_reconcile_hours=0), connection, lake, ["users"], _later(1))
    message = str(info.value)
    assert f"{listed} rows" in message and "8 rows" in message and "max_snapshot_shrink" in message
    assert _current_count(lake_root, "md") == listed
    allowed = instance("md", snapshot_reconcile_hours=0, max_snapshot_shrink=0.7)
    assert sync(allowed, connection, lake, ["users"], _later(2))["users"].status == "success"
    assert _current_count(lake_root, "md") == 8


def test_a_legitimately_empty_tenant_publishes_on_its_first_scan(okta, lake_root):
    connection, keep_only = okta
    keep_only(0)
    lake = Lake(lake_root)
    assert sync(instance("md"), connection, lake, stages=["users"])["users"].status == "success"
    assert len(lake.snapshot_ids("accounts", "okta", "md")) == 1
    assert _current_count(lake_root, "md") == 0
