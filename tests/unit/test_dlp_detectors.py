"""Detectors are validated, not just matched: every planted real value is found, every decoy that
only looks like one is not, and what leaves a detector never holds the value."""

from __future__ import annotations

import pytest

from saaslens.dlp import detectors as d
from saaslens.dlp.inspect import inspect_pieces

KEY = b"unit-test-key-0123456789abcdef"


def _found(detector: d.Detector, text: str) -> list[str]:
    return [text[c.start : c.end] for c in detector.find(text)]


@pytest.mark.parametrize(
    ("number", "network"),
    [
        ("4111 1111 1111 1111", "visa"),
        ("4012888888881881", "visa"),
        ("5555-5555-5555-4444", "mastercard"),
        ("2223 0031 2200 3222", "mastercard"),
        ("3782 822463 10005", "amex"),
        ("6011 1111 1111 1117", "discover"),
        ("3530 1113 3330 0000", "jcb"),
        ("6200 0000 0000 0005", "unionpay"),
    ],
)
def test_card_numbers_of_each_network_are_found(number, network):
    digits = number.replace(" ", "").replace("-", "")
    assert d.card_network(digits) == network
    assert _found(d.PaymentCardDetector(), f"paid with card {number} yesterday") == [number]


@pytest.mark.parametrize(
    "decoy",
    [
        "4111 1111 1111 1112",  # fails Luhn
        "1234 5678 9012 3452",  # Luhn-valid, no issuer starts with 1
        "4111-1111 1111-1111",  # separators change half way: not how a card is written
        "order 941111111111111111111",  # inside a longer number
        "4444 4444 4444 4448",  # one repeated digit: a filler
        "v1.4111111111111111.2",  # part of a dotted version string
        "INV4111111111111111",  # glued to letters: an invoice number
        "IE30LOYD56156780163872",  # the digits of an IBAN (Maestro-shaped, Luhn-valid)
        "total 1,4111 1111 1111 1111",  # after a thousands separator
    ],
)
def test_card_decoys_are_not_reported(decoy):
    assert _found(d.PaymentCardDetector(), decoy) == []


@pytest.mark.parametrize(
    ("row", "number"),
    [("Alice Martin,4111 1111 1111 1111", "4111 1111 1111 1111"), ("Bob,5555555555554444,12/29", "5555555555554444")],
)
def test_a_card_in_a_csv_field_is_found(row, number):
    """A comma is a field separator in CSV rows, where card numbers usually sit (found by the sandbox corpus)."""
    assert _found(d.PaymentCardDetector(), row) == [number]


def test_context_words_raise_the_confidence():
    detector = d.PaymentCardDetector()
    (plain,) = detector.find("ref 4111 1111 1111 1111")
    (with_context,) = detector.find("Visa card: 4111 1111 1111 1111, expiry 12/29")
    assert with_context.confidence > plain.confidence


def test_ibans_are_checked_by_country_format_and_mod_97():
    text = (
        "Pay GB82 WEST 1234 5698 7654 32 or DE89370400440532013000, "
        "not GB82 WEST 1234 5698 7654 33 or DE00370400440532013000"
    )
    assert _found(d.IbanDetector(), text) == ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000"]


def test_us_ssn_rules_and_context():
    detector = d.NationalIdDetector(d.NATIONAL_IDS[0])
    assert _found(detector, "SSN 536-22-1234") == ["536-22-1234"]
    for invalid in ("000-22-1234", "666-22-1234", "900-22-1234", "536-00-1234", "536-22-0000", "078-05-1120"):
        assert _found(detector, f"SSN {invalid}") == [], invalid
    undashed = d.NationalIdDetector(next(s for s in d.NATIONAL_IDS if s.id == "us_ssn_undashed"))
    assert _found(undashed, "invoice 536221234") == []  # nine digits alone are not an SSN
    assert _found(undashed, "social security number 536221234") == ["536221234"]


def test_uk_national_insurance_numbers_follow_hmrc_prefix_rules():
    detector = d.NationalIdDetector(next(s for s in d.NATIONAL_IDS if s.id == "uk_nino"))
    assert _found(detector, "NI number AB 12 34 56 C, also JG103759A") == ["AB 12 34 56 C", "JG103759A"]
    for invalid in ("QQ123456C", "DA123456C", "AO123456C", "GB123456A", "ZZ123456A", "AB123456E"):
        assert _found(detector, invalid) == [], invalid


@pytest.mark.parametrize(
    ("ident", "text", "value"),
    [
        ("es_dni", "DNI 54362315K", "54362315K"),
        ("it_codice_fiscale", "codice fiscale RCCMNL83S18D969H", "RCCMNL83S18D969H"),
        ("fi_hetu", "hetu 131052-308T", "131052-308T"),
        ("br_cpf", "CPF 390.533.447-05", "390.533.447-05"),
        ("nl_bsn", "BSN 1112.22.333", "1112.22.333"),
        ("ca_sin", "SIN 123-456-782", "123-456-782"),
        ("in_aadhaar", "aadhaar 2341 2341 2346", "2341 2341 2346"),
        ("de_idnr", "Steuer-ID 36 574 261 809", "36 574 261 809"),
        ("pl_pesel", "PESEL 44051401359", "44051401359"),
        ("se_personnummer", "personnummer 880320-0016", "880320-0016"),
    ],
)
def test_national_identifiers_validated_by_python_stdnum(ident, text, value):
    detector = d.NationalIdDetector(next(s for s in d.NATIONAL_IDS if s.id == ident))
    assert _found(detector, text) == [value]
    # One digit off breaks the check digit: a decoy.
    last = value[-1]
    broken = value[:-1] + ("1" if last == "0" else "0" if last.isdigit() else "A" if last != "A" else "B")
    assert _found(detector, text.replace(value, broken)) == []


