"""The activities stage: the sign-in and directory audit logs through Graph, and the unified audit log's
SharePoint and OneDrive records through the Office 365 Management Activity API, one stream each.

Sign-ins (Entra ID P1/P2; newest first, page size up to 1,000; 403
``Authentication_RequestFromNonPremiumTenantOrB2CTenant`` without the licence) and directory audits:
signin-list.md, directoryaudit-list.md. ``sharepoint_audit``: management.py for the pages relied on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from saaslens.connectors.kit import JSON, ActivityStage, ActivityWindow, Batch
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.connector import (
    ACTIVITY_FEED_PERMISSION,
    SHAREPOINT_STREAM,
    STREAMS,
    Microsoft365Connector,
)
from saaslens.connectors.microsoft365.management import content_slices, start_call
from saaslens.http import FeatureUnavailableError
from saaslens.http.pagination import PageRequest
from saaslens.transform_utils import iso_z, parse_time


def scan_activities(
    connector: Microsoft365Connector, stream: str, window: ActivityWindow, resume: JSON | None
) -> Iterator[Batch]:
    if stream == SHAREPOINT_STREAM:
        yield from scan_sharepoint_audit(connector, window, resume)
        return
    path, field = STREAMS[stream]
    to_row = transform.sign_in_row if stream == "sign_ins" else transform.directory_audit_row
    # Both logs come newest first; a bounded window ends when the next link disappears.
    params = {
        "$filter": f"{field} ge {iso_z(window.since)} and {field} le {iso_z(window.until)}",
        "$top": connector.page_size(1000),
    }
    request = PageRequest.from_state(resume) if resume is not None else None
    for page in connector.pages(path, params, resume=request):
        checkpoint = page.next_request.to_state() if page.next_request is not None else None
        yield Batch("activities", [to_row(event) for event in page.items], checkpoint)


def scan_sharepoint_audit(
    connector: Microsoft365Connector, window: ActivityWindow, resume: JSON | None
) -> Iterator[Batch]:
    """The Audit.SharePoint content that became available in the window (by contentCreated, in
    slices of at most 24 hours, none older than the API's 7 days), every blob of each listing page
    read before the page's checkpoint: ``{"start": slice start, "page": the NextPageUri to continue
    with, or null for the slice's first page}``. Events inside a blob may be older than the window
    (content is aggregated out of order); the event writer drops the ids already stored, and the
    runner's lookback re-reads content that was listed late."""
    if not connector.options.sharepoint_audit:
        raise FeatureUnavailableError(
            f"off for this instance: the option sharepoint_audit enables it (needs {ACTIVITY_FEED_PERMISSION} of "
            "the Office 365 Management APIs and the tenant's Audit.SharePoint subscription)"
        )
    feed = connector.activity_feed()
    resume_start = parse_time(resume.get("start")) if resume else None
    resume_page = resume.get("page") if resume else None
    slices = content_slices(window.since, window.until, datetime.now(UTC))
    for number, (start, end) in enumerate(slices):
        if resume_start is not None and start < resume_start:
            continue
        first = resume_page if resume_start is not None and start == resume_start else None
        resume_start = None
        try:
            for entries, following in feed.pages(start, end, first, connector.options.publisher_identifier):
                rows = [
                    transform.unified_audit_row(record)
                    for records in connector.fan_out(entries, feed.records)
                    for record in records
                ]
                if following is not None:
                    checkpoint: JSON = {"start": iso_z(start), "page": following}
                elif number + 1 < len(slices):
                    checkpoint = {"start": iso_z(slices[number + 1][0]), "page": None}
                else:
                    checkpoint = {"start": iso_z(end), "page": None}
                yield Batch("activities", rows, checkpoint)
        except FeatureUnavailableError as exc:  # AF20022 / AF20023: no enabled subscription
            raise FeatureUnavailableError(
                f"{exc.provider_code}: {exc.detail}; a tenant admin starts it once with "
                f"{start_call(feed.root, feed.tenant_id)} (saaslens does not: it changes the tenant)",
                status=exc.status,
                provider_code=exc.provider_code,
                method=exc.method,
                url=exc.url,
            ) from None
    yield Batch("activities", [], None)  # the window is complete


STAGE = ActivityStage(
    streams=(*STREAMS, SHAREPOINT_STREAM),
    scan=scan_activities,
    permission="AuditLog.Read.All (sign-ins also need Entra ID P1/P2); sharepoint_audit: ActivityFeed.Read of the "
    "Office 365 Management APIs",
)
