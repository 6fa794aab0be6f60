"""One file's text through the detectors: what each found, summarised without the values.

Text arrives in pieces (`TextChunk`s from saaslens.dlp.extract, each ending at a line boundary, so
no value is split between two). Each piece is scanned on its own and forgotten; what is kept per
detector is a count, the distinct values' keyed fingerprints, the highest confidence, a few masked
previews and position ranges. Memory is bounded by the piece size, not the file size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from saaslens.dlp.detectors import Detector, Hit, Severity, scan

MAX_PREVIEWS = 3
MAX_POSITIONS = 20
MAX_FINGERPRINTS = 100


class Piece(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def offset(self) -> int: ...


@dataclass
class DetectorSummary:
    detector: str
    severity: Severity
    count: int = 0
    max_confidence: float = 0.0
    previews: list[str] = field(default_factory=list)
    positions: list[tuple[int, int]] = field(default_factory=list)
    fingerprints: set[str] = field(default_factory=set)
    distinct_overflow: bool = False  # more distinct values than fingerprints kept

    def add(self, hit: Hit) -> None:
        self.count += 1
        self.max_confidence = max(self.max_confidence, hit.confidence)
        if len(self.previews) < MAX_PREVIEWS and hit.masked not in self.previews:
            self.previews.append(hit.masked)
        if len(self.positions) < MAX_POSITIONS:
            self.positions.append((hit.start, hit.end))
        if hit.fingerprint not in self.fingerprints:
            if len(self.fingerprints) < MAX_FINGERPRINTS:
                self.fingerprints.add(hit.fingerprint)
            else:
                self.distinct_overflow = True

    @property
    def distinct(self) -> int:
        return len(self.fingerprints)


@dataclass
class Inspection:
    """What the detectors found in one file (confident hits only)."""

    chars: int = 0
    pieces: int = 0
    found: dict[str, DetectorSummary] = field(default_factory=dict)

    def count(self, detectors: Sequence[str] | None = None) -> int:
        return sum(s.count for d, s in self.found.items() if detectors is None or _selected(d, detectors))

    def summaries(self) -> list[DetectorSummary]:
        return [self.found[d] for d in sorted(self.found)]


def _selected(detector: str, wanted: Sequence[str]) -> bool:
    """`credential` selects every `credential:<type>`."""
    return detector in wanted or detector.split(":", 1)[0] in wanted


def inspect_pieces(
    pieces: Iterable[Piece], detectors: Sequence[Detector], key: bytes, *, min_confidence: float = 0.0
) -> Inspection:
    result = Inspection()
    for piece in pieces:
        result.pieces += 1
        result.chars += len(piece.text)
        for hit in scan(piece.text, detectors, key, base_offset=piece.offset):
            if hit.confidence < min_confidence:
                continue
            summary = result.found.get(hit.detector)
            if summary is None:
                summary = result.found[hit.detector] = DetectorSummary(hit.detector, hit.severity)
            summary.add(hit)
    return result
