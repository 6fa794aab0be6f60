"""The activities stage: Reports API audit activities, one stream per application (login, admin,
token, drive), each page a checkpoint.

Reports API activities.list (``startTime``/``endTime``, ``maxResults`` <= 1000, 180-day retention):
https://developers.google.com/workspace/admin/reports/reference/rest/v1/activities/list ; lag before
events appear ("Data retention and lag times"): https://support.google.com/a/answer/7061566
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from saaslens.connectors.google_workspace import transform
from saaslens.connectors.google_workspace.connector import AUDIT_SCOPE, REPORTS, STREAMS, GoogleWorkspaceConnector
from saaslens.connectors.kit import JSON, ActivityStage, ActivityWindow, Batch, Probe
from saaslens.http import api_path
from saaslens.http.pagination import PageRequest, PageTokenPaginator
from saaslens.transform_utils import iso_z
from saaslens.vocabulary import Stage


def scan_activities(
    connector: GoogleWorkspaceConnector, stream: str, window: ActivityWindow, resume: JSON | None
) -> Iterator[Batch]:
    params: dict[str, Any] = {
        "startTime": iso_z(window.since),
        "endTime": iso_z(window.until),
        "maxResults": connector.page_size(1000),
    }
    if connector.customer != "my_customer":
        params["customerId"] = connector.customer
    path = api_path(f"{REPORTS}/activity/users/all/applications", stream)
    request = PageRequest.from_state(resume) if resume is not None else None
    client = connector.stage_client(Stage.ACTIVITIES)
    for page in client.paginate(path, PageTokenPaginator("items"), params, resume=request):
        rows = [row for activity in page.items for row in transform.activity_rows(activity)]
        yield Batch("activities", rows, page.next_request.to_state() if page.next_request is not None else None)


STAGE = ActivityStage(
    streams=STREAMS,
    scan=scan_activities,
    permission=AUDIT_SCOPE,
    probe=Probe(f"{REPORTS}/activity/users/all/applications/admin", {"maxResults": 1}),
)
