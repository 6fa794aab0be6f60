"""The fast ingest path (issue 6): prefetching pagination, column-wise Arrow conversion and the
hashed store of known event ids keep every behaviour of the plain path."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pyarrow as pa
import pytest

from saaslens.http import ApiClient, TransientError
from saaslens.http.pagination import LinkHeaderPaginator, PageRequest
from saaslens.lake import writer as lake_writer
from saaslens.lake.writer import Lake, LakeError, to_arrow

BASE = "https://api.example.com"
ITEMS = [{"id": i} for i in range(45)]  # records are JSON objects, as at every provider


def link_pages(fail_after: int | None = None, seen: list[int] | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params.get("after", 0))
        if seen is not None:
            seen.append(after)
        if fail_after is not None and after >= fail_after:
            return httpx.Response(500, text="boom")
        page = ITEMS[after : after + 10]
        headers = {}
        if after + 10 < len(ITEMS):
            headers["Link"] = f'<{BASE}/items?after={after + 10}>; rel="next"'
        return httpx.Response(200, json=page, headers=headers)

    return handler


def client_for(handler) -> ApiClient:
    return ApiClient(BASE, transport=httpx.MockTransport(handler), sleep=lambda s: None)


def test_prefetch_yields_the_same_pages_and_checkpoints_as_the_plain_walk():
    plain = list(client_for(link_pages()).paginate("/items", LinkHeaderPaginator()))
    ahead = list(client_for(link_pages()).paginate("/items", LinkHeaderPaginator(), prefetch=True))
    assert [p.items for p in ahead] == [p.items for p in plain]
    assert [p.next_request for p in ahead] == [p.next_request for p in plain]
    assert ahead[-1].next_request is None


def test_prefetch_asks_for_the_next_page_before_the_caller_is_done_with_this_one():
    asked = threading.Event()
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        response = link_pages(seen=seen)(request)
        if len(seen) == 2:
            asked.set()
        return response

    pages = client_for(handler).paginate("/items", LinkHeaderPaginator(), prefetch=True)
    first = next(pages)
    assert first.items == ITEMS[:10]
    assert asked.wait(5), "the second page was not requested while the first was being handled"
    pages.close()  # stopping early leaves no request behind
    assert seen == [0, 10]


def test_prefetch_raises_a_failing_page_only_when_the_caller_reaches_it():
    pages = client_for(link_pages(fail_after=20)).paginate(
        "/items", LinkHeaderPaginator(), prefetch=True, resume=PageRequest(url=f"{BASE}/items")
    )
    assert next(pages).items == ITEMS[:10]
    assert next(pages).items == ITEMS[10:20]  # page 3 is failing in the background by now
    with pytest.raises(TransientError):
        next(pages)


def test_to_arrow_converts_aware_timestamps_to_the_same_instant():
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC)
    rows = [
        {"account_id": "u1", "status": "active", "account_type": "member", "is_admin": False, "created_at": moment},
        {
            "account_id": "u2",
            "status": "active",
            "account_type": "member",
            "is_admin": True,
            "created_at": moment.astimezone(paris),
        },
        {"account_id": "u3", "status": "active", "account_type": "member", "is_admin": None, "created_at": None},
    ]
    table = to_arrow("accounts", rows)
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert table.column("created_at").to_pylist() == [moment, moment, None]
    assert table.column("is_admin").to_pylist() == [False, True, None]


def test_to_arrow_names_the_column_that_does_not_fit():
    with pytest.raises(LakeError, match=r"accounts.*'is_admin'"):
        to_arrow("accounts", [{"account_id": "u1", "is_admin": "yes"}])


def event(i: int, minutes: int = 0, action: str = "user.session.start") -> dict:
    return {
        "event_id": f"e{i}",
        "occurred_at": datetime(2026, 11, 1, 12, tzinfo=UTC) + timedelta(minutes=minutes),
        "category": "logon",
        "action": action,
        "outcome": "success",
    }


def test_known_ids_survive_a_hash_collision_without_dropping_a_new_event(tmp_path, monkeypatch):
    # Every id hashes alike: the hash only shortlists, the ids on disk decide.
    monkeypatch.setattr(lake_writer, "_id_hashes", lambda ids: lake_writer.np.zeros(len(ids), dtype="int64"))
    lake = Lake(tmp_path)
    first = lake.event_writer("activities", "okta", "a", "run1")
    assert first.write([event(1), event(2)]) == 2
    again = lake.event_writer("activities", "okta", "a", "run2")
    assert again.write([event(1), event(3)]) == 1  # e3 shares e1's hash but is new
    assert again.duplicates_dropped == 1
    stored = lake.read_events("activities", "okta", "a")
    assert sorted(stored.column("event_id").to_pylist()) == ["e1", "e2", "e3"]


def test_event_writer_keeps_a_conflicting_repeat_for_the_gate_and_drops_an_identical_one(tmp_path):
    lake = Lake(tmp_path)
    seen = {}
    writer = lake.event_writer("activities", "okta", "a", "run")
    batch = [event(1), event(1), event(1, action="user.session.end"), event(2, minutes=24 * 60)]
    assert writer.write(batch, audit=lambda table: seen.setdefault("rows", table.num_rows)) == 3
    assert seen["rows"] == 3  # the identical repeat dropped, the conflict kept for the gate to refuse
    stored = lake.read_events("activities", "okta", "a")
    assert sorted(set(stored.column("event_date").to_pylist())) == ["2026-11-01", "2026-11-02"]
    assert set(stored.column("app").to_pylist()) == {"okta"} and stored.column("ingested_at").null_count == 0


def test_known_ids_memory_is_eight_bytes_an_event(tmp_path):
    lake = Lake(tmp_path)
    writer = lake.event_writer("activities", "okta", "a", "run")
    writer.write([event(i) for i in range(5000)])
    known = writer._known_ids("2026-11-01")
    assert len(known.hashes) == 5000 and known.hashes.nbytes == 5000 * 8


def test_event_writer_stores_an_arrow_batch_exactly_as_the_same_rows(tmp_path):
    rows = [event(1), event(2, minutes=24 * 60), event(1), event(3, minutes=-13 * 60)]
    from_rows, from_arrow = Lake(tmp_path / "rows"), Lake(tmp_path / "arrow")
    assert from_rows.event_writer("activities", "okta", "a", "r").write(rows) == 3
    writer = from_arrow.event_writer("activities", "okta", "a", "r")
    pages = pa.concat_tables([writer.to_arrow(rows[:2]), writer.to_arrow(rows[2:])])
    assert writer.write(pages) == 3 and writer.duplicates_dropped == 1
    columns = ["event_id", "occurred_at", "event_date", "action"]

    def stored(lake: Lake) -> list[dict]:
        return sorted(lake.read_events("activities", "okta", "a").select(columns).to_pylist(), key=str)

    assert stored(from_rows) == stored(from_arrow)
    assert {r["event_date"] for r in stored(from_arrow)} == {"2026-10-31", "2026-11-01", "2026-11-02"}
    # What completeness accounting reads: the stored events' times, then those already stored.
    assert sorted(writer.last_stored_times.to_pylist()) == sorted(r["occurred_at"] for r in rows[:2] + rows[3:])
    assert writer.write(pages) == 0 and len(writer.last_known_times) == 4 and len(writer.last_stored_times) == 0


def test_event_writer_names_the_events_it_cannot_partition(tmp_path):
    writer = Lake(tmp_path).event_writer("activities", "okta", "a", "r")
    with pytest.raises(LakeError, match=r"occurred_at.*\['e2'\]"):
        writer.write([event(1), {**event(2), "occurred_at": None}])
