"""File contents for the sandbox's file-listing providers, with a ground truth for content inspection.

Google Drive, Microsoft 365 (OneDrive/SharePoint) and Slack list files; their personalities serve
each file's bytes from here. Every ordinary file gets deterministic content in the format its name
and MIME type announce (docx, xlsx, pptx, pdf, csv, tsv, txt, md, html, json), written with the
same libraries real producers' output is read with (python-docx, openpyxl, python-pptx) or by hand
to the format's own specification (PDF, ISO 32000-1 7.5). About 40% of files carry planted
sensitive values, most carry look-alikes that fail validation (decoys), the rest is prose.

Each `Document` knows every occurrence a correct content scan reports (`planted`, by the id of the
saaslens detector that must report it) and what it must not (`decoys`); `ContentCorpus.oracle`
turns a tenant's documents into the counts the lake's matches must equal.

Planted values are generated from the seed and valid by the rules their issuers publish:
- payment cards: ISO/IEC 7812 issuer prefixes (Visa, Mastercard 5- and 2-series, American Express,
  Discover, JCB, Diners Club) and the Luhn check digit (ISO/IEC 7812-1 annex B);
- IBANs: each country's BBAN format from the SWIFT IBAN registry and ISO 13616 mod-97 check digits
  (python-stdnum's `iban.calc_check_digits`);
- US SSNs: https://www.ssa.gov/employer/randomization.html (no area 000, 666 or 900-999, no group
  00, no serial 0000), checked with python-stdnum, which also knows the numbers SSA voided;
- UK National Insurance numbers: HMRC National Insurance Manual NIM39110 prefix and suffix rules;
- other national ids with python-stdnum's check-digit functions (codice fiscale, DNI, CPF, HETU,
  SIN, BSN, Steuer-ID, PESEL, personnummer, Aadhaar);
- credentials in the shapes their issuers document and detect-secrets recognises: AWS access key
  ids (AKIA + 16 base-32 characters) and secret access keys (40 base64 characters), GitHub
  personal access tokens (ghp_ + 36), Slack bot tokens (xoxb-), Stripe live secret keys (sk_live_),
  JSON Web Tokens (RFC 7519) and PEM private key blocks (RFC 7468);
- phone numbers valid for libphonenumber: US numbers in assigned area codes and Ofcom's numbers
  reserved for drama (https://www.ofcom.org.uk/phones-and-broadband/phone-numbers/numbers-for-drama).

Decoys: Luhn-invalid card numbers with real prefixes, IBANs with wrong check digits, SSNs with area
000/666/9xx, NINOs with prefixes HMRC never allocates, DNIs with a wrong letter, templated secrets
(`${DB_PASSWORD}`, `<your-api-key>`), UUIDs, unassigned phone numbers, EMP- numbers of the wrong
length.

Layout rule that keeps the ground truth exact: every line holding a value (or a decoy) stands between
filler lines of more than 60 characters free of context words, so the detectors' context window
(60 characters either side) never sees another line's context word.

The package must not import saaslens (it is a separate distribution); the tests check the ground
truth against saaslens' own extraction and detectors.
"""

from __future__ import annotations

import base64
import csv
import functools
import hashlib
import html
import io
import json
import random
import re
import string
import struct
import threading
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Final

# ---------------------------------------------------------------------------------------------
# The interface


@dataclass(frozen=True)
class Planted:
    """One occurrence a correct scan reports. `detector` is the saaslens detector id ("payment_card",
    "iban", "us_ssn", "credential:GitHub Token", "email_address", a custom detector of
    include/dlp_policies.yaml ...); `value` is the value as written in the document."""

    detector: str
    value: str


