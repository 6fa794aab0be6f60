"""What Drive holds inside its files: contents (downloads and exports), Drive labels and the files a
governance action uploads, for content inspection and file governance (issue 15).

Pages relied on (Drive API v3 and the Drive Labels API v2, with their discovery documents
``drive.v3.json`` and ``drivelabels.v2.json`` as shipped in google-api-python-client):

* Download and export (https://developers.google.com/workspace/drive/api/guides/manage-downloads):
  ``GET /drive/v3/files/{fileId}?alt=media`` answers a blob file's bytes ("Downloading content with
  alt=media only works if the file is stored in Drive"); a partial download sends ``Range`` and gets
  ``206``; Google Docs, Sheets and Slides are read with ``GET /drive/v3/files/{fileId}/export?mimeType=``
  in one of the formats of https://developers.google.com/workspace/drive/api/guides/ref-export-formats ;
  "the exported content is limited to 10 MB", over it ``403`` reason ``exportSizeLimitExceeded``
  "This file is too large to be exported." (the body as Google sends it, quoted in
  googleapis/google-api-dotnet-client#990). files.export accepts the scopes drive, drive.file,
  drive.readonly (not the metadata ones); files.get with alt=media reads content, so the metadata
  scopes are refused for it.
* File fields ``md5Checksum`` ("only applicable to files with binary content in Google Drive"),
  ``version`` ("a monotonically increasing version number ... reflects every change made to the file
  on the server"), ``size`` ("Won't be populated for files that have no size, like shortcuts and
  folders"), ``labelInfo.labels[]`` ("the set of labels on the file as requested by the label IDs in the
  includeLabels parameter. By default, no labels are returned").
* Drive labels (https://developers.google.com/workspace/drive/api/guides/about-labels): the Labels API's
  ``GET https://drivelabels.googleapis.com/v2/labels`` (``view=LABEL_VIEW_FULL``, ``useAdminAccess``,
  ``publishedOnly``; scopes drive.labels[.readonly], drive.admin.labels[.readonly]) and files.modifyLabels
  (``POST /drive/v3/files/{fileId}/modifyLabels`` with a ModifyLabelsRequest, scopes drive, drive.file,
  drive.metadata; answers a ModifyLabelsResponse with the labels added or modified). Labels need the
  Business Standard edition or above.

Sandbox choices (not confirmed from Google's pages): without the labels feature (tenant option
``drive_labels: false``) labels.list and modifyLabels answer 403 PERMISSION_DENIED; a Range past the end
answers 416; exports are produced by the shared corpus in the format asked for.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Iterator
from typing import Any

from saaslens_sandbox.kit.content import EXPORT_FORMATS, ContentCorpus, Document

EXPORT_LIMIT_BYTES = 10 * 2**20
FOLDER = "application/vnd.google-apps.folder"
GOOGLE_APPS = "application/vnd.google-apps."

# The customer's published labels: one badged classification label (a selection field whose choices
# carry badges, as Drive's classification labels do) and one plain label without fields.
CLASSIFICATION = ("Data classification", "Sensitivity", ("Public", "Internal", "Confidential", "Restricted"))
PLAIN_LABELS = ("Legal hold",)


def _ident(seed: int, *parts: str, length: int = 20) -> str:
    digest = hashlib.blake2b(":".join((str(seed), *parts)).encode(), digest_size=16).hexdigest()
    return digest[:length]


class DriveLabels:
    """The label catalogue (as labels.list renders it) and the labels on each file."""

    def __init__(self, seed: int, customer_id: str) -> None:
        self.seed = seed
        title, field_name, choices = CLASSIFICATION
        self.classification_id = _ident(seed, "label", title)
        self.field_id = _ident(seed, "field", field_name, length=10)
        self.choices = {_ident(seed, "choice", name, length=10): name for name in choices}
        self.catalog: list[dict[str, Any]] = [
            {
                "name": f"labels/{self.classification_id}@1",
                "id": self.classification_id,
                "revisionId": "1",
                "labelType": "ADMIN",
                "customer": f"customers/{customer_id}",
                "properties": {"title": title, "description": "How sensitive a file's content is."},
                "lifecycle": {"state": "PUBLISHED"},
                "fields": [
                    {
                        "id": self.field_id,
                        "queryKey": f"labels/{self.classification_id}.{self.field_id}",
                        "properties": {"displayName": field_name, "required": True},
                        "lifecycle": {"state": "PUBLISHED"},
                        "selectionOptions": {
                            "choices": [
                                {
                                    "id": choice_id,
                                    "properties": {
                                        "displayName": name,
                                        "badgeConfig": {"color": {"red": 0.8, "green": 0.2, "blue": 0.1}},
                                    },
                                    "lifecycle": {"state": "PUBLISHED"},
                                }
                                for choice_id, name in self.choices.items()
                            ]
                        },
                    }
                ],
            }
        ]
        for title in PLAIN_LABELS:
            label_id = _ident(seed, "label", title)
            self.catalog.append(
                {
                    "name": f"labels/{label_id}@1",
                    "id": label_id,
                    "revisionId": "1",
                    "labelType": "ADMIN",
                    "customer": f"customers/{customer_id}",
                    "properties": {"title": title},
                    "lifecycle": {"state": "PUBLISHED"},
                    "fields": [],
                }
            )
        self.by_id = {label["id"]: label for label in self.catalog}
        # file id -> {label id: {field id: [choice ids]}}
        self.applied: dict[str, dict[str, dict[str, list[str]]]] = {}

    def assign_initial(self, rng: random.Random, files: list[dict[str, Any]]) -> None:
        """About a quarter of the files carry the classification label with a choice, a few the plain one."""
        for item in files:
            if item["mimeType"] == FOLDER:
                continue
            roll = rng.random()
            if roll < 0.25:
                choice = rng.choice(sorted(self.choices))
                self.applied[item["id"]] = {self.classification_id: {self.field_id: [choice]}}
            elif roll < 0.3:
                self.applied[item["id"]] = {self.catalog[1]["id"]: {}}

    def render(self, file_id: str, wanted: set[str]) -> list[dict[str, Any]]:
        """labelInfo.labels for the ids in includeLabels (Label and LabelField of drive.v3.json)."""
        labels = []
        for label_id, fields in sorted(self.applied.get(file_id, {}).items()):
            if label_id not in wanted:
                continue
            labels.append(
                {
                    "kind": "drive#label",
                    "id": label_id,
                    "revisionId": self.by_id[label_id]["revisionId"],
                    "fields": {
                        field_id: {"kind": "drive#labelField", "id": field_id, "valueType": "selection",
                                   "selection": list(choices)}
                        for field_id, choices in fields.items()
                    },
                }
            )  # fmt: skip
        return labels

    def truth(self, file_id: str) -> tuple[str | None, str | None]:
        """(label id, name) saaslens must store: the classification label's "Title: Choice" first,
        else a plain label's title, else nothing."""
        applied = self.applied.get(file_id, {})
        if self.classification_id in applied:
            choice = (applied[self.classification_id].get(self.field_id) or [None])[0]
            title = self.by_id[self.classification_id]["properties"]["title"]
            return self.classification_id, f"{title}: {self.choices[choice]}" if choice else title
        for label_id in sorted(applied):
            return label_id, str(self.by_id[label_id]["properties"]["title"])
        return None, None


