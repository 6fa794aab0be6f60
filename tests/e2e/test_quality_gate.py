"""Write, audit, publish: a bad batch from the provider is quarantined and never becomes current."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from saaslens.catalog.build import build_catalog, connect
from saaslens.lake.writer import Lake
from saaslens.runner import StageFailed
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.okta_helpers import ANCHOR, instance, ssws, sync

pytestmark = pytest.mark.integration


def test_duplicate_ids_and_unknown_status_are_quarantined_and_the_previous_snapshot_stays(lake_root):
    spec = TenantSpec(app="okta", name="qa", seed=51, users=50, options={"anchor": ANCHOR.isoformat()})
    lake = Lake(lake_root)
    with SandboxServer([spec]) as server:
        good = sync(instance("qa"), ssws(server, "qa"), lake, stages=["users"])
        assert good["users"].status == "success"
        before = lake.snapshot_ids("accounts", "okta", "qa")
        served = server.personality("okta", "qa").tenant.users
        original = copy.deepcopy(served)
        served[3]["status"] = "MIGRATING"  # not an Okta status
        served[5]["id"] = served[4]["id"]  # two different users, one id
        try:
            with pytest.raises(StageFailed) as info:
                sync(  # a full listing: an incremental one would only ask for users changed since
                    instance("qa", snapshot_reconcile_hours=0),
                    ssws(server, "qa"),
                    lake,
                    stages=["users"],
                    moment=datetime.now(UTC) + timedelta(seconds=5),
                )
        finally:
            served[:] = original
    message = str(info.value)
    assert "accounts" in message and "quarantined" in message
    assert "ExpectColumnValuesToBeInSet on status" in message and original[3]["id"] in message
    assert "ExpectColumnValuesToBeUnique on account_id" in message and original[4]["id"] in message
    assert lake.snapshot_ids("accounts", "okta", "qa") == before
    (quarantined,) = (lake_root / "_quarantine" / "accounts").glob("app=okta/instance=qa/snapshot=*")
    assert json.loads((quarantined / "validation.json").read_text())["success"] is False
    assert original[3]["id"] in (quarantined / "summary.txt").read_text()
    build_catalog(lake_root)
    with connect(lake_root) as con:
        assert con.execute("select count(*) from accounts where instance = 'qa'").fetchone()[0] == 50
        assert (
            con.execute(
                "select count(*) from accounts where status not in "
                "('active','pending','locked','suspended','deprovisioned')"
            ).fetchone()[0]
            == 0
        )


def test_an_implausible_timestamp_is_nulled_and_counted_without_hiding_the_tenant(lake_root):
    """Issue 10, item 15: a value rule (a timestamp before 1990) costs the value, not the snapshot."""
    spec = TenantSpec(app="okta", name="odd", seed=52, users=30, options={"anchor": ANCHOR.isoformat()})
    lake = Lake(lake_root)
    with SandboxServer([spec]) as server:
        served = server.personality("okta", "odd").tenant.users
        odd_id = served[7]["id"]
        served[7]["lastLogin"] = "1975-06-01T00:00:00.000Z"  # not a sentinel: just implausible
        result = sync(instance("odd"), ssws(server, "odd"), lake, stages=["users"])["users"]
    assert result.status == "success", result
    assert "1 value" in (result.detail or "") and "last_login_at" in (result.detail or "")
    accounts = {r["account_id"]: r for r in lake.read_snapshot("accounts", "okta", "odd").to_pylist()}
    assert len(accounts) == 30 and accounts[odd_id]["last_login_at"] is None
    assert json.loads(accounts[odd_id]["raw"])["lastLogin"] == "1975-06-01T00:00:00.000Z"  # raw stays as received
    verdict = lake.snapshot_meta("accounts", "okta", "odd", "quality.json")
    (nulled,) = verdict["nulled"]
    assert nulled["column"] == "last_login_at" and nulled["rows"] == 1 and nulled["sample_keys"] == [odd_id]
    assert not (lake_root / "_quarantine").exists()
