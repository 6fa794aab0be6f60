"""The privileges stage: the organization's owners (members listed with ``role=admin``).

https://docs.github.com/enterprise-cloud@latest/rest/orgs/members#list-organization-members
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.github import transform
from saaslens.connectors.github.connector import MEMBERS_READ, ORG, GitHubConnector
from saaslens.connectors.kit import JSON, Batch, Probe, SnapshotStage
from saaslens.vocabulary import Stage


def scan_privileges(connector: GitHubConnector, resume: JSON | None) -> Iterator[Batch]:
    for page in connector.listing(connector.org_path("/members"), {"role": "admin"}):
        yield Batch("privileges", [transform.privilege_row(user, connector.org) for user in page])


STAGE = SnapshotStage(
    stage=Stage.PRIVILEGES,
    scan=scan_privileges,
    permission=MEMBERS_READ,
    probe=Probe(f"{ORG}/members", {"role": "admin", "per_page": 1}),
)
