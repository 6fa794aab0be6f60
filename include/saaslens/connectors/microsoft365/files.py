"""The files stage: every user's OneDrive and SharePoint sites' document libraries, drive by drive,
each item with its sharing permissions; resumable after each drive.

OneDrive/SharePoint: drive-get.md, site-search.md, drive-list.md, driveitem-delta.md,
driveitem-list-permissions.md, permission.md; verified domains (who is external): organization-get.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from saaslens.connectors.kit import JSON, Batch, Row, SnapshotStage
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.connector import Microsoft365Connector
from saaslens.http import NotFoundError, PermissionDeniedError, api_path
from saaslens.vocabulary import Stage

log = logging.getLogger(__name__)


def verified_domains(connector: Microsoft365Connector) -> set[str] | None:
    try:
        organizations = connector.client.get_json("/v1.0/organization", {"$select": "verifiedDomains"}).get("value")
    except PermissionDeniedError as exc:
        log.warning("%s: cannot read verified domains (%s); is_external left unknown", connector.app, exc.detail)
        return None
    return {d["name"].lower() for org in organizations or [] for d in org.get("verifiedDomains") or []}


def drives(connector: Microsoft365Connector) -> Iterator[dict[str, Any]]:
    """Every user's OneDrive (where the option asks for them), then every SharePoint site's drives."""

    def user_drive(user_id: str) -> dict[str, Any] | None:
        try:
            drive: dict[str, Any] = connector.client.get_json(api_path("/v1.0/users", user_id, "drive"))
        except NotFoundError:
            return None  # no OneDrive provisioned (no licence, or never signed in)
        return drive

    def site_drives(site_id: str) -> list[dict[str, Any]]:
        return list(connector.items(api_path("/v1.0/sites", site_id, "drives")))

    if connector.options.onedrive:
        user_ids = (
            u["id"] for u in connector.items("/v1.0/users", {"$select": "id", "$top": connector.page_size(999)})
        )
        for drive in connector.fan_out(user_ids, user_drive):
            if drive is not None:
                yield drive
    if connector.options.sharepoint:
        try:
            sites = list(connector.items("/v1.0/sites", {"search": "*", "$top": connector.page_size(999)}))
        except PermissionDeniedError as exc:
            log.warning("%s: SharePoint sites skipped (%s)", connector.app, exc.detail)
            return
        for found in connector.fan_out([s["id"] for s in sites], site_drives):
            yield from found


def scan_files(connector: Microsoft365Connector, resume: JSON | None) -> Iterator[Batch]:
    """Drive by drive. The drives are enumerated once, and after each drive the checkpoint is
    the list and the index of the next one, so a resumed scan lists no drive twice."""
    if resume is not None:
        domain_list = resume.get("domains")
        domains = set(domain_list) if domain_list is not None else None
        listed, start = list(resume["drives"]), int(resume["next"])
    else:
        domains, listed, start = verified_domains(connector), list(drives(connector)), 0
    domain_state = sorted(domains) if domains is not None else None

    def permissions(key: tuple[str, str]) -> tuple[str, list[dict[str, Any]]]:
        drive_id, item_id = key
        return item_id, list(connector.items(api_path("/v1.0/drives", drive_id, "items", item_id, "permissions")))

    for index in range(start, len(listed)):
        drive = listed[index]
        items = list(connector.items(api_path("/v1.0/drives", drive["id"], "root", "delta")))
        paths = transform.folder_paths(items)
        files = [item for item in items if "root" not in item and "deleted" not in item]
        by_id = {item["id"]: item for item in files}
        file_rows: list[Row] = []
        share_rows: list[Row] = []
        for item_id, found in connector.fan_out([(drive["id"], i["id"]) for i in files], permissions):
            shares = [transform.share_row(item_id, p, domains) for p in found]
            file_rows.append(transform.file_row(by_id[item_id], drive, paths[item_id], shares))
            share_rows += shares
        checkpoint = None
        if index + 1 < len(listed):
            checkpoint = {"domains": domain_state, "drives": listed, "next": index + 1}
        yield Batch("files", file_rows)
        yield Batch("file_shares", share_rows, checkpoint)


STAGE = SnapshotStage(
    stage=Stage.FILES,
    scan=scan_files,
    permission="Files.Read.All and Sites.Read.All",
    resumable=True,
)
