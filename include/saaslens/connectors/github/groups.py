"""The groups stage: the organization's teams and their direct members with their team role.

Teams and team members (``role``; ``inherited`` marks members of child teams):
https://docs.github.com/enterprise-cloud@latest/rest/teams/teams ,
https://docs.github.com/enterprise-cloud@latest/rest/teams/members
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.github import transform
from saaslens.connectors.github.connector import MEMBERS_READ, ORG, GitHubConnector
from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.http import api_path
from saaslens.vocabulary import Stage


def team_member_rows(connector: GitHubConnector, team: Row) -> list[Row]:
    path = api_path(connector.org_path("/teams"), team["slug"], "members")
    members = [m for page in connector.listing(path) for m in page]
    roles = {m["id"]: m["role"] for m in members if m.get("role")}
    if len(roles) < len(members):
        # Older organizations list members without their role: ask for the maintainers.
        maintainers = {m["id"] for page in connector.listing(path, {"role": "maintainer"}) for m in page}
        roles = {m["id"]: "maintainer" if m["id"] in maintainers else "member" for m in members}
    team_id = str(team["id"])
    return [transform.member_row(team_id, m, roles[m["id"]]) for m in members if transform.is_direct_member(m)]


def scan_groups(connector: GitHubConnector, resume: JSON | None) -> Iterator[Batch]:
    teams = connector.listing(connector.org_path("/teams"))
    yield from connector.groups_then_members(teams, transform.group_row, lambda t: team_member_rows(connector, t))


STAGE = SnapshotStage(
    stage=Stage.GROUPS,
    scan=scan_groups,
    permission=MEMBERS_READ,
    probe=Probe(f"{ORG}/teams", {"per_page": 1}),
)
