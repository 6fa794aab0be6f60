"""Audit logs: time windows over events kept in time order, newest first, and visibility lag.

Each tenant keeps its audit events in ascending time order (``stamps``, epoch ms). A request's
time filter is a window over them (:func:`window`). Providers serve audit logs newest first
(Microsoft Graph directoryAudits and signIns, Google Reports, Slack Audit Logs, GitHub's audit log;
Okta's System Log is the exception, oldest first by default) and some show an event only a while
after it happened (Google's Reports lag, https://support.google.com/a/answer/7061566: an event
is visible once :func:`visible_until` has passed it).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence


def window(
    stamps: Sequence[int],
    low: int | None,
    high: int | None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> tuple[int, int]:
    """The index range ``[lo, hi)`` of the ascending ``stamps`` between ``low`` and ``high``."""
    lo, hi = 0, len(stamps)
    if low is not None:
        lo = bisect.bisect_left(stamps, low) if low_inclusive else bisect.bisect_right(stamps, low)
    if high is not None:
        hi = bisect.bisect_right(stamps, high) if high_inclusive else bisect.bisect_left(stamps, high)
    return lo, hi


def newest_first(lo: int, hi: int, position: int) -> int:
    """The index of the ``position``-th event, newest first, in the window ``[lo, hi)``."""
    return hi - 1 - position


def visible_until(now_ms: int, lag_seconds: float) -> int:
    """The newest event time (epoch ms) a log with ``lag_seconds`` of lag shows at ``now_ms``."""
    return now_ms - int(lag_seconds * 1000)
