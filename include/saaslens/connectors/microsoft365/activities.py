"""The activities stage: the sign-in and directory audit logs, one stream each.

Sign-ins (Entra ID P1/P2; newest first, page size up to 1,000; 403
``Authentication_RequestFromNonPremiumTenantOrB2CTenant`` without the licence) and directory audits:
signin-list.md, directoryaudit-list.md.
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.kit import JSON, ActivityStage, ActivityWindow, Batch
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.connector import STREAMS, Microsoft365Connector
from saaslens.http.pagination import PageRequest
from saaslens.transform_utils import iso_z


def scan_activities(
    connector: Microsoft365Connector, stream: str, window: ActivityWindow, resume: JSON | None
) -> Iterator[Batch]:
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


STAGE = ActivityStage(
    streams=tuple(STREAMS),
    scan=scan_activities,
    permission="AuditLog.Read.All (sign-ins also need Entra ID P1/P2)",
)
