"""Text out of a downloaded file, safely and in bounded memory.

`open_extraction` looks at a file on disk, decides what it is and whether it may be read, and
returns an `Extraction` whose `chunks()` yields the file's text in pieces (`TextChunk`) that end at
line boundaries, each with its character offset and a human location ("page 3", "sheet 'Q1' row
12", "slide 4", "line 1200") that names no content. A file that cannot be read raises
`Unreadable` with a reason from a fixed list and a detail naming the format and what was wrong,
never the file's content (library exceptions are reduced to their class name, and their messages
are dropped from the chain).

What is read, and how:

- The format comes from the file's magic bytes first, then the mime type, then the name's
  extension. Anything that is not one of the formats below (images, archives, executables, legacy
  binary Office files) is "unsupported-format"; a file whose declared format is a binary one its
  bytes are not is "corrupt".
- Text (txt, csv, json, md) is read streaming: the encoding is detected from the first 64 KiB
  (byte-order marks, then a strict UTF-8 check, then charset-normalizer) and the rest is decoded
  block by block with an incremental decoder, so a 200 MB file never sits in memory. Text taken
  for UTF-8 that turns out to hold stray non-UTF-8 bytes further on decodes those bytes as
  cp1252 (the usual culprit) rather than as U+FFFD; every other encoding decodes with
  errors="replace".
- HTML goes through the same decoding into the standard library's `html.parser`: text only, the
  bodies of <script> and <style> dropped, block elements ending lines.
- PDF page by page with pypdf. An encrypted PDF is tried with the empty user password, as PDF
  readers do: a PDF with only an owner password (permissions) opens that way and is read; one with
  a user password is "encrypted".
- docx, xlsx and pptx are zip packages (ECMA-376 Part 2, Open Packaging Conventions). Before any
  library opens one, its central directory and data are checked against `ExtractionLimits` (see
  `_check_zip`): entry count, declared and real uncompressed sizes, compression ratios, overlapping
  entries and nested archives. A password-protected Office document is not a zip but an OLE
  compound file holding EncryptionInfo and EncryptedPackage streams ([MS-OFFCRYPTO] 2.3.4):
  "encrypted". Then python-docx (paragraphs, tables, headers, footers, comments), openpyxl in
  read-only mode row by row, python-pptx (text frames, tables, notes per slide).

Memory: text formats hold one decoded block and about two chunks. PDF, docx and pptx libraries
keep their parsed document (bounded by the file and uncompressed-size limits, not by
`chunk_chars`); openpyxl in read-only mode streams sheet rows but holds the shared-strings table.
"""

from __future__ import annotations

import codecs
import html.parser
import logging
import re
import struct
import tempfile
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any, Final, NoReturn

import charset_normalizer

# ---------------------------------------------------------------------------------------------
# The interface


@dataclass(frozen=True)
class ExtractionLimits:
    max_file_bytes: int = 100 * 2**20  # a file over this is not read: Unreadable("too-large")
    max_uncompressed_bytes: int = 512 * 2**20  # zip-based formats: sum of entry sizes (zip bombs)
    max_compression_ratio: float = 100.0  # zip-based formats: per entry and overall
    max_zip_entries: int = 10_000
    max_chars: int = 50_000_000  # stop extracting after this many characters: truncated
    chunk_chars: int = 1 << 20  # size of the text pieces yielded


@dataclass(frozen=True)
class TextChunk:
    text: str  # ends at a line boundary (one line longer than chunk_chars is cut at whitespace)
    offset: int  # character offset of text[0] in the whole extracted text
    where: str  # human location, no content: "page 3", "sheet 'Q1' row 12", "slide 4", "line 1200"


REASONS: Final = frozenset({"too-large", "encrypted", "corrupt", "zip-bomb", "unsupported-format", "empty"})


class Unreadable(Exception):
    """A file that is not read, and why. `detail` names the format and the fault, never content."""

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown unreadable reason {reason!r}")
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# A source yields (text, where) segments; where=None continues the previous segment's location
# (or, in a source that never names one, means "count lines").
_Segments = Generator[tuple[str, str | None], None, None]
_Source = Callable[[], _Segments]


@dataclass
class Extraction:
    extractor: str  # e.g. "pypdf 7.1.1", "text (cp1252 detected)"
    format: str  # "pdf", "docx", "xlsx", "pptx", "csv", "txt", "json", "md", "html"
    truncated: bool = False  # set after iteration if max_chars cut it
    _source: _Source = field(kw_only=True, repr=False, compare=False)
    _limits: ExtractionLimits = field(kw_only=True, repr=False, compare=False)

    def chunks(self) -> Iterator[TextChunk]:
        """The text, lazily. Raises Unreadable("corrupt") when a part of the file fails to parse,
        and Unreadable("empty") at the end when the file held no text at all."""
        self.truncated = False
        chunker = _Chunker(self._limits)
        segments = self._source()
        where = "the start"
        try:
            while True:
                try:
                    text, at = next(segments)
                except StopIteration:
                    break
                except (Unreadable, MemoryError):
                    raise
                except Exception as exc:  # a hostile file can make a parser raise anything
                    raise Unreadable("corrupt", f"{self.format}: {type(exc).__name__} while reading {where}") from None
                if at is not None:
                    where = at
                yield from chunker.add(text, at)
                if chunker.full:
                    self.truncated = True
                    break
            yield from chunker.finish()
        finally:
            segments.close()
        if not chunker.saw_text:
            raise Unreadable("empty", f"{self.format}: the file holds no text")


