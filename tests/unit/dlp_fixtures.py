"""Files with given lines of text in every format content inspection reads, plus the hostile ones
it must refuse (zip bombs, a zip whose directory lies, encrypted documents), built with the same
libraries the extractor reads them with.

Deterministic: the same arguments write the same bytes (zip timestamps and document properties
are pinned; plain PDFs are written by hand), so a sandbox serving them keeps stable etags. The
exception is `write_pdf` with a password: PDF encryption salts its keys at random.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

PINNED_TIME = datetime(2024, 1, 2, 3, 4, 5)
_ZIP_TIME = (2024, 1, 2, 3, 4, 4)


def _repack(path: Path) -> None:
    """Rewrite a zip package with pinned timestamps and entry order, so it is byte-stable."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time over the modified property whatever it was set to.
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>2024-01-02T03:04:05Z\g<2>", data
                )
            pinned = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = 0o600 << 16
            target.writestr(pinned, data)
    path.write_bytes(buffer.getvalue())


# ---------------------------------------------------------------------------------------------
# Text formats


def write_txt(path: Path, lines: Sequence[str], *, encoding: str = "utf-8") -> Path:
    path.write_bytes("".join(line + "\n" for line in lines).encode(encoding))
    return path


def write_csv(path: Path, rows: Sequence[Sequence[str]], *, encoding: str = "utf-8") -> Path:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_html(path: Path, lines: Sequence[str], *, script: str = "", style: str = "") -> Path:
    from html import escape

    body = "".join(f"<p>{escape(line)}</p>\n" for line in lines)
    path.write_text(
        "<!DOCTYPE html>\n<html><head><title>Report</title>"
        f"<style>{style}</style><script>{script}</script></head>\n<body>\n{body}</body></html>\n",
        encoding="utf-8",
    )
    return path


# ---------------------------------------------------------------------------------------------
# Office packages


def write_docx(
    path: Path,
    lines: Sequence[str],
    *,
    table: Sequence[Sequence[str]] = (),
    header: str = "",
    footer: str = "",
) -> Path:
    """A Word document: one paragraph per line, then a table of `table` rows."""
    import docx

    document = docx.Document()
    document.core_properties.created = PINNED_TIME
    document.core_properties.modified = PINNED_TIME
    for line in lines:
        document.add_paragraph(line)
    if table:
        grid = document.add_table(rows=len(table), cols=max(len(r) for r in table))
        for row, values in zip(grid.rows, table, strict=False):
            for cell, value in zip(row.cells, values, strict=False):
                cell.text = value
    section = document.sections[0]
    if header:
        section.header.paragraphs[0].text = header
    if footer:
        section.footer.paragraphs[0].text = footer
    document.save(str(path))
    _repack(path)
    return path


def write_xlsx(path: Path, sheets: Mapping[str, Sequence[Sequence[object]]]) -> Path:
    """A workbook with one sheet per key, rows of cell values (str, int, float, date...)."""
    import openpyxl  # type: ignore[import-untyped]

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    workbook.properties.created = PINNED_TIME
    workbook.properties.modified = PINNED_TIME
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    workbook.save(str(path))
    _repack(path)
    return path


def write_pptx(path: Path, slides: Sequence[Sequence[str]], *, notes: Sequence[str] = ()) -> Path:
    """A presentation: one slide per item, its lines in a text box; `notes[i]` on slide i+1."""
    import pptx
    from pptx.util import Inches

    presentation = pptx.Presentation()
    presentation.core_properties.created = PINNED_TIME
    presentation.core_properties.modified = PINNED_TIME
    blank = presentation.slide_layouts[6]
    for index, lines in enumerate(slides):
        slide = presentation.slides.add_slide(blank)
        box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(8), Inches(5))
        box.text_frame.text = "\n".join(lines)
        if index < len(notes) and notes[index]:
            slide.notes_slide.notes_text_frame.text = notes[index]
    presentation.save(str(path))
    _repack(path)
    return path


# ---------------------------------------------------------------------------------------------
# PDF


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _plain_pdf(pages: Sequence[Sequence[str]]) -> bytes:
    """A minimal PDF 1.4 (ISO 32000-1 7.5: header, objects, xref, trailer): one page per item, each
    line shown in Helvetica (a standard 14 font, no embedding) on a line of its own."""
    objects: list[bytes] = []
    page_ids = [3 + 2 * i for i in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)))
    for index, lines in enumerate(pages):
        content = b"BT /F1 11 Tf 14 TL 72 760 Td " + b" ".join(_pdf_string(line) + b" Tj T*" for line in lines) + b" ET"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font_id, page_ids[index] + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def write_pdf(
    path: Path,
    pages: Sequence[Sequence[str]],
    *,
    user_password: str | None = None,
    owner_password: str | None = None,
) -> Path:
    """A PDF with one page per item. With a password it is encrypted by pypdf (AES-256): a user
    password is needed to open it; an owner password alone (user password empty) only restricts
    permissions, and every reader opens it."""
    plain = _plain_pdf(pages)
    if user_password is None and owner_password is None:
        path.write_bytes(plain)
        return path
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    writer.encrypt(user_password=user_password or "", owner_password=owner_password, algorithm="AES-256")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


