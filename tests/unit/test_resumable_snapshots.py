"""Resumable snapshot staging and the Microsoft 365 sandbox's Graph delta query."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens_sandbox.core import SandboxServer, TenantSpec

SNAPSHOT = snapshot_id_for(datetime(2026, 11, 1, tzinfo=UTC))


def account(i: int, name: str = "") -> dict:
    return {
        "account_id": f"u{i}",
        "login": f"u{i}{name}",
        "status": "active",
        "account_type": "member",
        "is_admin": False,
    }


def test_a_resumable_writer_keeps_parts_for_the_retry_and_drops_those_after_the_checkpoint(tmp_path):
    lake = Lake(tmp_path)
    with lake.snapshot_writer("accounts", "okta", "a", SNAPSHOT, resumable=True) as w:
        w.write([account(1), account(2)])
        w.write([account(3)])
        w.write([account(4)])  # written after the last checkpoint (which covered 2 parts)
    assert lake.snapshot_ids("accounts", "okta", "a") == []  # nothing visible
    with lake.snapshot_writer("accounts", "okta", "a", SNAPSHOT, resumable=True) as w:
        assert (w.parts, w.rows_written) == (3, 4)
        w.truncate(2)
        assert (w.parts, w.rows_written) == (2, 3)
        # The identical object again (a list shifting) is dropped; a different one under a known key is kept.
        assert w.write([account(2), account(4)]) == 1
        assert w.write([account(1, "-changed")]) == 1
        w.publish(extra={"cursor.json": {"cursor": {"watermark": "x"}}})
    rows = lake.read_snapshot("accounts", "okta", "a").to_pylist()
    assert sorted(r["account_id"] for r in rows) == ["u1", "u1", "u2", "u3", "u4"]
    assert lake.snapshot_meta("accounts", "okta", "a", "cursor.json") == {"cursor": {"watermark": "x"}}
    assert not list((tmp_path / "_staging").iterdir())  # published: no empty staging folders left
    assert not list(lake.instance_dir("accounts", "okta", "a").glob("*/*.keys.json"))


def test_a_part_without_its_fingerprints_was_never_committed(tmp_path):
    lake = Lake(tmp_path)
    with lake.snapshot_writer("accounts", "okta", "a", SNAPSHOT, resumable=True) as w:
        w.write([account(1)])
        w.write([account(2)])
    staged = lake.resumable_staging_dir("accounts", "okta", "a", SNAPSHOT)
    (staged / "part-00001.keys.json").unlink()  # killed between the part and its sidecar
    with lake.snapshot_writer("accounts", "okta", "a", SNAPSHOT, resumable=True) as w:
        assert (w.parts, w.rows_written) == (1, 1)
    lake.discard_staged("accounts", "okta", "a")
    assert not staged.exists()


@pytest.fixture(scope="module")
def graph():
    spec = TenantSpec(app="microsoft365", name="delta", seed=3, users=230, options={"events": 5})
    with SandboxServer([spec]) as server:
        personality = server.personality("microsoft365", "delta")
        creds = personality.ground_truth()["credentials"]
        client = creds["clients"][0]
        token = httpx.post(
            creds["token_url"],
            data={
                "grant_type": "client_credentials",
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "scope": "https://graph.microsoft.com/.default",
            },
        ).json()["access_token"]
        http = httpx.Client(
            base_url=server.tenant_url("microsoft365", "delta"), headers={"Authorization": f"Bearer {token}"}
        )
        yield http, personality
        http.close()


def _round(http: httpx.Client, url: str, params: dict | None = None) -> tuple[list[dict], str]:
    items, pages = [], 0
    body = http.get(url, params=params).json()
    while True:
        pages += 1
        items += body["value"]
        assert not ("@odata.nextLink" in body and "@odata.deltaLink" in body)
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"]
        body = http.get(body["@odata.nextLink"]).json()


def test_graph_delta_full_round_then_changes_with_removed_entries(graph):
    http, personality = graph
    everyone, delta_link = _round(http, "/v1.0/users/delta", {"$select": "displayName,jobTitle,accountEnabled"})
    assert len(everyone) == 230 and len({u["id"] for u in everyone}) == 230
    assert set().union(*(u.keys() for u in everyone)) <= {"id", "displayName", "jobTitle", "accountEnabled"}
    assert _round(http, delta_link)[0] == []  # nothing changed yet

    change = personality.advance({"changed_users": 5, "new_users": 2, "deleted_users": 3})
    changes, next_link = _round(http, delta_link)
    removed = {u["id"] for u in changes if "@removed" in u}
    assert removed == set(change["deleted_users"])
    assert all(u["@removed"] == {"reason": "changed"} for u in changes if "@removed" in u)
    assert {u["id"] for u in changes if "@removed" not in u} == set(change["changed_users"] + change["new_users"])
    assert {"displayName", "jobTitle"} <= next(u for u in changes if "@removed" not in u).keys()  # $select kept
    assert _round(http, next_link)[0] == []

    # "Sync from now": no data, a deltaLink that reports only later changes.
    latest = http.get("/v1.0/users/delta", params={"$deltatoken": "latest"}).json()
    assert latest["value"] == [] and "@odata.deltaLink" in latest
    listed = http.get("/v1.0/users", params={"$top": 999}).json()["value"]
    assert {u["id"] for u in listed} == {u["id"] for u in personality.ground_truth()["users"]}
    assert not removed & {u["id"] for u in listed}


def test_graph_delta_refuses_a_token_it_did_not_issue(graph):
    http, _ = graph
    response = http.get("/v1.0/users/delta", params={"$deltatoken": "bm90LWEtdG9rZW4"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "Request_BadRequest"
    with pytest.raises(Exception, match="deleted_users"):
        graph[1].advance({"deleted_users": -1})
