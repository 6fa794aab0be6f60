"""The privileges stage: every admin role assignment of every role holder.

List all users with role assignments (/api/v1/iam/assignees/users, `_links.next` paging) and each
one's roles (List all user role assignments, /api/v1/users/{id}/roles):
https://developer.okta.com/docs/api/openapi/okta-management/management/tag/RoleAssignmentAUser/
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from saaslens.connectors.kit import JSON, Batch, Probe, SnapshotStage
from saaslens.connectors.okta import transform
from saaslens.connectors.okta.connector import OktaConnector
from saaslens.http.client import api_path
from saaslens.http.pagination import LinkHeaderPaginator
from saaslens.vocabulary import Stage


def scan_privileges(connector: OktaConnector, resume: JSON | None) -> Iterator[Batch]:
    def user_roles(user_id: str) -> tuple[str, list[dict[str, Any]]]:
        path = api_path("/api/v1/users", user_id, "roles")
        return user_id, list(connector.client.iter_items(path, LinkHeaderPaginator()))

    for user_id, roles in connector.fan_out(connector.role_holder_ids(), user_roles):
        yield Batch("privileges", [transform.privilege_row(user_id, role) for role in roles])


STAGE = SnapshotStage(
    stage=Stage.PRIVILEGES,
    scan=scan_privileges,
    permission="okta.roles.read",
    probe=Probe("/api/v1/iam/assignees/users", {"limit": 1}),
)
