"""Findings suggest actions: the `suggests` header, the suggested_action column, and the targets
auto-remediation would act on."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from saaslens.connectors import registry
from saaslens.connectors.kit import Action, AppSpec
from saaslens.findings import (
    FindingError,
    load_findings,
    parse_finding,
    suggestion_targets,
    with_suggested_actions,
)
from saaslens.vocabulary import Remedy, TargetKind
from tests.unit.test_governance_engine import FakeConnector


def _implemented(name: str, target: TargetKind, *remedies: Remedy) -> Action:
    def never(*_args):
        raise AssertionError("not called in these tests")

    return Action(name, target, "p", True, "d", "https://example.com", never, never, never, remedies)


class OtherConnector(FakeConnector):
    app = "otherdrive"
    title = "Other Drive"


SPECS = {
    "fakeidp": AppSpec(
        connector=FakeConnector,
        stages=(),
        actions=(
            Action(
                "suspend_declared",
                TargetKind.ACCOUNT,
                "p",
                True,
                "declared only",
                "https://x",
                remedies=(Remedy.SUSPEND_ACCOUNT,),
            ),
            _implemented("suspend_user", TargetKind.ACCOUNT, Remedy.SUSPEND_ACCOUNT),
            _implemented("revoke_grant", TargetKind.APP_GRANT, Remedy.REVOKE_GRANT),
        ),
    ),
    "otherdrive": AppSpec(
        connector=OtherConnector,
        stages=(),
        actions=(_implemented("unshare_link", TargetKind.FILE_SHARE, Remedy.REMOVE_PUBLIC_LINK),),
    ),
}


@pytest.fixture(autouse=True)
def fake_apps(monkeypatch):
    monkeypatch.setattr(registry, "app_specs", lambda: list(SPECS.values()))
    monkeypatch.setattr(registry, "app_spec", lambda app: SPECS[app])


def _finding(tmp_path: Path, suggests: str, key: str = "app, instance, account_id"):
    path = tmp_path / "f.sql"
    path.write_text(
        f"-- title: t\n-- description: d\n-- severity: high\n-- key: {key}\n-- suggests: {suggests}\n\nselect 1\n"
    )
    return parse_finding(path)


def test_the_header_names_a_remedy_and_a_wrong_one_is_refused_naming_the_line(tmp_path):
    assert _finding(tmp_path, "suspend_account").suggests is Remedy.SUSPEND_ACCOUNT
    with pytest.raises(FindingError, match=r"f.sql:5: suggests 'suspend' is not a remedy"):
        _finding(tmp_path, "suspend")


def test_the_shipped_findings_that_can_be_acted_on_suggest_a_remedy():
    suggests = {f.id: f.suggests for f in load_findings()}
    assert suggests["orphaned_accounts"] is Remedy.SUSPEND_ACCOUNT
    assert suggests["grants_of_inactive_accounts"] is Remedy.REVOKE_GRANT
    assert suggests["exposed_files"] is Remedy.REMOVE_PUBLIC_LINK
    assert suggests["admins_without_mfa"] is Remedy.FORCE_PASSWORD_CHANGE


def test_each_row_gets_its_apps_implemented_action_or_null(tmp_path):
    finding = _finding(tmp_path, "suspend_account")
    table = pa.table(
        {"app": ["fakeidp", "otherdrive", "fakeidp"], "instance": ["a", "b", "c"], "account_id": ["1", "2", "3"]}
    )
    assert with_suggested_actions(finding, table).column("suggested_action").to_pylist() == [
        "suspend_user",
        None,
        "suspend_user",
    ]


def test_targets_per_instance_and_action_with_list_columns_expanded(tmp_path):
    accounts = _finding(tmp_path, "suspend_account")
    rows = [
        {"app": "fakeidp", "instance": "a", "account_id": "1"},
        {"app": "fakeidp", "instance": "a", "account_id": "1"},  # a repeat names it once
        {"app": "fakeidp", "instance": "b", "account_id": "2"},
        {"app": "otherdrive", "instance": "x", "account_id": "3"},  # no action for the remedy there
    ]
    assert suggestion_targets(accounts, rows) == {
        ("fakeidp", "a", "suspend_user"): ["1"],
        ("fakeidp", "b", "suspend_user"): ["2"],
    }
    files = _finding(tmp_path, "remove_public_link", "app, instance, file_id")
    rows = [
        {"app": "otherdrive", "instance": "x", "file_id": "f&1", "share_ids": ["anyone", "link 2"]},
        {"app": "otherdrive", "instance": "x", "file_id": "f2", "share_ids": None},  # no public share: nothing
    ]
    assert suggestion_targets(files, rows) == {
        ("otherdrive", "x", "unshare_link"): ["file_id=f%261&share_id=anyone", "file_id=f%261&share_id=link+2"]
    }