# ---------------------------------------------------------------------------------------------
# Hostile files


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def _raw_zip(entries: Sequence[tuple[str, int, bytes, int, int]]) -> bytes:
    """A zip of (name, method, data as stored, CRC-32, uncompressed size) entries, written by hand
    (ZIP APPNOTE 4.3.7 local header, 4.3.12 central header, 4.3.16 end record)."""
    dos_time = (_ZIP_TIME[3] << 11) | (_ZIP_TIME[4] << 5) | (_ZIP_TIME[5] // 2)
    dos_date = ((_ZIP_TIME[0] - 1980) << 9) | (_ZIP_TIME[1] << 5) | _ZIP_TIME[2]
    out, central = bytearray(), bytearray()
    for name, method, data, crc, size in entries:
        encoded = name.encode()
        fields = struct.pack("<HHHHHIII", 20, 0, method, dos_time, dos_date, crc, len(data), size)
        central += b"PK\x01\x02" + struct.pack("<H", 20) + fields
        central += struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0o600 << 16, len(out)) + encoded
        out += b"PK\x03\x04" + fields + struct.pack("<HH", len(encoded), 0) + encoded + data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + end)


def write_zip_bomb_docx(path: Path, *, inflated_mib: int = 4095) -> Path:
    """A "docx" whose word/document.xml inflates to `inflated_mib` MiB of spaces (4095 MiB, just
    under the 4 GiB a zip entry can declare without zip64): ~1000:1, a 4 MB file. Its deflate
    stream is one compressed MiB repeated: after a full flush deflate starts afresh, so the same
    input compresses to the same bytes. Sizes and CRC-32 are true; the ratio gives it away."""
    block = b" " * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = repeated * inflated_mib + compressor.flush()
    crc = 0
    for _ in range(inflated_mib):
        crc = zlib.crc32(block, crc)
    content_types = (_CONTENT_TYPES, zlib.crc32(_CONTENT_TYPES))
    path.write_bytes(
        _raw_zip(
            [
                ("[Content_Types].xml", 0, content_types[0], content_types[1], len(_CONTENT_TYPES)),
                ("word/document.xml", 8, stream, crc, inflated_mib << 20),
            ]
        )
    )
    return path


def _set_uncompressed_size(data: bytearray, name: bytes, size: int) -> None:
    """Overwrite one entry's uncompressed size in its local header (offset 22) and its central
    directory header (offset 24) (ZIP APPNOTE 4.3.7 and 4.3.12)."""
    local = data.find(b"PK\x03\x04")
    while local >= 0:
        name_len = struct.unpack_from("<H", data, local + 26)[0]
        if bytes(data[local + 30 : local + 30 + name_len]) == name:
            struct.pack_into("<I", data, local + 22, size)
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_len]) == name:
            struct.pack_into("<I", data, central + 24, size)
        central = data.find(b"PK\x01\x02", central + 4)


def write_lying_docx(path: Path, lines: Sequence[str], *, declared_bytes: int = 1000) -> Path:
    """A real docx whose word/document.xml says it inflates to `declared_bytes` while it inflates
    to more (its CRC still that of the real data)."""
    write_docx(path, lines)
    data = bytearray(path.read_bytes())
    _set_uncompressed_size(data, b"word/document.xml", declared_bytes)
    path.write_bytes(bytes(data))
    return path


def write_nested_zip_docx(path: Path, lines: Sequence[str], *, depth: int) -> Path:
    """A real docx carrying, as word/embeddings/package.zip, a zip nested `depth` levels deep."""
    inner = b"innermost"
    for level in range(depth):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(zipfile.ZipInfo(f"level{level}.bin", date_time=_ZIP_TIME), inner)
        inner = buffer.getvalue()
    write_docx(path, lines)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(zipfile.ZipInfo("word/embeddings/package.zip", date_time=_ZIP_TIME), inner)
    return path


