"""The users and privileges stages: both read GET /users (marker paging with `usemarker=true`,
`limit` up to 1,000; "Manage users" scope, admin or co-admin), https://developer.box.com/reference/get-users/.
`role` (admin / coadmin / user) is not among Box's standard fields, so it is asked for in `fields`;
privileges are the enterprise roles admin (the primary admin) and coadmin."""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.box import transform
from saaslens.connectors.box.connector import MANAGE_USERS, MAX_PAGE, BoxConnector, marker_paginator
from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.vocabulary import Stage


def user_pages(connector: BoxConnector) -> Iterator[list[Row]]:
    params = {"usemarker": "true", "limit": connector.page_size(MAX_PAGE), "fields": connector.options.user_fields}
    for page in connector.client.paginate("users", marker_paginator(), params, prefetch=True):
        yield page.items


def scan_users(connector: BoxConnector, resume: JSON | None) -> Iterator[Batch]:
    for users in user_pages(connector):
        yield Batch("accounts", [transform.account_row(user) for user in users])


def scan_privileges(connector: BoxConnector, resume: JSON | None) -> Iterator[Batch]:
    for users in user_pages(connector):
        rows = [row for user in users for row in transform.privilege_rows(user)]
        if rows:
            yield Batch("privileges", rows)


USERS_STAGE = SnapshotStage(
    stage=Stage.USERS,
    scan=scan_users,
    permission=f"{MANAGE_USERS} (Manage users), service account an admin or co-admin",
    probe=Probe("users", {"usemarker": "true", "limit": 1, "fields": "id"}),
)
# No probe of its own: the users stage's answers for it, both read GET /users.
PRIVILEGES_STAGE = SnapshotStage(stage=Stage.PRIVILEGES, scan=scan_privileges, permission=MANAGE_USERS)
