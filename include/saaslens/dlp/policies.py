"""include/dlp_policies.yaml: which detectors run, the user's own patterns and keyword lists, and the
policies that turn what they found into findings by the file's exposure (docs/dlp.md).

A policy says, for example, "more than 5 card numbers in a file shared publicly or externally is
high, and the remedy is to remove the public link". Policies are evaluated on a file's Inspection
and its visibility (files.visibility: private, internal, external, public).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from saaslens import settings
from saaslens.dlp.detectors import (
    NATIONAL_IDS,
    CredentialDetector,
    Detector,
    EmailDetector,
    IbanDetector,
    NationalIdDetector,
    PatternDetector,
    PaymentCardDetector,
    PhoneDetector,
    Severity,
    words_pattern,
)
from saaslens.dlp.inspect import Inspection
from saaslens.vocabulary import Remedy

Visibility = Literal["private", "internal", "external", "public"]
BUILT_IN = ("payment_card", "iban", *(spec.id for spec in NATIONAL_IDS), "credential", "email_address", "phone_number")
_ID = r"^[a-z][a-z0-9_]{0,63}$"
MAX_PATTERN_LENGTH = 500


class PolicyError(Exception):
    """The DLP policy file is missing, unreadable or invalid; the message names the file and field."""


def policies_path() -> Path:
    return Path(os.environ.get("SAASLENS_DLP_POLICIES", settings.INCLUDE_DIR / "dlp_policies.yaml"))


class CustomDetectorConfig(BaseModel):
    """A user's detector: a regular expression or a keyword list, with optional context words."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    severity: Severity = Severity.MEDIUM
    description: str = ""
    regex: str | None = Field(default=None, max_length=MAX_PATTERN_LENGTH)
    keywords: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    ignore_case: bool = True

    @model_validator(mode="after")
    def _one_kind(self) -> CustomDetectorConfig:
        if (self.regex is None) == (not self.keywords):
            raise ValueError(f"detector {self.id!r}: give exactly one of 'regex' or 'keywords'")
        if self.regex is not None:
            try:
                compiled = re.compile(self.regex, re.I if self.ignore_case else 0)
            except re.error as exc:
                raise ValueError(f"detector {self.id!r}: regex does not compile: {exc}") from None
            if compiled.search(""):
                raise ValueError(f"detector {self.id!r}: regex matches the empty string")
        return self

    def build(self) -> PatternDetector:
        if self.regex is None:
            return PatternDetector.keywords(self.id, self.severity, self.keywords, self.description)
        return PatternDetector(
            self.id,
            self.severity,
            self.description or f"pattern: {self.id}",
            re.compile(self.regex, re.I if self.ignore_case else 0),
            words_pattern(self.context),
        )


class DetectorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    disabled: tuple[str, ...] = ()
    phone_region: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    min_confidence: float = Field(default=0.7, ge=0, le=1)
    custom: tuple[CustomDetectorConfig, ...] = ()

    @model_validator(mode="after")
    def _known(self) -> DetectorSettings:
        unknown = sorted(set(self.disabled) - set(BUILT_IN))
        if unknown:
            raise ValueError(f"disabled: unknown detector(s) {', '.join(unknown)} (built in: {', '.join(BUILT_IN)})")
        ids = [c.id for c in self.custom]
        clash = sorted({i for i in ids if ids.count(i) > 1 or i in BUILT_IN})
        if clash:
            raise ValueError(f"custom: detector id(s) {', '.join(clash)} used twice or by a built-in detector")
        return self


class ScanSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schedule: str = "0 */12 * * *"
    max_file_mb: float = Field(default=100, gt=0, le=2048)
    include_trashed: bool = True


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    severity: Severity
    detectors: tuple[str, ...] = Field(min_length=1)
    min_count: int = Field(default=1, ge=1)
    exposure: tuple[Visibility, ...] = ("private", "internal", "external", "public")
    # What remedies the finding: the remedies of saaslens.vocabulary.Remedy, which each app's file
    # actions answer to (remove_public_link, remove_external_share, restrict_to_owner, quarantine_file,
    # trash_file, apply_sensitivity_label); run through governance, dry-run and approved as any action.
    actions: tuple[Remedy, ...] = ()
    description: str = ""

    @field_validator("exposure")
    @classmethod
    def _exposure_not_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("exposure lists no visibility; leave it out to mean any")
        return value


class DlpPolicies(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    scanning: ScanSettings = ScanSettings()
    detectors: DetectorSettings = DetectorSettings()
    policies: tuple[Policy, ...] = ()

    @model_validator(mode="after")
    def _policies_name_known_detectors(self) -> DlpPolicies:
        known = set(BUILT_IN) | {c.id for c in self.detectors.custom}
        for policy in self.policies:
            missing = sorted(d for d in policy.detectors if d.split(":", 1)[0] not in known)
            if missing:
                raise ValueError(f"policy {policy.id!r}: unknown detector(s) {', '.join(missing)}")
            off = sorted(d for d in policy.detectors if d in self.detectors.disabled)
            if off:
                raise ValueError(f"policy {policy.id!r}: detector(s) {', '.join(off)} are disabled")
        ids = [p.id for p in self.policies]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"policy id(s) {', '.join(twice)} used twice")
        return self

    def build_detectors(self) -> list[Detector]:
        chosen: list[Detector] = []
        off = set(self.detectors.disabled)
        if "payment_card" not in off:
            chosen.append(PaymentCardDetector())
        if "iban" not in off:
            chosen.append(IbanDetector())
        chosen += [NationalIdDetector(spec) for spec in NATIONAL_IDS if spec.id not in off]
        if "credential" not in off:
            chosen.append(CredentialDetector())
        if "email_address" not in off:
            chosen.append(EmailDetector())
        if "phone_number" not in off:
            chosen.append(PhoneDetector(region=self.detectors.phone_region))
        chosen += [custom.build() for custom in self.detectors.custom]
        return chosen


def load_policies(path: Path | str | None = None) -> DlpPolicies:
    file = Path(path) if path else policies_path()
    try:
        document: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{file}: DLP policy file not found (set SAASLENS_DLP_POLICIES)") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{file}: not valid YAML: {exc}") from None
    try:
        return DlpPolicies.model_validate(document or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise PolicyError(f"{file}: {problems}") from None


@dataclass(frozen=True)
class PolicyMatch:
    policy: str
    title: str
    severity: Severity
    count: int
    detectors: tuple[str, ...]
    visibility: str
    actions: tuple[str, ...]


def evaluate(policies: Sequence[Policy], inspection: Inspection, visibility: str | None) -> list[PolicyMatch]:
    """The policies a file breaks: enough hits of the policy's detectors, at an exposure it names.
    A file whose visibility is unknown matches only policies that accept every exposure."""
    matched = []
    for policy in policies:
        if visibility is None and set(policy.exposure) != {"private", "internal", "external", "public"}:
            continue
        if visibility is not None and visibility not in policy.exposure:
            continue
        count = inspection.count(policy.detectors)
        if count < policy.min_count:
            continue
        hit_detectors = tuple(
            s.detector for s in inspection.summaries() if s.count and _named(s.detector, policy.detectors)
        )
        matched.append(
            PolicyMatch(
                policy.id, policy.title, policy.severity, count, hit_detectors, visibility or "unknown", policy.actions
            )
        )
    return matched


def _named(detector: str, names: Sequence[str]) -> bool:
    return detector in names or detector.split(":", 1)[0] in names