def write_compound_file(path: Path, streams: dict[str, bytes]) -> Path:
    """An OLE compound file ([MS-CFB] version 3: 512-byte sectors) holding `streams` at its root.
    Each stream is padded to at least 4096 bytes so it lives in regular sectors (shorter streams
    belong in the mini stream, which this writer does not build)."""
    sector = 512
    datas = [data.ljust(4096, b"\x00") for data in streams.values()]
    data_sectors = [len(d) // sector + (1 if len(d) % sector else 0) for d in datas]
    n_entries = 1 + len(datas)
    dir_sectors = -(-n_entries * 128 // sector)
    # Layout: sector 0 = FAT, then directory sectors, then each stream's sectors.
    total = 1 + dir_sectors + sum(data_sectors)
    fat = [0xFFFFFFFF] * (sector // 4)
    fat[0] = 0xFFFFFFFD  # FATSECT
    for s in range(1, 1 + dir_sectors):
        fat[s] = s + 1 if s < dir_sectors else 0xFFFFFFFE
    starts = []
    at = 1 + dir_sectors
    for count in data_sectors:
        starts.append(at)
        for s in range(at, at + count):
            fat[s] = s + 1 if s < at + count - 1 else 0xFFFFFFFE
        at += count
    assert total <= len(fat)

    def entry(name: str, kind: int, start: int, size: int, child: int, right: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBB", len(encoded), kind, 1)  # name length, object type, black
            + struct.pack("<III", 0xFFFFFFFF, right, child)  # left, right sibling, child
            + b"\x00" * 16  # CLSID
            + struct.pack("<I", 0)  # state bits
            + b"\x00" * 16  # creation and modified times
            + struct.pack("<IQ", start, size)
        )

    names = list(streams)
    directory = entry("Root Entry", 5, 0xFFFFFFFE, 0, 1 if names else 0xFFFFFFFF, 0xFFFFFFFF)
    for index, name in enumerate(names):
        right = index + 2 if index + 1 < len(names) else 0xFFFFFFFF
        directory += entry(name, 2, starts[index], len(streams[name]), 0xFFFFFFFF, right)
    directory = directory.ljust(dir_sectors * sector, b"\x00")

    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    difat = [0] + [0xFFFFFFFF] * 108
    struct.pack_into("<109I", header, 0x4C, *difat)
    body = struct.pack(f"<{len(fat)}I", *fat) + directory
    body += b"".join(d.ljust(n * sector, b"\x00") for d, n in zip(datas, data_sectors, strict=True))
    path.write_bytes(bytes(header) + body)
    return path


def write_encrypted_docx(path: Path) -> Path:
    """What Word saves for a password-protected docx: a compound file with EncryptionInfo (agile
    encryption, version 4.4, [MS-OFFCRYPTO] 2.3.4.10) and EncryptedPackage streams. The encrypted
    bytes are random-looking filler: no reader is meant to decrypt them."""
    info = struct.pack("<HHI", 4, 4, 0x40) + (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption"/>'
    )
    package = struct.pack("<Q", 8192) + bytes((i * 131 + 7) % 251 for i in range(8192))
    return write_compound_file(path, {"EncryptionInfo": info, "EncryptedPackage": package})


def deflate_ratio(data: bytes) -> float:
    """How much `data` shrinks under raw deflate (for tests choosing limits)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return len(data) / max(1, len(compressor.compress(data) + compressor.flush()))


def write_overlapping_zip_docx(path: Path, *, copies: int = 50) -> Path:
    """The overlapping-file bomb's shape: one local entry of word/document.xml, and a central
    directory naming it `copies` more times under other names, every entry at the same offset."""
    xml = b'<?xml version="1.0"?><w:document xmlns:w="urn:w"><w:body/></w:document>' + b" " * 2000
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = compressor.compress(xml) + compressor.flush()
    data = bytearray(
        _raw_zip(
            [
                ("[Content_Types].xml", 0, _CONTENT_TYPES, zlib.crc32(_CONTENT_TYPES), len(_CONTENT_TYPES)),
                ("word/document.xml", 8, stream, zlib.crc32(xml), len(xml)),
            ]
        )
    )
    end = data.rfind(b"PK\x05\x06")
    central_start = struct.unpack_from("<I", data, end + 16)[0]
    second = data.find(b"PK\x01\x02", central_start + 4)  # word/document.xml's central header
    original = bytes(data[second:end])
    extra = bytearray()
    for index in range(copies):
        # Same length as "word/document.xml", so the header needs no other change.
        extra += original.replace(b"word/document.xml", f"word/doc{index:04d}0.xml".encode())
    central_size = struct.unpack_from("<I", data, end + 12)[0] + len(extra)
    data[end:end] = extra
    end += len(extra)
    struct.pack_into("<HHI", data, end + 8, 2 + copies, 2 + copies, central_size)
    path.write_bytes(bytes(data))
    return path
