"""Issue 10, item 5: no registered secret and no token from a next link is ever written to a
checkpoint, a cursor or any other state file; a masked checkpoint is never resumed (the listing
starts again from its first page instead of sending the mask to the provider)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from saaslens.http import redaction
from saaslens.lake.writer import Lake, StateStore, snapshot_id_for
from saaslens.runner import RunContext, StageFailed, run_stage
from saaslens_sandbox.core import SandboxServer, TenantSpec
from saaslens_sandbox.hostile import Attack, HostileConfig
from tests.e2e.okta_helpers import ANCHOR, instance, ssws

PASSWORD = "state-test-password-0123456789"
TOKEN = "ya29.next-link-token-never-registered"


@pytest.fixture
def registered_password():
    redaction.register_secret(PASSWORD)
    yield PASSWORD
    with redaction._lock:
        redaction._secrets.discard(PASSWORD)


def _every_file(root: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in root.rglob("*") if path.is_file()]


def test_a_token_in_a_stored_next_link_is_masked_and_the_checkpoint_is_not_resumable(tmp_path):
    store = StateStore(Lake(tmp_path))
    request = {"url": f"https://acme.okta.com/api/v1/users?after=00u1&access_token={TOKEN}", "params": {}}
    assert store.put("okta", "a", "snapshot.users", {"snapshot_id": "s", "resume": {"request": request}})
    for path, data in _every_file(tmp_path):
        assert TOKEN.encode() not in data, path
    state = store.get("okta", "a", "snapshot.users")
    assert state["resumable"] is False
    assert "after=00u1" in state["resume"]["request"]["url"]


def test_a_sensitive_parameter_of_a_stored_request_is_masked(tmp_path):
    store = StateStore(Lake(tmp_path))
    request = {"url": "https://graph.example/v1.0/users", "params": {"$skiptoken": "x", "client_secret": TOKEN}}
    store.put("microsoft365", "a", "snapshot.users", {"resume": {"request": request}})
    state = store.get("microsoft365", "a", "snapshot.users")
    assert TOKEN not in json.dumps(state) and state["resumable"] is False
    assert state["resume"]["request"]["params"]["$skiptoken"] == "x"


def test_a_clean_checkpoint_is_written_as_it_is(tmp_path):
    store = StateStore(Lake(tmp_path))
    state = {"resume": {"request": {"url": "https://x.example/api?after=2", "params": {"limit": 5}}}}
    assert store.put("okta", "a", "snapshot.users", state)
    assert store.get("okta", "a", "snapshot.users") == state


def test_a_registered_secret_elsewhere_refuses_the_checkpoint(tmp_path, registered_password, caplog):
    store = StateStore(Lake(tmp_path))
    store.put("slack", "a", "activities.audit", {"window": {"resume": {"cursor": "page-1"}}})
    with caplog.at_level(logging.WARNING):
        written = store.put("slack", "a", "activities.audit", {"window": {"resume": {"cursor": f"c~{PASSWORD}"}}})
    assert written is False
    assert store.get("slack", "a", "activities.audit") == {"window": {"resume": {"cursor": "page-1"}}}
    assert "refused" in caplog.text and PASSWORD not in caplog.text
    for path, data in _every_file(tmp_path):
        assert PASSWORD.encode() not in data, path


def test_a_cursor_published_with_a_snapshot_is_checked_too(tmp_path, registered_password):
    lake = Lake(tmp_path)
    snapshot = snapshot_id_for(datetime(2026, 11, 1, tzinfo=UTC))
    with lake.snapshot_writer("accounts", "okta", "a", snapshot) as writer:
        writer.write([{"account_id": "u1", "status": "active", "account_type": "member", "is_admin": False}])
        writer.publish(extra={"cursor.json": {"cursor": {"next": f"https://x.example/d?token={TOKEN}&p={PASSWORD}"}}})
    for path, data in _every_file(tmp_path):
        assert TOKEN.encode() not in data and PASSWORD.encode() not in data, path
    assert lake.snapshot_ids("accounts", "okta", "a") == [snapshot]  # the data is published all the same


# -- through a real scan: a hostile Okta whose next links carry a token or the API token ----------


@pytest.mark.integration
@pytest.mark.parametrize("secret_kind", ["token", "password"])
def test_a_scan_whose_next_links_carry_a_secret_writes_none_and_restarts_cleanly(secret_kind, tmp_path):
    spec = TenantSpec(app="okta", name="st", seed=7, users=23, options={"anchor": ANCHOR.isoformat()})
    lake = Lake(tmp_path / "lake")
    with SandboxServer([spec]) as server:
        connection = ssws(server, "st")
        secret = TOKEN if secret_kind == "token" else connection.password
        inst = instance("st", page_size=5, checkpoint_rows=5, retry_max_attempts=1)
        ctx = RunContext(run_id="state-secrets", snapshot_id=snapshot_id_for(datetime.now(UTC)))
        assert run_stage(inst, "authenticate", ctx, lake, connection=connection).status == "success"
        personality = server.personality("okta", "st")
        # Three pages with the secret in their next links, then a failure: the checkpoints stay on disk.
        personality.set_hostile(HostileConfig(attack=Attack.SECRET_IN_NEXT_LINK, secret=secret, fail_after=3))
        with pytest.raises(StageFailed):
            run_stage(inst, "users", ctx, lake, connection=connection)
        for path, data in _every_file(lake.root):
            assert secret.encode() not in data, f"{path.relative_to(lake.root)} holds the secret"
        # The retry of the same run must not resume from a masked next link: it lists from page one.
        personality.set_hostile(None)
        server.app.state.request_log.clear()
        retry = run_stage(inst, "users", ctx, lake, connection=connection)
        sent = [r["query"] for r in server.app.state.request_log]
    assert retry.status == "success", retry
    assert lake.read_snapshot("accounts", "okta", "st").num_rows == 23
    assert not any("***" in q or "%2A%2A%2A" in q.upper() for q in sent), sent
