"""What OneDrive and SharePoint hold inside their items: file contents, Purview sensitivity labels and
the recycle bin, for content inspection and file governance (issue 15).

Pages relied on (microsoftgraph/microsoft-graph-docs-contrib ``api-reference/v1.0``, published on
https://learn.microsoft.com/graph/api/<page>):

* driveitem-get-content: ``GET /drives/{drive-id}/items/{item-id}/content`` answers ``302 Found`` to a
  preauthenticated download URL (the item's ``@microsoft.graph.downloadUrl``), "only valid for a short
  period of time (a few minutes)", which needs no ``Authorization`` header; ``Range`` is sent to that URL,
  not to ``/content``, and answers ``206 Partial Content`` with ``Content-Range``. Application permission
  Files.Read.All (or Files.ReadWrite.All, Sites.Read.All, Sites.ReadWrite.All).
* driveitem-extractsensitivitylabels: ``POST .../extractSensitivityLabels``, no body, ``200`` with an
  extractSensitivityLabelsResult (the page's example wraps it in ``value``) listing
  sensitivityLabelAssignment ``{sensitivityLabelId, assignmentMethod, tenantId}``; Files.Read.All; only
  for supported file extensions; ``423`` for a locked file.
* driveitem-assignsensitivitylabel: ``POST .../assignSensitivityLabel`` ``{sensitivityLabelId,
  assignmentMethod, justificationText}`` (an empty id removes the label; justification is required when
  downgrading or removing), ``202 Accepted`` with an empty body and a ``Location`` monitor URL;
  Files.ReadWrite.All; a metered, protected API: without metered billing set up for the calling app it
  answers ``402`` ``paymentRequired`` "Payment Required. Ensure that your application is able to call this
  premium API.For details see https://aka.ms/graph-metered-overview" (the body as reported verbatim in
  microsoftgraph/microsoft-graph-explorer-v4#3756 and pnp/powershell#4792; 402 is "The payment
  requirements for the API haven't been met" on https://learn.microsoft.com/graph/errors).
* resources/sensitivitylabelassignment (assignmentMethod standard, privileged, auto); the beta
  ``GET /security/informationProtection/sensitivityLabels`` (security-informationprotection-list-
  sensitivitylabels, application permission InformationProtectionPolicy.Read.All) for label names.
* driveitem-delete (``DELETE``, ``204``, the item moves to the recycle bin), driveitem-restore
  (OneDrive Personal only, so not served for these business drives), driveitem-move (``PATCH`` the
  ``parentReference``, ``200`` with the item; not between drives), driveitem-put-content (``PUT
  /drives/{drive-id}/items/{parent-id}:/{filename}:/content``, ``201 Created`` for a new file, ``200`` when
  it replaces one), driveitem-invite and driveitem-createlink (re-sharing).
* The unified audit log's "File and page activities": FileRecycled (a file moved to the recycle bin),
  FileMoved, FileUploaded, FileModified, and the file sensitivity label activities
  FileSensitivityLabelApplied / FileSensitivityLabelChanged / FileSensitivityLabelRemoved.

Sandbox choices (not documented): the download URL's shape (SharePoint's ``/_layouts/15/download.aspx``
with ``UniqueId`` and a ``tempauth`` token) on a second loopback origin, its lifetime (5 minutes) and its
``401`` for a bad or expired token; extractSensitivityLabels for an unsupported extension answers an empty
list; the monitor URL answers ``{"status": "completed"}``.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from saaslens_sandbox.kit.content import ContentCorpus, Document

# Extensions SharePoint reads and writes labels in ("Enable sensitivity labels for Office files in
# SharePoint and OneDrive": Word, Excel and PowerPoint Open XML files, and PDF).
LABEL_EXTENSIONS = (".docx", ".xlsx", ".pptx", ".pdf")
DOWNLOAD_URL_TTL_SECONDS = 300

# The tenant's published sensitivity labels (security.sensitivityLabel, beta): name, sensitivity, colour.
LABELS = (
    ("Public", 0, "#317100", "Information that may be shared outside the organization."),
    ("General", 1, "#0078d4", "Business data that is not intended for public consumption."),
    ("Confidential", 2, "#ff8c00", "Sensitive business data that could cause damage if shared."),
    ("Highly Confidential", 3, "#c50f1f", "Very sensitive data: payroll, identity numbers, credentials."),
)


def _label_id(seed: int, name: str) -> str:
    h = hashlib.blake2b(f"label:{seed}:{name}".encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def label_catalog(seed: int) -> list[dict[str, Any]]:
    return [
        {
            "id": _label_id(seed, name),
            "name": name,
            "description": description,
            "color": color,
            "sensitivity": sensitivity,
            "toolTip": description,
            "isActive": True,
            "isAppliable": True,
            "hasProtection": False,
            "contentFormats": ["file", "email"],
        }
        for name, sensitivity, color, description in LABELS
    ]


def extension(name: str) -> str:
    return name[name.rfind(".") :].lower() if "." in name else ""


@dataclass
class Recycled:
    """An item in the recycle bin: where it was, with what sharing, until it is purged."""

    drive: int
    item: dict[str, Any]
    permissions: list[dict[str, Any]]


class DriveContents:
    """Contents, labels and the recycle bin of one tenant's drive items.

    Contents come from the shared corpus (saaslens_sandbox.kit.content): an ordinary item's document is
    generated the first time the item is listed, served or asked for in the ground truth, and its
    length becomes the item's ``size``; the corpus' special documents (zip bomb, encrypted PDF, corrupt
    workbook, Latin-1 CSV, optionally a large CSV) are extra items in ordinary users' OneDrives. A file
    uploaded through the API (a quarantine notice) is served as uploaded."""

    def __init__(self, seed: int, name: str, large_file_mb: int) -> None:
        self.seed = seed
        self.corpus = ContentCorpus(f"microsoft365:{name}:{seed}", large_file_mb=large_file_mb)
        self.special: dict[str, int] = {}  # item id -> index in corpus.specials()
        self.uploaded: dict[str, bytes] = {}
        self.labels: dict[str, dict[str, Any]] = {}  # item id -> sensitivityLabelAssignment
        self.catalog = label_catalog(seed)
        self.recycled: dict[str, Recycled] = {}
        self._sized: set[str] = set()
        self._truth: dict[str, tuple[str, dict[str, int], list[str]]] = {}
        self._key = hashlib.blake2b(f"tempauth:{name}:{seed}".encode(), digest_size=32).digest()
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- documents

    def document(self, item: dict[str, Any]) -> Document | None:
        """The corpus document of a file item; None for an uploaded file or a folder."""
        item_id = str(item["id"])
        if "file" not in item or item_id in self.uploaded:
            return None
        if item_id in self.special:
            return self.corpus.specials()[self.special[item_id]]
        return self.corpus.document_for(item_id, str(item["name"]), str(item["file"]["mimeType"]))

    def size_of(self, item: dict[str, Any]) -> int:
        if item["id"] in self.uploaded:
            return len(self.uploaded[item["id"]])
        document = self.document(item)
        return document.size if document is not None else 0

    def materialize(self, item: dict[str, Any]) -> dict[str, Any]:
        """The item with ``size`` equal to its content's length (set once, when first needed)."""
        if "file" in item and item["id"] not in self._sized:
            size = self.size_of(item)
            with self._lock:
                item["size"] = size
                self._sized.add(item["id"])
        return item

    def truth_of(self, item: dict[str, Any]) -> tuple[str, dict[str, int], list[str]] | None:
        """(expect, {detector: count}, planted values) of a file's content, kept once computed (a
        tenant's documents outnumber the corpus' cache); None for a folder. An upload holds nothing planted."""
        item_id = str(item["id"])
        if "file" not in item:
            return None
        if item_id in self.uploaded:
            return "scanned", {}, []
        found = self._truth.get(item_id)
        if found is None:
            document = self.document(item)
            if document is None:
                return None
            counts = self.corpus.oracle([(item_id, document)]).get(item_id, {})
            found = (document.expect, counts, sorted({p.value for p in document.planted}))
            self._truth[item_id] = found
        return found

    def chunks(self, item: dict[str, Any], start: int, end: int) -> Iterator[bytes]:
        if item["id"] in self.uploaded:
            yield self.uploaded[item["id"]][start:end]
            return
        document = self.document(item)
        if document is not None:
            yield from document.chunks(start, end)

    def upload(self, item: dict[str, Any], data: bytes) -> None:
        with self._lock:
            self.uploaded[item["id"]] = data
            item["size"] = len(data)
            self._sized.add(item["id"])

    def initial_labels(self, rng: random.Random, items: list[dict[str, Any]], tenant_id: str) -> None:
        """About a fifth of the Office and PDF files carry a label someone applied."""
        for item in items:
            if "file" in item and extension(str(item["name"])) in LABEL_EXTENSIONS and rng.random() < 0.2:
                label = rng.choice(self.catalog)
                method = rng.choice(("standard", "privileged", "auto"))
                self.labels[item["id"]] = {
                    "sensitivityLabelId": label["id"],
                    "assignmentMethod": method,
                    "tenantId": tenant_id,
                }

    def label_name(self, label_id: str | None) -> str | None:
        return next((label["name"] for label in self.catalog if label["id"] == label_id), None)

    def label_rank(self, label_id: str | None) -> int:
        return next((int(label["sensitivity"]) for label in self.catalog if label["id"] == label_id), -1)

    # ---------------------------------------------------------------- preauthenticated download URLs

    def tempauth(self, item_id: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + DOWNLOAD_URL_TTL_SECONDS)
        mac = hmac.new(self._key, f"{item_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:40]
        return f"{expires}.{mac}"

    def valid_tempauth(self, item_id: str, token: str) -> bool:
        expires_text, _, mac = token.partition(".")
        if not expires_text.isdigit() or int(expires_text) < time.time():
            return False
        wanted = hmac.new(self._key, f"{item_id}:{expires_text}".encode(), hashlib.sha256).hexdigest()[:40]
        return hmac.compare_digest(wanted, mac)