def open_extraction(
    path: Path, *, name: str, mime_type: str | None, limits: ExtractionLimits = ExtractionLimits()
) -> Extraction:
    """Decide what `path` is and whether it may be read. Raises Unreadable for a file that is too
    large, empty, of an unsupported format, encrypted, a zip bomb or visibly corrupt."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise Unreadable("too-large", f"{size} bytes, over the limit of {limits.max_file_bytes}")
    if size == 0:
        raise Unreadable("empty", "0 bytes")
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE_BYTES)
    declared = _declared_format(name, mime_type)

    if _PDF_MAGIC.search(head[:1024]):
        return _open_pdf(path, limits)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return _open_package(path, size, declared, limits)
    if head.startswith(_OLE_MAGIC):
        _refuse_ole(path, size, declared)
    binary = _binary_kind(head)
    if binary is not None:
        raise Unreadable("unsupported-format", binary)
    if declared in _BINARY_FORMATS:
        raise Unreadable(
            "corrupt", f"declared {declared} by its {_declared_by(name, mime_type)}, but no {declared} signature"
        )

    complete = size <= len(head)
    encoding = _detect_encoding(head, complete)
    if encoding is None:
        raise Unreadable("unsupported-format", "binary content of no supported format")
    fmt = declared if declared in _TEXT_FORMATS else "txt"
    if fmt == "txt" and _HTML_MAGIC.match(head.lstrip(b"\xef\xbb\xbf \t\r\n")):
        fmt = "html"
    label = codecs.lookup(encoding).name
    if fmt == "html":
        return Extraction(
            f"html.parser ({label} detected)", "html", _source=lambda: _html_segments(path, encoding), _limits=limits
        )
    return Extraction(f"text ({label} detected)", fmt, _source=lambda: _text_segments(path, encoding), _limits=limits)


# ---------------------------------------------------------------------------------------------
# Chunking


_LAST_WHITESPACE = re.compile(r".*\s", re.S)  # greedy: ends just after the last whitespace


class _Chunker:
    """Joins segments and cuts them into chunks of at most chunk_chars that end at line ends."""

    def __init__(self, limits: ExtractionLimits) -> None:
        self.size = max(1, limits.chunk_chars)
        self.room = limits.max_chars
        self.parts: list[str] = []
        self.buffered = 0
        self.offset = 0  # offset of the buffer's first character in the whole text
        self.line = 1  # line number of the buffer's first character
        self.marks: deque[tuple[int, str]] = deque()  # (offset, where) of each located segment
        self.full = False
        self.saw_text = False

    def add(self, text: str, where: str | None) -> Iterator[TextChunk]:
        if self.full or not text:
            return
        if len(text) >= self.room:
            text = text[: self.room]
            # Stop at the last whole line rather than in the middle of a value.
            end = text.rfind("\n")
            if end >= 0:
                text = text[: end + 1]
            self.full = True
        self.room -= len(text)
        if where is not None:
            self.marks.append((self.offset + self.buffered, where))
        if not self.saw_text and not text.isspace():
            self.saw_text = True
        self.parts.append(text)
        self.buffered += len(text)
        while self.buffered >= self.size:
            yield self._cut(final=False)

    def finish(self) -> Iterator[TextChunk]:
        while self.buffered:
            yield self._cut(final=True)

    def _cut(self, *, final: bool) -> TextChunk:
        buf = self.parts[0] if len(self.parts) == 1 else "".join(self.parts)
        if final and len(buf) <= self.size:
            cut = len(buf)
        else:
            window = buf[: self.size]
            cut = window.rfind("\n") + 1
            if cut == 0:  # one line longer than a chunk: cut it at whitespace, else anywhere
                match = _LAST_WHITESPACE.match(window)
                cut = match.end() if match else len(window)
        piece, rest = buf[:cut], buf[cut:]
        self.parts = [rest] if rest else []
        self.buffered = len(rest)
        chunk = TextChunk(piece, self.offset, self._where())
        self.offset += cut
        self.line += piece.count("\n")
        return chunk

    def _where(self) -> str:
        marks = self.marks
        while len(marks) > 1 and marks[1][0] <= self.offset:
            marks.popleft()
        if marks and marks[0][0] <= self.offset:
            return marks[0][1]
        return f"line {self.line}"


# ---------------------------------------------------------------------------------------------
# Formats


_SAMPLE_BYTES: Final = 64 * 1024
_BLOCK_BYTES: Final = 1 << 20
_PDF_MAGIC: Final = re.compile(rb"%PDF-\d")  # within the first 1024 bytes, as readers accept
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_MAGIC: Final = re.compile(rb"<(!doctype\s+html|html[\s>])", re.I)
_TEXT_FORMATS: Final = frozenset({"txt", "csv", "json", "md", "html"})
_BINARY_FORMATS: Final = frozenset({"pdf", "docx", "xlsx", "pptx"})
_PACKAGE_FORMATS: Final = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}

_BY_MIME: Final = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-word.document.macroenabled.12": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.ms-powerpoint.presentation.macroenabled.12": "pptx",
    "text/csv": "csv",
    "application/csv": "csv",
    "text/tab-separated-values": "csv",
    "application/json": "json",
    "text/json": "json",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "text/html": "html",
    "application/xhtml+xml": "html",
}
# Says nothing about the format: the extension decides, and text/plain only if it does not.
_GENERIC_MIME: Final = frozenset({"", "text/plain", "application/octet-stream", "binary/octet-stream"})
_BY_EXTENSION: Final = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".docm": "docx",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".pptx": "pptx",
    ".pptm": "pptx",
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".txt": "txt",
    ".text": "txt",
    ".log": "txt",
}

# Formats recognised by their first bytes only to be refused by name.
_BINARY_SIGNATURES: Final[tuple[tuple[bytes, int, str], ...]] = (
    (b"\x89PNG\r\n\x1a\n", 0, "PNG image"),
    (b"\xff\xd8\xff", 0, "JPEG image"),
    (b"GIF87a", 0, "GIF image"),
    (b"GIF89a", 0, "GIF image"),
    (b"II*\x00", 0, "TIFF image"),
    (b"MM\x00*", 0, "TIFF image"),
    (b"8BPS", 0, "Photoshop image"),
    (b"ftyp", 4, "ISO media (video, audio or HEIC image)"),
    (b"ID3", 0, "MP3 audio"),
    (b"OggS", 0, "Ogg media"),
    (b"fLaC", 0, "FLAC audio"),
    (b"\x1a\x45\xdf\xa3", 0, "Matroska/WebM video"),
    (b"\x1f\x8b", 0, "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "7-Zip archive"),
    (b"Rar!\x1a\x07", 0, "RAR archive"),
    (b"\xfd7zXZ\x00", 0, "xz archive"),
    (b"\x28\xb5\x2f\xfd", 0, "zstd archive"),
    (b"\x7fELF", 0, "ELF executable"),
    (b"\xca\xfe\xba\xbe", 0, "Java class or Mach-O binary"),
    (b"\xcf\xfa\xed\xfe", 0, "Mach-O binary"),
    (b"\x00asm", 0, "WebAssembly module"),
    (b"SQLite format 3\x00", 0, "SQLite database"),
    (b"{\\rtf", 0, "RTF document"),
)


def _binary_kind(head: bytes) -> str | None:
    for magic, at, kind in _BINARY_SIGNATURES:
        if head[at : at + len(magic)] == magic:
            return kind
    if head.startswith(b"RIFF") and len(head) >= 12:
        return f"RIFF {head[8:12].decode('latin-1')!r} media"
    if re.match(rb"BZh[1-9]1AY&SY", head):
        return "bzip2 archive"
    if head.startswith(b"MZ") and b"This program cannot be run in DOS mode" in head[:512]:
        return "Windows executable"
    return None


def _mime(mime_type: str | None) -> str:
    return (mime_type or "").split(";", 1)[0].strip().lower()


def _declared_format(name: str, mime_type: str | None) -> str | None:
    mime = _mime(mime_type)
    if mime not in _GENERIC_MIME:
        return _BY_MIME.get(mime)
    by_name = _BY_EXTENSION.get(Path(name).suffix.lower())
    if by_name is not None:
        return by_name
    return "txt" if mime == "text/plain" else None


def _declared_by(name: str, mime_type: str | None) -> str:
    return "mime type" if _mime(mime_type) not in _GENERIC_MIME else "name"


# ---------------------------------------------------------------------------------------------
# Text


def _utf8_with_cp1252(exc: UnicodeError) -> tuple[str, int]:
    """Error handler: bytes that are not UTF-8 in text taken for UTF-8 are read as cp1252."""
    if isinstance(exc, UnicodeDecodeError):
        return exc.object[exc.start : exc.end].decode("cp1252", errors="replace"), exc.end
    raise exc


_FALLBACK_ERRORS: Final = "saaslens-utf8-cp1252"
codecs.register_error(_FALLBACK_ERRORS, _utf8_with_cp1252)

_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _detect_encoding(sample: bytes, complete: bool) -> str | None:
    """The encoding of text whose first bytes are `sample` (the whole file if `complete`);
    None for content that is not text."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        pass
    else:
        if b"\x00" not in sample:
            return "utf-8"
    if not complete:
        # Do not let a character cut at the sample's end count against an encoding.
        end = sample.rfind(b"\n", len(sample) // 2)
        if end > 0:
            sample = sample[: end + 1]
    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None:
        return None
    # Single-byte Latin text often fits several code pages equally well (cp1250, cp1252, cp1257
    # all read "Straße" the same): when windows-1252 reads the sample as well as the best match,
    # or exactly as it, prefer it: the WHATWG Encoding Standard reads every "latin1" and
    # "iso-8859-1" label as windows-1252, and it is the commonest legacy encoding.
    # https://encoding.spec.whatwg.org/#names-and-labels
    tied = {m.encoding for m in matches if m.chaos == best.chaos and m.coherence == best.coherence}
    if "cp1252" in tied or _decodes_as(sample, "cp1252") == str(best):
        return "cp1252"
    try:
        return codecs.lookup(best.encoding).name
    except LookupError:
        return None


def _decodes_as(sample: bytes, encoding: str) -> str | None:
    try:
        return sample.decode(encoding)
    except UnicodeDecodeError:
        return None


def _decoder(encoding: str) -> codecs.IncrementalDecoder:
    if codecs.lookup(encoding).name == "utf-8":
        return codecs.getincrementaldecoder("utf-8")(errors=_FALLBACK_ERRORS)
    return codecs.getincrementaldecoder(encoding)(errors="replace")


def _decoded_blocks(path: Path, encoding: str) -> Iterator[str]:
    decoder = _decoder(encoding)
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK_BYTES):
            text = decoder.decode(block)
            if text:
                yield text
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def _text_segments(path: Path, encoding: str) -> _Segments:
    for text in _decoded_blocks(path, encoding):
        yield text, None


