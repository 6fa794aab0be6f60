"""The `saaslens` command."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from saaslens import settings
from saaslens.connectors.registry import ConnectorLoadError
from saaslens.terminal import TerminalSafeFormatter, plain_text, safe_text

if TYPE_CHECKING:
    from rich.console import Console

    from saaslens.config import InstanceConfig
    from saaslens.http import RunMetrics
    from saaslens.lake.writer import Lake


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=False)


def cmd_sandbox(args: argparse.Namespace) -> int:
    from saaslens_sandbox.core import load_sandbox_config, serve

    config = load_sandbox_config(args.config or settings.sandbox_config_path())
    if args.port is not None:
        config = config.model_copy(update={"port": args.port})
    if args.export_ground_truth:
        from saaslens_sandbox.core import (
            SandboxServer,
            build_app,  # noqa: F401  (validates the personalities load)
        )

        out = Path(args.export_ground_truth)
        out.mkdir(parents=True, exist_ok=True)
        with SandboxServer(config.tenants) as server:
            for spec in config.tenants:
                path = out / f"{spec.app}-{spec.name}.json"
                path.write_text(json.dumps(server.personality(spec.app, spec.name).ground_truth(), default=str))
                print(path)
        return 0
    serve(config)
    return 0


def _run_stages(instance: InstanceConfig, stages: list[str], lake: str | None, console: Console) -> int:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from saaslens.runner import CredentialsRejected, RunContext, StageFailed, run_stage

    ctx = RunContext.for_cli()
    failures = 0
    messages: list[str] = []
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=None),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        rows = {
            s: progress.add_task(safe_text(f"{instance.app}/{instance.name} {s}"), total=None, status="waiting")
            for s in stages
        }

        def report(stage: str, records: int, metrics: RunMetrics) -> None:
            progress.update(rows[stage], status=f"{records:,} records, {metrics.requests:,} requests")

        ctx.progress = report
        for stage in stages:
            progress.update(rows[stage], status="running")
            try:
                result = run_stage(instance, stage, ctx, _lake(lake))
            except (CredentialsRejected, StageFailed) as exc:
                failures += 1
                # The exception quotes the provider's error: shown, never obeyed (issue 10, item 10).
                messages.append(f"[red]{safe_text(stage)} failed:[/red] {safe_text(exc)}")
                progress.update(rows[stage], total=1, completed=1, status="[red]failed[/red] (see below)")
                if isinstance(exc, CredentialsRejected):
                    break
                continue
            m = result.metrics
            text = (
                f"[green]{result.status}[/green]: {result.records:,} records, {int(m.get('requests', 0)):,} "
                f"requests, {int(m.get('retries', 0))} retries, {int(m.get('throttled', 0))} throttled"
            )
            if result.status == "skipped":
                text = "[yellow]skipped[/yellow] (see below)"
                messages.append(f"[yellow]{safe_text(stage)} skipped:[/yellow] {safe_text(result.detail)}")
            progress.update(rows[stage], total=1, completed=1, status=text)
    # Full messages after the live display, which truncates to the terminal's width.
    for message in messages:
        console.print(message, soft_wrap=True)
    return failures


def _lake(root: str | None) -> Lake:
    from saaslens.lake.writer import Lake

    return Lake(Path(root).resolve() if root else settings.lake_root())


def cmd_sync(args: argparse.Namespace) -> int:
    from saaslens.config import ConfigError
    from saaslens.connectors import registry
    from saaslens.connectors.instances import load_connected_apps

    console = _console()
    try:
        apps = load_connected_apps(args.config)
        instance = apps.get(args.instance)
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {safe_text(exc)}")
        return 2
    available = [str(stage) for stage in registry.app_spec(instance.app).stage_names]
    stages = args.stage or available
    unknown = [s for s in stages if s not in available]
    if unknown:
        console.print(
            f"[red]error:[/red] {instance.app} has no stage {safe_text(', '.join(unknown))} "
            f"(stages: {', '.join(available)})"
        )
        return 2
    if not instance.enabled:
        console.print(f"[yellow]note:[/yellow] {instance.app}/{instance.name} is disabled; syncing on request")
    failures = _run_stages(instance, stages, args.lake, console)
    return 1 if failures else 0


def cmd_inspect(args: argparse.Namespace) -> int:
    """Content inspection (DLP) of one instance, outside Airflow: the same code as the DLP DAG's task."""
    from datetime import UTC, datetime

    from saaslens import settings
    from saaslens.config import ConfigError
    from saaslens.connectors.instances import load_connected_apps
    from saaslens.dlp.policies import PolicyError
    from saaslens.lake.writer import Lake
    from saaslens.runner.content_scan import scan_contents
    from saaslens.runner.scope import CredentialsRejected, StageSkipped

    console = _console()
    try:
        instance = load_connected_apps(args.config).get(args.instance)
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {safe_text(exc)}")
        return 2
    lake = Lake(Path(args.lake).resolve() if args.lake else settings.lake_root())
    run_id = f"cli-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    try:
        result = scan_contents(
            instance, lake, run_id=run_id, trigger="event" if args.file else "periodic", file_ids=args.file or None
        )
    except (PolicyError, StageSkipped, CredentialsRejected) as exc:
        console.print(f"[red]error:[/red] {safe_text(exc)}")
        return 2
    console.print(
        f"{instance.app}/{instance.name}: {result.considered} file(s) considered, {result.scanned} scanned, "
        f"{result.unreadable} unreadable, {result.skipped} skipped, {result.not_found} gone, {result.denied} denied, "
        f"{result.failed} failed; {result.matches} matches, {result.files_with_findings} file(s) breaking a policy "
        f"({result.seconds:.1f} s)"
    )
    return 1 if result.failed else 0


