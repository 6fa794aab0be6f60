"""The activities stage: the organization audit log, oldest first, each page a checkpoint.

Audit log (``phrase`` with ``created:``, ``include``, ``order``, cursor pagination in ``Link``,
epoch-millisecond timestamps, ``read:audit_log`` for classic tokens, 1,750 queries/hour):
https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#get-the-audit-log-for-an-organization
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.github import transform
from saaslens.connectors.github.connector import ORG, GitHubConnector, audit_phrase
from saaslens.connectors.kit import JSON, ActivityStage, ActivityWindow, Batch, Probe
from saaslens.http.pagination import LinkHeaderPaginator, PageRequest


def scan_activities(
    connector: GitHubConnector, stream: str, window: ActivityWindow, resume: JSON | None
) -> Iterator[Batch]:
    params = {
        "phrase": audit_phrase(window),
        "include": connector.options.audit_log_include,
        "order": "asc",
        "per_page": connector.page_size(100),
    }
    request = PageRequest.from_state(resume) if resume is not None else None
    path = connector.org_path("/audit-log")
    for page in connector.client.paginate(path, LinkHeaderPaginator(), params, resume=request):
        checkpoint = page.next_request.to_state() if page.next_request is not None else None
        yield Batch("activities", [transform.activity_row(event) for event in page.items], checkpoint)


STAGE = ActivityStage(
    streams=("audit_log",),
    scan=scan_activities,
    permission="organization owner with read:audit_log (classic PAT), or Administration: read",
    # authenticate narrows it to the last five minutes (phrase) with the configured include.
    probe=Probe(f"{ORG}/audit-log", {"per_page": 1}),
)
