"""The repository inventory posture checks read: every repository of the organization with its
visibility. Not a stage and not written to the lake yet (no canonical table); a classic token needs
the ``repo`` scope to see private and internal repositories.

https://docs.github.com/enterprise-cloud@latest/rest/repos/repos#list-organization-repositories
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.github import transform
from saaslens.connectors.github.connector import GitHubConnector
from saaslens.connectors.kit import JSON, Batch


def scan_repositories(connector: GitHubConnector, resume: JSON | None) -> Iterator[Batch]:
    for page in connector.listing(connector.org_path("/repos"), {"type": "all", "sort": "full_name"}):
        yield Batch("repositories", [transform.repository_row(repo) for repo in page])