@dataclass(frozen=True)
class Document:
    """A file's content and its ground truth.

    `expect` is "scanned", "unreadable:<reason>" (a reason of saaslens.dlp.extract.Unreadable:
    encrypted, zip-bomb, corrupt ...) or "too-large" (over the cap the corpus was given).
    Google-native documents (Docs, Sheets, Slides) have no bytes of their own (size 0); `export`
    renders them."""

    name: str
    mime_type: str
    size: int
    planted: tuple[Planted, ...]
    decoys: tuple[str, ...]
    expect: str
    _data: bytes | None = field(default=None, repr=False, compare=False)
    _stream: _RowStream | None = field(default=None, repr=False, compare=False)
    _layout: _Layout | None = field(default=None, repr=False, compare=False)

    @property
    def native(self) -> bool:
        """A Google-native document, served only through an export."""
        return self.mime_type in EXPORT_FORMATS or self.mime_type.startswith(GOOGLE_APPS)

    def chunks(self, start: int = 0, end: int | None = None, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The content from byte `start` up to (not including) `end`, in pieces of at most
        `chunk_size` bytes, streamed: a large file is never held in memory. Bounds are clamped to
        the content as Python slices are (an HTTP Range is resolved by the caller)."""
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        stop = self.size if end is None else max(0, min(end, self.size))
        begin = max(0, min(start, stop))
        if self._stream is not None:
            yield from self._stream.chunks(begin, stop, chunk_size)
            return
        data = self._data or b""
        for at in range(begin, stop, chunk_size):
            yield data[at : min(at + chunk_size, stop)]

    def content(self) -> bytes:
        """The whole content, for small documents."""
        if self.size > MAX_CONTENT_BYTES:
            raise ValueError(f"{self.size} bytes: stream it with chunks()")
        if self._stream is not None:
            return b"".join(self._stream.chunks(0, self.size, 1 << 20))
        return self._data or b""


MAX_CONTENT_BYTES: Final = 64 * 2**20

# ---------------------------------------------------------------------------------------------
# MIME types, formats and Google exports

GOOGLE_APPS: Final = "application/vnd.google-apps."
GOOGLE_DOC: Final = "application/vnd.google-apps.document"
GOOGLE_SHEET: Final = "application/vnd.google-apps.spreadsheet"
GOOGLE_SLIDES: Final = "application/vnd.google-apps.presentation"
DOCX: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX: Final = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PDF: Final = "application/pdf"

# What Drive's files.export renders each native type as (a subset of about.exportFormats:
# https://developers.google.com/workspace/drive/api/guides/ref-export-formats), with the
# extension of the exported file.
EXPORT_FORMATS: Final[dict[str, dict[str, str]]] = {
    GOOGLE_DOC: {
        DOCX: ".docx",
        PDF: ".pdf",
        "text/plain": ".txt",
        "text/html": ".html",
        "text/markdown": ".md",
    },
    GOOGLE_SHEET: {XLSX: ".xlsx", "text/csv": ".csv", "text/tab-separated-values": ".tsv", PDF: ".pdf"},
    GOOGLE_SLIDES: {PPTX: ".pptx", PDF: ".pdf", "text/plain": ".txt"},
}

_FORMAT_BY_MIME: Final = {
    DOCX: "docx",
    XLSX: "xlsx",
    PPTX: "pptx",
    PDF: "pdf",
    "text/csv": "csv",
    "application/csv": "csv",
    "text/tab-separated-values": "tsv",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "text/html": "html",
    "application/json": "json",
}
_FORMAT_BY_EXTENSION: Final = {
    ".docx": "docx",
    ".xlsx": "xlsx",
    ".pptx": "pptx",
    ".pdf": "pdf",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "txt",
    ".text": "txt",
    ".log": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
}
_GENERIC_MIME: Final = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def format_for(name: str, mime_type: str) -> str:
    """The format content is written in: the MIME type's when it names one, else the extension's,
    else plain text (whatever the MIME type says: an image listed as such gets text content)."""
    mime = mime_type.split(";", 1)[0].strip().lower()
    if mime in _FORMAT_BY_MIME and mime != "text/plain":
        return _FORMAT_BY_MIME[mime]
    return _FORMAT_BY_EXTENSION.get(PurePosixPath(name).suffix.lower(), "txt")


# ---------------------------------------------------------------------------------------------
# Values: valid ones and their look-alikes


def _luhn_check_digit(payload: str) -> str:
    """The Luhn (mod 10) check digit that makes payload + digit valid (ISO/IEC 7812-1 annex B)."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


# Issuer prefixes (ISO/IEC 7812 IINs as the networks publish them) and lengths.
_CARD_BRANDS: Final[tuple[tuple[str, Callable[[random.Random], str], int], ...]] = (
    ("Visa", lambda r: "4", 16),
    ("Mastercard", lambda r: str(r.randint(51, 55)), 16),
    ("Mastercard", lambda r: str(r.randint(2221, 2720)), 16),
    ("American Express", lambda r: r.choice(("34", "37")), 15),
    ("Discover", lambda r: r.choice(("6011", "65", str(r.randint(644, 649)))), 16),
    ("JCB", lambda r: str(r.randint(3528, 3589)), 16),
    ("Diners Club", lambda r: "36", 14),
)


def _card(rng: random.Random, *, valid: bool = True) -> tuple[str, str]:
    """(brand, number as written): grouped 4-4-4-4 (spaces or dashes), 4-6-5 (Amex), 4-6-4
    (Diners) or bare."""
    brand, prefix_of, length = rng.choice(_CARD_BRANDS)
    while True:
        prefix = prefix_of(rng)
        body = prefix + _digits(rng, length - len(prefix) - 1)
        if len(set(body)) > 2:
            break
    check = _luhn_check_digit(body)
    if not valid:
        check = str((int(check) + rng.randint(1, 9)) % 10)
    digits = body + check
    style = rng.choice(("space", "space", "dash", "bare"))
    if style == "bare":
        return brand, digits
    sep = " " if style == "space" else "-"
    # 4-4-4-4; Amex 4-6-5 and Diners 4-6-4 as their cards print them
    groups = [digits[i : i + 4] for i in range(0, 16, 4)] if length == 16 else [digits[:4], digits[4:10], digits[10:]]
    return brand, sep.join(groups)


# SWIFT IBAN registry BBAN formats: (country, spec) where spec is a list of (kind, length) with
# kind n (digits), a (upper-case letters) or c (letters and digits).
_IBAN_FORMATS: Final[tuple[tuple[str, tuple[tuple[str, int], ...]], ...]] = (
    ("DE", (("n", 8), ("n", 10))),
    ("GB", (("bank", 4), ("n", 6), ("n", 8))),
    ("NL", (("a", 4), ("n", 10))),
    ("AT", (("n", 5), ("n", 11))),
    ("CH", (("n", 5), ("c", 12))),
    ("IE", (("bank", 4), ("n", 6), ("n", 8))),
    ("PL", (("n", 8), ("n", 16))),
    ("SE", (("n", 3), ("n", 17))),
)
_GB_BANKS: Final = ("NWBK", "BARC", "HBUK", "LOYD", "MIDL", "RBOS", "AIBK", "BOFI")


def _iban_compact_check(country: str, bban: str) -> str:
    """ISO 13616 check digits: 98 - (BBAN + country + 00, letters as 10..35) mod 97."""
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def _iban(rng: random.Random, *, valid: bool = True) -> str:
    country, spec = rng.choice(_IBAN_FORMATS)
    parts = []
    for kind, length in spec:
        if kind == "n":
            parts.append(_digits(rng, length))
        elif kind == "a":
            parts.append("".join(rng.choice(string.ascii_uppercase) for _ in range(length)))
        elif kind == "c":
            parts.append("".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(length)))
        else:
            parts.append(rng.choice(_GB_BANKS))
    bban = "".join(parts)
    check = _iban_compact_check(country, bban)
    if not valid:
        check = f"{(int(check) + rng.randint(1, 90) - 2) % 97 + 2:02d}"
        if check == _iban_compact_check(country, bban):
            check = f"{(int(check) - 2 + 1) % 97 + 2:02d}"
    compact = country + check + bban
    if rng.random() < 0.7:  # the paper format: groups of four
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact


_SSA_VOIDED: Final = frozenset({"078051120", "219099999", "457555462"})


def _ssn(rng: random.Random, *, dashed: bool = True) -> str:
    from stdnum.us import ssn

    while True:
        area = rng.choice([a for a in range(1, 900) if a != 666])
        number = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        if number not in _SSA_VOIDED and ssn.is_valid(number):
            break
    return f"{number[:3]}-{number[3:5]}-{number[5:]}" if dashed else number


def _bad_ssn(rng: random.Random) -> str:
    area = rng.choice((0, 666, rng.randint(900, 999)))
    if rng.random() < 0.3:
        return f"{rng.randint(1, 665):03d}-00-{rng.randint(1, 9999):04d}"
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


# HMRC NIM39110: neither letter D, F, I, Q, U or V; the second not O; these pairs never allocated.
_NINO_LETTERS: Final = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_UNALLOCATED: Final = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _nino(rng: random.Random, *, valid: bool = True) -> str:
    if valid:
        while True:
            prefix = rng.choice(_NINO_LETTERS) + rng.choice(_NINO_LETTERS.replace("O", ""))
            if prefix not in _NINO_UNALLOCATED:
                break
    else:
        prefix = rng.choice(("QQ", "GB", "BG", "ZZ", "DA", "FY", "VQ", "TN"))
    digits = _digits(rng, 6)
    suffix = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    return f"{prefix}{digits}{suffix}"


def _es_dni(rng: random.Random, *, valid: bool = True) -> str:
    number = f"{rng.randint(1, 99_999_999):08d}"
    letters = "TRWAGMYFPDXBNJZSQVHLCKE"
    letter = letters[int(number) % 23]
    if not valid:
        letter = letters[(int(number) + rng.randint(1, 22)) % 23]
    return number + letter


_CF_MONTHS: Final = "ABCDEHLMPRST"
_CF_PLACES: Final = ("H501", "F205", "L219", "A662", "G273", "D612", "F839", "C351", "L736", "A944")


def _codice_fiscale(rng: random.Random) -> str:
    from stdnum.it import codicefiscale

    consonants = "BCDFGHJKLMNPRSTVZ"
    while True:
        letters = "".join(rng.choice(consonants) for _ in range(6))
        day = rng.randint(1, 28) + (40 if rng.random() < 0.5 else 0)
        body = f"{letters}{rng.randint(50, 99):02d}{rng.choice(_CF_MONTHS)}{day:02d}{rng.choice(_CF_PLACES)}"
        number = body + codicefiscale.calc_check_digit(body)
        if codicefiscale.is_valid(number):
            return number


