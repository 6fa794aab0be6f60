"""The privileges stage: directory role holders, role-assignable groups expanded to their users.

Directory roles / members: directoryrole-list.md, directoryrole-list-members.md.
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.connector import Microsoft365Connector
from saaslens.vocabulary import Stage


def scan_privileges(connector: Microsoft365Connector, resume: JSON | None) -> Iterator[Batch]:
    rows: dict[tuple[str, str], Row] = {}
    for role, member, via_group in connector.role_holders():
        row = transform.privilege_row(member["id"], role, member, via_group)
        key = (row["account_id"], row["privilege_id"])
        # A role held directly and through a group is one privilege; the direct one says more.
        if key not in rows or (rows[key]["assignment_type"] == "group" and not via_group):
            rows[key] = row
    yield Batch("privileges", list(rows.values()))


STAGE = SnapshotStage(
    stage=Stage.PRIVILEGES,
    scan=scan_privileges,
    permission="RoleManagement.Read.Directory",
    probe=Probe("/v1.0/directoryRoles"),
)
