"""The groups stage: user groups and their members.

usergroups.list with include_users / include_disabled (usergroups:read; Tier 2) and, per group when
the list's answer lacks members, usergroups.users.list (Tier 2):
https://api.slack.com/methods/usergroups.list, https://api.slack.com/methods/usergroups.users.list
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.connectors.slack import transform
from saaslens.connectors.slack.connector import SlackConnector
from saaslens.http.pagination import SinglePage
from saaslens.vocabulary import Stage


def scan_groups(connector: SlackConnector, resume: JSON | None) -> Iterator[Batch]:
    with_members = connector.options.usergroup_members_in_list
    team = connector.team()
    params = {"include_disabled": True, "include_count": True, "include_users": with_members, **team}
    groups = list(connector.client.iter_items("usergroups.list", SinglePage("usergroups"), params))

    def members_of(group: Row) -> list[Row]:
        members = group.get("users")
        # A list answer without members, or with fewer than user_count, is completed per group.
        if not with_members or members is None or len(members) < int(group.get("user_count") or 0):
            user_ids = SinglePage("users", items_are=str)  # this listing holds user ids, not objects
            found = {"usergroup": group["id"], "include_disabled": True, **team}
            members = list(connector.client.iter_items("usergroups.users.list", user_ids, found))
        return [transform.member_row(group["id"], user_id) for user_id in members]

    yield from connector.groups_then_members([groups], transform.group_row, members_of)


STAGE = SnapshotStage(
    stage=Stage.GROUPS,
    scan=scan_groups,
    permission="usergroups:read",
    probe=Probe("usergroups.list"),
)
