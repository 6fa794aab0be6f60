"""The activities stage: the organization audit log and, for an instance naming its enterprise, the
enterprise audit log; oldest first, each page a checkpoint.

Audit log (``phrase`` with ``created:``, ``include``, ``order``, cursor pagination in ``Link``,
epoch-millisecond timestamps, ``read:audit_log`` for classic tokens, 1,750 queries/hour):
https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#get-the-audit-log-for-an-organization
and, same parameters, for the enterprise ("The authenticated user must be an enterprise admin"; not
open to GitHub Apps):
https://docs.github.com/enterprise-cloud@latest/rest/enterprise-admin/audit-log#get-the-audit-log-for-an-enterprise .
The enterprise's log also holds what no organization's does: with Enterprise Managed Users, the user
events (``user.suspend``, ``external_identity.deprovision``... of a SCIM deprovisioning,
https://docs.github.com/enterprise-cloud@latest/admin/managing-iam/provisioning-user-accounts-with-scim/deprovisioning-and-reinstating-users).
An event in both logs has one ``_document_id``, so the event writer stores it once.
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.github import transform
from saaslens.connectors.github.connector import ENTERPRISE_STREAM, ORG, GitHubConnector, audit_phrase
from saaslens.connectors.kit import JSON, ActivityStage, ActivityWindow, Batch, Probe
from saaslens.http.pagination import LinkHeaderPaginator, PageRequest

ORG_STREAM = "audit_log"
STREAMS = (ORG_STREAM, ENTERPRISE_STREAM)


def scan_activities(
    connector: GitHubConnector, stream: str, window: ActivityWindow, resume: JSON | None
) -> Iterator[Batch]:
    if stream == ORG_STREAM:
        path = connector.org_path("/audit-log")
    elif stream == ENTERPRISE_STREAM:
        # FeatureUnavailableError without the enterprise option: the runner skips this stream only.
        path = connector.enterprise_path("/audit-log")
    else:
        raise ValueError(f"unknown GitHub activity stream {stream!r} (streams: {', '.join(STREAMS)})")
    params = {
        "phrase": audit_phrase(window),
        "include": connector.options.audit_log_include,
        "order": "asc",
        "per_page": connector.page_size(100),
    }
    request = PageRequest.from_state(resume) if resume is not None else None
    for page in connector.client.paginate(path, LinkHeaderPaginator(), params, resume=request):
        checkpoint = page.next_request.to_state() if page.next_request is not None else None
        yield Batch("activities", [transform.activity_row(event) for event in page.items], checkpoint)


STAGE = ActivityStage(
    streams=STREAMS,
    scan=scan_activities,
    permission="organization owner with read:audit_log (classic PAT), or Administration: read; the enterprise "
    "audit log: an enterprise owner's classic token with read:audit_log",
    # authenticate narrows it to the last five minutes (phrase) with the configured include, and
    # probes the enterprise audit log when the instance names its enterprise.
    probe=Probe(f"{ORG}/audit-log", {"per_page": 1}),
)
