"""The users and privileges stages: both read users.list (users:read, users:read.email for emails;
Tier 2; cursor paging, `limit` up to 1,000), https://api.slack.com/methods/users.list. Privileges are
the owner and admin flags of each user (workspace and, on Enterprise Grid, org level)."""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.connectors.slack import transform
from saaslens.connectors.slack.connector import SlackConnector
from saaslens.http.pagination import BodyCursorPaginator
from saaslens.vocabulary import Stage


def _user_pages(connector: SlackConnector) -> Iterator[list[Row]]:
    params = {"limit": connector.page_size(1000, 200), **connector.team()}
    for page in connector.client.paginate("users.list", BodyCursorPaginator("members"), params):
        yield page.items


def scan_users(connector: SlackConnector, resume: JSON | None) -> Iterator[Batch]:
    for users in _user_pages(connector):
        yield Batch("accounts", [transform.account_row(user) for user in users])


def scan_privileges(connector: SlackConnector, resume: JSON | None) -> Iterator[Batch]:
    for users in _user_pages(connector):
        rows = [row for user in users for row in transform.privilege_rows(user)]
        if rows:
            yield Batch("privileges", rows)


USERS_STAGE = SnapshotStage(
    stage=Stage.USERS,
    scan=scan_users,
    permission="users:read (and users:read.email for emails)",
    probe=Probe("users.list", {"limit": 1}),
)
# No probe of its own: the users stage's answers for it, both read users.list.
PRIVILEGES_STAGE = SnapshotStage(stage=Stage.PRIVILEGES, scan=scan_privileges, permission="users:read")