def cmd_act(args: argparse.Namespace) -> int:
    """Plan (the default, a dry run) or apply one governance action; print a row per target."""
    import getpass

    from rich.table import Table

    from saaslens import governance
    from saaslens.config import ConfigError
    from saaslens.connections import ConnectionNotFoundError
    from saaslens.connectors import registry
    from saaslens.connectors.instances import load_connected_apps

    console = _console()
    try:
        instance = load_connected_apps(args.config).get(args.instance)
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {safe_text(exc)}")
        return 2
    spec = registry.app_spec(instance.app)
    if args.action is None or args.list:
        return _print_actions(instance, spec, console, check_access=args.list)
    if not args.target:
        console.print("[red]error:[/red] name at least one --target (an id from the lake, or an account's email)")
        return 2
    now = datetime.now(UTC)
    request = governance.GovernanceRequest(
        app=instance.app,
        instance=instance.name,
        action=args.action,
        targets=tuple(args.target),
        requested_by=getpass.getuser(),
        requested_at=now,
        run_id=args.run_id or f"act-{now:%Y%m%dT%H%M%S%fZ}",
        dry_run=not args.apply,
        reason=args.reason or "",
    )
    try:
        rows = governance.act(instance, request, _lake(args.lake))
    except (governance.GovernanceError, governance.TargetError, ConnectionNotFoundError) as exc:
        console.print(f"[red]error:[/red] {safe_text(exc)}")
        return 2
    table = Table(title=f"{instance.app}/{instance.name}: {args.action} ({'applied' if args.apply else 'dry run'})")
    for column in ("target", "name", "result", "before", "after", "detail"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            *(
                safe_text(str(row[key] if row[key] is not None else ""))
                for key in ("target_id", "target_name", "result", "before", "after", "detail")
            )
        )
    console.print(table)
    if not args.apply:
        console.print("Dry run: nothing was sent. Add --apply to change the tenant.")
    return 1 if any(row["result"] in ("failed", "denied", "not-found") for row in rows) else 0


def _print_actions(instance: InstanceConfig, spec: Any, console: Console, *, check_access: bool) -> int:
    from rich.table import Table

    from saaslens import governance
    from saaslens.connections import ConnectionNotFoundError
    from saaslens.http.errors import ApiError

    access: dict[str, str] = {}
    if check_access:
        try:
            connection = governance.action_connection(instance)
            access = {a.action: a.access for a in governance.action_access(instance, connection)}
        except (governance.GovernanceError, ConnectionNotFoundError, ApiError) as exc:  # the listing still helps
            console.print(f"[yellow]note:[/yellow] {safe_text(exc)}")
    table = Table(title=f"Actions of {instance.app}/{instance.name}")
    for column in ("action", "target", "permission", "implemented", "reversible", "may perform", "description"):
        table.add_column(column, overflow="fold")
    for action in spec.actions:
        table.add_row(
            action.name,
            action.target.value,
            action.permission,
            "yes" if action.implemented else "declared",
            "yes" if action.reversible else "no",
            access.get(action.name, "run with --list" if not check_access else "unknown"),
            action.description,
        )
    console.print(table)
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    from saaslens.catalog.build import build_catalog

    print(build_catalog(Path(args.lake).resolve() if args.lake else None))
    return 0