class _HtmlText(html.parser.HTMLParser):
    """Text of an HTML document: character data outside <script> and <style>, with block
    elements ending lines and table cells separated by tabs."""

    _DROPPED: Final = frozenset({"script", "style"})
    _BLOCKS: Final = frozenset(
        {
            "address", "article", "aside", "blockquote", "br", "dd", "details", "dialog", "div", "dl",
            "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
            "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
            "title", "tr", "ul",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._dropping: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._DROPPED:
            self._dropping = tag
        elif tag in self._BLOCKS:
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._dropping:
            self._dropping = None
        elif tag in self._BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self._dropping is None:
            self.out.append(data)

    def take(self) -> str:
        text = "".join(self.out)
        self.out.clear()
        return text


def _html_segments(path: Path, encoding: str) -> _Segments:
    parser = _HtmlText()
    for text in _decoded_blocks(path, encoding):
        parser.feed(text)
        yield parser.take(), None
    parser.close()
    yield parser.take(), None


# ---------------------------------------------------------------------------------------------
# PDF (pypdf)


def _open_pdf(path: Path, limits: ExtractionLimits) -> Extraction:
    import pypdf

    _withhold_library_messages()
    with path.open("rb") as fh:
        try:
            reader = _pdf_reader(fh)
            pages = len(reader.pages)
        except (Unreadable, MemoryError):
            raise
        except Exception as exc:
            raise Unreadable("corrupt", f"pdf: {type(exc).__name__} opening the file") from None
    if pages == 0:
        raise Unreadable("empty", "pdf: no pages")
    return Extraction(f"pypdf {pypdf.__version__}", "pdf", _source=lambda: _pdf_segments(path), _limits=limits)


def _pdf_reader(fh: IO[bytes]) -> Any:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError

    reader = PdfReader(fh)
    if reader.is_encrypted:
        # The empty password is the user password of a PDF protected only by an owner password
        # (permissions such as "no printing"): every reader opens it without asking, so its text
        # is readable and is read. A PDF with a user password is not.
        # https://pypdf.readthedocs.io/en/stable/user/encryption-decryption.html
        try:
            opened = reader.decrypt("")
        except DependencyError:
            raise Unreadable(
                "encrypted", "pdf: encrypted with an algorithm no installed crypto provider reads"
            ) from None
        if opened == PasswordType.NOT_DECRYPTED:
            raise Unreadable("encrypted", "pdf: encrypted with a user password")
    return reader


def _pdf_segments(path: Path) -> _Segments:
    with path.open("rb") as fh:
        reader = _pdf_reader(fh)
        for number, page in enumerate(reader.pages, 1):
            text = page.extract_text() or ""
            yield (text if text.endswith("\n") else text + "\n"), f"page {number}"


_withheld = False


class _WithheldMessage(logging.Filter):
    """pypdf's warnings may quote what it parsed: keep the record, withhold its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = "%s reported a problem while reading a file (%s:%d); its message is withheld"
        record.args = (record.name, record.filename, record.lineno)
        return True


def _withhold_library_messages() -> None:
    """pypdf logs through one logger per module (`logging.getLogger(__name__)`); a filter on a
    logger applies only to records logged to that very logger, so each gets one."""
    global _withheld
    if _withheld:
        return
    import pypdf

    root = Path(pypdf.__file__).parent
    names = {"pypdf"}
    for source in root.rglob("*.py"):
        parts = source.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.add(".".join(("pypdf", *parts)))
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _WithheldMessage) for f in logger.filters):
            logger.addFilter(_WithheldMessage())
    _withheld = True


# ---------------------------------------------------------------------------------------------
# OLE compound files ([MS-CFB]) in place of an Office package


def _refuse_ole(path: Path, size: int, declared: str | None) -> NoReturn:
    """A compound file is either a password-protected Office document ([MS-OFFCRYPTO] 2.3.4.4:
    the package, encrypted, in an EncryptedPackage stream beside EncryptionInfo) or a legacy
    binary one (.doc, .xls, .ppt). Neither is read."""
    with path.open("rb") as fh:
        try:
            streams = _ole_stream_names(fh, size)
        except (ValueError, struct.error) as exc:
            raise Unreadable("corrupt", f"OLE compound file: {type(exc).__name__} reading its directory") from None
    if {"EncryptionInfo", "EncryptedPackage"} <= streams:
        expected = declared if declared in _PACKAGE_FORMATS.values() else "Office"
        raise Unreadable("encrypted", f"{expected} document protected by a password (OLE EncryptedPackage)")
    raise Unreadable("unsupported-format", "OLE compound file (a legacy binary Office document or other)")


_FREE_OR_END: Final = 0xFFFFFFFA  # sector numbers from here up are markers, not sectors


def _ole_stream_names(fh: IO[bytes], size: int) -> set[str]:
    """Names of the streams in a compound file's directory, following the directory's sector
    chain through the FAT ([MS-CFB] 2.2 header, 2.3-2.5 FAT and DIFAT, 2.6 directory entries:
    https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-cfb/05060311-bfce-4b12-874d-71fd4ce63aea)."""
    fh.seek(0)
    header = fh.read(512)
    if len(header) < 512:
        raise ValueError("short header")
    byte_order, sector_shift = struct.unpack_from("<HH", header, 0x1C)
    if byte_order != 0xFFFE or sector_shift not in (9, 12):
        raise ValueError("bad header")
    sector = 1 << sector_shift
    sectors = size // sector  # an upper bound on any chain's length
    n_fat, first_directory = struct.unpack_from("<II", header, 0x2C)
    first_difat, n_difat = struct.unpack_from("<II", header, 0x44)

    def read(number: int) -> bytes:
        at = (number + 1) * sector
        if number >= _FREE_OR_END or at + sector > size:
            raise ValueError("sector out of range")
        fh.seek(at)
        return fh.read(sector)

    fat_sectors = list(struct.unpack_from("<109I", header, 0x4C))
    next_difat, seen = first_difat, 0
    while next_difat < _FREE_OR_END and seen < n_difat:
        seen += 1
        if seen > sectors:
            raise ValueError("DIFAT chain loops")
        entries = struct.unpack(f"<{sector // 4}I", read(next_difat))
        fat_sectors.extend(entries[:-1])
        next_difat = entries[-1]
    fat_sectors = fat_sectors[:n_fat]

    def following(number: int) -> int:
        index, slot = divmod(number, sector // 4)
        if index >= len(fat_sectors):
            raise ValueError("sector outside the FAT")
        entry: int = struct.unpack_from("<I", read(fat_sectors[index]), slot * 4)[0]
        return entry

    names: set[str] = set()
    current, visited = first_directory, 0
    while current < _FREE_OR_END:
        visited += 1
        if visited > sectors:
            raise ValueError("directory chain loops")
        data = read(current)
        for at in range(0, sector, 128):
            name_bytes, object_type = struct.unpack_from("<H", data, at + 64)[0], data[at + 66]
            if object_type == 2 and 2 <= name_bytes <= 64:  # a stream, its UTF-16 name with NUL
                names.add(data[at : at + name_bytes - 2].decode("utf-16-le", errors="replace"))
        current = following(current)
    return names


# ---------------------------------------------------------------------------------------------
# Zip packages: checked before any library opens them


# Entries smaller than this are not held to the compression ratio: tiny XML parts of repeated
# markup compress far better than 100:1 and cannot hurt. Apache POI's ZipSecureFile, the
# reference OOXML reader, uses the same grace size (100 KiB) with the same ratio (1/0.01):
# https://poi.apache.org/apidocs/6.0/org/apache/poi/openxml4j/util/ZipSecureFile.html
_RATIO_GRACE_BYTES: Final = 100 * 1024
_MAX_NESTING: Final = 2  # a package embedding a package (a workbook in a document) embedding one
_STORED, _DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
_VERIFY_BLOCK: Final = 256 * 1024


def _open_package(path: Path, size: int, declared: str | None, limits: ExtractionLimits) -> Extraction:
    budget = [limits.max_uncompressed_bytes]
    label = "zip"
    if declared is not None and declared in _PACKAGE_FORMATS.values():
        label = declared
    with path.open("rb") as fh:
        names = _check_zip(fh, size, limits, budget, label, depth=0)
    if "[Content_Types].xml" in names:
        kinds = {fmt for prefix, fmt in _PACKAGE_FORMATS.items() if any(n.startswith(prefix) for n in names)}
        if len(kinds) == 1:
            fmt = kinds.pop()
            return _package_extraction(path, fmt, limits)
    if declared in _PACKAGE_FORMATS.values():
        raise Unreadable("corrupt", f"{declared}: a zip archive without the {declared} package parts")
    raise Unreadable("unsupported-format", "zip archive that is not a docx, xlsx or pptx package")


def _name(info: zipfile.ZipInfo) -> str:
    """An entry's name for a detail: part names are structure, but keep a hostile one short."""
    shown = info.filename if len(info.filename) <= 80 else info.filename[:77] + "..."
    return repr(shown)


def _count_entries(fh: IO[bytes], size: int, limit: int, label: str) -> None:
    """Walk the central directory's headers and stop past `limit`, before zipfile builds an
    object for each of them. ZIP APPNOTE 4.3.12 (central header), 4.3.14-16 (zip64), 4.3.16."""
    tail_size = min(size, 22 + 0xFFFF)
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(tail):
        raise Unreadable("corrupt", f"{label}: no zip end-of-central-directory record")
    cd_size, cd_offset = struct.unpack_from("<II", tail, end + 12)
    end_at = size - tail_size + end
    start = end_at - cd_size  # where the directory really is, even behind prepended bytes
    locator = end - 20
    if (
        (cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF)
        and locator >= 0
        and tail[locator : locator + 4] == b"PK\x06\x07"
    ):
        (zip64_at,) = struct.unpack_from("<Q", tail, locator + 8)
        fh.seek(zip64_at)
        record = fh.read(56)
        if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
            raise Unreadable("corrupt", f"{label}: bad zip64 end-of-central-directory record")
        (cd_size,) = struct.unpack_from("<Q", record, 40)
        start = zip64_at - cd_size
    if start < 0 or cd_size > size:
        raise Unreadable("corrupt", f"{label}: central directory outside the file")
    fh.seek(start)
    count, position = 0, 0
    while position + 46 <= cd_size:
        fh.seek(start + position)
        header = fh.read(46)
        if not header.startswith(b"PK\x01\x02"):
            break
        count += 1
        if count > limit:
            raise Unreadable("zip-bomb", f"{label}: more than {limit} zip entries")
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", header, 28)
        position += 46 + name_len + extra_len + comment_len


def _check_zip(
    fh: IO[bytes], size: int, limits: ExtractionLimits, budget: list[int], label: str, *, depth: int
) -> list[str]:
    """Refuse a zip that would inflate past the limits, before a library reads it:
    - the central directory's entry count (walked before zipfile parses it);
    - every entry's declared uncompressed size against what is left of the budget, shared with
      the archives nested in it, and its compression ratio (per entry above a grace size, and
      overall);
    - entries whose data overlap (the overlapping-file bomb: many entries, one kernel);
    - the declarations themselves: every entry is inflated here, through a cap one byte over its
      declared size, and must come out exactly that size with its CRC-32. (CPython's zipfile
      also stops at the declared size, but a package's libraries would then parse a truncated
      part; here a lie is a refusal.)
    - nested archives: an entry that is itself a zip is checked the same way, within the same
      budget, at most _MAX_NESTING deep.
    Office packages use only the stored and deflate methods and no zip encryption (ECMA-376 Part 2,
    9.2 "Mapping to a ZIP archive"); anything else is not a package this reads."""
    _count_entries(fh, size, limits.max_zip_entries, label)
    fh.seek(0)
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, struct.error) as exc:
        raise Unreadable("corrupt", f"{label}: {type(exc).__name__} reading the zip directory") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        declared_total = compressed_total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise Unreadable("encrypted", f"{label}: zip entry {_name(info)} is encrypted")
            if info.compress_type not in (_STORED, _DEFLATED):
                raise Unreadable(
                    "unsupported-format",
                    f"{label}: zip entry {_name(info)} uses compression method {info.compress_type}",
                )
            if info.compress_type == _STORED and info.compress_size != info.file_size:
                raise Unreadable("corrupt", f"{label}: stored zip entry {_name(info)} with two different sizes")
            if info.file_size > _RATIO_GRACE_BYTES and info.file_size > limits.max_compression_ratio * max(
                info.compress_size, 1
            ):
                raise Unreadable(
                    "zip-bomb",
                    f"{label}: zip entry {_name(info)} declares a compression ratio"
                    f" over {limits.max_compression_ratio:g}",
                )
            declared_total += info.file_size
            compressed_total += info.compress_size
        budget[0] -= declared_total
        if budget[0] < 0:
            raise Unreadable("zip-bomb", f"{label}: uncompressed size over {limits.max_uncompressed_bytes} bytes")
        if declared_total > _RATIO_GRACE_BYTES and declared_total > limits.max_compression_ratio * max(
            compressed_total, 1
        ):
            raise Unreadable("zip-bomb", f"{label}: overall compression ratio over {limits.max_compression_ratio:g}")
        _refuse_overlaps(infos, size, label)
        for info in infos:
            nested = _verify_entry(fh, info, label)
            if nested is not None:
                with nested:
                    if depth + 1 > _MAX_NESTING:
                        raise Unreadable("zip-bomb", f"{label}: archives nested more than {_MAX_NESTING} deep")
                    _check_zip(
                        nested, info.file_size, limits, budget, f"{label} (nested {_name(info)})", depth=depth + 1
                    )
        return [i.filename for i in infos]


def _refuse_overlaps(infos: list[zipfile.ZipInfo], size: int, label: str) -> None:
    previous_end, previous = 0, None
    for info in sorted(infos, key=lambda i: i.header_offset):
        # A local header is at least 30 bytes and repeats the name.
        end = info.header_offset + 30 + len(info.filename.encode("utf-8")) + info.compress_size
        if end > size:
            raise Unreadable("corrupt", f"{label}: zip entry {_name(info)} runs past the end of the file")
        if previous is not None and info.header_offset < previous_end:
            raise Unreadable("zip-bomb", f"{label}: zip entries {_name(previous)} and {_name(info)} overlap")
        previous_end, previous = end, info


def _verify_entry(fh: IO[bytes], info: zipfile.ZipInfo, label: str) -> IO[bytes] | None:
    """Inflate one entry from its raw data, capped one byte past its declared size; return a
    spooled copy of it when it is itself a zip archive (to be checked in turn)."""
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or not local.startswith(b"PK\x03\x04"):
        raise Unreadable("corrupt", f"{label}: zip entry {_name(info)} has no local header")
    name_len, extra_len = struct.unpack_from("<HH", local, 26)
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    inflater = zlib.decompressobj(-15) if info.compress_type == _DEFLATED else None
    left_in, produced, crc = info.compress_size, 0, 0
    nested: IO[bytes] | None = None
    head = b""  # the first bytes, until there are 4 to tell whether the entry is an archive
    decided = False

    def take(data: bytes) -> None:
        nonlocal produced, crc, nested, head, decided
        produced += len(data)
        if produced > info.file_size:
            raise Unreadable("zip-bomb", f"{label}: zip entry {_name(info)} inflates past its declared size")
        crc = zlib.crc32(data, crc)
        if not decided:
            head += data
            if len(head) < 4:
                return
            decided = True
            if head.startswith(b"PK\x03\x04"):
                # Closed by the caller once checked, or below when the entry is refused.
                nested = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115
                nested.write(head)
            head = b""
        elif nested is not None:
            nested.write(data)

    try:
        while left_in > 0:
            raw = fh.read(min(_VERIFY_BLOCK, left_in))
            if not raw:
                raise Unreadable("corrupt", f"{label}: zip entry {_name(info)} is cut short")
            left_in -= len(raw)
            if inflater is None:
                take(raw)
                continue
            out = inflater.decompress(raw, info.file_size - produced + 1)
            take(out)
            while inflater.unconsumed_tail:
                take(inflater.decompress(inflater.unconsumed_tail, info.file_size - produced + 1))
        if inflater is not None:
            take(inflater.flush())
            if not inflater.eof:
                raise Unreadable("corrupt", f"{label}: zip entry {_name(info)} has a truncated deflate stream")
    except zlib.error:
        if nested is not None:
            nested.close()
        raise Unreadable("corrupt", f"{label}: zip entry {_name(info)} does not inflate (zlib.error)") from None
    except Unreadable:
        if nested is not None:
            nested.close()
        raise
    if produced != info.file_size or crc != info.CRC:
        if nested is not None:
            nested.close()
        raise Unreadable("corrupt", f"{label}: zip entry {_name(info)} does not match its declared size and CRC-32")
    if nested is not None:
        nested.seek(0)
    return nested


# ---------------------------------------------------------------------------------------------
# docx, xlsx, pptx


def _package_extraction(path: Path, fmt: str, limits: ExtractionLimits) -> Extraction:
    if fmt == "docx":
        import docx

        return Extraction(f"python-docx {docx.__version__}", fmt, _source=lambda: _docx_segments(path), _limits=limits)
    if fmt == "xlsx":
        import openpyxl  # type: ignore[import-untyped]

        return Extraction(f"openpyxl {openpyxl.__version__}", fmt, _source=lambda: _xlsx_segments(path), _limits=limits)
    import pptx

    return Extraction(f"python-pptx {pptx.__version__}", fmt, _source=lambda: _pptx_segments(path), _limits=limits)


def _not_a(fmt: str, exc: Exception) -> Unreadable:
    return Unreadable("corrupt", f"{fmt}: {type(exc).__name__} opening the package")


def _docx_segments(path: Path) -> _Segments:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except ValueError as exc:  # e.g. a macro-enabled or template main part python-docx refuses
        raise _not_a("docx", exc) from None

    def blocks(items: Iterable[Paragraph | Table], where: str) -> Iterator[tuple[str, str | None]]:
        paragraphs = tables = 0
        for item in items:
            if isinstance(item, Paragraph):
                paragraphs += 1
                yield item.text + "\n", f"{where}paragraph {paragraphs}"
            else:
                tables += 1
                yield from table(item, f"{where}table {tables} ")

    def table(item: Table, where: str) -> Iterator[tuple[str, str | None]]:
        # A merged cell is returned for every grid cell it spans. The set holds the <w:tc> elements
        # themselves (lxml proxies are compared by identity only while they are alive).
        seen: set[object] = set()
        for number, row in enumerate(item.rows, 1):
            cells, nested = [], []
            for cell in row.cells:
                element = cell._tc  # the <w:tc> element: one per real cell
                if element in seen:
                    continue
                seen.add(element)
                cells.append(" ".join(p.text for p in cell.paragraphs))
                nested.extend(cell.tables)
            yield "\t".join(cells) + "\n", f"{where}row {number}"
            for index, inner in enumerate(nested, 1):
                yield from table(inner, f"{where}row {number} nested table {index} ")

    yield from blocks(document.iter_inner_content(), "")
    for number, section in enumerate(document.sections, 1):
        for kind, part in (
            ("header", section.header),
            ("first-page header", section.first_page_header),
            ("even-page header", section.even_page_header),
            ("footer", section.footer),
            ("first-page footer", section.first_page_footer),
            ("even-page footer", section.even_page_footer),
        ):
            if not part.is_linked_to_previous:
                yield from blocks(part.iter_inner_content(), f"section {number} {kind} ")
    for number, comment in enumerate(document.comments, 1):
        yield from blocks(comment.iter_inner_content(), f"comment {number} ")


def _cell_text(value: object) -> str:
    """A cell value as text: numbers without a spurious ".0", dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def _xlsx_segments(path: Path) -> _Segments:
    import openpyxl

    # Read-only mode streams each sheet's rows. Its row and column counts come from the sheet's
    # declared dimension, which writers get wrong (and a hostile one can make A1:XFD1048576, a
    # billion empty cells): reset_dimensions() reads only the rows the sheet holds.
    # https://openpyxl.readthedocs.io/en/stable/optimized.html#worksheet-dimensions
    # Opened as a file object: given a path, openpyxl refuses any name not ending .xlsx/.xlsm, and a
    # downloaded file sits in a temporary file named by saaslens, not by its owner.
    handle = path.open("rb")
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (KeyError, ValueError, TypeError) as exc:
        handle.close()
        raise _not_a("xlsx", exc) from None
    except BaseException:
        handle.close()
        raise
    try:
        for sheet in workbook.worksheets:
            title = _CONTROL.sub(" ", str(sheet.title))[:31]
            sheet.reset_dimensions()
            for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
                cells = [_cell_text(v) for v in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    yield "\t".join(cells) + "\n", f"sheet '{title}' row {number}"
    finally:
        workbook.close()
        handle.close()


def _pptx_segments(path: Path) -> _Segments:
    import pptx
    from pptx.shapes.autoshape import Shape
    from pptx.shapes.base import BaseShape
    from pptx.shapes.graphfrm import GraphicFrame
    from pptx.shapes.group import GroupShape

    try:
        presentation = pptx.Presentation(str(path))
    except ValueError as exc:
        raise _not_a("pptx", exc) from None

    def texts(shapes: Iterable[BaseShape]) -> Iterator[str]:
        for shape in shapes:
            if isinstance(shape, GroupShape):
                yield from texts(shape.shapes)
            elif isinstance(shape, GraphicFrame):
                if shape.has_table:
                    for row in shape.table.rows:
                        yield "\t".join(c.text for c in row.cells if not c.is_spanned)
            elif isinstance(shape, Shape) and shape.has_text_frame:
                yield shape.text_frame.text

    for number, slide in enumerate(presentation.slides, 1):
        for text in texts(slide.shapes):
            # python-pptx renders a line break inside a paragraph as a vertical tab.
            yield text.replace("\v", "\n") + "\n", f"slide {number}"
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text:
                yield notes.text.replace("\v", "\n") + "\n", f"slide {number} notes"