def _cpf(rng: random.Random) -> str:
    while True:
        body = _digits(rng, 9)
        if len(set(body)) > 1:
            break
    first = (sum((10 - i) * int(d) for i, d in enumerate(body)) * 10) % 11 % 10
    second = (sum((11 - i) * int(d) for i, d in enumerate(body + str(first))) * 10) % 11 % 10
    number = f"{body}{first}{second}"
    return f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}"


def _hetu(rng: random.Random) -> str:
    born = date(1950, 1, 1).toordinal() + rng.randint(0, 365 * 60)
    birthday = date.fromordinal(born)
    century = "-" if birthday.year < 2000 else "A"
    individual = rng.randint(2, 899)
    checkable = f"{birthday.day:02d}{birthday.month:02d}{birthday.year % 100:02d}{individual:03d}"
    control = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(checkable) % 31]
    return f"{checkable[:6]}{century}{checkable[6:]}{control}"


def _ca_sin(rng: random.Random) -> str:
    body = rng.choice("1234567") + _digits(rng, 7)
    number = body + _luhn_check_digit(body)
    return f"{number[:3]} {number[3:6]} {number[6:]}"


def _nl_bsn(rng: random.Random) -> str:
    while True:
        body = str(rng.randint(1, 9)) + _digits(rng, 7)
        check = sum((9 - i) * int(d) for i, d in enumerate(body)) % 11
        if check < 10:
            number = body + str(check)
            return f"{number[:4]}.{number[4:6]}.{number[6:]}"


def _de_idnr(rng: random.Random) -> str:
    from stdnum.iso7064 import mod_11_10

    while True:
        pool = list("0123456789")
        rng.shuffle(pool)
        repeated = pool[0]
        first10 = [*pool[:9], repeated]  # nine distinct digits, one of them twice
        rng.shuffle(first10)
        if first10[0] == "0":
            continue
        body = "".join(first10)
        number = body + mod_11_10.calc_check_digit(body)
        return f"{number[:2]} {number[2:5]} {number[5:8]} {number[8:]}"


def _pesel(rng: random.Random) -> str:
    from stdnum.pl import pesel

    born = date.fromordinal(date(1950, 1, 1).toordinal() + rng.randint(0, 365 * 60))
    month = born.month + (20 if born.year >= 2000 else 0)
    body = f"{born.year % 100:02d}{month:02d}{born.day:02d}{_digits(rng, 4)}"
    return body + pesel.calc_check_digit(body)


def _personnummer(rng: random.Random) -> str:
    born = date.fromordinal(date(1950, 1, 1).toordinal() + rng.randint(0, 365 * 60))
    body = f"{born.year % 100:02d}{born.month:02d}{born.day:02d}{_digits(rng, 3)}"
    number = body + _luhn_check_digit(body)
    return f"{number[:6]}-{number[6:]}"


def _aadhaar(rng: random.Random) -> str:
    from stdnum import verhoeff

    while True:
        body = rng.choice("23456789") + _digits(rng, 10)
        number = body + verhoeff.calc_check_digit(body)
        if number != number[::-1]:
            return f"{number[:4]} {number[4:8]} {number[8:]}"


_ALNUM: Final = string.ascii_letters + string.digits
_B64: Final = string.ascii_letters + string.digits + "+/"


def _random_text(rng: random.Random, alphabet: str, length: int) -> str:
    """Random characters that look like a key: not a run, several character classes."""
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(length))
        if (
            any(c.isupper() for c in value) == any(c.isupper() for c in alphabet)
            and any(c.isdigit() for c in value)
            and len(set(value)) > length // 3
        ):
            return value


