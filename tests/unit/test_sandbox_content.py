"""The sandbox's document corpus (saaslens_sandbox.kit.content) against saaslens' own content
inspection: every document, extracted by saaslens.dlp.extract and run through the detectors of the
default policy file, reports exactly what the corpus planted, per detector, and none of its decoys;
the hostile files are refused for the reason the corpus expects. The end-to-end scan is held to the
corpus' oracle, so the oracle is held to the scanner here."""

from __future__ import annotations

import collections
import io
import os
import random
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from saaslens import settings
from saaslens.dlp.detectors import Detector
from saaslens.dlp.extract import Unreadable, open_extraction
from saaslens.dlp.inspect import inspect_pieces
from saaslens.dlp.policies import DlpPolicies, load_policies
from saaslens_sandbox.kit import content
from saaslens_sandbox.kit.content import EXPORT_FORMATS, ContentCorpus, Document, Planted

KEY = b"test-fingerprint-key-0123456789ab"

MIME_BY_EXTENSION = {
    "docx": content.DOCX,
    "xlsx": content.XLSX,
    "pptx": content.PPTX,
    "pdf": content.PDF,
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "txt": "text/plain",
    "md": "text/markdown",
    "html": "text/html",
    "json": "application/json",
    "png": "image/png",  # anything else: text content, the MIME type kept
}
PER_FORMAT = 24


@pytest.fixture(scope="module")
def policies() -> DlpPolicies:
    return load_policies(settings.INCLUDE_DIR / "dlp_policies.yaml")


@pytest.fixture(scope="module")
def detectors(policies: DlpPolicies) -> list[Detector]:
    return policies.build_detectors()


def scan(document: Document, policies: DlpPolicies, detectors: list[Detector], directory: Path) -> tuple[str, dict]:
    """What saaslens reports for the document: ("scanned", {detector: count}) or
    ("unreadable:<reason>", {}). The file keeps its name's extension on disk: openpyxl refuses a
    workbook whose path does not end in .xlsx (see test_xlsx_is_read_whatever_the_path_is_called)."""
    path = directory / ("content" + Path(document.name).suffix)
    with path.open("wb") as fh:
        for piece in document.chunks():
            fh.write(piece)
    try:
        extraction = open_extraction(path, name=document.name, mime_type=document.mime_type)
        inspection = inspect_pieces(
            extraction.chunks(), detectors, KEY, min_confidence=policies.detectors.min_confidence
        )
    except Unreadable as exc:
        return f"unreadable:{exc.reason}", {}
    return "scanned", {d: s.count for d, s in inspection.found.items() if s.count}


def planted_counts(document: Document) -> dict[str, int]:
    return dict(collections.Counter(p.detector for p in document.planted))


def assert_reports_exactly_the_planted(document, policies, detectors, directory):
    outcome, found = scan(document, policies, detectors, directory)
    assert outcome == document.expect, document.name
    assert found == planted_counts(document), (
        f"{document.name} ({document.mime_type}): planted {[(p.detector, p.value) for p in document.planted]}, "
        f"decoys {document.decoys}"
    )


# ---------------------------------------------------------------------------------------------
# Every format, checked by the scanner


@pytest.mark.parametrize("extension", sorted(MIME_BY_EXTENSION))
def test_ordinary_documents_report_exactly_what_was_planted(extension, policies, detectors, tmp_path):
    corpus = ContentCorpus(f"formats-{extension}")
    mime = MIME_BY_EXTENSION[extension]
    documents = [corpus.document_for(f"{extension}-{i}", f"File {i}.{extension}", mime) for i in range(PER_FORMAT)]
    assert any(d.planted for d in documents) and any(d.decoys for d in documents)
    for document in documents:
        assert document.name.endswith(f".{extension}") and document.mime_type == mime
        assert document.size == len(document.content())
        assert_reports_exactly_the_planted(document, policies, detectors, tmp_path)


