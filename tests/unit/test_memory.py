"""The collector pauses around a stage and a page parse leave the interpreter as they found it."""

from __future__ import annotations

import gc
import threading

import orjson
import pytest

from saaslens.memory import freeze_after_import, long_lived_objects_frozen, parse_json_uncollected


@pytest.fixture(autouse=True)
def _start_unfrozen():
    """A task process starts with nothing frozen. An in-process sandbox server started by an earlier
    test (saaslens_sandbox.core.build_app) freezes its tenants for good, so which test ran last
    decided whether these passed; each test here starts from the state a task starts from."""
    gc.unfreeze()


def test_a_frozen_block_thaws_when_the_last_one_exits():
    assert gc.get_freeze_count() == 0
    with long_lived_objects_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with long_lived_objects_frozen():
            pass
        assert gc.get_freeze_count() >= frozen  # the inner exit does not thaw the outer block
    assert gc.get_freeze_count() == 0


def test_a_frozen_block_thaws_when_the_stage_raises():
    with pytest.raises(RuntimeError), long_lived_objects_frozen():
        raise RuntimeError("stage failed")
    assert gc.get_freeze_count() == 0


def test_freezing_after_an_import_happens_only_inside_a_block():
    freeze_after_import()
    assert gc.get_freeze_count() == 0
    with long_lived_objects_frozen():
        before = gc.get_freeze_count()
        later = [{"new": i} for i in range(1000)]  # noqa: F841 - alive, so frozen by the next call
        freeze_after_import()
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0


def test_a_parse_restores_the_collector_and_never_enables_one_that_was_off():
    assert parse_json_uncollected(b'[{"a": 1}]') == [{"a": 1}]
    assert gc.isenabled()
    gc.disable()
    try:
        parse_json_uncollected(b"{}")
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(orjson.JSONDecodeError):
        parse_json_uncollected(b"<html>")
    assert gc.isenabled()


def test_concurrent_parses_leave_the_collector_on():
    errors = []

    def parse_many() -> None:
        try:
            for _ in range(200):
                parse_json_uncollected(b'[{"a": [1, 2, {"b": "c"}]}]' * 1)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=parse_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and gc.isenabled()