class DriveContents:
    """Contents of one tenant's Drive files, from the shared corpus (saaslens_sandbox.kit.content).

    An ordinary file's document is generated the first time the file is listed, served or asked for in
    the ground truth; its length becomes the file's ``size`` and its MD5 the ``md5Checksum``. The
    corpus' special documents are extra files (see the tenant). A file uploaded through the API (a
    quarantine notice) is served as uploaded."""

    def __init__(self, seed: int, name: str, large_file_mb: int) -> None:
        self.corpus = ContentCorpus(f"google_workspace:{name}:{seed}", large_file_mb=large_file_mb)
        self.special: dict[str, int] = {}  # file id -> index in corpus.specials()
        self.uploaded: dict[str, bytes] = {}
        self.export_limit = EXPORT_LIMIT_BYTES
        self._sized: set[str] = set()
        self._truth: dict[str, tuple[str, dict[str, int], tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    def document(self, item: dict[str, Any]) -> Document | None:
        """The corpus document behind a file; None for an upload, a folder or another Google type
        without content (forms, shortcuts, drawings)."""
        file_id, mime = str(item["id"]), str(item["mimeType"])
        if file_id in self.uploaded or (mime.startswith(GOOGLE_APPS) and mime not in EXPORT_FORMATS):
            return None
        if file_id in self.special:
            return self.corpus.specials()[self.special[file_id]]
        return self.corpus.document_for(file_id, str(item["name"]), mime)

    def export_of(self, item: dict[str, Any], mime_type: str) -> Document:
        document = self.document(item)
        if document is None or not document.native:
            raise ValueError("not a Google-native document")
        return self.corpus.export(document, mime_type)

    def materialize(self, item: dict[str, Any]) -> dict[str, Any]:
        """The file with ``size`` and ``md5Checksum`` of its content (blobs only, set once)."""
        file_id = str(item["id"])
        if file_id in self._sized or str(item["mimeType"]).startswith(GOOGLE_APPS):
            return item
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        for piece in self.chunks(item, 0, None):
            digest.update(piece)
            size += len(piece)
        with self._lock:
            item["size"] = str(size)
            item["md5Checksum"] = digest.hexdigest()
            self._sized.add(file_id)
        return item

    def size_of(self, item: dict[str, Any]) -> int:
        if item["id"] in self.uploaded:
            return len(self.uploaded[item["id"]])
        document = self.document(item)
        return document.size if document is not None else 0

    def chunks(self, item: dict[str, Any], start: int, end: int | None) -> Iterator[bytes]:
        if item["id"] in self.uploaded:
            yield self.uploaded[item["id"]][start:end]
            return
        document = self.document(item)
        if document is not None:
            yield from document.chunks(start, end)

    def upload(self, item: dict[str, Any], data: bytes) -> None:
        with self._lock:
            self.uploaded[item["id"]] = data
            self._sized.discard(item["id"])
        self.materialize(item)

    def truth_of(self, item: dict[str, Any]) -> tuple[str, dict[str, int], tuple[str, ...]] | None:
        """(expect, {detector: count}, planted values) of a file, kept once computed; None for a file
        without content (the scan skips it). An upload holds nothing planted."""
        file_id = str(item["id"])
        if file_id in self.uploaded:
            return "scanned", {}, ()
        found = self._truth.get(file_id)
        if found is None:
            document = self.document(item)
            if document is None:
                return None
            counts = self.corpus.oracle([(file_id, document)]).get(file_id, {})
            found = (document.expect, counts, tuple(sorted({p.value for p in document.planted})))
            self._truth[file_id] = found
        return found
