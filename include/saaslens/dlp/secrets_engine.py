"""detect-secrets as a library: every plugin it ships and its default filters, over a piece of
extracted text, with each occurrence's position.

detect-secrets reads files, not strings (``scan_line`` is meant for one-off lines and resets its
filter caches on every call), and keeps its plugin settings in process-wide state. So a piece of
text is written to a private temporary ``.txt`` file and scanned the way `detect-secrets scan`
scans a file (https://github.com/Yelp/detect-secrets#usage-in-other-python-scripts), under one
lock. The temporary file holds extracted text only for the length of the scan, in a directory only
this user can read, and is removed at once.
"""

from __future__ import annotations

import locale
import os
import tempfile
import threading
from collections.abc import Iterator

_LOCK = threading.Lock()


def scan_text(text: str) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, value, detect-secrets type) of every secret in `text`, in line order."""
    if not text.strip():
        return
    found = _scan(text)
    line_starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            line_starts.append(index + 1)
    for line_number, value, kind in found:
        if not 1 <= line_number <= len(line_starts):
            continue
        start = line_starts[line_number - 1]
        end = line_starts[line_number] - 1 if line_number < len(line_starts) else len(text)
        at = text.find(value, start, end) if value else -1
        if at >= 0:
            # Some plugins report only part of the token (the GitHub plugin its ghp prefix): the
            # hit covers the whole run of token characters around it.
            begin, stop = at, at + len(value)
            while begin > start and _token_char(text[begin - 1]):
                begin -= 1
            while stop < end and _token_char(text[stop]):
                stop += 1
            yield begin, stop, text[begin:stop], kind
        else:  # found through a transformer (e.g. a value spread over a YAML block): the whole line
            yield start, end, value or text[start:end], kind


def _token_char(char: str) -> bool:
    return char.isalnum() or char in "_-+/=.~"


def _scan(text: str) -> list[tuple[int, str, str]]:
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings

    # detect-secrets opens the file with the locale's encoding; write it in that encoding so no
    # line is skipped as binary (characters it cannot hold are replaced; keys are ASCII).
    encoding = locale.getpreferredencoding(False)
    with tempfile.TemporaryDirectory(prefix="saaslens-dlp-") as directory:
        os.chmod(directory, 0o700)
        path = os.path.join(directory, "extracted.txt")
        with open(path, "w", encoding=encoding, errors="replace", newline="\n") as handle:
            handle.write(text)
        with _LOCK, default_settings():
            return [
                (int(secret.line_number), str(secret.secret_value or ""), str(secret.type))
                for secret in scan_file(path)
            ]
