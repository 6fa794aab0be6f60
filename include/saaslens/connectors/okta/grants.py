"""The app_permissions stage: the OAuth 2.0 scope consent grants every user gave (List all user
grants, /api/v1/users/{id}/grants, `limit` up to 200):
https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserGrant/
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from saaslens.connectors.kit import JSON, Batch, SnapshotStage
from saaslens.connectors.okta import transform
from saaslens.connectors.okta.connector import OktaConnector
from saaslens.http.client import api_path
from saaslens.http.pagination import LinkHeaderPaginator
from saaslens.vocabulary import Stage


def scan_app_permissions(connector: OktaConnector, resume: JSON | None) -> Iterator[Batch]:
    def user_grants(user_id: str) -> list[dict[str, Any]]:
        path = api_path("/api/v1/users", user_id, "grants")
        params = {"limit": connector.page_size(200)}
        return list(connector.client.iter_items(path, LinkHeaderPaginator(), params))

    user_ids = (user["id"] for users in connector.user_pages() for user in users)
    for grants in connector.fan_out(user_ids, user_grants):
        if grants:
            yield Batch("app_permissions", [transform.grant_row(grant) for grant in grants])


# Probed per user (grants are listed per user): OktaConnector.authenticate.
STAGE = SnapshotStage(stage=Stage.APP_PERMISSIONS, scan=scan_app_permissions, permission="okta.users.read")