def _aws_key_id(rng: random.Random) -> str:
    return "AKIA" + _random_text(rng, string.ascii_uppercase + "234567", 16)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwt(rng: random.Random, email: str) -> str:
    """An HS256 JSON Web Token (RFC 7519): header, claims and a signature of random bytes."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    issued = 1_700_000_000 + rng.randint(0, 40_000_000)
    claims = {"sub": email, "iat": issued, "exp": issued + 3600}
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = _b64url(rng.randbytes(32))
    return f"{header}.{payload}.{signature}"


def _pem_private_key(rng: random.Random) -> str:
    """An RSA private key block (RFC 7468 textual encoding): the PKCS #1 DER prefix of a 2048-bit
    key, then key material, base64 in 64-character lines."""
    der = bytes.fromhex("308204a40201000282010100") + rng.randbytes(1180)
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join(["-----BEGIN RSA PRIVATE KEY-----", *lines, "-----END RSA PRIVATE KEY-----"])


# Area codes in service (NANPA) and Ofcom's drama ranges.
_US_AREAS: Final = (
    "201", "202", "206", "212", "213", "214", "303", "305", "312", "404", "415", "503", "512",
    "602", "617", "646", "702", "713", "718", "773", "804", "818", "917", "949",
)  # fmt: skip


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return f"+44 20 7946 0{rng.randint(0, 999):03d}"
    area = rng.choice(_US_AREAS)
    while True:
        exchange = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
        if exchange[1:] != "11":
            break
    line = f"{rng.randint(0, 9999):04d}"
    style = rng.randint(0, 2)
    if style == 0:
        return f"({area}) {exchange}-{line}"
    if style == 1:
        return f"+1 {area}-{exchange}-{line}"
    return f"{area}.{exchange}.{line}"


# ---------------------------------------------------------------------------------------------
# People, organisations and prose (no digits and no detector context words)

_FIRST: Final = (
    "Alice", "Bruno", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hugo", "Ingrid", "Jonas",
    "Keiko", "Liam", "Maya", "Nikolai", "Olivia", "Pedro", "Quinn", "Rosa", "Samir", "Tessa",
)  # fmt: skip
_LAST: Final = (
    "Anders", "Brennan", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Iqbal",
    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov", "Rossi", "Schmidt",
    "Tanaka", "Varga",
)  # fmt: skip
# Accented names for the Latin-1 file (every character in ISO 8859-1).
_ACCENTED: Final = (
    "José Núñez", "Zoë Müller", "François Lefèvre", "Søren Åberg", "Inês Conceição", "Björn Öström",
    "Agnès Dupré", "Jürgen Weiß", "Mónica Ibáñez", "Raphaël Gérard", "Ólafur Þórsson", "Chloé Thérèse",
)  # fmt: skip
_DOMAINS: Final = ("northwind-traders.com", "contoso.com", "fabrikam.co.uk", "globex.io", "initech.net")

_SUBJECTS: Final = (
    "The steering group", "Our delivery team", "The regional office", "Finance operations",
    "The onboarding squad", "Procurement", "The design review board", "Customer success",
    "The platform group", "Legal and compliance", "The analytics team", "Facilities",
)  # fmt: skip
_VERBS: Final = (
    "reviewed", "approved", "postponed", "summarised", "discussed", "prioritised", "documented",
    "streamlined", "revisited", "signed off on", "escalated", "circulated",
)  # fmt: skip
_OBJECTS: Final = (
    "the migration plan for the new warehouse", "the vendor shortlist for office supplies",
    "the quarterly roadmap and its open risks", "the draft policy on remote working",
    "the renewal terms with our logistics partner", "the training schedule for new starters",
    "the budget forecast for the coming season", "the launch checklist for the mobile release",
    "the feedback from the customer workshop", "the seating plan for the second floor",
    "the travel guidelines for the sales conference", "the retention figures from the last survey",
)  # fmt: skip
_CLOSERS: Final = (
    "Next steps are tracked in the shared planner.", "Questions go to the project lead as usual.",
    "A summary will follow after the weekly sync.", "Please add comments before the end of the week.",
    "The previous version of this note is archived.", "Nothing further is needed from other teams.",
    "Minutes were taken and filed with the agenda.", "The owners listed above will report back soon.",
)  # fmt: skip
_TITLES: Final = (
    "Team update", "Meeting notes", "Project overview", "Planning memo", "Status report",
    "Working draft", "Weekly digest", "Handover notes", "Review summary", "Programme brief",
)  # fmt: skip


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _email(rng: random.Random) -> str:
    first, last = rng.choice(_FIRST).lower(), rng.choice(_LAST).lower()
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}"))
    return f"{local}@{rng.choice(_DOMAINS)}"


def _filler(rng: random.Random) -> str:
    """A line of prose of more than 60 characters, with no digits and no context words."""
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}. {rng.choice(_CLOSERS)}"


# ---------------------------------------------------------------------------------------------
# Value lines: a value with the context words real documents put next to it


@dataclass(frozen=True)
class _Line:
    text: str  # may hold several lines (a PEM block)
    planted: tuple[Planted, ...] = ()
    decoys: tuple[str, ...] = ()
    label: str = ""  # first cell in tabular formats
    quoted: bool = False  # holds quotes that CSV and JSON would escape (changes what detect-secrets sees)
    block: bool = False  # spans lines: not for a spreadsheet cell


def _planted(detector: str, value: str) -> tuple[Planted, ...]:
    return (Planted(detector, value),)


def _v_card(rng: random.Random) -> _Line:
    brand, number = _card(rng)
    text = rng.choice(
        (
            f"{brand} card number: {number}",
            f"Corporate card {number} ({brand}), holder {_person(rng)}",
            f"Please charge the deposit to credit card {number}.",
        )
    )
    return _Line(text, _planted("payment_card", number), label=_person(rng))


def _v_iban(rng: random.Random) -> _Line:
    value = _iban(rng)
    text = rng.choice((f"IBAN: {value}", f"Beneficiary bank account (IBAN) {value}", f"Wire to IBAN {value}."))
    return _Line(text, _planted("iban", value), label=_person(rng))


def _v_ssn(rng: random.Random) -> _Line:
    value = _ssn(rng)
    return _Line(f"SSN: {value}", _planted("us_ssn", value), label=_person(rng))


def _v_ssn_undashed(rng: random.Random) -> _Line:
    value = _ssn(rng, dashed=False)
    return _Line(f"Social security number (SSN) {value}", _planted("us_ssn_undashed", value), label=_person(rng))


def _v_nino(rng: random.Random) -> _Line:
    value = _nino(rng)
    return _Line(f"NI number: {value}", _planted("uk_nino", value), label=_person(rng))


def _v_dni(rng: random.Random) -> _Line:
    value = _es_dni(rng)
    return _Line(f"DNI {value}", _planted("es_dni", value), label=_person(rng))


def _v_cf(rng: random.Random) -> _Line:
    value = _codice_fiscale(rng)
    return _Line(f"Codice fiscale: {value}", _planted("it_codice_fiscale", value), label=_person(rng))


def _v_cpf(rng: random.Random) -> _Line:
    value = _cpf(rng)
    return _Line(f"CPF {value}", _planted("br_cpf", value), label=_person(rng))


def _v_hetu(rng: random.Random) -> _Line:
    value = _hetu(rng)
    return _Line(f"Henkilötunnus (HETU) {value}", _planted("fi_hetu", value), label=_person(rng))


def _v_sin(rng: random.Random) -> _Line:
    value = _ca_sin(rng)
    return _Line(f"Social insurance number (SIN) {value}", _planted("ca_sin", value), label=_person(rng))


def _v_bsn(rng: random.Random) -> _Line:
    value = _nl_bsn(rng)
    return _Line(f"BSN {value}", _planted("nl_bsn", value), label=_person(rng))


def _v_idnr(rng: random.Random) -> _Line:
    value = _de_idnr(rng)
    return _Line(f"Steuer-ID {value}", _planted("de_idnr", value), label=_person(rng))


def _v_pesel(rng: random.Random) -> _Line:
    value = _pesel(rng)
    return _Line(f"PESEL {value}", _planted("pl_pesel", value), label=_person(rng))


def _v_personnummer(rng: random.Random) -> _Line:
    value = _personnummer(rng)
    return _Line(f"Personnummer {value}", _planted("se_personnummer", value), label=_person(rng))


def _v_aadhaar(rng: random.Random) -> _Line:
    value = _aadhaar(rng)
    return _Line(f"Aadhaar {value}", _planted("in_aadhaar", value), label=_person(rng))


def _v_email(rng: random.Random) -> _Line:
    value = _email(rng)
    return _Line(f"Contact {_person(rng)} at {value}", _planted("email_address", value), label="Contact")


def _v_phone(rng: random.Random) -> _Line:
    value = _phone(rng)
    return _Line(f"Call {_person(rng)} on {value}", _planted("phone_number", value), label="Phone")


def _v_employee(rng: random.Random) -> _Line:
    value = f"EMP-{rng.randint(100000, 999999)}"
    return _Line(f"Employee number {value}", _planted("employee_id", value), label=_person(rng))


def _v_marking(rng: random.Random) -> _Line:
    value = rng.choice(("STRICTLY CONFIDENTIAL", "Internal only", "Do not distribute"))
    return _Line(f"{value} - board members", _planted("confidential_marking", value), label="Marking")


def _v_aws_key_id(rng: random.Random) -> _Line:
    value = _aws_key_id(rng)
    return _Line(f"aws_access_key_id = {value}", _planted("credential:AWS Access Key", value), label="AWS")


def _v_aws_secret(rng: random.Random) -> _Line:
    # detect-secrets reads the secret access key only quoted after an aws...key assignment.
    value = _random_text(rng, _B64, 40)
    return _Line(
        f'aws_secret_access_key = "{value}"', _planted("credential:AWS Access Key", value), label="AWS", quoted=True
    )


def _v_github(rng: random.Random) -> _Line:
    value = "ghp_" + _random_text(rng, _ALNUM, 36)
    return _Line(f"GitHub token: {value}", _planted("credential:GitHub Token", value), label="GitHub")


def _v_slack(rng: random.Random) -> _Line:
    value = f"xoxb-{_digits(rng, 11)}-{_digits(rng, 13)}-{_random_text(rng, _ALNUM, 24)}"
    return _Line(f"Slack bot token: {value}", _planted("credential:Slack Token", value), label="Slack")


def _v_stripe(rng: random.Random) -> _Line:
    value = "sk_live_" + _random_text(rng, _ALNUM, 24)
    return _Line(f"Stripe API key: {value}", _planted("credential:Stripe Access Key", value), label="Stripe")


def _v_api_key(rng: random.Random) -> _Line:
    value = _random_text(rng, "0123456789abcdef", 32)
    return _Line(
        f'api_key = "{value}"', _planted("credential:Hex High Entropy String", value), label="API", quoted=True
    )


def _v_jwt(rng: random.Random) -> _Line:
    value = _jwt(rng, _email(rng))
    # The token's claims hold an email address only base64url-encoded: no email hit.
    return _Line(f"Authorization: Bearer {value}", _planted("credential:JSON Web Token", value), label="Auth")


def _v_pem(rng: random.Random) -> _Line:
    value = _pem_private_key(rng)
    header = value.split("\n", 1)[0]
    return _Line(value, _planted("credential:Private Key", header), label="Key", block=True)


# (weight, generator). Every family is checked against saaslens' detectors by the tests.
_VALUE_FAMILIES: Final[tuple[tuple[int, Callable[[random.Random], _Line]], ...]] = (
    (6, _v_card),
    (4, _v_iban),
    (3, _v_ssn),
    (2, _v_ssn_undashed),
    (3, _v_nino),
    (1, _v_dni),
    (1, _v_cf),
    (1, _v_cpf),
    (1, _v_hetu),
    (1, _v_sin),
    (1, _v_bsn),
    (1, _v_idnr),
    (1, _v_pesel),
    (1, _v_personnummer),
    (1, _v_aadhaar),
    (3, _v_email),
    (2, _v_phone),
    (1, _v_employee),
    (1, _v_marking),
    (2, _v_aws_key_id),
    (1, _v_aws_secret),
    (2, _v_github),
    (1, _v_slack),
    (1, _v_stripe),
    (1, _v_api_key),
    (1, _v_jwt),
    (1, _v_pem),
)


def _d_card(rng: random.Random) -> _Line:
    _brand, number = _card(rng, valid=False)
    return _Line(f"Old card number {number} (fails its check digit)", decoys=(number,), label=_person(rng))


def _number_like(value: str) -> bool:
    """Whether a run of digits inside `value` (single spaces or dashes between groups allowed) could
    be read as another kind of number: 7 to 11 digits (a phone number's length), a run after 011
    (the US international dialling prefix: 0119 4344 5208 35 is a Sri Lankan number dialled from the
    US), or 12-19 digits that pass the Luhn check (a card number). Such a look-alike is no decoy."""
    for run in re.findall(r"\d(?:[ -]?\d)*", value):
        digits = re.sub(r"[ -]", "", run)
        if 7 <= len(digits) <= 11 or digits.startswith("011"):
            return True
        for length in range(12, 20):
            for start in range(0, len(digits) - length + 1):
                window = digits[start : start + length]
                if _luhn_check_digit(window[:-1]) == window[-1]:
                    return True
    return False


def _d_iban(rng: random.Random) -> _Line:
    while True:  # a wrong IBAN whose digits make a valid card number would be reported as one
        value = _iban(rng, valid=False)
        if not _number_like(value):
            break
    return _Line(f"IBAN as mistyped on the form: {value}", decoys=(value,), label=_person(rng))


def _d_ssn(rng: random.Random) -> _Line:
    value = _bad_ssn(rng)
    return _Line(f"SSN placeholder {value}", decoys=(value,), label=_person(rng))


def _d_nino(rng: random.Random) -> _Line:
    value = _nino(rng, valid=False)
    return _Line(f"NI number example {value}", decoys=(value,), label=_person(rng))


def _d_dni(rng: random.Random) -> _Line:
    value = _es_dni(rng, valid=False)
    return _Line(f"DNI {value} (letter does not match)", decoys=(value,), label=_person(rng))


def _d_uuid(rng: random.Random) -> _Line:
    value = str(_uuid4(rng))
    return _Line(f"Request id {value}", decoys=(value,), label="Request")


def _d_templated(rng: random.Random) -> _Line:
    value = rng.choice(("${DB_PASSWORD}", "<your-api-key>", "{{ secrets.DEPLOY_TOKEN }}"))
    text = {
        "${DB_PASSWORD}": "password = ${DB_PASSWORD}",
        "<your-api-key>": 'api_key = "<your-api-key>"',
        "{{ secrets.DEPLOY_TOKEN }}": "token: {{ secrets.DEPLOY_TOKEN }}",
    }[value]
    return _Line(text, decoys=(value,), label="Config", quoted='"' in text)


def _d_phone(rng: random.Random) -> _Line:
    # NANP area codes never begin with 0 or 1, and 555-0100 to 555-0199 are reserved for fiction
    # (NANPA's 555 NXX guidelines). Not any seven digits: some
    # are valid on their own (California's 310-XXXX), and libphonenumber finds them inside.
    value = f"({rng.choice('01')}{_digits(rng, 2)}) 555-01{_digits(rng, 2)}"
    return _Line(f"Fax {value} (disconnected)", decoys=(value,), label="Fax")


def _d_employee(rng: random.Random) -> _Line:
    value = f"EMP-{rng.randint(10000, 99999)}"
    return _Line(f"Legacy employee number {value}", decoys=(value,), label=_person(rng))


def _d_email(rng: random.Random) -> _Line:
    first, last = rng.choice(_FIRST).lower(), rng.choice(_LAST).lower()
    value = f"{first}.{last} at {rng.choice(_DOMAINS).replace('.', ' dot ')}"
    return _Line(f"Write to {value}", decoys=(value,), label="Contact")


_DECOY_FAMILIES: Final[tuple[tuple[int, Callable[[random.Random], _Line]], ...]] = (
    (4, _d_card),
    (3, _d_iban),
    (3, _d_ssn),
    (2, _d_nino),
    (1, _d_dni),
    (2, _d_uuid),
    (1, _d_templated),
    (1, _d_phone),
    (1, _d_employee),
    (1, _d_email),
)


def _uuid4(rng: random.Random) -> str:
    raw = bytearray(rng.randbytes(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _pick(rng: random.Random, families: Sequence[tuple[int, Callable[[random.Random], _Line]]]) -> _Line:
    generators = [g for _, g in families]
    weights = [w for w, _ in families]
    return rng.choices(generators, weights)[0](rng)


# ---------------------------------------------------------------------------------------------
# Layout: what a document says, before it is written in a format


@dataclass(frozen=True)
class _Layout:
    title: str
    lines: tuple[_Line, ...]  # alternates: filler, value-or-decoy, filler, ..., filler
    kind: str  # "text" (documents), "table" (spreadsheets), "slides"

    @property
    def planted(self) -> tuple[Planted, ...]:
        return tuple(p for line in self.lines for p in line.planted)

    @property
    def decoys(self) -> tuple[str, ...]:
        return tuple(d for line in self.lines for d in line.decoys)


def _layout(rng: random.Random, kind: str, fmt: str, *, sensitive_share: float = 0.4) -> _Layout:
    """Filler with, in about `sensitive_share` of documents, 1-8 planted occurrences, and in most
    a few decoys. Values are kept out of the formats that would change what the detectors see:
    multi-line blocks out of table cells, quoted secrets out of CSV and JSON (they escape quotes)."""
    tabular = kind == "table" or fmt in ("csv", "tsv", "xlsx")
    escapes_quotes = fmt in ("csv", "tsv", "json") or kind == "table"

    def allowed(line: _Line) -> bool:
        if line.block and (tabular or fmt == "json"):
            return False
        return not (line.quoted and escapes_quotes)

    specials: list[_Line] = []
    if rng.random() < sensitive_share:
        wanted = rng.randint(1, 8)
        while sum(len(s.planted) for s in specials) < wanted:
            line = _pick(rng, _VALUE_FAMILIES)
            if not allowed(line):
                continue
            specials.append(line)
            if rng.random() < 0.15 and sum(len(s.planted) for s in specials) < wanted:
                specials.append(line)  # the same value written twice counts twice
    if rng.random() < 0.7:
        for _ in range(rng.randint(1, 4)):
            decoy = _pick(rng, _DECOY_FAMILIES)
            if allowed(decoy):
                specials.append(decoy)
    rng.shuffle(specials)
    lines: list[_Line] = [_Line(_filler(rng))]
    for special in specials:
        lines.append(special)
        lines.extend(_Line(_filler(rng)) for _ in range(rng.randint(1, 3)))
    while len(lines) < 8:
        lines.append(_Line(_filler(rng)))
    title = f"{rng.choice(_TITLES)}: {rng.choice(_OBJECTS)}"
    return _Layout(title, tuple(lines), kind)


# ---------------------------------------------------------------------------------------------
# Writers


_ZIP_TIME: Final = (2024, 1, 2, 3, 4, 4)
_PINNED: Final = datetime(2024, 1, 2, 3, 4, 5)


_CORE_MODIFIED: Final = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _repack(data: bytes) -> bytes:
    """A zip package rewritten with pinned timestamps, so the same content is the same bytes
    (openpyxl stamps the save time into docProps/core.xml whatever the workbook says)."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    stamp = _PINNED.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    entries = [
        (name, _CORE_MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", payload) if name == "docProps/core.xml" else payload)
        for name, payload in entries
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, payload in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, payload)
    return out.getvalue()


def _text_lines(layout: _Layout) -> list[str]:
    out = [layout.title, ""]
    for line in layout.lines:
        out.extend(line.text.split("\n"))
    return out


def _rows(layout: _Layout) -> list[list[str]]:
    rows = [["Name", "Details"]]
    for line in layout.lines:
        rows.append([line.label or "Note", line.text])
    return rows


def _write_txt(layout: _Layout) -> bytes:
    return ("\n".join(_text_lines(layout)) + "\n").encode("utf-8")


def _write_md(layout: _Layout) -> bytes:
    out = [f"# {layout.title}", ""]
    for line in layout.lines:
        if line.block:
            out += ["```", line.text, "```", ""]
        elif line.planted or line.decoys:
            out += [f"- {line.text}", ""]
        else:
            out += [line.text, ""]
    return "\n".join(out).encode("utf-8")


def _write_csv(layout: _Layout, *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerows(_rows(layout))
    return buffer.getvalue().encode(encoding)


def _write_json(layout: _Layout) -> bytes:
    document = {"title": layout.title, "paragraphs": [line.text for line in layout.lines]}
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_html(layout: _Layout) -> bytes:
    body = []
    for line in layout.lines:
        if line.block:
            body.append(f"<pre>{html.escape(line.text)}</pre>")
        else:
            body.append(f"<p>{html.escape(line.text)}</p>")
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(layout.title)}</title></head>\n<body>\n<h1>{html.escape(layout.title)}</h1>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
    return page.encode("utf-8")


def _write_docx(layout: _Layout) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.created = _PINNED
    document.core_properties.modified = _PINNED
    document.core_properties.title = layout.title
    document.add_heading(layout.title, level=1)
    for line in layout.lines:
        for part in line.text.split("\n") if line.block else [line.text]:
            document.add_paragraph(part)
    out = io.BytesIO()
    document.save(out)
    return _repack(out.getvalue())


def _write_xlsx(layout: _Layout) -> bytes:
    import openpyxl  # type: ignore[import-untyped]

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    workbook.properties.created = _PINNED
    workbook.properties.modified = _PINNED
    for row in _rows(layout):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return _repack(out.getvalue())


def _slides(layout: _Layout) -> list[list[_Line]]:
    """Slides of a few lines each, cut after filler only, so every value keeps filler either side
    in the order the text is read."""
    slides: list[list[_Line]] = [[]]
    for line in layout.lines:
        slides[-1].append(line)
        if len(slides[-1]) >= 4 and not (line.planted or line.decoys):
            slides.append([])
    return [s for s in slides if s]


def _write_pptx(layout: _Layout) -> bytes:
    import pptx
    from pptx.util import Inches, Pt

    presentation = pptx.Presentation()
    presentation.core_properties.created = _PINNED
    presentation.core_properties.modified = _PINNED
    presentation.core_properties.title = layout.title
    blank = presentation.slide_layouts[6]
    for index, lines in enumerate(_slides(layout)):
        slide = presentation.slides.add_slide(blank)
        box = slide.shapes.add_textbox(Inches(0.5), Inches(0.5), Inches(9), Inches(6.5))
        frame = box.text_frame
        frame.word_wrap = True
        texts = ([layout.title] if index == 0 else []) + [line.text for line in lines]
        frame.text = "\n".join(texts)
        for paragraph in frame.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(12)
    out = io.BytesIO()
    presentation.save(out)
    return _repack(out.getvalue())


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _pdf_lines(layout: _Layout) -> list[str]:
    """The text lines, filler wrapped to the page width (values never split)."""
    import textwrap

    out = [layout.title, ""]
    for line in layout.lines:
        if line.planted or line.decoys or line.block:
            out.extend(line.text.split("\n"))
        else:
            out.extend(textwrap.wrap(line.text, 90))
    return out


_PDF_LINES_PER_PAGE: Final = 48


def _pdf_objects(lines: Sequence[str]) -> list[bytes]:
    """The objects of a PDF 1.4 (ISO 32000-1 7.5): catalog, pages, one page and content stream per
    page of lines, one standard-14 font (Helvetica, WinAnsiEncoding, not embedded)."""
    pages = [lines[i : i + _PDF_LINES_PER_PAGE] for i in range(0, len(lines), _PDF_LINES_PER_PAGE)] or [[""]]
    page_ids = [3 + 2 * i for i in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)))
    for index, page in enumerate(pages):
        content = b"BT /F1 10 Tf 14 TL 50 780 Td " + b" ".join(_pdf_string(text) + b" Tj T*" for text in page) + b" ET"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font_id, page_ids[index] + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    return objects


