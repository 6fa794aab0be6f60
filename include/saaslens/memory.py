"""A scan's memory: keep the cyclic garbage collector off objects a scan never frees, and
hand freed memory back to the operating system between chunks.

The collector. A scan allocates containers by the hundred thousand (every parsed page is ~30 dicts an
event), so the collector runs often, and each full collection walks every tracked object in
the process: the modules of httpx, pyarrow and, once the quality gate has imported it,
great_expectations (hundreds of thousands of objects). Measured on the Okta ingest benchmark
(200,000 events): parsing the pages took 4.8 s of CPU with the default collector against
1.9 s with it disabled, and 6.6 s once great_expectations was loaded.

`gc.freeze()` moves every object alive at that moment into a permanent generation the
collector skips; those objects are still freed by reference counting as usual. Only a
reference cycle that was alive at the freeze and becomes garbage during the stage waits
until `gc.unfreeze()` at the stage's end to be collected, which is why the freeze is
scoped to a stage rather than left for the life of the process (a test session runs
hundreds of stages in one process).

The allocators. Freed memory mostly stays with the allocator that had it: Arrow's pool
(mimalloc) and glibc's heap (which serves CPython's objects above 512 bytes, e.g. every
event's raw JSON). After a 100,000-user listing, the live Python objects were 30 MB but
the process kept 300 MB more; releasing Arrow's unused memory returned 68 MB and
`malloc_trim` another 84 MB. Each chunk's memory is therefore given back once the chunk is
stored, so the peak is one chunk's working set rather than the sum of the largest ones."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import orjson

_lock = threading.Lock()
_depth = 0


@contextmanager
def long_lived_objects_frozen() -> Iterator[None]:
    """Freeze what is alive now for the duration of the block (re-entrant across threads:
    the permanent generation is thawed when the last block exits)."""
    global _depth
    with _lock:
        _depth += 1
        gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()


def freeze_after_import() -> None:
    """Freeze again after a heavy import made inside a frozen block (the quality gate imports
    great_expectations on its first batch); outside a block it does nothing."""
    with _lock:
        if _depth:
            gc.freeze()


def parse_json_uncollected(content: bytes) -> object:
    """`orjson.loads` with the collector paused: a page parses into tens of thousands of
    containers, all reachable, so a collection during the parse can only waste time (it
    cost a third of the parse on the ingest benchmark). Only a thread that saw the collector
    enabled re-enables it, so concurrent parses never leave it off."""
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        return orjson.loads(content)
    finally:
        if was_enabled:
            gc.enable()


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None on a C library without it (musl, macOS)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


_trim = _malloc_trim()


def release_freed_memory() -> None:
    """Give memory that is free but still held by Arrow's pool and glibc's heap back to the OS."""
    import pyarrow as pa  # here, not at import: the HTTP layer imports this module

    pa.default_memory_pool().release_unused()
    if _trim is not None:
        _trim(0)
