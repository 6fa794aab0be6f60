"""What Slack's file host serves for one workspace's files, for content inspection (issue 15).

Slack's side, from its documentation:

* A file object's ``url_private`` "points to a URL to the file contents"; ``url_private_download`` is the
  same "with headers to force a browser download". Both "require an authorization header of the form
  ``Authorization: Bearer A_VALID_TOKEN``" with a token "bearing at least the files:read scope"
  (https://api.slack.com/types/file#auth). They are on https://files.slack.com, shaped
  ``/files-pri/<team id>-<file id>/<name>`` and ``/files-pri/<team id>-<file id>/download/<name>`` (as every
  published file object shows them). ``size`` is "the filesize in bytes".
* ``mode`` is one of hosted, external, snippet or post; an external file (``is_external``) has its master
  copy elsewhere, so Slack holds no bytes for it.
* files.delete (https://docs.slack.dev/reference/methods/files.delete, files:write) deletes a file:
  ``file_deleted`` "The file has already been deleted", ``cant_delete_file`` "Authenticated user does not
  have permission to delete this file", ``file_not_found``; files.info answers ``file_deleted`` for it.

Sandbox choices (Slack documents none of these): the file host is the server's other loopback name (a
distinct origin, as files.slack.com is distinct from slack.com), under the tenant's path; a request
without a token Slack accepts gets Slack's sign-in page as HTML with status 200 (what Slack developers
report its file host doing), a valid token without files:read a 403, a deleted, forgotten or unknown file
a 404; byte ranges (RFC 9110 section 14) are served, one range per request.

Contents come from the shared corpus (saaslens_sandbox.kit.content), generated the first time a file is
listed, served or asked for in the ground truth, whose length becomes the file's ``size``; the corpus'
special documents are extra files of ordinary members (the first with its public link shared, the second
shared in a Slack Connect channel).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from saaslens_sandbox.kit.content import ContentCorpus, Document

FILE_HOST_URL = "https://files.slack.com/"
SIGN_IN_PAGE = (
    b'<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8"><title>Slack</title></head>'
    b'<body><h1>Sign in to your workspace</h1><form action="/signin" method="post">'
    b'<input type="email" name="email"><input type="password" name="password">'
    b'<button type="submit">Sign In</button></form></body></html>'
)


def file_urls(team_id: str, file_id: str, name: str) -> tuple[str, str]:
    """url_private and url_private_download of a hosted file on Slack's file host."""
    quoted = quote(name, safe="")
    base = f"{FILE_HOST_URL}files-pri/{team_id}-{file_id}"
    return f"{base}/{quoted}", f"{base}/download/{quoted}"


class FileContents:
    """The bytes behind one workspace's hosted files, and which files were deleted with files.delete."""

    def __init__(self, name: str, seed: int, large_file_mb: int) -> None:
        self.corpus = ContentCorpus(f"slack:{name}:{seed}", large_file_mb=large_file_mb)
        self.special: dict[str, int] = {}  # file id -> index in corpus.specials()
        self.deleted: set[str] = set()  # deleted through files.delete
        self._sized: set[str] = set()
        self._truth: dict[str, tuple[str, dict[str, int] | None, list[str]]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def hosted(file: dict[str, Any]) -> bool:
        return not file.get("is_external") and file.get("mode") != "external"

    def document(self, file: dict[str, Any]) -> Document | None:
        """The corpus document behind a hosted file; None for an external one."""
        if not self.hosted(file):
            return None
        file_id = str(file["id"])
        if file_id in self.special:
            return self.corpus.specials()[self.special[file_id]]
        return self.corpus.document_for(file_id, str(file["name"]), str(file["mimetype"]))

    def materialize(self, file: dict[str, Any]) -> dict[str, Any]:
        """The file object with ``size`` equal to its content's length (set once, when first needed)."""
        if file["id"] not in self._sized:
            document = self.document(file)
            with self._lock:
                if document is not None:
                    file["size"] = document.size
                self._sized.add(file["id"])
        return file

    def truth(self, file: dict[str, Any]) -> tuple[str, dict[str, int] | None, list[str]]:
        """A hosted file's expected outcome, its oracle counts (None unless scanned) and planted values,
        kept once computed: a tenant with more files than the corpus' cache would otherwise regenerate
        every document at each ground-truth call."""
        file_id = str(file["id"])
        found = self._truth.get(file_id)
        if found is None:
            document = self.document(file)
            assert document is not None, "external files have no content truth"
            counts = self.corpus.oracle([(file_id, document)]).get(file_id)
            found = (document.expect, counts, sorted({p.value for p in document.planted}))
            with self._lock:
                self._truth[file_id] = found
        return found

    def chunks(self, file: dict[str, Any], start: int, end: int) -> Iterator[bytes]:
        document = self.document(file)
        if document is not None:
            yield from document.chunks(start, end)