def _pdf_file(objects: Sequence[bytes], trailer_extra: bytes = b"") -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer_extra, xref)
    return bytes(out)


def _write_pdf(layout: _Layout) -> bytes:
    return _pdf_file(_pdf_objects(_pdf_lines(layout)))


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) & 0xFF
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) & 0xFF
        j = (j + state[i]) & 0xFF
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) & 0xFF])
    return bytes(out)


_PDF_PAD: Final = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


def _encrypted_pdf(lines: Sequence[str], user_password: bytes, owner_password: bytes, file_id: bytes) -> bytes:
    """A PDF encrypted by the standard security handler, revision 2 (40-bit RC4; ISO 32000-1 7.6.3,
    algorithms 1-4), with a user password: readers ask for it before showing anything. Written by
    hand so the same inputs give the same bytes (revision 6 salts its keys at random)."""
    permissions = -44  # print, copy and modify withheld
    owner_key = hashlib.md5((owner_password + _PDF_PAD)[:32]).digest()[:5]  # noqa: S324 (the PDF algorithm)
    o_value = _rc4(owner_key, (user_password + _PDF_PAD)[:32])
    digest = hashlib.md5(  # noqa: S324
        (user_password + _PDF_PAD)[:32] + o_value + struct.pack("<i", permissions) + file_id
    ).digest()
    key = digest[:5]
    u_value = _rc4(key, _PDF_PAD)
    objects = _pdf_objects(lines)
    encrypted = []
    for number, body in enumerate(objects, 1):
        if b"\nstream\n" in body:
            head, rest = body.split(b"\nstream\n", 1)
            payload = rest[: -len(b"\nendstream")]
            object_key = hashlib.md5(key + struct.pack("<I", number)[:3] + b"\x00\x00").digest()[:10]  # noqa: S324
            sealed = _rc4(object_key, payload)
            head = b"<< /Length %d >>" % len(sealed)
            body = head + b"\nstream\n" + sealed + b"\nendstream"
        encrypted.append(body)
    encrypt_id = len(encrypted) + 1
    encrypted.append(
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
        % (o_value.hex().encode(), u_value.hex().encode(), permissions)
    )
    hex_id = file_id.hex().encode()
    return _pdf_file(encrypted, b" /Encrypt %d 0 R /ID [<%s> <%s>]" % (encrypt_id, hex_id, hex_id))


