"""Detectors for sensitive values in extracted text: validated, not just matched.

Every detector finds candidates with a regular expression, then keeps only those that pass the
identifier's own check: the Luhn checksum and issuer ranges for payment cards, ISO 13616's mod-97
for IBANs, the national rules python-stdnum implements, detect-secrets' plugins and filters for
credentials. A hit carries a confidence that rises when context words ("card", "IBAN", "SSN") stand
nearby, and never the value itself outside this module: callers get a masked preview and a keyed
fingerprint (see `Hit`).

Sources the rules rely on:
- ISO/IEC 7812 issuer ranges as the card networks publish them (Visa, Mastercard 2-series,
  American Express, Discover, JCB, Diners Club, UnionPay, Maestro):
  https://www.iso.org/standard/70484.html and python-stdnum's `luhn`.
- IBAN: ISO 13616 and the SWIFT IBAN registry (python-stdnum `iban`, which checks each country's
  length and format as well as mod-97).
- US SSN: https://www.ssa.gov/employer/randomization.html (no area 000, 666 or 900-999, no group 00,
  no serial 0000; python-stdnum `us.ssn` adds the numbers SSA voided).
- UK National Insurance number: HMRC National Insurance Manual NIM39110
  (https://www.gov.uk/hmrc-internal-manuals/national-insurance-manual/nim39110).
- Credentials: detect-secrets' plugins and default filters (https://github.com/Yelp/detect-secrets).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from types import ModuleType
from typing import Protocol

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.us import ssn as stdnum_ssn


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class Candidate:
    """A validated value in a piece of text. Lives only inside the inspection of one chunk."""

    start: int
    end: int
    value: str
    confidence: float


class Detector(Protocol):
    """Finds validated candidates in text and masks a value of its own kind for previews."""

    @property
    def id(self) -> str: ...

    @property
    def severity(self) -> Severity: ...

    @property
    def description(self) -> str: ...

    def find(self, text: str) -> Iterator[Candidate]: ...

    def mask(self, value: str) -> str: ...


@dataclass(frozen=True)
class Hit:
    """What leaves the detector: where, how sure, a masked preview and a keyed fingerprint. The value
    itself does not: the fingerprint is an HMAC under the lake's key, so equal values in two files
    can be counted once without storing either."""

    detector: str
    severity: Severity
    start: int
    end: int
    confidence: float
    masked: str
    fingerprint: str


# -- context -------------------------------------------------------------------------------------

CONTEXT_WINDOW = 60  # characters either side of a candidate in which context words count


def near(text: str, start: int, end: int, words: re.Pattern[str] | None, window: int = CONTEXT_WINDOW) -> bool:
    if words is None:
        return False
    return words.search(text, max(0, start - window), min(len(text), end + window)) is not None


def words_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    listed = sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True)
    if not listed:
        return None
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(w) for w in listed) + r")(?![A-Za-z0-9])", re.I)


# -- masking -------------------------------------------------------------------------------------


def mask_keep_last(value: str, keep: int = 4, *, mask: str = "*") -> str:
    """Mask every letter and digit but the last `keep`, keeping separators: 4111 1111 1111 1111 ->
    **** **** **** 1111."""
    alnum = [i for i, c in enumerate(value) if c.isalnum()]
    shown = set(alnum[-keep:]) if keep > 0 else set()
    return "".join(c if (not c.isalnum() or i in shown) else mask for i, c in enumerate(value))


def mask_keep_first(value: str, keep: int = 4) -> str:
    """Credentials: the prefix tells the kind of key (AKIA, ghp_, xoxb-); the rest is masked and
    its length hidden."""
    return value[:keep] + "*" * 8


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


# -- payment cards -------------------------------------------------------------------------------

# (network, prefixes as ranges, valid lengths). ISO/IEC 7812 IINs as the networks publish them.
CARD_NETWORKS: tuple[tuple[str, tuple[tuple[int, int], ...], tuple[int, ...]], ...] = (
    ("visa", ((4, 4),), (13, 16, 19)),
    ("mastercard", ((51, 55), (2221, 2720)), (16,)),
    ("amex", ((34, 34), (37, 37)), (15,)),
    ("discover", ((6011, 6011), (644, 649), (65, 65), (622126, 622925)), (16, 17, 18, 19)),
    ("jcb", ((3528, 3589),), (16, 17, 18, 19)),
    ("diners", ((300, 305), (36, 36), (38, 39)), (14, 15, 16, 17, 18, 19)),
    ("unionpay", ((62, 62),), (16, 17, 18, 19)),
    ("maestro", ((50, 50), (56, 58), (63, 63), (67, 67)), (12, 13, 14, 15, 16, 17, 18, 19)),
)


def card_network(digits: str) -> str | None:
    for network, ranges, lengths in CARD_NETWORKS:
        if len(digits) not in lengths:
            continue
        for low, high in ranges:
            width = len(str(low))
            if low <= int(digits[:width]) <= high:
                return network
    return None


# Digits in groups separated by one consistent separator (space or dash) or none at all; not part of
# a longer run of digits. A number glued inside a longer one (an order id) is not a card.
# Not inside a longer token: no digit, letter, '.' or '-' right before (an invoice number INV4111...,
# the digits inside an IBAN), and a comma only as a field separator, not a thousands separator (a CSV
# row "Alice,4111 1111 1111 1111" holds a card; "1,4111 ..." does not), ...
_CARD = re.compile(
    r"(?<![\dA-Za-z.-])(?<!\d,)(?:\d{4}([ -]?)\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -]?)\d{6}\2\d{4,5})"
    # and after it, no letter or digit, no decimal or version part (.5), no thousands group (,500), no
    # dash and digit; a comma before another field (",12/29" an expiry) is fine.
    r"(?![\dA-Za-z]|[.-]\d|,\d{3}(?!\d))"
)


@dataclass(frozen=True)
class PaymentCardDetector:
    id: str = "payment_card"
    severity: Severity = Severity.HIGH
    description: str = "Payment card numbers: 12-19 digits, Luhn-valid, in a known issuer range"
    context: re.Pattern[str] | None = field(
        default_factory=lambda: words_pattern(
            ["card", "credit", "debit", "visa", "mastercard", "amex", "american express", "discover", "jcb",
             "cc", "ccn", "pan", "expiry", "exp", "cvv", "cvc", "payment"]
        )
    )  # fmt: skip

    def find(self, text: str) -> Iterator[Candidate]:
        for match in _CARD.finditer(text):
            raw = match.group(0)
            digits = re.sub(r"[ -]", "", raw)
            if not 12 <= len(digits) <= 19 or not luhn.is_valid(digits) or card_network(digits) is None:
                continue
            if len(set(digits[:-1])) == 1:  # one digit repeated (plus a check digit): a filler, not a card
                continue
            confidence = 0.95 if near(text, match.start(), match.end(), self.context) else 0.75
            yield Candidate(match.start(), match.end(), raw, confidence)

    def mask(self, value: str) -> str:
        return mask_keep_last(value, 4)


# -- IBAN ----------------------------------------------------------------------------------------

# Country code, check digits, then 11-30 alphanumerics optionally in groups of four.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")


@dataclass(frozen=True)
class IbanDetector:
    id: str = "iban"
    severity: Severity = Severity.HIGH
    description: str = "International bank account numbers: country format and ISO 13616 mod-97 check"
    context: re.Pattern[str] | None = field(
        default_factory=lambda: words_pattern(["iban", "bank", "account", "konto", "swift", "bic", "sepa", "wire"])
    )

    def find(self, text: str) -> Iterator[Candidate]:
        for match in _IBAN.finditer(text):
            raw = match.group(0).rstrip()
            # A greedy match can swallow a following word in groups of four; trim to the longest valid.
            for end in range(len(raw), 14, -1):
                piece = raw[:end].rstrip()
                if stdnum_iban.is_valid(piece):
                    confidence = 0.97 if near(text, match.start(), match.start() + end, self.context) else 0.85
                    yield Candidate(match.start(), match.start() + len(piece), piece, confidence)
                    break

    def mask(self, value: str) -> str:
        return value[:2] + mask_keep_last(value[2:], 4)


# -- national identifiers ------------------------------------------------------------------------


def _nino_valid(value: str) -> bool:
    """HMRC NIM39110: two prefix letters (not D, F, I, Q, U or V; the second not O; BG, GB, KN,
    NK, NT, TN and ZZ never allocated), six digits, a suffix A-D."""
    compact = value.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{6}[A-D]", compact):
        return False
    first, second = compact[0], compact[1]
    if first in "DFIQUV" or second in "DFIQUVO":
        return False
    return compact[:2] not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


@dataclass(frozen=True)
class NationalIdSpec:
    """One national identifier: its shape in text, its validator, and whether a context word must
    stand nearby (for shapes as common as nine plain digits)."""

    id: str
    country: str
    label: str
    pattern: str
    validate: Callable[[str], bool]
    context_words: tuple[str, ...]
    context_required: bool = False
    keep: int = 4


def _stdnum(module_name: str) -> Callable[[str], bool]:
    import importlib

    module: ModuleType = importlib.import_module(f"stdnum.{module_name}")

    def validate(value: str) -> bool:
        return bool(module.is_valid(value))

    return validate


NATIONAL_IDS: tuple[NationalIdSpec, ...] = (
    NationalIdSpec(
        "us_ssn", "US", "US Social Security number", r"\d{3}-\d{2}-\d{4}", stdnum_ssn.is_valid,
        ("ssn", "social security", "ss#", "ss #", "taxpayer"),
    ),
    NationalIdSpec(
        "us_ssn_undashed", "US", "US Social Security number (no dashes)", r"\d{9}", stdnum_ssn.is_valid,
        ("ssn", "social security", "ss#"), context_required=True,
    ),
    NationalIdSpec(
        "uk_nino", "GB", "UK National Insurance number", r"[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]", _nino_valid,
        ("national insurance", "nino", "ni number", "ni no"),
    ),
    NationalIdSpec(
        "ca_sin", "CA", "Canadian Social Insurance Number", r"\d{3}[ -]?\d{3}[ -]?\d{3}", _stdnum("ca.sin"),
        ("sin", "social insurance"), context_required=True,
    ),
    NationalIdSpec(
        "nl_bsn", "NL", "Dutch citizen service number (BSN)", r"\d{4}\.?\d{2}\.?\d{3}", _stdnum("nl.bsn"),
        ("bsn", "burgerservicenummer", "sofinummer"), context_required=True,
    ),
    NationalIdSpec(
        "es_dni", "ES", "Spanish DNI", r"\d{8}-?[A-Za-z]", _stdnum("es.dni"), ("dni", "nif", "documento"),
    ),
    NationalIdSpec(
        "it_codice_fiscale", "IT", "Italian codice fiscale",
        r"[A-Za-z]{6}\d{2}[A-Za-z]\d{2}[A-Za-z]\d{3}[A-Za-z]", _stdnum("it.codicefiscale"),
        ("codice fiscale", "cf"),
    ),
    NationalIdSpec(
        "fi_hetu", "FI", "Finnish personal identity code", r"\d{6}[-+A]\d{3}[0-9A-Ya-y]", _stdnum("fi.hetu"),
        ("henkilötunnus", "hetu", "personal identity"),
    ),
    NationalIdSpec(
        "se_personnummer", "SE", "Swedish personal identity number", r"(?:\d{2})?\d{6}[-+]\d{4}",
        _stdnum("se.personnummer"), ("personnummer",), context_required=True,
    ),
    NationalIdSpec(
        "br_cpf", "BR", "Brazilian CPF", r"\d{3}\.\d{3}\.\d{3}-\d{2}", _stdnum("br.cpf"), ("cpf",),
    ),
    NationalIdSpec(
        "in_aadhaar", "IN", "Indian Aadhaar number", r"[2-9]\d{3} ?\d{4} ?\d{4}", _stdnum("in_.aadhaar"),
        ("aadhaar", "uid", "uidai"), context_required=True,
    ),
    NationalIdSpec(
        "de_idnr", "DE", "German tax identification number", r"\d{2} ?\d{3} ?\d{3} ?\d{3}", _stdnum("de.idnr"),
        ("steuer-id", "steuerid", "idnr", "identifikationsnummer", "tax id"), context_required=True,
    ),
    NationalIdSpec(
        "pl_pesel", "PL", "Polish PESEL", r"\d{11}", _stdnum("pl.pesel"), ("pesel",), context_required=True,
    ),
)  # fmt: skip


@dataclass(frozen=True)
class NationalIdDetector:
    spec: NationalIdSpec
    severity: Severity = Severity.HIGH
    _regex: re.Pattern[str] = field(init=False, repr=False)
    _context: re.Pattern[str] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(r"(?<![A-Za-z0-9])" + self.spec.pattern + r"(?![A-Za-z0-9])"))
        object.__setattr__(self, "_context", words_pattern(self.spec.context_words))

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def description(self) -> str:
        return f"{self.spec.label}, validated by its check rules"

    def find(self, text: str) -> Iterator[Candidate]:
        for match in self._regex.finditer(text):
            value = match.group(0)
            context = near(text, match.start(), match.end(), self._context)
            if self.spec.context_required and not context:
                continue
            if not self.spec.validate(value):
                continue
            yield Candidate(match.start(), match.end(), value, 0.9 if context else 0.7)

    def mask(self, value: str) -> str:
        return mask_keep_last(value, self.spec.keep)


# -- contact details (low) -----------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")


@dataclass(frozen=True)
class EmailDetector:
    id: str = "email_address"
    severity: Severity = Severity.LOW
    description: str = "Email addresses"

    def find(self, text: str) -> Iterator[Candidate]:
        for match in _EMAIL.finditer(text):
            yield Candidate(match.start(), match.end(), match.group(0), 0.9)

    def mask(self, value: str) -> str:
        return mask_email(value)


# A run that could hold a phone number: an optional + or (, then digits with spaces, dots, dashes,
# slashes or parentheses between them, 7 to 20 digits' worth.
_PHONE_RUN = re.compile(r"[+(]?\d[\d ().\-/]{5,24}\d")


@dataclass(frozen=True)
class PhoneDetector:
    """Phone numbers that libphonenumber finds valid, international form or national in the
    default region."""

    region: str = "US"
    id: str = "phone_number"
    severity: Severity = Severity.LOW
    description: str = "Phone numbers that libphonenumber validates"

    def find(self, text: str) -> Iterator[Candidate]:
        import phonenumbers

        # libphonenumber's matcher costs the same on every character of the text; it runs only on
        # the runs of digits and separators that could be a number, with a little context either
        # side for its own boundary checks.
        for run in _PHONE_RUN.finditer(text):
            left = max(0, run.start() - 2)
            piece = text[left : run.end() + 2]
            for match in phonenumbers.PhoneNumberMatcher(piece, self.region, leniency=phonenumbers.Leniency.VALID):
                yield Candidate(left + match.start, left + match.end, match.raw_string, 0.8)

    def mask(self, value: str) -> str:
        return mask_keep_last(value, 2)


# -- credentials (detect-secrets) ----------------------------------------------------------------


@dataclass(frozen=True)
class CredentialDetector:
    """Keys, tokens and passwords as detect-secrets finds them: every plugin it ships (AWS, private
    keys, GitHub, Slack, Stripe, JWT, high-entropy strings, keywords ...) with its default filters,
    which drop templated values (`${PASSWORD}`), sequential strings, UUIDs and the like. The
    detector id is `credential:<detect-secrets type>`."""

    id: str = "credential"
    severity: Severity = Severity.HIGH
    description: str = "Credentials and keys, by detect-secrets' plugins and filters"

    def find(self, text: str) -> Iterator[Candidate]:
        for start, end, value, _kind in self.find_typed(text):
            yield Candidate(start, end, value, 0.9)

    def find_typed(self, text: str) -> Iterator[tuple[int, int, str, str]]:
        from saaslens.dlp import secrets_engine

        yield from secrets_engine.scan_text(text)

    def mask(self, value: str) -> str:
        if value.startswith("-----BEGIN"):
            return value.split("\n", 1)[0][:64]  # the PEM header names the kind of key and holds none of it
        return mask_keep_first(value, 4)


# -- user-defined (include/dlp_policies.yaml) ----------------------------------------------------


@dataclass(frozen=True)
class PatternDetector:
    """A user's regular expression or keyword list."""

    id: str
    severity: Severity
    description: str
    regex: re.Pattern[str]
    context: re.Pattern[str] | None = None
    confidence: float = 0.8

    @classmethod
    def keywords(cls, id: str, severity: Severity, words: Iterable[str], description: str = "") -> PatternDetector:
        pattern = words_pattern(words)
        if pattern is None:
            raise ValueError(f"keyword detector {id!r} lists no words")
        return cls(id, severity, description or f"keywords: {id}", pattern)

    def find(self, text: str) -> Iterator[Candidate]:
        for match in self.regex.finditer(text):
            if match.end() == match.start():
                continue
            confidence = self.confidence
            if self.context is not None and near(text, match.start(), match.end(), self.context):
                confidence = min(1.0, confidence + 0.15)
            yield Candidate(match.start(), match.end(), match.group(0), confidence)

    def mask(self, value: str) -> str:
        return mask_keep_last(value, 2) if len(value) > 6 else "*" * len(value)