@pytest.mark.parametrize("native", sorted(EXPORT_FORMATS))
def test_google_native_exports_carry_the_same_planted_values_in_every_format(native, policies, detectors, tmp_path):
    corpus = ContentCorpus("natives")
    checked = 0
    for i in range(8):
        document = corpus.document_for(f"native-{i}", f"Native {i}", native)
        assert document.mime_type == native and document.name == f"Native {i}"
        assert document.size == 0 and document.content() == b""  # no bytes of its own
        for export_mime, extension in EXPORT_FORMATS[native].items():
            exported = corpus.export(document, export_mime)
            assert exported.mime_type == export_mime and exported.name.endswith(extension)
            assert exported.planted == document.planted and exported.decoys == document.decoys
            assert_reports_exactly_the_planted(exported, policies, detectors, tmp_path)
            checked += 1
    assert checked >= 8 * 3


def test_exports_are_refused_for_formats_drive_does_not_offer():
    corpus = ContentCorpus("natives")
    sheet = corpus.document_for("s", "Budget", content.GOOGLE_SHEET)
    with pytest.raises(ValueError, match="cannot be exported"):
        corpus.export(sheet, content.DOCX)
    with pytest.raises(ValueError, match="not a Google-native type"):
        corpus.export(corpus.document_for("f", "a.txt", "text/plain"), "text/plain")