_WRITERS: Final[dict[str, Callable[[_Layout], bytes]]] = {
    "txt": _write_txt,
    "md": _write_md,
    "csv": _write_csv,
    "tsv": lambda layout: _write_csv(layout, delimiter="\t"),
    "json": _write_json,
    "html": _write_html,
    "docx": _write_docx,
    "xlsx": _write_xlsx,
    "pptx": _write_pptx,
    "pdf": _write_pdf,
}


# ---------------------------------------------------------------------------------------------
# Hostile files


_CONTENT_TYPES: Final = (
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


@functools.lru_cache(maxsize=2)
def _zip_bomb_docx(inflated_mib: int) -> bytes:
    """A "docx" whose word/document.xml inflates to `inflated_mib` MiB of spaces, about 1000:1.
    One compressed MiB repeated (after a full flush deflate starts afresh); sizes and CRC-32 are
    true, the ratio gives it away."""
    block = b" " * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = repeated * inflated_mib + compressor.flush()
    crc = 0
    for _ in range(inflated_mib):
        crc = zlib.crc32(block, crc)
    return _raw_zip(
        [
            ("[Content_Types].xml", 0, _CONTENT_TYPES, zlib.crc32(_CONTENT_TYPES), len(_CONTENT_TYPES)),
            ("word/document.xml", 8, stream, crc, inflated_mib << 20),
        ]
    )


# ---------------------------------------------------------------------------------------------
# The large file: rows generated on demand, never held whole


class _RowStream:
    """A CSV of fixed-width rows: a header, then rows made from their index, a few of them holding
    planted values; the last row takes up the remainder so the size is exact."""

    def __init__(self, size: int, header: bytes, fillers: Sequence[bytes], special: dict[int, bytes]) -> None:
        width = len(fillers[0])
        if any(len(f) != width for f in fillers) or any(len(s) != width for s in special.values()):
            raise ValueError("rows must share one width")
        self.size = size
        self.header = header
        self.fillers = list(fillers)
        self.special = special
        self.width = width
        body = size - len(header)
        self.rows = body // width
        self.remainder = body % width
        if self.rows < 8:
            raise ValueError("too small for a row stream")

    def _row(self, index: int) -> bytes:
        row = self.special.get(index)
        if row is None:
            row = self.fillers[(index * 7919) % len(self.fillers)]
        if index == self.rows - 1 and self.remainder:
            return row[:-1] + b" " * self.remainder + b"\n"
        return row

    def chunks(self, start: int, end: int, chunk_size: int) -> Iterator[bytes]:
        position = start
        while position < end:
            stop = min(end, position + chunk_size)
            yield self._range(position, stop)
            position = stop

    def _range(self, start: int, end: int) -> bytes:
        parts: list[bytes] = []
        at = start
        head = len(self.header)
        if at < head:
            parts.append(self.header[at : min(end, head)])
            at = min(end, head)
        if at < end:
            first = (at - head) // self.width
            last = min(self.rows - 1, (end - 1 - head) // self.width)
            rows = b"".join(self._row(i) for i in range(first, last + 1))
            offset = head + first * self.width
            parts.append(rows[at - offset : end - offset])
        return b"".join(parts)


# ---------------------------------------------------------------------------------------------
# The corpus


class ContentCorpus:
    """Deterministic contents for one tenant's files. Same seed and file id: same bytes."""

    _CACHE_SIZE: Final = 1024  # documents of a few tens of KB each

    def __init__(self, seed: str, *, large_file_mb: int = 0, max_file_mb: float | None = None) -> None:
        """`large_file_mb` > 0 adds a text/csv file of that many MiB to `specials()`; with
        `max_file_mb`, a file over that cap is expected "too-large" instead of scanned."""
        if large_file_mb < 0:
            raise ValueError("large_file_mb must not be negative")
        self.seed = seed
        self.large_file_mb = large_file_mb
        self.max_file_mb = max_file_mb
        self._cache: OrderedDict[tuple[str, str, str], Document] = OrderedDict()
        self._lock = threading.Lock()
        self._specials: tuple[Document, ...] | None = None

    def _rng(self, *parts: str) -> random.Random:
        return random.Random("\x00".join(("saaslens-content", self.seed, *parts)))

    # -- ordinary files ------------------------------------------------------------------------

    def document_for(self, file_id: str, name: str, mime_type: str) -> Document:
        """Deterministic content for an ordinary listed file. Google-native types (Docs, Sheets,
        Slides) give a Document without bytes of its own: `export` renders it."""
        key = (file_id, name, mime_type)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        document = self._build(file_id, name, mime_type)
        with self._lock:
            self._cache[key] = document
            while len(self._cache) > self._CACHE_SIZE:
                self._cache.popitem(last=False)
        return document

    def _build(self, file_id: str, name: str, mime_type: str) -> Document:
        rng = self._rng("file", file_id)
        mime = mime_type.split(";", 1)[0].strip().lower()
        if mime.startswith(GOOGLE_APPS):
            kind = {GOOGLE_SHEET: "table", GOOGLE_SLIDES: "slides"}.get(mime, "text")
            # Drawings, forms, sites: nothing of ours to scan.
            layout = _layout(rng, kind, "native") if mime in EXPORT_FORMATS else _Layout("", (), kind)
            return Document(name, mime_type, 0, layout.planted, layout.decoys, "scanned", _data=b"", _layout=layout)
        fmt = format_for(name, mime_type)
        kind = "table" if fmt in ("csv", "tsv", "xlsx") else "slides" if fmt == "pptx" else "text"
        layout = _layout(rng, kind, fmt)
        data = _WRITERS[fmt](layout)
        return self._sized(name, mime_type, data, layout.planted, layout.decoys, "scanned", layout)

    def _sized(
        self,
        name: str,
        mime_type: str,
        data: bytes,
        planted: tuple[Planted, ...],
        decoys: tuple[str, ...],
        expect: str,
        layout: _Layout | None = None,
    ) -> Document:
        if expect == "scanned" and self.max_file_mb is not None and len(data) > self.max_file_mb * 2**20:
            expect = "too-large"
        return Document(name, mime_type, len(data), planted, decoys, expect, _data=data, _layout=layout)

    def export(self, document: Document, export_mime_type: str) -> Document:
        """A Google-native document rendered as Drive's files.export renders it, with the same
        planted values and decoys. Raises ValueError for a format the native type has no export to."""
        return export(document, export_mime_type, max_file_mb=self.max_file_mb)

    # -- specials ------------------------------------------------------------------------------

    def specials(self) -> tuple[Document, ...]:
        """The hostile and edge files every tenant gets once (same objects on every call)."""
        if self._specials is None:
            self._specials = self._build_specials()
        return self._specials

    def _build_specials(self) -> tuple[Document, ...]:
        rng = self._rng("specials")
        bomb = _zip_bomb_docx(512)
        out = [Document("Board pack - FINAL.docx", DOCX, len(bomb), (), (), "unreadable:zip-bomb", _data=bomb)]
        # An encrypted PDF holding values nobody without its password can read: none is expected.
        secret_layout = _layout(rng, "text", "pdf", sensitive_share=1.0)
        encrypted = _encrypted_pdf(
            _pdf_lines(secret_layout),
            user_password=_random_text(rng, _ALNUM, 12).encode(),
            owner_password=_random_text(rng, _ALNUM, 16).encode(),
            file_id=rng.randbytes(16),
        )
        out.append(Document("Salaries 2024 (protected).pdf", PDF, len(encrypted), (), (), "unreadable:encrypted",
                            _data=encrypted))  # fmt: skip
        # A workbook cut short in transfer: no end-of-central-directory record.
        whole = _write_xlsx(_layout(rng, "table", "xlsx", sensitive_share=1.0))
        truncated = whole[: len(whole) * 3 // 5]
        out.append(Document("Vendor list (damaged).xlsx", XLSX, len(truncated), (), (), "unreadable:corrupt",
                            _data=truncated))  # fmt: skip
        out.append(self._latin1_csv(rng))
        if self.large_file_mb > 0:
            out.append(self._large(self._rng("large")))
        return tuple(out)

    def _latin1_csv(self, rng: random.Random) -> Document:
        """A CSV exported by a legacy tool in ISO 8859-1: accented names, planted values."""
        lines: list[_Line] = [_Line(_filler(rng))]
        families = (_v_card, _v_iban, _v_ssn, _v_nino, _v_email, _v_hetu)
        for generator in families:
            line = generator(rng)
            lines.append(_Line(line.text, line.planted, label=rng.choice(_ACCENTED)))
            lines.append(_Line(f"{rng.choice(_ACCENTED)} et {rng.choice(_ACCENTED)}: {_filler(rng)}"))
        decoy = _d_card(rng)
        lines.append(_Line(decoy.text, decoys=decoy.decoys, label=rng.choice(_ACCENTED)))
        lines.append(_Line(_filler(rng), label=rng.choice(_ACCENTED)))
        layout = _Layout("Liste des employés", tuple(lines), "table")
        data = _write_csv(layout, delimiter=";", encoding="latin-1")
        return self._sized("Employés - export.csv", "text/csv", data, layout.planted, layout.decoys, "scanned")

    def _large(self, rng: random.Random) -> Document:
        size = self.large_file_mb * 2**20
        width = 128
        header = b"name,team,notes\n".ljust(width - 1, b" ")[: width - 1] + b"\n"

        def row(text: str) -> bytes:
            encoded = text.encode("utf-8")
            if len(encoded) > width - 1:
                raise ValueError("row too wide")
            return encoded.ljust(width - 1, b" ") + b"\n"

        fillers = []
        for _ in range(64):
            words = f"{_person(rng)},{rng.choice(_SUBJECTS)},{rng.choice(_OBJECTS)}"
            fillers.append(row(words[: width - 1]))
        rows = (size - len(header)) // width
        planted: list[Planted] = []
        special: dict[int, bytes] = {}
        generators = (_v_card, _v_iban, _v_ssn, _v_email)
        for anchor in (2, rows // 2, rows - 8):
            for offset, generator in zip((0, 2), rng.sample(generators, 2), strict=True):
                line = generator(rng)
                special[anchor + offset] = row(f'{_person(rng)},"{line.text}"')
                planted.extend(line.planted)
        stream = _RowStream(size, header, fillers, special)
        expect = "scanned"
        if self.max_file_mb is not None and size > self.max_file_mb * 2**20:
            expect = "too-large"
        return Document(
            f"Customer export {self.large_file_mb} MB.csv", "text/csv", size, tuple(planted), (), expect, _stream=stream
        )

    # -- the ground truth ----------------------------------------------------------------------

    def oracle(
        self, documents: Iterable[tuple[str, Document]], *, include_clean: bool = True
    ) -> dict[str, dict[str, int]]:
        """{file_id: {detector: occurrence count}} for the documents whose expect is "scanned";
        a scanned document with nothing planted maps to {} (left out with include_clean=False)."""
        truth: dict[str, dict[str, int]] = {}
        for file_id, document in documents:
            if document.expect != "scanned":
                continue
            counts: dict[str, int] = {}
            for planted in document.planted:
                counts[planted.detector] = counts.get(planted.detector, 0) + 1
            if counts or include_clean:
                truth[file_id] = counts
        return truth


def export(document: Document, export_mime_type: str, *, max_file_mb: float | None = None) -> Document:
    """Render a Google-native document in one of the formats Drive exports its type to."""
    formats = EXPORT_FORMATS.get(document.mime_type)
    if formats is None or document._layout is None:
        raise ValueError(f"{document.mime_type} is not a Google-native type this corpus exports")
    mime = export_mime_type.split(";", 1)[0].strip().lower()
    if mime not in formats:
        raise ValueError(f"{document.mime_type} cannot be exported as {export_mime_type}")
    layout = document._layout
    fmt = _FORMAT_BY_MIME[mime]
    if layout.kind == "table" and fmt in ("pdf", "txt"):
        data = _WRITERS[fmt](_Layout(layout.title, tuple(_tabbed(line) for line in layout.lines), "text"))
    else:
        data = _WRITERS[fmt](layout)
    name = document.name + formats[mime]
    expect = "scanned"
    if max_file_mb is not None and len(data) > max_file_mb * 2**20:
        expect = "too-large"
    return Document(name, mime, len(data), document.planted, document.decoys, expect, _data=data, _layout=layout)


def _tabbed(line: _Line) -> _Line:
    """A sheet row printed: its cells side by side."""
    return _Line(f"{line.label or 'Note'}    {line.text}", line.planted, line.decoys, line.label, line.quoted)


__all__ = [
    "EXPORT_FORMATS",
    "ContentCorpus",
    "Document",
    "Planted",
    "export",
    "format_for",
]