# -- running them --------------------------------------------------------------------------------


def fingerprint(key: bytes, detector: str, value: str) -> str:
    """A keyed hash of the normalised value (letters and digits only, upper case), so 4111-1111...
    and 4111 1111 ... are one value. Without the key it cannot be tested against guesses."""
    normal = re.sub(r"[^0-9A-Za-z]", "", value).upper() or value
    return hmac.new(key, f"{detector}\x00{normal}".encode(), hashlib.sha256).hexdigest()[:32]


def default_detectors(*, phone_region: str = "US") -> list[Detector]:
    found: list[Detector] = [PaymentCardDetector(), IbanDetector()]
    found += [NationalIdDetector(spec) for spec in NATIONAL_IDS]
    found += [CredentialDetector(), EmailDetector(), PhoneDetector(region=phone_region)]
    return found


def scan(text: str, detectors: Iterable[Detector], key: bytes, *, base_offset: int = 0) -> list[Hit]:
    """Every detector over one piece of text. Overlapping hits keep the one with the higher
    severity, then confidence (a card number is not also reported as a phone number)."""
    hits: list[tuple[Hit, int]] = []
    for detector in detectors:
        if isinstance(detector, CredentialDetector):
            for start, end, value, kind in detector.find_typed(text):
                ident = f"credential:{kind}"
                hit = Hit(ident, detector.severity, base_offset + start, base_offset + end, 0.9,
                          detector.mask(value), fingerprint(key, ident, value))  # fmt: skip
                hits.append((hit, _RANK[detector.severity]))
            continue
        for found in detector.find(text):
            hit = Hit(
                detector.id,
                detector.severity,
                base_offset + found.start,
                base_offset + found.end,
                round(found.confidence, 2),
                detector.mask(found.value),
                fingerprint(key, detector.id, found.value),
            )
            hits.append((hit, _RANK[detector.severity]))
    return _resolve_overlaps(hits)


_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2}


def _resolve_overlaps(hits: list[tuple[Hit, int]]) -> list[Hit]:
    ordered = sorted(hits, key=lambda h: (-h[1], -h[0].confidence, h[0].start))
    kept: list[Hit] = []
    taken: list[tuple[int, int]] = []
    for hit, _rank in ordered:
        if any(hit.start < end and start < hit.end for start, end in taken):
            continue
        kept.append(hit)
        taken.append((hit.start, hit.end))
    return sorted(kept, key=lambda h: (h.start, h.detector))