def cmd_capabilities(args: argparse.Namespace) -> int:
    from saaslens.matrix import capability_matrix, matrix_markdown

    if args.format == "json":
        print(json.dumps(capability_matrix(), indent=2))
    else:
        print(matrix_markdown())
    return 0


def cmd_posture_rules(args: argparse.Namespace) -> int:
    from saaslens.posture.rules import rules_markdown

    print(rules_markdown(), end="")
    return 0


def cmd_airflow_bootstrap(args: argparse.Namespace) -> int:
    from saaslens.orchestration.bootstrap import apply, plan

    bootstrap = plan(Path(args.settings) if args.settings else None, Path(args.config) if args.config else None)
    counts = apply(bootstrap)
    print(f"applied {counts['pools']} pools, {counts['connections']} connections, {counts['variables']} variables")
    for pool in bootstrap.pools:
        print(f"  pool {pool.name}: {pool.slots} slots")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from saaslens.config import ConfigError
    from saaslens.connectors.instances import load_connected_apps
    from saaslens.orchestration.naming import dag_id, pool_name

    try:
        apps = load_connected_apps(args.config)
    except ConfigError as exc:
        print(f"error: {plain_text(exc)}", file=sys.stderr)
        return 2
    for instance in apps.instances:
        state = "enabled" if instance.enabled else "disabled"
        print(f"ok     {instance.app}/{instance.name} ({state}, dag {dag_id(instance)}, pool {pool_name(instance)})")
    for error in apps.errors:
        print(f"error  {plain_text(error)}", file=sys.stderr)
    return 1 if apps.errors else 0


def cmd_summary(args: argparse.Namespace) -> int:
    from saaslens.summary import print_summary

    print_summary(Path(args.lake).resolve() if args.lake else settings.lake_root(), _console())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from saaslens.findings import FindingError
    from saaslens.reports.build import ReportError, build_report, parse_report_date

    try:
        result = build_report(
            Path(args.lake).resolve() if args.lake else None,
            report_date=parse_report_date(args.date) if args.date else None,
            out_dir=Path(args.out) if args.out else None,
            stale_after=timedelta(hours=args.stale_after_hours) if args.stale_after_hours else None,
            config=args.config,
        )
    except (ReportError, FindingError) as exc:
        print(f"error: {plain_text(exc)}", file=sys.stderr)
        return 2
    for label in result.not_current:
        print(
            f"warning: {plain_text(label)} is not current (failed, stale or never scanned); see the report",
            file=sys.stderr,
        )
    for finding_id, error in result.failed_findings.items():
        print(f"error: finding {finding_id} failed: {plain_text(error)}", file=sys.stderr)
    print(result.html)
    return 1 if result.failed_findings else 0


