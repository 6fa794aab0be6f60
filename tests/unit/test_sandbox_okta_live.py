"""The "live" Okta tenant: advance() changes users, groups and the System Log, deterministically,
and the API, the ground truth and the admin route all show the change."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from pydantic import ValidationError

from saaslens_sandbox.core import AdvanceNotSupported, Personality, SandboxServer, TenantSpec, personality_class
from saaslens_sandbox.okta.generator import FastRandom
from saaslens_sandbox.okta.live import _id_after

ANCHOR = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
TOKEN = {"Authorization": "SSWS sandbox-okta-live-admin"}
EVERYTHING = {
    "events": 60,
    "changed_users": 4,
    "new_users": 3,
    "deactivated_users": 2,
    "deleted_users": 2,
    "membership_changes": 5,
}


def personality(seed: int = 5, users: int = 150, **options) -> Personality:
    spec = TenantSpec(app="okta", name="live", seed=seed, users=users, options={"anchor": ANCHOR, **options})
    return personality_class("okta")(spec, "/okta/live")


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def uuids(truth: dict) -> list[str]:
    return [e["uuid"] for e in truth["log_events"]]


def test_same_seed_and_calls_give_identical_changes_and_ground_truth():
    now1, now2 = ANCHOR + timedelta(minutes=20), ANCHOR + timedelta(minutes=50)
    runs = []
    for _ in range(2):
        p = personality()
        s1 = p.advance({**EVERYTHING, "now": now1.isoformat()})
        s2 = p.advance({"events": 30, "late_events": 4, "late_seconds": 600, "now": now2.isoformat()})
        truth = p.ground_truth()
        truth.pop("log_visibility")  # visible_at is the wall clock of the call
        truth.pop("log_events_not_yet_visible")
        truth["counts"].pop("log_events_visible")
        for summary in (s1, s2, *truth["advances"]):
            summary.pop("late_events_visible_at")
        runs.append(orjson.dumps([s1, s2, truth]))
    assert runs[0] == runs[1]
    other = personality(seed=6)
    assert other.advance({**EVERYTHING, "now": now1.isoformat()})["new_users"] != orjson.loads(runs[0])[0]["new_users"]


def test_advance_changes_users_groups_and_events_and_keeps_old_events_intact():
    p = personality()
    before = p.ground_truth()
    now = ANCHOR + timedelta(minutes=30)
    s = p.advance({**EVERYTHING, "now": now.isoformat()})
    after = p.ground_truth()
    users_before = {u["id"]: u for u in before["users"]}
    users_after = {u["id"]: u for u in after["users"]}

    assert set(users_after) == (set(users_before) | set(s["new_users"])) - set(s["deleted_users"])
    assert after["deleted_users"] == sorted(s["deleted_users"])
    now_iso = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for uid in s["changed_users"]:
        assert users_after[uid]["lastUpdated"] == now_iso
        assert users_after[uid]["profile"] != users_before[uid]["profile"]
    for uid in s["deactivated_users"]:
        assert users_after[uid]["status"] == "DEPROVISIONED" and users_after[uid]["statusChanged"] == now_iso
    for uid in s["new_users"]:
        assert users_after[uid]["status"] == "ACTIVE" and users_after[uid]["id"] > max(users_before)
    untouched = set(users_before) - set(s["changed_users"]) - set(s["deactivated_users"]) - set(s["deleted_users"])
    assert all(users_after[u]["lastUpdated"] == users_before[u]["lastUpdated"] for u in untouched)

    members = {(m["group_id"], m["user_id"]) for m in after["memberships"]}
    assert not any(uid in s["deleted_users"] for _, uid in members)
    everyone = after["groups"][0]["id"]
    assert all((everyone, uid) in members for uid in s["new_users"])
    for change in s["membership_changes"]:
        pair = (change["group_id"], change["user_id"])
        # a later change in the same call may undo an earlier one; the last one wins
        last = [c for c in s["membership_changes"] if (c["group_id"], c["user_id"]) == pair][-1]
        assert (pair in members) == (last["change"] == "add")

    # old events keep their uuid and content; new ones fall in (anchor, now]
    old = {e["uuid"]: e for e in before["log_events"]}
    new = {e["uuid"]: e for e in after["log_events"]}
    assert all(new[u] == e for u, e in old.items())
    added = set(new) - set(old)
    assert added == set(s["event_uuids"])
    assert all(before["anchor"] < new[u]["published"] <= now_iso for u in added)
    types = Counter(new[u]["eventType"] for u in added)
    assert types["user.lifecycle.create"] == types["user.lifecycle.activate"] == 3
    assert types["user.account.update_profile"] == 4
    assert types["user.lifecycle.delete.completed"] == types["user.lifecycle.delete.initiated"] == 2
    assert types["group.user_membership.add"] + types["group.user_membership.remove"] >= 5
    order = [(e["published"], e["uuid"]) for e in after["log_events"]]
    assert order == sorted(order)
    assert after["counts"]["users"] == len(users_after)


def test_bad_changes_are_refused_with_the_field_named():
    p = personality(users=40)
    with pytest.raises(ValidationError, match="evnets"):
        p.advance({"evnets": 3})
    with pytest.raises(ValidationError, match="events"):
        p.advance({"events": -1})
    with pytest.raises(ValueError, match="deleted_users: asked for 500"):
        p.advance({"deleted_users": 500})
    with pytest.raises(ValueError, match="in the future"):
        p.advance({"now": (datetime.now(UTC) + timedelta(hours=1)).isoformat()})
    p.advance({"events": 1, "now": (ANCHOR + timedelta(minutes=5)).isoformat()})
    with pytest.raises(ValueError, match="not after the previous advance"):
        p.advance({"events": 1, "now": (ANCHOR + timedelta(minutes=1)).isoformat()})


def test_ids_after_sort_after_and_stay_okta_shaped():
    rng = FastRandom("t")
    prev = "00uzzzzzzzzzzzzzz000"
    for _ in range(50):
        nxt = _id_after(prev, rng)
        assert nxt > prev and len(nxt) == 20 and nxt.startswith("00u") and nxt.isalnum()
        prev = nxt


def test_static_personalities_refuse_advance():
    spec = TenantSpec(app="github", name="static", users=5)
    with pytest.raises(AdvanceNotSupported, match=r"github personality .* does not support advance"):
        personality_class("github")(spec, "/github/static").advance({"events": 1})


def test_tie_runs_and_hostile_values_are_options():
    t = personality(users=80, tie_runs=3, tie_run_length=25, hostile_share=0.5).tenant
    runs = Counter(t.ev_ts)
    assert sum(1 for n in runs.values() if n >= 25) >= 3
    docs = t.users
    assert any(len(d["profile"]["title"] or "") >= 1000 for d in docs)
    assert any(d["profile"]["title"] is None and d["profile"]["department"] is None for d in docs)
    assert any("\u202e" in d["profile"]["firstName"] or "🦄" in d["profile"]["firstName"] for d in docs)
    assert all(d["profile"]["login"].isascii() for d in docs)
    plain = personality(users=80).tenant
    assert [u.id for u in plain.urecs] == [u.id for u in t.urecs]  # own random streams


# ============================================================================ through the API


@pytest.fixture(scope="module")
def server():
    # anchored when the server starts, not at import: the late events below lie three hours before
    # the wall clock and must fall before the anchor however long the run has gone on before this
    anchor = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    spec = TenantSpec(
        app="okta", name="live", seed=9, users=120, options={"anchor": anchor}, rate_limits={"enabled": False}
    )
    with SandboxServer([spec]) as sb:
        yield sb


def _all_logs(base: str, **params) -> list[str]:
    out: list[str] = []
    url: str | None = f"{base}/api/v1/logs"
    query: dict | None = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z", "limit": "97", **params}
    while url:
        r = httpx.get(url, params=query, headers=TOKEN)
        assert r.status_code == 200, r.text
        query = None
        out += [e["uuid"] for e in r.json()]
        url = r.links.get("next", {}).get("url")
    return out


def test_admin_route_late_events_and_visibility(server):
    base = server.tenant_url("okta", "live")
    p = server.personality("okta", "live")
    before = _all_logs(base)
    r = httpx.post(
        f"{server.url}/_admin/tenants/okta/live/advance",
        json={"events": 20, "late_events": 6, "late_seconds": 3 * 3600, "visible_after_seconds": 4},
    )
    assert r.status_code == 200, r.text
    s = r.json()
    assert len(s["late_event_uuids"]) == 6 and len(s["event_uuids"]) == 20
    truth = p.ground_truth()
    assert set(truth["log_events_not_yet_visible"]) == set(s["late_event_uuids"])
    # the late events lie three hours back (before the anchor), among events already served,
    # and are not visible yet (4 s: a margin for a busy machine)
    late = [e for e in truth["log_events"] if e["uuid"] in s["late_event_uuids"]]
    assert all(e["published"] < s["since"] for e in late)
    now_visible = _all_logs(base)
    assert set(now_visible) == set(before) | set(s["event_uuids"])
    desc = _all_logs(base, sortOrder="DESCENDING")
    assert desc == list(reversed(now_visible))
    time.sleep(max(0.0, ms(s["late_events_visible_at"]) / 1000 - time.time()) + 0.05)
    everything = _all_logs(base)
    assert everything == uuids(p.ground_truth()) and len(everything) == len(set(everything))
    assert p.ground_truth()["log_events_not_yet_visible"] == []
    # the same route under /_sandbox; a bad body is a 400 naming the field
    r = httpx.post(f"{server.url}/_sandbox/okta/live/advance", json={"new_users": "many"})
    assert r.status_code == 400 and "new_users" in r.json()["detail"]
    assert httpx.post(f"{server.url}/_sandbox/okta/live/advance", content=b"[1]").status_code == 400
    assert httpx.post(f"{server.url}/_sandbox/okta/nope/advance", json={}).status_code == 404


def test_users_listing_reflects_changes_and_last_updated_filters(server):
    base = server.tenant_url("okta", "live")
    p = server.personality("okta", "live")
    mark = datetime.now(UTC)
    time.sleep(0.01)
    s = httpx.post(
        f"{server.url}/_sandbox/okta/live/advance",
        json={"changed_users": 3, "new_users": 2, "deactivated_users": 2, "deleted_users": 2},
    ).json()
    since = mark.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for param in ("filter", "search"):
        r = httpx.get(f"{base}/api/v1/users", params={param: f'lastUpdated gt "{since}"'}, headers=TOKEN)
        assert r.status_code == 200, r.text
        # DEPROVISIONED users only appear when the expression mentions status (Okta's default)
        assert {u["id"] for u in r.json()} == set(s["changed_users"]) | set(s["new_users"])
    r = httpx.get(
        f"{base}/api/v1/users",
        params={"search": f'lastUpdated gt "{since}" and status eq "DEPROVISIONED"'},
        headers=TOKEN,
    )
    assert {u["id"] for u in r.json()} == set(s["deactivated_users"])
    listed = [u["id"] for u in httpx.get(f"{base}/api/v1/users", params={"limit": 200}, headers=TOKEN).json()]
    assert listed == sorted(listed) and not set(listed) & set(s["deleted_users"])
    for uid in s["deleted_users"]:
        assert httpx.get(f"{base}/api/v1/users/{uid}", headers=TOKEN).status_code == 404
    truth = p.ground_truth()
    expected = sorted(u["id"] for u in truth["users"] if u["status"] != "DEPROVISIONED")
    assert listed == expected
