"""What Box serves for one enterprise's files, for content inspection.

Box's side, from its documentation:

* ``GET /files/{file_id}/content`` "Returns the contents of a file in binary format"; without following
  redirects the answer is ``302`` with a ``Location`` "for the file on ``dl.boxcloud.com``", a URL that
  "is not persistent" (https://developer.box.com/reference/get-files-id-content/,
  https://developer.box.com/guides/downloads/file/). The download URL needs no Authorization header:
  it carries its own grant.
* A file's ``size`` is its size in bytes and ``sha1`` the SHA-1 of its content (File--Full).

Sandbox choices (Box documents none of these): the download host is the server's other loopback name
(a distinct origin, as dl.boxcloud.com is distinct from api.box.com), under the tenant's path, at
``/_boxcloud/d/1/<grant>/download`` (the shape of dl.boxcloud.com URLs); a grant lasts 60 seconds and
serves one file; a request bearing an Authorization header is recorded (``download_log``) so tests can
prove no token went there; bodies are served as ``application/octet-stream``.

Contents come from the shared corpus (saaslens_sandbox.kit.content), generated the first time a file is
listed, served or asked for in the ground truth, whose length becomes the file's ``size``; the corpus'
special documents are extra files of ordinary users (the Latin-1 CSV with an open shared link, the
encrypted PDF with a company one).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from saaslens_sandbox.kit.content import ContentCorpus, Document

GENERIC_TYPE = "application/octet-stream"  # Box lists no MIME type: the corpus reads the extension


class BoxContents:
    """The bytes behind one enterprise's files, and each file's content truth."""

    def __init__(self, name: str, seed: int) -> None:
        self.corpus = ContentCorpus(f"box:{name}:{seed}")
        self.special: dict[str, int] = {}  # file id -> index in corpus.specials()
        self._sized: set[str] = set()
        self._truth: dict[str, tuple[str, dict[str, int] | None, list[str]]] = {}
        self._lock = threading.Lock()

    def document(self, file: dict[str, Any]) -> Document:
        file_id = str(file["id"])
        if file_id in self.special:
            return self.corpus.specials()[self.special[file_id]]
        return self.corpus.document_for(file_id, str(file["name"]), GENERIC_TYPE)

    def materialize(self, file: dict[str, Any]) -> dict[str, Any]:
        """The file object with ``size`` and ``sha1`` those of its content (set once, when first needed)."""
        if file["id"] not in self._sized:
            document = self.document(file)
            digest = hashlib.sha1(document.content(), usedforsecurity=False).hexdigest()
            with self._lock:
                file["size"] = document.size
                file["sha1"] = digest
                file["file_version"]["sha1"] = digest
                self._sized.add(file["id"])
        return file

    def truth(self, file: dict[str, Any]) -> tuple[str, dict[str, int] | None, list[str]]:
        """A file's expected scan outcome, its oracle counts (None unless scanned) and planted values."""
        file_id = str(file["id"])
        found = self._truth.get(file_id)
        if found is None:
            document = self.document(file)
            counts = self.corpus.oracle([(file_id, document)]).get(file_id)
            found = (document.expect, counts, sorted({p.value for p in document.planted}))
            with self._lock:
                self._truth[file_id] = found
        return found

    def dlp_truth(self, files: list[dict[str, Any]]) -> dict[str, Any]:
        """What content inspection must find in every listed file (tests/e2e/test_content_inspection.py)."""
        matches: dict[str, dict[str, int]] = {}
        expect: dict[str, str] = {}
        planted: dict[str, list[str]] = {}
        for file in files:
            expect[file["id"]], counts, values = self.truth(file)
            if counts is not None:
                matches[file["id"]] = counts
            if values:
                planted[file["id"]] = values
        return {"matches": matches, "expect": expect, "planted_values": planted}
