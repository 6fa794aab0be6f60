"""Text from providers (and config files, and the exceptions quoting them) made safe for a terminal.

A provider controls names, statuses and error messages, and saaslens prints them. Two things a
terminal or rich would otherwise obey:

- rich markup: `[/]` closes a tag never opened and raises MarkupError (which hid the real error
  of `saaslens sync`); `[bold]`/`[link=...]` restyle or relabel the output. `safe_text` escapes
  it with rich's own `rich.markup.escape`.
- control characters: ESC starts ANSI/VT100 sequences (colours, cursor moves, clearing the
  screen, OSC 8 hyperlinks, window titles), the C1 range holds their 8-bit forms (0x9B is CSI),
  BEL, BS and CR rewrite what was shown, and the Unicode bidirectional embeddings, overrides and
  isolates (U+202A-U+202E, U+2066-U+2069) reorder how a line reads: the "Trojan Source" spoofing,
  CVE-2021-42574 (https://trojansource.codes/). They are removed; newline and tab are kept.

Every place saaslens prints provider-derived text goes through `safe_text` (rich) or `plain_text`
(print and logging).
"""

from __future__ import annotations

import logging
import re

from rich.markup import escape

# C0 controls except \t (0x09) and \n (0x0A), DEL (0x7F), the C1 controls (0x80-0x9F), and the
# bidi controls Unicode TR #9 defines: LRE RLE PDF LRO RLO (U+202A-U+202E), LRI RLI FSI PDI
# (U+2066-U+2069).
_TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain_text(value: object) -> str:
    """`value` as text with every character a terminal would act on removed."""
    return _TERMINAL_CONTROLS.sub("", str(value))


def safe_text(value: object) -> str:
    """`value` as text for rich: controls removed and markup escaped, so it is shown as written."""
    return escape(plain_text(value))


class TerminalSafeFormatter(logging.Formatter):
    """Log records go to the terminal too; a provider's text in a warning must not steer it."""

    def format(self, record: logging.LogRecord) -> str:
        return plain_text(super().format(record))
