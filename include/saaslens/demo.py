"""`make demo`: two sandboxed Okta orgs scanned by the real Airflow scheduler into the lake.

Everything it starts (sandbox, api-server, scheduler, dag-processor) lives under .demo/ and is
stopped at the end, so running it twice works; the second run scans incrementally.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table

from saaslens import settings
from saaslens.connectors import registry
from saaslens.connectors.instances import load_connected_apps
from saaslens.orchestration import naming
from saaslens.orchestration.local_airflow import AirflowStack, AirflowStackError, port_is_free
from saaslens.terminal import safe_text

STATE_STYLE = {
    "success": "green",
    "failed": "red",
    "upstream_failed": "red",
    "skipped": "yellow",
    "running": "cyan",
    "queued": "blue",
    "scheduled": "blue",
    "up_for_retry": "magenta",
}


def _start_sandbox(demo_dir: Path, console: Console) -> subprocess.Popen[bytes]:
    # Imported here, not at the top: the sandbox is its own distribution (sandbox/), installed
    # for the demo and the tests but never needed to scan a real tenant.
    from saaslens_sandbox.core import load_sandbox_config

    config = load_sandbox_config(settings.sandbox_config_path())
    if not port_is_free(config.port):
        raise AirflowStackError(
            f"port {config.port} is in use: is another sandbox running? (stop it, or change "
            f"the port in {settings.sandbox_config_path()} and airflow_settings.yaml)"
        )
    log = open(demo_dir / "sandbox.log", "ab")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(
        [sys.executable, "-m", "saaslens.cli", "sandbox"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://{config.host}:{config.port}/_sandbox/tenants"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AirflowStackError(f"the sandbox exited; see {demo_dir / 'sandbox.log'}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                tenants = ", ".join(f"{t.app}/{t.name} ({t.users:,} users)" for t in config.tenants)
                console.print(f"[green]sandbox[/green] on {config.host}:{config.port}: {tenants}")
                return process
        except httpx.TransportError:
            time.sleep(0.5)
    raise AirflowStackError("the sandbox did not start within 120 s")


def _progress_table(snapshot: dict[str, list[dict[str, Any]]]) -> Table:
    table = Table(title="Airflow DAG runs (real scheduler, LocalExecutor, SQLite)", title_justify="left")
    table.add_column("DAG")
    stages = ["authenticate", "users", "groups", "privileges", "app_permissions", "activities", "files"]
    for stage in stages:
        table.add_column(stage)
    for dag_id, tasks in sorted(snapshot.items()):
        by_id = {t["task_id"]: t.get("state") or "none" for t in tasks}
        cells = []
        for stage in stages:
            state = by_id.get(stage)
            cells.append("" if state is None else f"[{STATE_STYLE.get(state, 'white')}]{safe_text(state)}[/]")
        table.add_row(safe_text(dag_id), *cells)
    return table


def _write_report(lake: Path, console: Console) -> bool:
    """The compliance report over what the scheduler just scanned; its path is the demo's last line."""
    from saaslens.reports.build import build_report

    result = build_report(lake)
    for label in result.not_current:
        console.print(f"[yellow]{safe_text(label)} is not current[/yellow] (the report flags it)")
    for finding_id, error in result.failed_findings.items():
        console.print(f"[red]finding {finding_id} failed:[/red] {safe_text(error)}")
    rows = ", ".join(f"{finding} {count:,}" for finding, count in result.counts.items())
    console.print(f"[bold]compliance report[/bold] ({rows}):\n{safe_text(result.html)}")
    return not result.failed_findings


def run_demo(keep_running: bool = False) -> int:
    console = Console()
    demo_dir = (settings.PROJECT_ROOT / ".demo").resolve()
    demo_dir.mkdir(exist_ok=True)
    lake = settings.lake_root()
    os.environ["SAASLENS_LAKE"] = str(lake)
    apps = load_connected_apps()
    dag_ids = [naming.dag_id(i) for i in apps.instances if i.enabled]
    stack = AirflowStack(home=demo_dir / "airflow", extra_env={"SAASLENS_LAKE": str(lake)})
    sandbox = None
    try:
        console.print(f"[bold]Airflow[/bold] home {stack.home} (SQLite, LocalExecutor)")
        stack.migrate()
        console.print(safe_text(stack.bootstrap().strip()))
        sandbox = _start_sandbox(demo_dir, console)
        stack.start()
        console.print(f"Airflow API server and UI: {stack.api_url} (logs in {stack.log_dir})")
        stack.wait_for_dags(dag_ids)
        runs = {dag_id: stack.run_once(dag_id) for dag_id in dag_ids}
        with Live(_progress_table({}), console=console, refresh_per_second=2) as live:
            states = stack.wait_for_runs(runs, on_poll=lambda snap: live.update(_progress_table(snap)))
        for dag_id in dag_ids:  # leave them as found: the next demo decides again what to run
            stack.pause(dag_id)
        # Then each instance's content inspection (DLP) once, over the files those scans listed.
        dlp_ids = [
            naming.content_dag_id(i)
            for i in apps.instances
            if i.enabled and registry.app_spec(i.app).contents is not None
        ]
        if dlp_ids:
            dlp_runs = {dag_id: stack.trigger(dag_id) for dag_id in dlp_ids}
            with Live(_progress_table({}), console=console, refresh_per_second=2) as live:
                states |= stack.wait_for_runs(dlp_runs, on_poll=lambda snap: live.update(_progress_table(snap)))
            for dag_id in dlp_ids:
                stack.pause(dag_id)
        for dag_id, state in states.items():
            colour = "green" if state == "success" else "red"
            console.print(f"{dag_id}: [{colour}]{safe_text(state)}[/{colour}]")
        from saaslens.summary import print_summary

        print_summary(lake, console)
        report_ok = _write_report(lake, console)
        if keep_running:
            console.print("[bold]--keep-running[/bold]: press Ctrl-C to stop Airflow and the sandbox")
            signal.pause()
        return 0 if report_ok and all(state == "success" for state in states.values()) else 1
    except AirflowStackError as exc:
        console.print(f"[red]demo failed:[/red] {safe_text(exc)}")
        return 1
    finally:
        stack.stop()
        if sandbox is not None and sandbox.poll() is None:
            os.killpg(sandbox.pid, signal.SIGTERM)
            sandbox.wait(timeout=30)
