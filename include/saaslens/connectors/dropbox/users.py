"""The users and privileges stages: both read team/members/list_v2 and /continue_v2 (members.read;
`limit` up to 1,000), https://www.dropbox.com/developers/documentation/http/teams#team-members-list,
whose TeamMemberInfoV2 carries the member's admin roles (TeamMemberRole)."""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.dropbox import transform
from saaslens.connectors.dropbox.connector import DropboxConnector
from saaslens.connectors.kit import JSON, Batch, Row, SnapshotStage
from saaslens.vocabulary import Stage


def _member_pages(connector: DropboxConnector) -> Iterator[list[Row]]:
    args = {"limit": connector.page_size(1000, 200), "include_removed": connector.options.include_removed_members}
    for page in connector.listing("team/members/list_v2", "team/members/list/continue_v2", "members", args):
        yield page.items


def scan_users(connector: DropboxConnector, resume: JSON | None) -> Iterator[Batch]:
    for members in _member_pages(connector):
        yield Batch("accounts", [transform.account_row(member) for member in members])


def scan_privileges(connector: DropboxConnector, resume: JSON | None) -> Iterator[Batch]:
    for members in _member_pages(connector):
        rows = [row for member in members for row in transform.privilege_rows(member)]
        if rows:
            yield Batch("privileges", rows)


# Probed by DropboxConnector.authenticate: the kit's Probe is a GET, Dropbox's routes are POSTs.
USERS_STAGE = SnapshotStage(stage=Stage.USERS, scan=scan_users, permission="members.read")
PRIVILEGES_STAGE = SnapshotStage(stage=Stage.PRIVILEGES, scan=scan_privileges, permission="members.read")
