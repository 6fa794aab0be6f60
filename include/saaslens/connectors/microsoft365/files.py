"""The files stage: every user's OneDrive and SharePoint sites' document libraries, drive by drive,
each item with its sharing permissions and, for Office and PDF files, its Microsoft Purview sensitivity
label; resumable after each drive.

OneDrive/SharePoint: drive-get.md, site-search.md, drive-list.md, driveitem-delta.md,
driveitem-list-permissions.md, permission.md; verified domains (who is external): organization-get.md.
Labels: driveitem-extractsensitivitylabels.md (``POST /drives/{drive-id}/items/{item-id}/
extractSensitivityLabels``, Files.Read.All, only for supported file extensions, ``423`` for a locked or
double-key-encrypted file) and the label names from the beta
security-informationprotection-list-sensitivitylabels.md (InformationProtectionPolicy.Read.All); without
that permission the label's id is still recorded, its name left null.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from saaslens.connectors.kit import JSON, Batch, Row, SnapshotStage
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.connector import Microsoft365Connector
from saaslens.http import ApiError, NotFoundError, PermissionDeniedError, api_path
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


# Extensions whose labels SharePoint reads ("Enable sensitivity labels for Office files in SharePoint and
# OneDrive": Word, Excel and PowerPoint Open XML files and PDF); extracting any other's is not asked.
LABEL_EXTENSIONS = (".docx", ".docm", ".xlsx", ".xlsm", ".xlsb", ".pptx", ".pptm", ".ppsx", ".pdf")
LABELS_PATH = "/beta/security/informationProtection/sensitivityLabels"


class LabelReader:
    """Reads items' sensitivity labels for one scan: the label names once, then one extract per file.
    A refused extract (403) stops the reading for the rest of the scan, with one warning."""

    def __init__(self, connector: Microsoft365Connector) -> None:
        self.connector = connector
        self.enabled = connector.options.sensitivity_labels
        self.names: dict[str, str] = {}
        if self.enabled:
            try:
                for label in connector.items(LABELS_PATH):
                    if isinstance(label, dict) and isinstance(label.get("id"), str) and label.get("name"):
                        self.names[label["id"]] = str(label["name"])
            except (PermissionDeniedError, NotFoundError) as exc:
                log.warning(
                    "%s: cannot read sensitivity label names (%s %s; needs InformationProtectionPolicy.Read.All); "
                    "label ids are recorded without names",
                    connector.app,
                    exc.provider_code or exc.status,
                    exc.detail,
                )

    def label(self, drive_id: str, item: dict[str, Any]) -> tuple[str | None, str | None]:
        name = str(item.get("name") or "").lower()
        if not self.enabled or "file" not in item or not name.endswith(LABEL_EXTENSIONS):
            return None, None
        path = api_path("/v1.0/drives", drive_id, "items", item["id"], "extractSensitivityLabels")
        try:
            _, payload = self.connector.client.request("POST", path)  # a read: safe to repeat
        except PermissionDeniedError as exc:
            if self.enabled:
                self.enabled = False
                log.warning(
                    "%s: sensitivity labels not read (%s %s)", self.connector.app, exc.provider_code, exc.detail
                )
            return None, None
        except NotFoundError:
            return None, None  # gone since the listing
        except ApiError as exc:
            if exc.status != 423:  # 423: locked, double-key encrypted or being decrypted; the label is unknown
                raise
            return None, None
        return self._first(payload)

    def _first(self, payload: Any) -> tuple[str | None, str | None]:
        """The label of an extractSensitivityLabelsResult (the page's example wraps it in ``value``): the
        tenant's own label when several are listed (a file labelled in another tenant carries theirs too)."""
        result = payload.get("value", payload) if isinstance(payload, dict) else None
        labels = result.get("labels") if isinstance(result, dict) else None
        ids = [
            str(label["sensitivityLabelId"])
            for label in labels or []
            if isinstance(label, dict)
            and isinstance(label.get("sensitivityLabelId"), str)
            and label["sensitivityLabelId"]
        ]
        if not ids:
            return None, None
        chosen = next((i for i in ids if i in self.names), ids[0])
        return chosen, self.names.get(chosen)


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

    labels = LabelReader(connector)

    def permissions(
        key: tuple[str, dict[str, Any]],
    ) -> tuple[str, list[dict[str, Any]], tuple[str | None, str | None]]:
        drive_id, item = key
        found = list(connector.items(api_path("/v1.0/drives", drive_id, "items", item["id"], "permissions")))
        return item["id"], found, labels.label(drive_id, item)

    for index in range(start, len(listed)):
        drive = listed[index]
        items = list(connector.items(api_path("/v1.0/drives", drive["id"], "root", "delta")))
        paths = transform.folder_paths(items)
        files = [item for item in items if "root" not in item and "deleted" not in item]
        by_id = {item["id"]: item for item in files}
        file_rows: list[Row] = []
        share_rows: list[Row] = []
        for item_id, found, label in connector.fan_out([(drive["id"], i) for i in files], permissions):
            shares = [transform.share_row(item_id, p, domains) for p in found]
            file_rows.append(transform.file_row(by_id[item_id], drive, paths[item_id], shares, label))
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
