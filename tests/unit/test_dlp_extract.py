"""Text extraction for content inspection: every format's text comes out with a location that
names no content, in line-bounded chunks whose offsets add up; hostile files (zip bombs, lying
zip directories, encrypted and corrupt documents, binaries) are refused with the right reason and
a detail that quotes nothing from the file; a 200 MB text file is read in bounded memory."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from saaslens.dlp.extract import Extraction, ExtractionLimits, TextChunk, Unreadable, open_extraction

from . import dlp_fixtures as fx

CARD = "4111 1111 1111 1111"
SECRET = "PLANTED-7f3a9c"  # a marker that must never appear in a refusal's detail


def _open(path: Path, *, mime: str | None = None, name: str | None = None, **limits: int | float) -> Extraction:
    return open_extraction(path, name=name or path.name, mime_type=mime, limits=ExtractionLimits(**limits))  # type: ignore[arg-type]


def _chunks(path: Path, **kwargs: object) -> list[TextChunk]:
    return list(_open(path, **kwargs).chunks())  # type: ignore[arg-type]


def _text(path: Path, **kwargs: object) -> str:
    return "".join(c.text for c in _chunks(path, **kwargs))


def _where(chunks: list[TextChunk], needle: str) -> str:
    """The location of the chunk holding `needle` (chunks are small in these tests)."""
    found = [c.where for c in chunks if needle in c.text]
    assert found, f"{needle!r} not extracted"
    return found[0]


def _refused(path: Path, reason: str, **kwargs: object) -> Unreadable:
    with pytest.raises(Unreadable) as caught:
        extraction = _open(path, **kwargs)  # type: ignore[arg-type]
        for _ in extraction.chunks():
            pass
    error = caught.value
    assert error.reason == reason, (error.reason, error.detail)
    assert SECRET not in str(error) and CARD not in str(error)
    assert error.__cause__ is None and (error.__suppress_context__ or error.__context__ is None)
    return error


# ---------------------------------------------------------------------------------------------
# Each format


def test_text_formats_and_their_line_locations(tmp_path: Path) -> None:
    lines = [f"row {i}" for i in range(1, 40)] + [f"card {CARD} {SECRET}"]
    txt = fx.write_txt(tmp_path / "notes.txt", lines)
    extraction = _open(txt, chunk_chars=64)
    chunks = list(extraction.chunks())
    assert (extraction.format, extraction.extractor) == ("txt", "text (utf-8 detected)")
    assert _where(chunks, CARD) == f"line {_first_line(chunks, CARD)}"
    assert "".join(c.text for c in chunks) == "".join(line + "\n" for line in lines)

    csv = fx.write_csv(tmp_path / "export.csv", [["name", "card"], ["Ann", CARD]])
    assert _open(csv).format == "csv"
    assert f"Ann,{CARD}\n" in _text(csv)

    data = tmp_path / "dump"
    data.write_text(json.dumps({"card": CARD}), encoding="utf-8")
    extraction = _open(data, mime="application/json")
    assert extraction.format == "json" and CARD in "".join(c.text for c in extraction.chunks())

    md = fx.write_txt(tmp_path / "README.md", ["# Title", f"* card {CARD}"])
    assert _open(md, mime="text/plain").format == "md"  # text/plain says nothing; the name does


def _first_line(chunks: list[TextChunk], needle: str) -> int:
    chunk = next(c for c in chunks if needle in c.text)
    return int(chunk.where.split()[1])


def test_html_text_without_script_or_style(tmp_path: Path) -> None:
    page = fx.write_html(
        tmp_path / "page.html", ["Quarterly report", f"card {CARD} & more"], script="var k='SCRIPT'", style="p{x:1}"
    )
    extraction = _open(page)
    text = "".join(c.text for c in extraction.chunks())
    assert extraction.format == "html" and extraction.extractor == "html.parser (utf-8 detected)"
    assert f"card {CARD} & more" in text.splitlines()
    assert "SCRIPT" not in text and "x:1" not in text
    # Sniffed from the content when neither the mime type nor the name says html.
    assert _open(page, name="download", mime="application/octet-stream").format == "html"


def test_docx_paragraphs_tables_headers_and_footers(tmp_path: Path) -> None:
    path = fx.write_docx(
        tmp_path / "contract.docx",
        ["Contract", "Payment terms below"],
        table=[["field", "value"], ["card", CARD]],
        header=f"header {SECRET}",
        footer="footer line",
    )
    extraction = _open(path)
    chunks = list(extraction.chunks())
    assert extraction.format == "docx" and extraction.extractor.startswith("python-docx ")
    text = "".join(c.text for c in chunks)
    assert f"card\t{CARD}\n" in text  # a table row is one line, cells separated by tabs
    assert f"header {SECRET}\n" in text and "footer line\n" in text
    assert text.startswith("Contract\nPayment terms below\n")
    small = list(_open(path, chunk_chars=32).chunks())
    assert _where(small, CARD) == "table 1 row 2"
    assert _where(small, SECRET) == "section 1 header paragraph 1"


def test_xlsx_rows_with_numbers_and_dates_as_text(tmp_path: Path) -> None:
    q1: list[list[object]] = [["name", "card", "since", "count"]]
    q1.append(["Ann", 4111111111111111, datetime(2024, 1, 5), 3.0])
    q1 += [[] for _ in range(8)] + [["Bob", CARD]]
    path = fx.write_xlsx(tmp_path / "q1.xlsx", {"Summary": [["total", 12.5]], "Q1": q1})
    extraction = _open(path, chunk_chars=24)
    chunks = list(extraction.chunks())
    assert extraction.format == "xlsx" and extraction.extractor.startswith("openpyxl ")
    text = "".join(c.text for c in chunks)
    assert "total\t12.5\n" in text
    assert "Ann\t4111111111111111\t2024-01-05\t3\n" in text
    assert _where(chunks, "Bob") == "sheet 'Q1' row 11"  # empty rows are skipped, not renumbered


def test_pptx_text_frames_and_notes_per_slide(tmp_path: Path) -> None:
    path = fx.write_pptx(
        tmp_path / "deck.pptx", [["Welcome", "Agenda"], ["Billing", f"card {CARD}"]], notes=["", f"notes {SECRET}"]
    )
    extraction = _open(path, chunk_chars=32)
    chunks = list(extraction.chunks())
    assert extraction.format == "pptx" and extraction.extractor.startswith("python-pptx ")
    assert _where(chunks, CARD) == "slide 2"
    assert _where(chunks, SECRET) == "slide 2 notes"
    assert _where(chunks, "Welcome") == "slide 1"


def test_pdf_page_by_page(tmp_path: Path) -> None:
    path = fx.write_pdf(tmp_path / "statement.pdf", [["Statement", "page one"], ["Details", f"card {CARD}"]])
    extraction = _open(path, chunk_chars=32)
    chunks = list(extraction.chunks())
    assert extraction.format == "pdf" and extraction.extractor.startswith("pypdf ")
    assert _where(chunks, CARD) == "page 2"
    assert "".join(c.text for c in chunks).splitlines()[:2] == ["Statement", "page one"]


# ---------------------------------------------------------------------------------------------
# Chunks


def test_chunks_end_at_lines_and_offsets_add_up(tmp_path: Path) -> None:
    lines = [f"{i:05d} " + "x" * (i % 37) for i in range(3000)]
    path = fx.write_txt(tmp_path / "big.txt", lines)
    chunks = _chunks(path, chunk_chars=1000)
    assert len(chunks) > 50
    offset = line = 0
    for chunk in chunks:
        assert chunk.offset == offset
        assert chunk.where == f"line {line + 1}"
        assert chunk.text.endswith("\n") and 0 < len(chunk.text) <= 1000
        offset += len(chunk.text)
        line += chunk.text.count("\n")
    assert "".join(c.text for c in chunks) == path.read_text()


def test_a_line_longer_than_a_chunk_is_cut_at_whitespace(tmp_path: Path) -> None:
    words = [f"w{i:04d}" for i in range(2000)]
    path = fx.write_txt(tmp_path / "one-line.txt", [" ".join(words)])
    chunks = _chunks(path, chunk_chars=100)
    assert all(len(c.text) <= 100 for c in chunks)
    assert all(c.text.endswith((" ", "\n")) for c in chunks)  # no word is split
    assert "".join(c.text for c in chunks).split() == words


def test_max_chars_truncates(tmp_path: Path) -> None:
    path = fx.write_txt(tmp_path / "long.txt", [f"line {i}" for i in range(10_000)])
    extraction = _open(path, chunk_chars=500, max_chars=2000)
    text = "".join(c.text for c in extraction.chunks())
    assert extraction.truncated
    assert 1900 < len(text) <= 2000 and text.endswith("\n")
    whole = _open(path)
    list(whole.chunks())
    assert not whole.truncated


# ---------------------------------------------------------------------------------------------
# Encodings


@pytest.mark.parametrize(
    ("encoding", "lines", "detected"),
    [
        ("latin-1", ["Café naïve résumé, Straße 5, Köln", f"Señor Ibáñez: {CARD}"], "cp1252"),
        ("cp1252", ["Facture n° 12 \u2013 total 12,50 € payé", f"carte {CARD}"], "cp1252"),
        ("utf-16", ["Café naïve résumé", f"card {CARD}"], "utf-16"),
        (
            "shift_jis",
            ["東京都千代田区のお客様の口座番号とカード番号です。", f"カード {CARD} お問い合わせください"] * 4,
            "cp932",
        ),
    ],
)
def test_non_utf8_text_decoded_by_detection(tmp_path: Path, encoding: str, lines: list[str], detected: str) -> None:
    path = fx.write_txt(tmp_path / "legacy.txt", lines, encoding=encoding)
    extraction = _open(path)
    assert "".join(c.text for c in extraction.chunks()) == "".join(line + "\n" for line in lines)
    assert extraction.extractor == f"text ({detected} detected)"


def test_stray_cp1252_bytes_after_a_utf8_start_are_read_as_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"id,name\n" * 20_000 + "café,Jürgen\n".encode("cp1252"))  # past the 64 KiB sample
    text = _text(path)
    assert text.endswith("café,Jürgen\n") and "\ufffd" not in text


# ---------------------------------------------------------------------------------------------
# Refusals


def test_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    path = fx.write_zip_bomb_docx(tmp_path / "bomb.docx")  # 4 MB that inflates to 4 GiB
    started = time.monotonic()
    error = _refused(path, "zip-bomb")
    assert time.monotonic() - started < 5
    assert "compression ratio" in error.detail and "word/document.xml" in error.detail


def test_zip_bomb_under_a_lenient_ratio_still_hits_the_size_budget(tmp_path: Path) -> None:
    path = fx.write_zip_bomb_docx(tmp_path / "bomb.docx", inflated_mib=600)
    error = _refused(path, "zip-bomb", max_compression_ratio=1e9)
    assert "uncompressed size over" in error.detail


def test_lying_central_directory_is_caught_by_inflating(tmp_path: Path) -> None:
    path = fx.write_lying_docx(tmp_path / "lie.docx", [f"paragraph {i} {SECRET}" for i in range(500)])
    error = _refused(path, "zip-bomb")
    assert "inflates past its declared size" in error.detail


def test_too_many_entries_and_too_deep_nesting(tmp_path: Path) -> None:
    path = fx.write_docx(tmp_path / "plain.docx", ["hello"])
    with zipfile.ZipFile(path) as archive:
        entries = len(archive.infolist())
    assert "zip entries" in _refused(path, "zip-bomb", max_zip_entries=entries - 1).detail
    assert _text(path, max_zip_entries=entries) == "hello\n"

    nested_ok = fx.write_nested_zip_docx(tmp_path / "embedded.docx", ["hello"], depth=1)
    assert _text(nested_ok) == "hello\n"
    too_deep = fx.write_nested_zip_docx(tmp_path / "matryoshka.docx", ["hello"], depth=3)
    assert "nested more than" in _refused(too_deep, "zip-bomb").detail


def test_encrypted_pdf_refused_and_owner_password_only_pdf_read(tmp_path: Path) -> None:
    locked = fx.write_pdf(tmp_path / "locked.pdf", [[f"card {CARD}"]], user_password="open-sesame", owner_password="o")
    assert _refused(locked, "encrypted").detail == "pdf: encrypted with a user password"
    # An owner password only restricts permissions: the empty user password opens it.
    restricted = fx.write_pdf(tmp_path / "restricted.pdf", [[f"card {CARD}"]], owner_password="owner-only")
    assert _text(restricted) == f"card {CARD}\n"


def test_encrypted_office_document_and_legacy_compound_file(tmp_path: Path) -> None:
    encrypted = fx.write_encrypted_docx(tmp_path / "salary.docx")
    assert _refused(encrypted, "encrypted").detail.startswith("docx document protected by a password")
    legacy = fx.write_compound_file(tmp_path / "old.doc", {"WordDocument": b"\xec\xa5" + b"\x00" * 600})
    _refused(legacy, "unsupported-format")


def test_corrupt_files(tmp_path: Path) -> None:
    pdf = fx.write_pdf(tmp_path / "good.pdf", [[f"card {CARD} {SECRET}"]])
    cut_pdf = tmp_path / "cut.pdf"
    cut_pdf.write_bytes(pdf.read_bytes()[:200])
    assert _refused(cut_pdf, "corrupt").detail.startswith("pdf: ")

    docx = fx.write_docx(tmp_path / "good.docx", [f"card {CARD} {SECRET}"])
    cut_docx = tmp_path / "cut.docx"
    cut_docx.write_bytes(docx.read_bytes()[:1500])
    _refused(cut_docx, "corrupt")

    # A sound zip whose main part is not XML: the library's error class, not its message.
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(docx) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = data[: len(data) // 2] + f"<w:p>{SECRET} {CARD}".encode()
            target.writestr(info, data)
    assert "XMLSyntaxError" in _refused(broken, "corrupt").detail

    # Declared a PDF by its mime type, but its bytes are not one.
    fake = fx.write_txt(tmp_path / "fake", [f"not a pdf {SECRET}"])
    assert "no pdf signature" in _refused(fake, "corrupt", mime="application/pdf").detail


def test_unsupported_too_large_and_empty(tmp_path: Path) -> None:
    png = tmp_path / "photo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert _refused(png, "unsupported-format", mime="image/png").detail == "PNG image"
    noise = tmp_path / "blob.txt"  # a name that claims text does not make bytes text
    noise.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(20_000)))
    _refused(noise, "unsupported-format")
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.txt", "hello")
    assert "not a docx" in _refused(archive, "unsupported-format").detail

    big = fx.write_txt(tmp_path / "big.txt", ["x" * 99])
    assert _refused(big, "too-large", max_file_bytes=99).detail == "100 bytes, over the limit of 99"
    assert _text(big, max_file_bytes=100) == "x" * 99 + "\n"

    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    _refused(empty, "empty")
    blank = fx.write_docx(tmp_path / "blank.docx", [])
    _refused(blank, "empty")


def test_pypdf_messages_are_withheld(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pdf = fx.write_pdf(tmp_path / "ok.pdf", [[f"card {CARD}"]])
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(pdf.read_bytes().replace(b"startxref\n", b"startxref\n9").replace(b"/Root", b"/Root "))
    with caplog.at_level(logging.WARNING):
        list(_open(damaged).chunks())
    from_pypdf = [r for r in caplog.records if r.name.startswith("pypdf")]
    assert from_pypdf, "the damaged xref should make pypdf warn"
    assert all("message is withheld" in r.getMessage() for r in from_pypdf)


def test_fixtures_are_deterministic(tmp_path: Path) -> None:
    def build(folder: Path) -> list[bytes]:
        folder.mkdir()
        return [
            fx.write_docx(folder / "a.docx", ["x"], table=[["a", "b"]]).read_bytes(),
            fx.write_xlsx(folder / "a.xlsx", {"S": [["a", 1]]}).read_bytes(),
            fx.write_pptx(folder / "a.pptx", [["x"]], notes=["n"]).read_bytes(),
            fx.write_pdf(folder / "a.pdf", [["x"]]).read_bytes(),
            fx.write_encrypted_docx(folder / "e.docx").read_bytes(),
        ]

    assert build(tmp_path / "one") == build(tmp_path / "two")


# ---------------------------------------------------------------------------------------------
# Memory


_MEASURE = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from saaslens.dlp.extract import ExtractionLimits, open_extraction

    def peak_kib():
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

    path = Path(sys.argv[1])
    extraction = open_extraction(path, name=path.name, mime_type="text/csv",
                                 limits=ExtractionLimits(max_file_bytes=300 * 2**20, max_chars=300 * 2**20))
    before = peak_kib()
    chars = found = 0
    for chunk in extraction.chunks():
        chars += len(chunk.text)
        found += chunk.text.count("4111 1111 1111 1111")
    print(before, peak_kib(), chars, found, extraction.extractor)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_200_mb_csv_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    row = "1042,Jürgen Müller,jurgen@example.com,Straße 5 Köln,2024-01-05,ACTIVE,note note note note\n"
    block = (row * ((1 << 20) // len(row))).encode("utf-8")
    with path.open("wb") as fh:
        while fh.tell() < 200 * 2**20:
            fh.write(block)
        fh.write(f"9999,Planted,{CARD}\n".encode())
    size = path.stat().st_size
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "include")}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True, env=env
    )
    elapsed = time.monotonic() - started
    before, after, chars, found, extractor = result.stdout.split(maxsplit=4)
    growth_mib = (int(after) - int(before)) / 1024
    print(
        f"200 MB csv: {size / 2**20:.0f} MiB, {elapsed:.1f} s,"
        f" peak RSS growth {growth_mib:.1f} MiB ({extractor.strip()})"
    )
    assert int(found) == 1
    assert int(chars) > 190 * 2**20
    assert growth_mib < 50


def test_overlapping_entries_are_refused(tmp_path: Path) -> None:
    path = fx.write_overlapping_zip_docx(tmp_path / "overlap.docx")
    with zipfile.ZipFile(path) as archive:  # zipfile lists it: 51 entries at one offset
        offsets = [i.header_offset for i in archive.infolist() if i.filename.startswith("word/")]
    assert len(offsets) == 51 and len(set(offsets)) == 1
    assert "overlap" in _refused(path, "zip-bomb").detail


def test_office_files_are_read_whatever_their_file_name(tmp_path: Path) -> None:
    """A downloaded file lies in a temporary file saaslens names; the format comes from its bytes."""
    for builder, name in (
        (lambda p: fx.write_xlsx(p, {"S": [["card", "4111 1111 1111 1111"]]}), "book.xlsx"),
        (lambda p: fx.write_docx(p, ["card 4111 1111 1111 1111"]), "doc.docx"),
        (lambda p: fx.write_pptx(p, [["card 4111 1111 1111 1111"]]), "deck.pptx"),
    ):
        path = builder(tmp_path / name).rename(tmp_path / f"{name}.content")
        extraction = open_extraction(path, name=name, mime_type=None)
        assert "4111 1111 1111 1111" in "".join(c.text for c in extraction.chunks()), name
