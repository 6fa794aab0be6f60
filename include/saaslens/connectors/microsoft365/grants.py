"""The app_permissions stage: delegated grants (oauth2PermissionGrants) and application permissions
(service principals' appRoleAssignments).

oauth2permissiongrant-list.md, serviceprincipal-list.md, serviceprincipal-list-approleassignments.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from saaslens.connectors.kit import JSON, Batch, SnapshotStage
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.connector import Microsoft365Connector
from saaslens.http import api_path
from saaslens.vocabulary import Stage

SERVICE_PRINCIPAL_FIELDS = ("id", "appId", "displayName", "servicePrincipalType", "accountEnabled", "appRoles")


def scan_app_permissions(connector: Microsoft365Connector, resume: JSON | None) -> Iterator[Batch]:
    params = {"$select": ",".join(SERVICE_PRINCIPAL_FIELDS), "$top": connector.page_size(999)}
    service_principals = {sp["id"]: sp for sp in connector.items("/v1.0/servicePrincipals", params)}
    for page in connector.pages("/v1.0/oauth2PermissionGrants", {"$top": connector.page_size(999)}):
        yield Batch("app_permissions", [transform.delegated_grant_row(g, service_principals) for g in page.items])

    def app_role_assignments(sp_id: str) -> list[dict[str, Any]]:
        path = api_path("/v1.0/servicePrincipals", sp_id, "appRoleAssignments")
        return list(connector.items(path, {"$top": connector.page_size(999)}))

    for assignments in connector.fan_out(list(service_principals), app_role_assignments):
        if assignments:
            yield Batch(
                "app_permissions", [transform.application_grant_row(a, service_principals) for a in assignments]
            )


STAGE = SnapshotStage(
    stage=Stage.APP_PERMISSIONS,
    scan=scan_app_permissions,
    permission="Application.Read.All and DelegatedPermissionGrant.Read.All (or Directory.Read.All)",
)