def cmd_schema_doc(args: argparse.Namespace) -> int:
    from saaslens.catalog.build import schema_markdown

    text = schema_markdown()
    if args.write:
        Path(args.write).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from saaslens.demo import run_demo

    return run_demo(keep_running=args.keep_running)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="saaslens", description="SaaS app connectors into a Parquet lake.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sandbox", help="serve the sandbox (emulated provider APIs)")
    p.add_argument("--config", help="sandbox config (default include/sandbox.yaml or SAASLENS_SANDBOX_CONFIG)")
    p.add_argument("--port", type=int)
    p.add_argument("--export-ground-truth", metavar="DIR", help="write each tenant's ground truth and exit")
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("sync", help="run an instance's stages outside Airflow (same code as the DAG tasks)")
    p.add_argument("instance", help="instance name, or app/name")
    p.add_argument("--stage", action="append", help="only this stage (repeatable)")
    p.add_argument("--config", help="connected-apps file (default SAASLENS_CONFIG or include/connected_apps.yaml)")
    p.add_argument("--lake", help="lake root (default SAASLENS_LAKE or ./lake)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser(
        "inspect", help="content inspection (DLP) of an instance's new and changed files (same code as its DLP DAG)"
    )
    p.add_argument("instance", help="instance name, or app/name")
    p.add_argument("--file", action="append", help="only this file id, whatever its version (repeatable)")
    p.add_argument("--config", help="connected-apps file (default SAASLENS_CONFIG or include/connected_apps.yaml)")
    p.add_argument("--lake", help="lake root (default SAASLENS_LAKE or ./lake)")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser(
        "act",
        help="plan (dry run, the default) or apply a governance action on an instance's targets",
        description="Without ACTION: list the instance's actions. Applying needs the instance's "
        "governance.require_approval to be false; otherwise trigger its governance DAG, where an approver answers.",
    )
    p.add_argument("instance", help="instance name, or app/name")
    p.add_argument("action", nargs="?", help="the action (suspend_user, revoke_user_grant, ...)")
    p.add_argument("--target", action="append", help="a target: its lake id (or an account's email); repeatable")
    p.add_argument("--apply", action="store_true", help="change the tenant (default: a dry run that only plans)")
    p.add_argument("--reason", help="why, stored with the rows")
    p.add_argument("--run-id", help="retry an interrupted run under its id (default act-<time>)")
    p.add_argument(
        "--list", action="store_true", help="list actions and whether the action connection may perform them"
    )
    p.add_argument("--config", help="connected-apps file (default SAASLENS_CONFIG or include/connected_apps.yaml)")
    p.add_argument("--lake", help="lake root (default SAASLENS_LAKE or ./lake)")
    p.set_defaults(func=cmd_act)

    p = sub.add_parser("catalog", help="create or refresh <lake>/saaslens.duckdb")
    p.add_argument("--lake")
    p.set_defaults(func=cmd_catalog)

    p = sub.add_parser("capabilities", help="the capability matrix, from the connectors' code")
    p.add_argument("--format", choices=["markdown", "json"], default="markdown")
    p.set_defaults(func=cmd_capabilities)

    p = sub.add_parser("posture-rules", help="the posture rules per app with their baselines, as markdown")
    p.set_defaults(func=cmd_posture_rules)

    p = sub.add_parser("airflow-bootstrap", help="apply airflow_settings.yaml and instance pools to Airflow")
    p.add_argument("--settings")
    p.add_argument("--config")
    p.set_defaults(func=cmd_airflow_bootstrap)

    p = sub.add_parser("validate", help="check the connected-apps file")
    p.add_argument("--config")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("summary", help="print a visibility summary of the lake")
    p.add_argument("--lake")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("report", help="write the compliance report to <lake>/reports/<date>/ and print its path")
    p.add_argument("--date", help="report date YYYY-MM-DD, names the directory (default today, UTC)")
    p.add_argument("--out", metavar="DIR", help="write the report here instead of <lake>/reports/<date>")
    p.add_argument("--lake", help="lake root (default SAASLENS_LAKE or ./lake)")
    p.add_argument("--config", help="connected-apps file, for schedules (default SAASLENS_CONFIG)")
    p.add_argument(
        "--stale-after-hours",
        type=float,
        help="flag an instance stale after this many hours (default twice its schedule, or 48)",
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("schema-doc", help="print (or --write) docs/schema.md")
    p.add_argument("--write", metavar="PATH")
    p.set_defaults(func=cmd_schema_doc)

    p = sub.add_parser("demo", help="the README demo: sandbox + real Airflow scheduler + catalog + summary")
    p.add_argument("--keep-running", action="store_true", help="leave Airflow and the sandbox running")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Log lines quote provider text too (a warning about a page): no control character reaches
    # the terminal through them either.
    handler = logging.StreamHandler()
    handler.setFormatter(TerminalSafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, handlers=[handler])
    from saaslens.http.redaction import install_log_redaction

    install_log_redaction()
    try:
        return int(args.func(args) or 0)
    except ConnectorLoadError as exc:
        # A connector package that is installed but broken: say which, rather than a traceback.
        print(f"error: {plain_text(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
