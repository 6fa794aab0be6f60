"""The runner's typed, versioned state: written with a version, read back the same; state from before
versions read when it has the shape saaslens wrote then; anything else refused, never misread."""

from datetime import UTC, datetime

import orjson
import pytest

from saaslens.lake.writer import Lake
from saaslens.runner.state import (
    STATE_VERSION,
    CursorMeta,
    LastWindow,
    PendingWindow,
    ScanState,
    SnapshotCheckpoint,
    Span,
    StateRefused,
    StreamCursor,
    WindowCounts,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def state(tmp_path):
    return ScanState(Lake(tmp_path), "okta", "acme")


def _raw(state: ScanState, key: str) -> dict:
    return orjson.loads(state.store.path("okta", "acme", key).read_bytes())


def _put_raw(state: ScanState, key: str, body: object) -> None:
    path = state.store.path("okta", "acme", key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(body))


# -- round trips ------------------------------------------------------------------------------------


def test_a_snapshot_checkpoint_is_written_with_its_version_and_read_back_equal(state):
    checkpoint = SnapshotCheckpoint("20260301T080000Z", {"accounts": 3}, {"after": "00u9"}, {"since": "x"}, T0)
    assert state.save_snapshot_checkpoint("users", checkpoint)
    assert _raw(state, "snapshot.users")["version"] == STATE_VERSION
    assert state.snapshot_checkpoint("users") == checkpoint
    assert state.snapshot_checkpoint("groups") is None  # never written


def test_the_finished_checkpoint_round_trips(state):
    state.save_snapshot_checkpoint("users", SnapshotCheckpoint.finished())
    assert state.snapshot_checkpoint("users") == SnapshotCheckpoint.finished()


def test_a_stream_cursor_round_trips_with_its_pending_window_and_recent_windows(state):
    cursor = StreamCursor(
        high_water=T0,
        window=PendingWindow(T0, T1, {"after": "page-2"}, WindowCounts(7, {T0.isoformat(): 2, "untracked": 1})),
        last_window=LastWindow(T0, T1, 12),
        recent_windows=[Span(T0, T1)],
    )
    state.save_stream_cursor("system_log", cursor)
    raw = _raw(state, "activities.system_log")
    assert raw["version"] == STATE_VERSION and raw["high_water"] == T0.isoformat()
    assert state.stream_cursor("system_log") == cursor


def test_a_cursor_meta_published_with_a_snapshot_round_trips(state):
    meta = CursorMeta({"since": "2026-03-01T08:00:00.000Z"}, T0, "full")
    with state.lake.snapshot_writer("accounts", "okta", "acme", "20260301T080000Z") as writer:
        writer.write([])
        writer.publish(extra={"cursor.json": meta.to_json()})
    assert state.cursor_meta("accounts") == meta
    assert state.cursor_meta("groups") is None  # no snapshot at all


def test_the_lakes_not_resumable_mark_is_read_back_and_never_written_by_the_runner(state):
    # state_bytes masks a credential in a stored request and marks the state; the runner reads it.
    request = {"method": "GET", "url": "https://acme.okta.example/api/v1/users?after=x&token=s3cret"}
    checkpoint = SnapshotCheckpoint("s", {"accounts": 1}, {"request": request}, None, T0)
    state.save_snapshot_checkpoint("users", checkpoint)
    read = state.snapshot_checkpoint("users")
    assert read is not None and read.resumable is False
    assert "resumable" not in read.to_json()


# -- state from before versions ---------------------------------------------------------------------


def test_a_pre_version_checkpoint_of_the_shape_saaslens_wrote_is_read(state):
    _put_raw(
        state,
        "snapshot.users",
        {
            "snapshot_id": "s",
            "parts": {"accounts": 2},
            "resume": {"after": "a"},
            "cursor": None,
            "full_at": T0.isoformat(),
        },
    )
    assert state.snapshot_checkpoint("users") == SnapshotCheckpoint("s", {"accounts": 2}, {"after": "a"}, None, T0)


def test_a_pre_version_finished_checkpoint_is_read(state):
    _put_raw(state, "snapshot.users", {"snapshot_id": None})
    assert state.snapshot_checkpoint("users") == SnapshotCheckpoint.finished()


def test_a_pre_version_stream_cursor_with_only_a_window_is_read(state):
    window = {
        "since": T0.isoformat(),
        "until": T1.isoformat(),
        "resume": {"cursor": "c1"},
        "counts": {"first": 4, "late": {}},
    }
    _put_raw(state, "activities.system_log", {"window": window})
    cursor = state.stream_cursor("system_log")
    assert cursor == StreamCursor(None, PendingWindow(T0, T1, {"cursor": "c1"}, WindowCounts(4, {})), None, [])


def test_a_pre_version_cursor_meta_is_read(state):
    with state.lake.snapshot_writer("accounts", "okta", "acme", "20260301T080000Z") as writer:
        writer.write([])
        writer.publish(extra={"cursor.json": {"cursor": {"since": "x"}, "full_at": T0.isoformat(), "mode": "full"}})
    assert state.cursor_meta("accounts") == CursorMeta({"since": "x"}, T0, "full")


# -- refused, with a message that says what to do --------------------------------------------------


@pytest.mark.parametrize("version", [STATE_VERSION + 1, 0, "1", True, None])
def test_a_newer_or_unknown_version_is_refused_naming_the_instance_the_state_and_what_deleting_does(state, version):
    body = {**SnapshotCheckpoint.finished().to_json(), "version": version}
    _put_raw(state, "snapshot.users", body)
    with pytest.raises(StateRefused) as refused:
        state.snapshot_checkpoint("users")
    message = str(refused.value)
    assert "okta/acme" in message and "snapshot.users" in message
    assert f"version {version!r}" in message and f"reads version {STATE_VERSION}" in message
    assert str(state.store.path("okta", "acme", "snapshot.users")) in message
    assert "Delete that file" in message and "lists in full on its next run" in message


def test_a_newer_stream_cursor_is_refused_saying_the_stream_is_read_again(state):
    _put_raw(state, "activities.system_log", {"version": STATE_VERSION + 1, "high_water": T0.isoformat()})
    with pytest.raises(StateRefused, match=r"okta/acme: the state activities\.system_log .*read again"):
        state.stream_cursor("system_log")


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],  # not an object
        {"snapshot_id": "s", "parts": {"accounts": "2"}, "resume": None, "cursor": None, "full_at": None},
        {"snapshot_id": "s", "parts": {}, "resume": None, "cursor": None, "full_at": "2026-03-01T08:00:00"},
        {"snapshot_id": "s", "parts": {}, "resume": None, "cursor": None},  # a field missing
        {"snapshot_id": "s", "parts": {}, "resume": None, "cursor": None, "full_at": None, "page": 3},  # unknown
        {"version": STATE_VERSION, "snapshot_id": "s"},  # versioned, so no legacy defaults
    ],
)
def test_a_malformed_checkpoint_is_refused_not_misread(state, body):
    _put_raw(state, "snapshot.users", body)
    with pytest.raises(StateRefused, match=r"okta/acme: the state snapshot\.users .*(malformed|not a JSON object)"):
        state.snapshot_checkpoint("users")


def test_a_corrupt_state_file_is_refused_with_the_same_advice(state):
    path = state.store.path("okta", "acme", "snapshot.users")
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"snapshot_id": ')  # a torn write from before writes were atomic
    with pytest.raises(StateRefused, match=r"unreadable.*Delete that file"):
        state.snapshot_checkpoint("users")


def test_a_corrupt_or_foreign_cursor_meta_is_refused(state):
    with state.lake.snapshot_writer("accounts", "okta", "acme", "20260301T080000Z") as writer:
        writer.write([])
        writer.publish(extra={"cursor.json": {"version": STATE_VERSION + 1, "cursor": {}}})
    with pytest.raises(StateRefused, match=r"cursor\.json of the latest accounts snapshot.*lists in full"):
        state.cursor_meta("accounts")
