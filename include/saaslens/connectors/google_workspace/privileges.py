"""The privileges stage: admin role assignments, those made to a group expanded to its user members.

Directory API roles.list and roleAssignments.list (``_SEED_ADMIN_ROLE`` = super admin; ``assigneeType``
user or group): https://developers.google.com/workspace/admin/directory/v1/guides/manage-roles ,
https://developers.google.com/workspace/admin/directory/reference/rest/v1/roleAssignments/list
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.google_workspace import transform
from saaslens.connectors.google_workspace.connector import DIRECTORY, GROUP_SCOPE, ROLE_SCOPE, GoogleWorkspaceConnector
from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.http import api_path
from saaslens.http.pagination import PageTokenPaginator
from saaslens.vocabulary import Stage


def scan_privileges(connector: GoogleWorkspaceConnector, resume: JSON | None) -> Iterator[Batch]:
    client = connector.stage_client(Stage.PRIVILEGES)
    base = api_path(f"{DIRECTORY}/customer", connector.customer)
    listed = client.iter_items(f"{base}/roles", PageTokenPaginator("items"), {"maxResults": connector.page_size(100)})
    roles = {role["roleId"]: role for role in listed}
    group_assignments: list[Row] = []
    params = {"maxResults": connector.page_size(200)}
    for page in client.paginate(f"{base}/roleassignments", PageTokenPaginator("items"), params):
        direct = [a for a in page.items if a.get("assigneeType", "user") == "user"]
        group_assignments += [a for a in page.items if a.get("assigneeType") == "group"]
        yield Batch(
            "privileges",
            [transform.privilege_row(a["assignedTo"], a, roles.get(a.get("roleId", ""))) for a in direct],
        )
    # A role assigned to a group applies to the group's user members (read with the groups scope).
    for assignment in group_assignments:
        group_id = assignment["assignedTo"]
        role = roles.get(assignment.get("roleId", ""))
        members = connector.group_members(group_id)
        rows = [
            transform.privilege_row(m["id"], assignment, role, via_group_id=group_id)
            for m in members
            if m.get("type") == "USER" and m.get("id")
        ]
        yield Batch("privileges", rows)


STAGE = SnapshotStage(
    stage=Stage.PRIVILEGES,
    scan=scan_privileges,
    permission=f"{ROLE_SCOPE} (and {GROUP_SCOPE} for roles assigned to groups)",
    probe=Probe(f"{DIRECTORY}/customer/{{customer}}/roleassignments", {"maxResults": 1}),
)
