"""auto_remediate policies: parsed from the connected-apps file, planned from a report's finding
files, dry run unless told otherwise, approved in the governance DAG unless told otherwise."""

from __future__ import annotations

import dataclasses
import textwrap
from datetime import date

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from saaslens.config import read_connected_apps
from saaslens.connectors import registry
from saaslens.connectors.base import HttpContext
from saaslens.findings import parse_finding
from saaslens.governance import engine as engine_module
from saaslens.governance.remediation import plan_remediation, run_here
from saaslens.vocabulary import Remedy
from tests.unit import test_governance_engine as fake

SPEC = dataclasses.replace(
    fake.SPEC,
    actions=tuple(dataclasses.replace(a, remedies=(Remedy.SUSPEND_ACCOUNT,)) for a in fake.SPEC.actions),
)


@pytest.fixture
def tenant(monkeypatch):
    real = registry.app_spec
    monkeypatch.setattr(registry, "app_spec", lambda app: SPEC if app == "fakeidp" else real(app))
    monkeypatch.setattr(registry, "app_specs", lambda: [SPEC])
    tenant = fake.FakeTenant()
    # The action connection, as Airflow would resolve it, over the fake provider.
    monkeypatch.setattr(engine_module, "action_connection", lambda instance, **_: fake.WRITER)
    real_open = engine_module.open_connector

    def open_connector(instance, connection, http=None):
        return real_open(instance, connection, HttpContext(transport=httpx.MockTransport(tenant.handler)))

    monkeypatch.setattr(engine_module, "open_connector", open_connector)
    return tenant


def _apps(tmp_path, policies: str):
    path = tmp_path / "apps.yaml"
    path.write_text(
        textwrap.dedent("""
        instances:
          - {app: fakeidp, name: acme, conn_id: scan, actions_conn_id: act}
          - {app: fakeidp, name: other, conn_id: scan2}
        """)
        + textwrap.dedent(policies)
    )
    return read_connected_apps(path, lambda app, options: None)


def _report(tmp_path):
    finding_file = tmp_path / "orphans.sql"
    finding_file.write_text(
        "-- title: t\n-- description: d\n-- severity: high\n-- key: app, instance, account_id\n"
        "-- suggests: suspend_account\n\nselect 1\n"
    )
    report = tmp_path / "report" / "2026-12-05"
    report.mkdir(parents=True)
    rows = {
        "app": ["fakeidp"] * 4,
        "instance": ["acme", "acme", "acme", "other"],
        "account_id": ["u1", "u2", "me", "u1"],
    }
    pq.write_table(pa.table(rows), report / "orphans.parquet")
    return [parse_finding(finding_file)], report


def test_policies_are_read_and_a_bad_one_is_an_error_beside_the_instances(tmp_path):
    apps = _apps(
        tmp_path,
        """
        auto_remediate:
          - {finding: orphans, max_targets: 2, dry_run: false}
          - {finding: orphans}
          - {finding: x, max_targets: 0}
        """,
    )
    assert [(p.finding, p.max_targets, p.dry_run, p.require_approval) for p in apps.auto_remediate] == [
        ("orphans", 2, False, True)
    ]
    messages = [str(e) for e in apps.errors]
    assert any("second policy for finding 'orphans'" in m for m in messages)
    assert any("auto_remediate #3" in m and "max_targets" in m for m in messages)


def test_runs_per_instance_capped_and_instances_without_an_action_connection_noted(tmp_path, tenant):
    apps = _apps(tmp_path, "auto_remediate:\n  - {finding: orphans, max_targets: 2, dry_run: false}\n")
    findings, report = _report(tmp_path)
    runs, notes = plan_remediation(apps, findings, report)
    assert [(r.instance.name, r.action, r.targets, r.left_out, r.needs_approver) for r in runs] == [
        ("acme", "suspend_user", ("u1", "u2"), 1, True)
    ]
    assert notes == ["auto_remediate orphans: fakeidp/other has no actions_conn_id; 1 target(s) left"]
    conf = runs[0].conf(date(2026, 12, 5))
    assert conf["dry_run"] is False and conf["targets"] == ["u1", "u2"]
    assert "orphans" in conf["reason"] and "1 more left" in conf["reason"]


def test_a_dry_run_policy_records_planned_rows_and_changes_nothing(tmp_path, tenant):
    apps = _apps(tmp_path, "auto_remediate:\n  - {finding: orphans}\n")
    findings, report = _report(tmp_path)
    (run,), _ = plan_remediation(apps, findings, report)
    assert not run.needs_approver
    lake = fake.LakeBuilder(tmp_path / "lake")
    lake.accounts(
        "fakeidp", "acme", *({"account_id": u, "email": f"{u}@example.com"} for u in ("u1", "u2", "u3", "me"))
    )
    rows = run_here(run, lake.lake, date(2026, 12, 5), run_id="r1", inside_airflow=False)
    assert {r["target_id"]: r["result"] for r in rows} == {"u1": "planned", "u2": "planned", "me": "refused"}
    assert tenant.changes == []
    assert {r["requested_by"] for r in rows} == {"auto_remediate"}


def test_a_policy_without_approval_applies_and_names_itself_the_approver(tmp_path, tenant):
    apps = _apps(tmp_path, "auto_remediate:\n  - {finding: orphans, dry_run: false, require_approval: false}\n")
    findings, report = _report(tmp_path)
    (run,), _ = plan_remediation(apps, findings, report)
    lake = fake.LakeBuilder(tmp_path / "lake")
    lake.accounts(
        "fakeidp", "acme", *({"account_id": u, "email": f"{u}@example.com"} for u in ("u1", "u2", "u3", "me"))
    )
    rows = run_here(run, lake.lake, date(2026, 12, 5), run_id="r1", inside_airflow=False)
    results = {r["target_id"]: r["result"] for r in rows}
    assert results == {"u1": "applied", "u2": "applied", "me": "refused"}  # the guard rails still hold
    assert {r["approved_by"] for r in rows} == {"auto_remediate policy (orphans)"}
    assert sorted(tenant.changes) == [("suspend", "u1"), ("suspend", "u2")]
