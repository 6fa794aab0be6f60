"""How a stage's outcome becomes an Airflow task state."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from saaslens.orchestration import tasks
from saaslens.runner import CredentialsRejected, StageFailed, StageResult

RUN_AFTER = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def context(try_number: int = 1) -> dict:
    return {
        "run_id": "scheduled__2026-11-27",
        "dag_run": SimpleNamespace(run_after=RUN_AFTER),
        "ti": SimpleNamespace(try_number=try_number),
    }


def fake_run(outcome):
    def run(instance, stage, ctx, lake):
        run.ctx = ctx
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return run


def test_retries_of_one_run_republish_the_same_snapshot(monkeypatch):
    run = fake_run(StageResult("okta/acme", "users", "success", 5))
    monkeypatch.setattr(tasks, "run_stage", run)
    assert tasks.execute_stage("okta", "acme", "users", context(1))["records"] == 5
    first = run.ctx.snapshot_id
    tasks.execute_stage("okta", "acme", "users", context(3))
    assert run.ctx.snapshot_id == first and run.ctx.attempt == 3 and run.ctx.inside_airflow


def test_rejected_credentials_fail_without_retry(monkeypatch):
    monkeypatch.setattr(tasks, "run_stage", fake_run(CredentialsRejected("okta/acme: credentials rejected: E0000011")))
    with pytest.raises(AirflowFailException, match="E0000011"):
        tasks.execute_stage("okta", "acme", "users", context())


def test_other_failures_are_retryable(monkeypatch):
    monkeypatch.setattr(tasks, "run_stage", fake_run(StageFailed("okta/acme: users failed: TransientError")))
    with pytest.raises(RuntimeError, match="TransientError") as info:
        tasks.execute_stage("okta", "acme", "users", context())
    assert not isinstance(info.value, AirflowFailException)


def test_missing_permission_skips_with_the_reason(monkeypatch):
    skipped = StageResult("okta/acme", "activities", "skipped", detail="needs okta.logs.read")
    monkeypatch.setattr(tasks, "run_stage", fake_run(skipped))
    with pytest.raises(AirflowSkipException, match=r"okta\.logs\.read"):
        tasks.execute_stage("okta", "acme", "activities", context())


def test_unknown_or_disabled_instances(monkeypatch, tmp_path):
    config = tmp_path / "apps.yaml"
    config.write_text("instances:\n  - {app: okta, name: paused, conn_id: c, enabled: false}\n")
    monkeypatch.setenv("SAASLENS_CONFIG", str(config))
    with pytest.raises(AirflowSkipException, match="disabled"):
        tasks.execute_stage("okta", "paused", "users", context())
    with pytest.raises(AirflowFailException, match="no instance"):
        tasks.execute_stage("okta", "gone", "users", context())