def test_specials_are_refused_or_read_as_expected(policies, detectors, tmp_path):
    corpus = ContentCorpus("specials", large_file_mb=4)
    specials = corpus.specials()
    expected = {
        "unreadable:zip-bomb",
        "unreadable:encrypted",
        "unreadable:corrupt",
        "scanned",
    }
    assert {d.expect for d in specials} == expected
    assert len(specials) == 5 and corpus.specials() is specials
    for document in specials:
        assert document.size == sum(len(piece) for piece in document.chunks())
        assert_reports_exactly_the_planted(document, policies, detectors, tmp_path)
    latin, large = specials[3], specials[4]
    assert planted_counts(latin) and planted_counts(large) and large.size == 4 * 2**20
    # The Latin-1 file is decoded as such: the accented names come out whole.
    raw = latin.content()
    raw.decode("latin-1")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    path = tmp_path / "latin.csv"
    path.write_bytes(raw)
    text = "".join(c.text for c in open_extraction(path, name=latin.name, mime_type=latin.mime_type).chunks())
    assert any(name in text for name in content._ACCENTED)
    # Planted near the start, the middle and the end of the large file.
    positions = [large.content().find(p.value.encode()) for p in large.planted]
    assert min(positions) < 2**20 and max(positions) > large.size - 2**20
    assert any(abs(p - large.size // 2) < 2**20 for p in positions)


def test_large_file_over_the_cap_is_expected_too_large():
    corpus = ContentCorpus("cap", large_file_mb=3, max_file_mb=2)
    (large,) = [d for d in corpus.specials() if d.mime_type == "text/csv" and d.size == 3 * 2**20]
    assert large.expect == "too-large"
    assert corpus.oracle([("big", large)]) == {}


def test_the_encrypted_pdf_is_a_real_one_that_opens_with_its_password():
    from pypdf import PasswordType, PdfReader

    data = content._encrypted_pdf(
        ["Salary review", "IBAN: GB82 WEST 1234 5698 7654 32"], b"open-sesame", b"owner-secret", b"0123456789abcdef"
    )
    reader = PdfReader(io.BytesIO(data))
    assert reader.is_encrypted
    assert reader.decrypt("") == PasswordType.NOT_DECRYPTED
    assert reader.decrypt("open-sesame") == PasswordType.USER_PASSWORD
    assert "GB82 WEST 1234 5698 7654 32" in reader.pages[0].extract_text()


def test_xlsx_is_read_whatever_the_path_is_called(tmp_path):
    document = ContentCorpus("path").document_for("x", "Payroll.xlsx", content.XLSX)
    path = tmp_path / "download"
    path.write_bytes(document.content())
    extraction = open_extraction(path, name=document.name, mime_type=document.mime_type)
    assert "".join(c.text for c in extraction.chunks())


# ---------------------------------------------------------------------------------------------
# The values themselves, by the issuers' rules (independently of the detectors)


def test_planted_values_are_valid_and_decoys_are_not():
    from stdnum import iban, luhn
    from stdnum.us import ssn

    corpus = ContentCorpus("validity")
    planted: list[Planted] = []
    decoys: list[str] = []
    for i in range(400):
        document = corpus.document_for(str(i), f"{i}.txt", "text/plain")
        planted += document.planted
        decoys += document.decoys
    by_detector = collections.defaultdict(list)
    for p in planted:
        by_detector[p.detector].append(p.value)
    for value in by_detector["payment_card"]:
        assert luhn.is_valid(value.replace(" ", "").replace("-", ""))
    for value in by_detector["iban"]:
        assert iban.is_valid(value)
    for value in by_detector["us_ssn"] + by_detector["us_ssn_undashed"]:
        assert ssn.is_valid(value)
    # A mix of families: cards of several brands and groupings, IBANs of several countries.
    assert len(by_detector) >= 20, sorted(by_detector)
    cards = by_detector["payment_card"]
    assert (
        {c[0] for c in cards} >= {"3", "4", "5", "6"}
        and any(" " in c for c in cards)
        and any(c.isdigit() for c in cards)
    )
    assert len({v[:2] for v in by_detector["iban"]}) >= 5
    assert any(d.startswith(("000-", "666-", "9")) for d in decoys)
    for value in decoys:
        compact = value.replace(" ", "").replace("-", "")
        assert not (compact.isdigit() and 12 <= len(compact) <= 19 and luhn.is_valid(compact))
        assert not iban.is_valid(value)


def test_about_forty_percent_of_files_carry_values_and_most_carry_decoys():
    corpus = ContentCorpus("shares")
    documents = [corpus.document_for(str(i), f"{i}.md", "text/markdown") for i in range(600)]
    sensitive = sum(1 for d in documents if d.planted) / len(documents)
    with_decoys = sum(1 for d in documents if d.decoys) / len(documents)
    assert 0.33 <= sensitive <= 0.47
    assert with_decoys >= 0.6
    counts = [len(d.planted) for d in documents if d.planted]
    assert min(counts) == 1 and 8 <= max(counts) <= 9


# ---------------------------------------------------------------------------------------------
# Determinism, ranges, memory, speed


def test_same_seed_same_bytes_other_seed_other_values():
    first, again, other = ContentCorpus("alpha"), ContentCorpus("alpha"), ContentCorpus("beta")
    for extension, mime in MIME_BY_EXTENSION.items():
        for i in range(3):
            a = first.document_for(f"id-{i}", f"f.{extension}", mime)
            b = again.document_for(f"id-{i}", f"f.{extension}", mime)
            assert a.content() == b.content() and a.planted == b.planted and a.decoys == b.decoys
    for a, b in zip(first.specials(), again.specials(), strict=True):
        assert a.content() == b.content()

    def values(corpus: ContentCorpus) -> set[str]:
        return {
            p.value
            for i in range(50)
            for p in corpus.document_for(str(i), "a.txt", "text/plain").planted
            if p.detector != "confidential_marking"  # a phrase from a short list, not a generated value
        }

    assert values(first) and values(other) and not values(first) & values(other)


def test_bytes_are_the_same_in_another_interpreter():
    """No process state (hash seeds, clocks, library timestamps) reaches the bytes."""
    script = (
        "import hashlib, sys\n"
        "from saaslens_sandbox.kit.content import ContentCorpus, DOCX, XLSX, PPTX\n"
        "c = ContentCorpus('cross')\n"
        "h = hashlib.sha256()\n"
        "for mime, ext in ((DOCX, 'docx'), (XLSX, 'xlsx'), (PPTX, 'pptx'), ('application/pdf', 'pdf')):\n"
        "    h.update(c.document_for('f', 'a.' + ext, mime).content())\n"
        "for d in c.specials(): h.update(d.content())\n"
        "print(h.hexdigest())\n"
        "sys.exit(any(m == 'saaslens' or m.startswith('saaslens.') for m in sys.modules))\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            check=False,
        )
        assert result.returncode == 0, result.stderr or "the sandbox corpus imported saaslens"
        digests.add(result.stdout.strip())
        time.sleep(1.1)  # a save-time stamp would differ
    assert len(digests) == 1


def test_byte_ranges_match_the_whole_content():
    corpus = ContentCorpus("ranges", large_file_mb=2)
    rng = random.Random(7)
    documents = [corpus.document_for(str(i), f"{i}.{e}", m) for i, (e, m) in enumerate(MIME_BY_EXTENSION.items())]
    documents += list(corpus.specials())
    for document in documents:
        whole = document.content()
        assert len(whole) == document.size
        for _ in range(6):
            start = rng.randrange(0, document.size)
            end = rng.choice([None, rng.randrange(start, document.size + 1)])
            chunk_size = rng.choice([1, 7, 4096, 1 << 20]) if (end or document.size) - start < 50_000 else 1 << 16
            pieces = list(document.chunks(start, end, chunk_size))
            assert b"".join(pieces) == whole[start:end]
            assert all(0 < len(p) <= chunk_size for p in pieces)
    assert list(documents[0].chunks(documents[0].size, None)) == []


@pytest.mark.slow
def test_a_200_mb_file_streams_in_bounded_memory():
    corpus = ContentCorpus("big", large_file_mb=200)
    (large,) = [d for d in corpus.specials() if d.size == 200 * 2**20]
    with pytest.raises(ValueError, match="stream it"):
        large.content()
    tracemalloc.start()
    try:
        total = 0
        tail = b""
        for piece in large.chunks():
            total += len(piece)
            tail = piece
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == large.size
    assert tail.endswith(b"\n")
    assert peak < 8 * 2**20, peak
    # A range deep inside is the same bytes as the stream there.
    start = 150 * 2**20 + 12345
    window = b"".join(large.chunks(start, start + 300_000, 65536))
    assert len(window) == 300_000
    assert window == b"".join(large.chunks(start - 1000, start + 300_000))[1000:]


def test_generating_a_document_takes_a_few_milliseconds():
    corpus = ContentCorpus("speed")
    started = time.perf_counter()
    count = 0
    for i in range(20):
        for extension, mime in MIME_BY_EXTENSION.items():
            corpus.document_for(f"{extension}{i}", f"f.{extension}", mime)
            count += 1
    per_document = (time.perf_counter() - started) / count
    assert per_document < 0.03, per_document
    cached = time.perf_counter()
    corpus.document_for("docx0", "f.docx", content.DOCX)
    assert time.perf_counter() - cached < 0.001


# ---------------------------------------------------------------------------------------------
# The oracle


def test_oracle_counts_scanned_documents_only(policies, detectors, tmp_path):
    corpus = ContentCorpus("oracle")
    listed = [(f"f{i}", corpus.document_for(f"f{i}", f"{i}.html", "text/html")) for i in range(30)]
    listed += [(f"s{i}", d) for i, d in enumerate(corpus.specials())]
    truth = corpus.oracle(listed)
    assert set(truth) == {fid for fid, d in listed if d.expect == "scanned"}
    assert {fid: counts for fid, counts in truth.items() if counts} == corpus.oracle(listed, include_clean=False)
    for file_id, document in listed:
        outcome, found = scan(document, policies, detectors, tmp_path)
        if document.expect == "scanned":
            assert found == truth[file_id]
        else:
            assert outcome == document.expect and file_id not in truth


def test_planted_detector_ids_are_saaslens_detectors(detectors):
    known = {d.id for d in detectors}
    corpus = ContentCorpus("ids")
    ids = {p.detector for i in range(300) for p in corpus.document_for(str(i), "a.txt", "text/plain").planted}
    for detector in ids:
        assert detector in known or (detector.startswith("credential:") and "credential" in known), detector
