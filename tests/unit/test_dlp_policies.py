"""include/dlp_policies.yaml: the shipped file is valid, bad files name the field at fault, and a
policy matches by detector counts and the file's exposure."""

from __future__ import annotations

from pathlib import Path

import pytest

from saaslens.dlp import detectors as d
from saaslens.dlp.inspect import inspect_pieces
from saaslens.dlp.policies import PolicyError, evaluate, load_policies

KEY = b"k" * 32


class _Piece:
    def __init__(self, text: str) -> None:
        self.text, self.offset = text, 0


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dlp_policies.yaml"
    path.write_text(text)
    return path


def test_the_shipped_policies_load_and_build_every_detector():
    policies = load_policies()
    ids = {detector.id for detector in policies.build_detectors()}
    assert {"payment_card", "iban", "us_ssn", "credential", "confidential_marking", "employee_id"} <= ids
    assert {p.id for p in policies.policies} >= {"cards_shared_outside", "credentials_in_files"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "policies:\n  - {id: p, title: t, severity: high, detectors: [nope]}\n",
            "policy 'p': unknown detector(s) nope",
        ),
        ("detectors:\n  custom:\n    - {id: x, regex: '(', severity: low}\n", "regex does not compile"),
        ("detectors:\n  custom:\n    - {id: x, regex: 'a*'}\n", "matches the empty string"),
        ("detectors:\n  custom:\n    - {id: x, regex: 'a', keywords: [b]}\n", "exactly one of 'regex' or 'keywords'"),
        ("detectors:\n  custom:\n    - {id: iban, keywords: [b]}\n", "used twice or by a built-in"),
        ("detectors:\n  disabled: [cards]\n", "unknown detector(s) cards"),
        ("policies:\n  - {id: p, title: t, severity: urgent, detectors: [iban]}\n", "policies.0.severity"),
        (
            "detectors: {disabled: [iban]}\npolicies:\n  - {id: p, title: t, severity: low, detectors: [iban]}\n",
            "are disabled",
        ),
        ("scanning: {max_file_mb: 0}\n", "scanning.max_file_mb"),
        ("surprise: 1\n", "surprise"),
        ("policies: [\n", "not valid YAML"),
    ],
)
def test_a_bad_file_names_the_field_at_fault(tmp_path, text, message):
    with pytest.raises(PolicyError) as raised:
        load_policies(_write(tmp_path, text))
    assert message in str(raised.value) and "dlp_policies.yaml" in str(raised.value)


def test_a_missing_file_says_how_to_point_at_one(tmp_path):
    with pytest.raises(PolicyError, match="SAASLENS_DLP_POLICIES"):
        load_policies(tmp_path / "absent.yaml")


def test_policies_match_by_count_and_exposure(tmp_path):
    policies = load_policies(
        _write(
            tmp_path,
            """
policies:
  - {id: cards_outside, title: cards outside, severity: high, detectors: [payment_card], exposure: [external, public],
     actions: [remove_public_link]}
  - {id: many_cards, title: many cards, severity: high, detectors: [payment_card], min_count: 3}
  - {id: keys, title: keys, severity: high, detectors: [credential]}
""",
        )
    )
    text = "card 4111 1111 1111 1111\ncard 5555 5555 5555 4444\nAKIAIOSFODNN7EXAMPLF\n"
    inspection = inspect_pieces([_Piece(text)], policies.build_detectors(), KEY, min_confidence=0.7)

    public = {m.policy: m for m in evaluate(policies.policies, inspection, "public")}
    assert set(public) == {"cards_outside", "keys"}  # two cards: not "many"
    assert public["cards_outside"].count == 2 and public["cards_outside"].actions == ("remove_public_link",)
    assert public["keys"].detectors == ("credential:AWS Access Key",)
    assert {m.policy for m in evaluate(policies.policies, inspection, "internal")} == {"keys"}
    # Unknown exposure: only policies that hold at every exposure.
    assert {m.policy for m in evaluate(policies.policies, inspection, None)} == {"keys"}


def test_disabled_detectors_do_not_run(tmp_path):
    policies = load_policies(_write(tmp_path, "detectors: {disabled: [phone_number, email_address]}\n"))
    ids = {detector.id for detector in policies.build_detectors()}
    assert "phone_number" not in ids and "email_address" not in ids and "payment_card" in ids
    assert isinstance(next(x for x in policies.build_detectors() if x.id == "payment_card"), d.PaymentCardDetector)