def test_context_required_identifiers_need_their_words():
    pesel = d.NationalIdDetector(next(s for s in d.NATIONAL_IDS if s.id == "pl_pesel"))
    assert _found(pesel, "tracking 44051401359") == []


def test_credentials_by_detect_secrets_and_its_filters():
    text = "\n".join(
        [
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLF",
            "token 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",
            "SLACK=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "-----BEGIN RSA PRIVATE KEY-----",
            'password = "${DB_PASSWORD}"',  # templated: detect-secrets filters it
            "the weather is fine",
        ]
    )
    hits = d.scan(text, [d.CredentialDetector()], KEY)
    kinds = {h.detector for h in hits}
    assert kinds == {
        "credential:AWS Access Key",
        "credential:GitHub Token",
        "credential:Slack Token",
        "credential:Private Key",
    }
    github = next(h for h in hits if h.detector == "credential:GitHub Token")
    assert text[github.start : github.end] == "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"
    assert github.masked == "ghp_********"


def test_hits_carry_masks_and_keyed_fingerprints_never_values():
    text = "card 4111 1111 1111 1111 and again 4111-1111-1111-1111; mail jane.roe@example.com"
    hits = d.scan(text, d.default_detectors(), KEY)
    card = [h for h in hits if h.detector == "payment_card"]
    assert [h.masked for h in card] == ["**** **** **** 1111", "****-****-****-1111"]
    assert card[0].fingerprint == card[1].fingerprint  # the same number, written two ways
    assert d.fingerprint(b"another key", "payment_card", "4111111111111111") != card[0].fingerprint
    for hit in hits:
        assert "4111 1111 1111 1111" not in repr(hit) and "jane.roe" not in repr(hit)


def test_a_card_number_is_not_also_a_phone_number():
    hits = d.scan("call 4111 1111 1111 1111", d.default_detectors(), KEY)
    assert [h.detector for h in hits] == ["payment_card"]


def test_user_patterns_and_keywords():
    regex = d.PatternDetector(
        "employee_id",
        d.Severity.MEDIUM,
        "ids",
        __import__("re").compile(r"\bEMP-\d{6}\b"),
        d.words_pattern(["employee"]),
    )
    words = d.PatternDetector.keywords("marking", d.Severity.MEDIUM, ["strictly confidential"])
    (plain,) = regex.find("EMP-123456")
    (context,) = regex.find("employee EMP-123456")
    assert context.confidence > plain.confidence
    assert _found(words, "This is STRICTLY CONFIDENTIAL.") == ["STRICTLY CONFIDENTIAL"]
    with pytest.raises(ValueError, match="lists no words"):
        d.PatternDetector.keywords("empty", d.Severity.LOW, [" "])


class _Piece:
    def __init__(self, text: str, offset: int) -> None:
        self.text, self.offset = text, offset


def test_inspection_summarises_pieces_with_file_offsets():
    first = "card 4111 1111 1111 1111\n"
    second = "card 5555 5555 5555 4444\ncard 4111 1111 1111 1111\n"
    result = inspect_pieces(
        [_Piece(first, 0), _Piece(second, len(first))], [d.PaymentCardDetector()], KEY, min_confidence=0.7
    )
    (summary,) = result.summaries()
    assert summary.count == 3 and summary.distinct == 2
    assert summary.positions[1] == (len(first) + 5, len(first) + 24)
    assert summary.previews == ["**** **** **** 1111", "**** **** **** 4444"]
    assert result.chars == len(first) + len(second) and result.pieces == 2


def test_the_gate_changes_nothing_detect_secrets_reports(tmp_path):
    """The lines the gate keeps from detect-secrets are lines none of its plugins reports on: on a
    mixed text, the secrets found equal a plain detect-secrets scan of the whole text."""
    from detect_secrets.core.scan import scan_file
    from detect_secrets.settings import default_settings

    from saaslens.dlp import secrets_engine

    lines = [
        "plain prose about quarterly revenue and the pilot program",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLF",
        'api_key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"',
        "secret: 'c2VjcmV0IHZhbHVlIHRoYXQgaXMgbG9uZyBlbm91Z2g='",
        "x = 'U29tZVJhbmRvbUJhc2U2NFN0cmluZ1dpdGhFbnRyb3B5MTIzNDU2Nzg='",
        "jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
        ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "https://user:hunter2pass@example.com/path",
        "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "sendgrid 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",
        'password = "${DB_PASSWORD}"',
        "order 1234567890 shipped to 203.0.113.7 and 8.8.8.8",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "npm token //registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789",
    ] * 3
    text = "\n".join(lines)
    path = tmp_path / "whole.txt"
    path.write_text(text)
    with default_settings():
        plain = {(s.line_number, s.type) for s in scan_file(str(path))}
    line_of = [text.count("\n", 0, start) + 1 for start in range(len(text) + 1)]
    ours = {(line_of[start], kind) for start, _end, _value, kind in secrets_engine.scan_text(text)}
    assert plain and ours == plain
