"""The activities stage: the team's audit log, team_log/get_events and /continue (events.read;
`limit` up to 1,000, a `time` range), https://www.dropbox.com/developers/documentation/http/teams#team_log-get_events.

One stream. Dropbox's events have no id (transform.event_id hashes the event), are not sorted within a
page, and a page may hold none while `has_more` is true: the listing continues until has_more is false.
`time` is sent as whole seconds (DropboxTimestamp); start inclusive, end exclusive.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from saaslens.connectors.dropbox import transform
from saaslens.connectors.dropbox.connector import AUDIT_STREAM, DropboxConnector
from saaslens.connectors.kit import JSON, ActivityStage, ActivityWindow, Batch
from saaslens.http.pagination import PageRequest
from saaslens.vocabulary import Stage

STREAMS = (AUDIT_STREAM,)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scan_activities(
    connector: DropboxConnector, stream: str, window: ActivityWindow, resume: JSON | None
) -> Iterator[Batch]:
    if stream != AUDIT_STREAM:
        raise ValueError(f"unknown Dropbox activity stream {stream!r} (streams: {', '.join(STREAMS)})")
    args = {
        "limit": connector.page_size(1000),
        "time": {"start_time": _timestamp(window.since), "end_time": _timestamp(window.until)},
    }
    request = PageRequest.from_state(resume) if resume is not None else None
    pages = connector.listing("team_log/get_events", "team_log/get_events/continue", "events", args, resume=request)
    for page in pages:
        checkpoint = page.next_request.to_state() if page.next_request is not None else None
        yield Batch("activities", [transform.audit_row(event) for event in page.items], checkpoint)


STAGE = ActivityStage(
    streams=STREAMS,
    scan=scan_activities,
    permission="events.read",
    stage=Stage.ACTIVITIES,
)
