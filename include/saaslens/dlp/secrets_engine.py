"""detect-secrets as a library: every plugin it ships and its default filters, over a piece of
extracted text, with each occurrence's position.

detect-secrets reads files, not strings (``scan_line`` is meant for one-off lines and resets its
filter caches on every call), and keeps its plugin settings in process-wide state. So a piece of
text is written to a private temporary ``.txt`` file and scanned the way `detect-secrets scan`
scans a file (https://github.com/Yelp/detect-secrets#usage-in-other-python-scripts), under one
lock. The temporary file holds extracted text only for the length of the scan, in a directory only
this user can read, and is removed at once.

Most lines of a document cannot hold anything a plugin looks for, and detect-secrets spends its
time running every plugin and filter on every line. So a line goes to detect-secrets only if it
passes a gate: one regular expression joining what each plugin needs to see before it can report
anything (each regex plugin's own denylist, the quoted string the entropy plugins read, the
keyword plugin's keyword list). A plugin of a kind the gate does not know opens it for every line.
Passing through the gate changes no result; it only skips lines no plugin could report on. One
behaviour is not reproduced: `detect-secrets scan` re-reads a file in which it found nothing with
its "eager" YAML and INI transformers; here every piece of text is scanned as plain lines.
"""

from __future__ import annotations

import locale
import os
import re
import tempfile
import threading
from collections.abc import Iterator

_LOCK = threading.Lock()


def scan_text(text: str) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, value, detect-secrets type) of every secret in `text`, in line order."""
    gate = _gate()
    # (start, end) of each line that passes the gate, in the text.
    spans: list[tuple[int, int]] = []
    start = 0
    for line in text.split("\n"):
        end = start + len(line)
        if gate is None or gate.search(line):
            spans.append((start, end))
        start = end + 1
    if not spans:
        return
    found = _scan("\n".join(text[a:b] for a, b in spans))
    for line_number, value, kind in found:
        if not 1 <= line_number <= len(spans):
            continue
        start, end = spans[line_number - 1]
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


_GATE: list[re.Pattern[str] | None] = []


def _gate() -> re.Pattern[str] | None:
    """One pattern that every line a plugin can report on matches; None: no gate (a plugin of an
    unknown kind is configured)."""
    if _GATE:
        return _GATE[0]
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.keyword import DENYLIST_REGEX, KeywordDetector
    from detect_secrets.settings import default_settings, get_plugins

    parts: list[str] = []
    gate: re.Pattern[str] | None = None
    with _LOCK, default_settings():
        plugins = list(get_plugins())
    for plugin in plugins:
        if isinstance(plugin, RegexBasedDetector):
            for pattern in plugin.denylist:
                text = f"(?:{pattern.pattern})"
                parts.append(f"(?i:{text})" if pattern.flags & re.IGNORECASE else text)
        elif isinstance(plugin, HighEntropyStringsPlugin):
            # The plugin reads strings between a pair of equal quotes; either quote on each side is a superset.
            parts.append(f"['\"][{re.escape(plugin.charset)}]+['\"]")
        elif isinstance(plugin, KeywordDetector):
            parts.append(f"(?i:{DENYLIST_REGEX})")
        else:
            parts = []
            break
    if parts:
        gate = re.compile("|".join(parts))
    _GATE.append(gate)
    return gate


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
