"""The compliance-reports DAG: runs when any instance DAG publishes new data, and weekly regardless.

Schedule: Airflow 3's AssetOrTimeSchedule, i.e. asset-triggered runs (any reported table of any
enabled instance, see saaslens.orchestration.assets) or a CronTriggerTimetable, whichever comes
first (https://airflow.apache.org/docs/apache-airflow/3.3.2/_api/airflow/timetables/assets/index.html).
The weekly run guarantees a report even when every scan fails, which is exactly when the report
must say so. max_active_runs=1: Airflow then defers new asset-triggered runs while one runs, so the
several stages of one scan collapse into one or two reports instead of one per table.

Parse time stays light: Airflow's SDK, the connected-apps file and the connector registry; the
report code (duckdb, pyarrow) is imported inside the task.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from saaslens.connectors.instances import load_connected_apps
from saaslens.orchestration.assets import report_trigger_assets

if TYPE_CHECKING:
    from airflow.sdk import DAG

log = logging.getLogger(__name__)

DAG_ID = "saaslens_compliance_reports"
WEEKLY_CRON = "0 6 * * 1"  # Mondays 06:00 UTC, before the working week starts in most time zones
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)


class SaaslensReportOperator(BaseOperator):
    """Writes <lake>/reports/<date of the run>/ and returns its summary (paths and counts) to XCom."""

    template_fields = ()
    ui_color = "#fef3c7"

    def __init__(self, *, stale_after_hours: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stale_after_hours = stale_after_hours

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from saaslens import settings
        from saaslens.reports.build import build_report

        dag_run = context["dag_run"]
        moment = getattr(dag_run, "run_after", None) or getattr(dag_run, "logical_date", None) or datetime.now(UTC)
        stale = timedelta(hours=self.stale_after_hours) if self.stale_after_hours else None
        lake = settings.lake_root()
        # Before the first scan there is no lake yet: the report then says every instance was never
        # scanned, which is what a compliance owner needs to hear, rather than failing on a path.
        lake.mkdir(parents=True, exist_ok=True)
        result = build_report(lake, report_date=moment.astimezone(UTC).date(), stale_after=stale)
        log.info("compliance report written to %s in %.1f s: %s", result.html, result.seconds, result.counts)
        for label in result.not_current:
            log.warning("%s is not current (failed, stale or never scanned); the report flags it", label)
        if result.failed_findings:
            # The report is written (showing the errors); the task still fails so someone looks.
            raise AirflowFailException(
                "findings failed: " + "; ".join(f"{k}: {v}" for k, v in result.failed_findings.items())
            )
        return result.as_dict()


class SaaslensRemediationOperator(BaseOperator):
    """After the report: each auto_remediate policy's runs. Dry runs and runs the policy lets go
    without an approver run here; the rest are returned as governance-DAG triggers (the next task
    starts them, and each waits there for its approver)."""

    template_fields = ()
    ui_color = "#fde68a"

    def execute(self, context: Any) -> list[dict[str, Any]]:
        from pathlib import Path

        from saaslens import settings
        from saaslens.findings import load_findings
        from saaslens.governance import summarise
        from saaslens.governance.remediation import plan_remediation, run_here
        from saaslens.lake.writer import Lake
        from saaslens.orchestration.naming import governance_dag_id

        report = context["ti"].xcom_pull(task_ids="report")
        directory = Path(report["directory"])
        report_date = datetime.strptime(directory.name, "%Y-%m-%d").date()
        runs, notes = plan_remediation(load_connected_apps(), load_findings(), directory)
        for note in notes:
            log.warning("%s", note)
        triggers = []
        for run in runs:
            if run.needs_approver:
                triggers.append({"trigger_dag_id": governance_dag_id(run.instance), "conf": run.conf(report_date)})
                continue
            rows = run_here(run, Lake(settings.lake_root()), report_date, run_id=str(context["run_id"]))
            log.info("%s %s on %s: %s", run.policy.finding, run.action, run.instance.name, summarise(rows))
        return triggers


def compliance_reports_dag(config: str | None = None, *, stale_after_hours: float | None = None) -> DAG:
    from airflow.sdk import DAG, AssetAny, AssetOrTimeSchedule, CronTriggerTimetable

    weekly = CronTriggerTimetable(WEEKLY_CRON, timezone="UTC")
    apps = load_connected_apps(config)  # read once per parse: the DAG processor parses often
    assets = report_trigger_assets(apps.instances)
    schedule = AssetOrTimeSchedule(timetable=weekly, assets=AssetAny(*assets)) if assets else weekly
    with DAG(
        dag_id=DAG_ID,
        description="saaslens compliance report: on new instance data, and weekly",
        schedule=schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args={"owner": "saaslens", "retries": 1, "retry_delay": timedelta(minutes=2)},
        tags=["saaslens", "reports"],
        doc_md=__doc__,
    ) as dag:
        report = SaaslensReportOperator(task_id="report", stale_after_hours=stale_after_hours)
        if apps.auto_remediate:
            from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

            remediate = SaaslensRemediationOperator(task_id="auto_remediate", retries=0)
            report >> remediate
            TriggerDagRunOperator.partial(task_id="request_approval", retries=0).expand_kwargs(remediate.output)
    return dag
