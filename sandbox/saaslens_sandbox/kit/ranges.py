"""HTTP byte ranges for the personalities that serve file contents (Drive, Graph's storage URL,
Slack's file host): one Range header, read as RFC 9110 section 14.2 describes it."""

from __future__ import annotations


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """One byte range of an HTTP Range header as (start, end exclusive); None for no header or one this
    server ignores (several ranges, another unit: the whole file is served, which the RFC allows);
    "unsatisfiable" for a range past the end."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            length = int(last)
            if length <= 0:
                return "unsatisfiable"
            return max(0, size - length), size
        start = int(first)
        end = int(last) + 1 if last else size
    except ValueError:
        return None
    if start < 0 or start >= size or end <= start:
        return "unsatisfiable"
    return start, min(end, size)
