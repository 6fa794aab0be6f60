"""Posture rules and their evaluation (saaslens.posture), on hand-made settings snapshots."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from saaslens.catalog.build import build_catalog
from saaslens.connectors.settings_reads import read_setting
from saaslens.http import PermissionDeniedError
from saaslens.http.errors import FeatureUnavailableError, NotFoundError, TransientError
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.posture.evaluate import SettingsSnapshot, evaluate_instance, evaluate_rules
from saaslens.posture.mutes import MuteError, load_mutes
from saaslens.posture.rules import RuleError, load_rules, parse_rule

MIN_LENGTH = """\
-- title: Passwords need at least 12 characters
-- severity: medium
-- rationale: Short passwords fall to guessing.
--   Continued on a second line.
-- remediation: Set the minimum length to 12.
-- baselines: CIS X 1.1, NIST SP 800-63B 5.1.1.2
-- settings: password_policies
-- events: policy.lifecycle.update, policy.rule.*
select min((item->>'minLength')::int) >= 12 as passed,
       'shortest minimum length: ' || min((item->>'minLength')::int) as detail
from setting_items('password_policies')
"""

MFA = """\
-- title: MFA is required
-- severity: high
-- rationale: Passwords alone are phished.
-- remediation: Require MFA.
-- baselines: CIS X 1.2
-- settings: mfa
select (setting('mfa')->>'required')::bool as passed, null as detail
"""


def _rules(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "posture"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _row(setting_id: str, value=None, status: str = "available", reason: str | None = None) -> dict:
    return {
        "setting_id": setting_id,
        "status": status,
        "value": None if value is None else json.dumps(value),
        "reason": reason,
    }


def _snapshot(*rows: dict) -> SettingsSnapshot:
    return SettingsSnapshot("20261206T000000Z", datetime(2026, 12, 6, tzinfo=UTC), list(rows))


def test_a_rule_file_is_parsed_with_its_header(tmp_path):
    root = _rules(tmp_path, {"okta/password_min_length.sql": MIN_LENGTH})
    (rule,) = load_rules("okta", root)
    assert rule.id == "okta.password_min_length" and rule.severity == "medium"
    assert rule.rationale == "Short passwords fall to guessing. Continued on a second line."
    assert rule.baselines == ("CIS X 1.1", "NIST SP 800-63B 5.1.1.2")
    assert rule.settings == ("password_policies",) and rule.events == ("policy.lifecycle.update", "policy.rule.*")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (MIN_LENGTH.replace("-- severity: medium\n", ""), "header lacks severity"),
        (MIN_LENGTH.replace("medium", "urgent"), "severity 'urgent'"),
        (MIN_LENGTH.replace("-- settings: password_policies", "-- settings: Password Policies"), "not a setting id"),
        (MIN_LENGTH.replace("-- title:", "-- tittle:"), "unknown header field 'tittle'"),
        (MIN_LENGTH.split("select")[0] + "delete from x", "one SELECT"),
    ],
)
def test_a_broken_rule_file_is_named_with_its_fault(tmp_path, text, complaint):
    path = tmp_path / "okta" / "bad_rule.sql"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(RuleError, match=complaint) as caught:
        parse_rule(path, "okta")
    assert "bad_rule.sql" in str(caught.value)


def test_pass_fail_and_never_pass_on_missing_data(tmp_path):
    root = _rules(tmp_path, {"okta/password_min_length.sql": MIN_LENGTH, "okta/mfa_required.sql": MFA})
    rules = {r.id: r for r in load_rules("okta", root)}
    length, mfa = rules["okta.password_min_length"], rules["okta.mfa_required"]

    def status(snapshot, rule, reason=None):
        (result,) = evaluate_rules([rule], snapshot, reason)
        return result["status"], result["reason"], result["detail"]

    strong = _snapshot(
        _row("password_policies", [{"minLength": 14}, {"minLength": 12}]), _row("mfa", {"required": True})
    )
    assert status(strong, length) == ("pass", None, "shortest minimum length: 12")
    assert status(strong, mfa)[0] == "pass"
    weak = _snapshot(_row("password_policies", [{"minLength": 14}, {"minLength": 8}]), _row("mfa", {"required": False}))
    assert status(weak, length) == ("fail", None, "shortest minimum length: 8")
    assert status(weak, mfa)[0] == "fail"

    # Missing data: no snapshot, a setting denied or unlicensed, absent, or silent: never pass.
    assert status(None, length, "users skipped: lacks okta.policies.read")[:2] == (
        "not_evaluated",
        "users skipped: lacks okta.policies.read",
    )
    assert status(None, mfa)[1].startswith("stage never run")
    denied = _snapshot(_row("password_policies", status="denied", reason="403 lacks okta.policies.read"))
    assert status(denied, length)[:2] == (
        "not_evaluated",
        "permission missing: password_policies (403 lacks okta.policies.read)",
    )
    assert status(_snapshot(_row("mfa", status="unlicensed")), mfa)[1] == "licence missing: mfa"
    assert status(_snapshot(), mfa)[1] == "not exposed by the API: the settings snapshot has no mfa"
    assert status(_snapshot(_row("mfa", {"other": 1})), mfa)[:2] == ("not_evaluated", "the settings do not say")
    assert status(_snapshot(_row("password_policies", [])), length)[0] == "not_evaluated"
    # a value of another type than the rule expects is not evaluated, named, not a crash
    odd = _snapshot(_row("password_policies", [{"minLength": "twelve"}]))
    result = status(odd, length)
    assert result[0] == "not_evaluated" and "could not read the settings" in result[1]


def test_a_rule_returning_other_than_one_row_with_passed_is_refused(tmp_path):
    bad = MFA.replace("select (setting('mfa')->>'required')::bool as passed, null as detail", "select 1 as ok")
    root = _rules(tmp_path, {"okta/odd.sql": bad})
    with pytest.raises(RuleError, match="column named passed"):
        evaluate_rules(load_rules("okta", root), _snapshot(_row("mfa", {"required": True})))


def test_mutes_are_validated_and_unknown_rules_named(tmp_path):
    path = tmp_path / "posture.yaml"
    path.write_text("mutes:\n  - {rule: okta.mfa_required, instance: acme, reason: kiosk, expires: 2027-01-31}\n")
    (mute,) = load_mutes(path, known_rules=["okta.mfa_required"])
    assert mute.ends_at == datetime(2027, 2, 1, tzinfo=UTC)
    with pytest.raises(MuteError, match=r"mutes.0.rule: no posture rule 'okta.mfa_required'"):
        load_mutes(path, known_rules=["okta.other"])
    path.write_text("mutes:\n  - {rule: okta.mfa_required, instance: acme, reason: kiosk}\n")
    with pytest.raises(MuteError, match=r"mutes.0.expires: Field required"):
        load_mutes(path)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (PermissionDeniedError("403: lacks okta.policies.read"), "denied"),
        (FeatureUnavailableError("not licensed"), "unlicensed"),
        (NotFoundError("404"), "not_exposed"),
    ],
)
def test_a_setting_read_records_why_it_is_unavailable(error, status):
    def read():
        raise error

    row = read_setting("password_policies", "GET /api/v1/policies?type=PASSWORD", read)
    assert row["status"] == status and row["value"] is None and row["reason"]


def test_transient_errors_fail_the_stage_rather_than_hide_a_setting():
    def read():
        raise TransientError("503")

    with pytest.raises(TransientError):
        read_setting("password_policies", "GET /x", read)


def test_results_history_mutes_and_drift_in_the_catalog(tmp_path, monkeypatch):
    root = _rules(tmp_path, {"okta/password_min_length.sql": MIN_LENGTH, "okta/mfa_required.sql": MFA})
    monkeypatch.setenv("SAASLENS_POSTURE_RULES", str(root))
    mutes = tmp_path / "posture.yaml"
    expires = date.today() + timedelta(days=30)
    mutes.write_text(f"mutes:\n  - {{rule: okta.mfa_required, instance: acme, reason: kiosk, expires: {expires}}}\n")
    monkeypatch.setenv("SAASLENS_POSTURE", str(mutes))
    lake = Lake(tmp_path / "lake")
    first = datetime.now(UTC) - timedelta(hours=2)
    second = first + timedelta(hours=1)

    def publish(moment: datetime, min_length: int) -> str:
        snapshot_id = snapshot_id_for(moment)
        writer = lake.snapshot_writer("settings", "okta", "acme", snapshot_id)
        with writer:
            writer.write(
                [
                    {**_row("password_policies", [{"minLength": min_length}]), "source": "GET /p"},
                    {**_row("mfa", {"required": False}), "source": "GET /m"},
                ]
            )
            writer.publish()
        evaluate_instance(lake, "okta", "acme", snapshot_id)
        return snapshot_id

    publish(first, 14)
    publish(second, 8)
    change_at = first + timedelta(minutes=30)
    events = lake.event_writer("activities", "okta", "acme", "t1")
    events.write(
        [
            {
                "event_id": "e1",
                "occurred_at": change_at,
                "category": "admin",
                "action": "policy.rule.update",
                "outcome": "success",
                "actor_login": "admin@example.com",
                "target_name": "Default Policy",
            },
            {
                "event_id": "e2",
                "occurred_at": change_at,
                "category": "admin",
                "action": "user.lifecycle.create",
                "outcome": "success",
            },
        ]
    )
    build_catalog(lake.root)
    con = duckdb.connect(str(lake.root / "saaslens.duckdb"), read_only=True)
    current = dict(con.sql("select rule_id, effective_status from posture_current").fetchall())
    assert current == {"okta.password_min_length": "fail", "okta.mfa_required": "muted"}
    assert con.sql("select count(*) from posture_results").fetchall() == [(4,)]
    changes = con.sql(
        "select rule_id, previous_status, status, event_id, action, actor_login from posture_changes"
    ).fetchall()
    assert changes == [("okta.password_min_length", "pass", "fail", "e1", "policy.rule.update", "admin@example.com")]
    rules = con.sql("select rule_id, baselines from posture_rules order by rule_id").fetchall()
    assert rules == [
        ("okta.mfa_required", ["CIS X 1.2"]),
        ("okta.password_min_length", ["CIS X 1.1", "NIST SP 800-63B 5.1.1.2"]),
    ]
    # the report's posture section: scores, failing rules, and the change with its admin event
    from saaslens.reports.build import build_report

    result = build_report(lake.root, out_dir=tmp_path / "report")
    html = result.html.read_text()
    section = html[html.index("<h2 id='posture'>") :]
    assert "okta/acme" in section and "okta.password_min_length" in section
    assert "policy.rule.update by admin@example.com" in section
    assert "posture.csv" in result.files and "posture_changes.csv" in result.files
    rows = (tmp_path / "report" / "posture.csv").read_text().splitlines()
    assert len(rows) == 3 and any('"muted"' in row for row in rows)


@pytest.mark.parametrize(
    ("baseline", "family"),
    [
        ("CISA SCuBA MS.AAD.5.3v1", "MS.AAD"),
        ("CISA SCuBA Google Workspace baseline GWS.DRIVEDOCS.1.1v1", "GWS.DRIVEDOCS"),
        ("DISA Okta IDaaS STIG V-273193", "DISA Okta IDaaS STIG"),
        ("CIS Software Supply Chain Security Guide v1.0 1.2.2", "CIS Software Supply Chain Security Guide"),
        ("GitHub docs: Security hardening for GitHub Actions", "GitHub docs"),
    ],
)
def test_the_report_scores_each_baseline_family(baseline, family):
    from saaslens.reports.collect import baseline_family

    assert baseline_family(baseline) == family
