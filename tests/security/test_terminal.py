"""Issue 10, item 10: provider text on a terminal is shown, never obeyed.

A role named `[/]` crashed `saaslens summary` with rich's MarkupError, a provider error containing
markup crashed `saaslens sync` and hid the real error, and raw escape sequences reached the
terminal. Everything saaslens prints goes through `saaslens.terminal`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens_sandbox.core import SandboxServer, TenantSpec
from saaslens_sandbox.hostile import Attack, HostileConfig
from tests.e2e.okta_helpers import ANCHOR

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ESCAPE_NAME = "Admin \x1b[31mred\x1b[0m \x1b[2J \u202eevil\u2066x\u2069 \x9b2J \x07\x7f"
# Raw bytes a terminal acts on: ESC, 8-bit CSI, bell, DEL, bidi override and isolates.
NEVER_SHOWN = ("\x1b", "\x9b", "\x07", "\x7f", "\u202e", "\u2066", "\u2069")


def saaslens(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "saaslens.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "250", **env},
        check=False,
    )


def _assert_inert(output: str) -> None:
    for raw in NEVER_SHOWN:
        assert raw not in output, f"{raw!r} reached the terminal: {output!r}"
    assert "MarkupError" not in output and "Traceback" not in output, output


def test_safe_text_escapes_markup_and_strips_what_a_terminal_obeys():
    from saaslens.terminal import plain_text, safe_text

    text = "[/] [bold]b[/bold] " + ESCAPE_NAME + " line\nnext\tcol\r"
    out = io.StringIO()
    Console(file=out, width=300, force_terminal=False).print(safe_text(text))
    shown = out.getvalue()
    _assert_inert(shown)
    assert "[/] [bold]b[/bold]" in shown and "Admin [31mred[0m [2J evilx 2J" in shown
    assert "line\nnext" in shown  # newline and tab kept (rich expands the tab)
    assert plain_text(text) == "[/] [bold]b[/bold] Admin [31mred[0m [2J evilx 2J  line\nnext\tcol"


@pytest.fixture
def hostile_lake(tmp_path: Path) -> Path:
    lake = Lake(tmp_path / "lake")
    snapshot = snapshot_id_for(NOW)
    with lake.snapshot_writer("accounts", "okta", "hq", snapshot) as writer:
        writer.write(
            [
                {"account_id": "u1", "status": "active", "account_type": "member", "is_admin": True},
                {"account_id": "u2", "status": "[/]", "account_type": "member", "is_admin": True},
            ]
        )
        writer.publish()
    with lake.snapshot_writer("privileges", "okta", "hq", snapshot) as writer:
        writer.write(
            [
                {"account_id": "u1", "privilege_id": "p1", "privilege_name": "[/]"},
                {"account_id": "u2", "privilege_id": "p2", "privilege_name": ESCAPE_NAME},
            ]
        )
        writer.publish()
    return tmp_path / "lake"


def test_summary_shows_a_role_named_with_markup_and_escapes_as_text(hostile_lake):
    summary = saaslens("summary", env={"SAASLENS_LAKE": str(hostile_lake)})
    assert summary.returncode == 0, summary.stdout + summary.stderr
    _assert_inert(summary.stdout + summary.stderr)
    assert "[/]" in summary.stdout  # the role's and the status's own text, escaped, not obeyed
    assert "Admin [31mred[0m [2J evilx" in summary.stdout


@pytest.mark.integration
def test_sync_shows_the_real_provider_error_when_it_contains_markup(tmp_path):
    spec = TenantSpec(app="okta", name="cli", seed=31, users=10, options={"anchor": ANCHOR.isoformat()})
    config = tmp_path / "apps.yaml"
    config.write_text(yaml.safe_dump({"instances": [{"app": "okta", "name": "cli", "conn_id": "okta_cli"}]}))
    with SandboxServer([spec]) as server:
        server.personality("okta", "cli").set_hostile(HostileConfig(attack=Attack.ERROR_MARKUP))
        connection = {
            "conn_type": "http",
            "host": server.tenant_url("okta", "cli"),
            "password": "sandbox-okta-cli-admin",
            "extra": {"auth": "ssws"},
        }
        env = {
            "SAASLENS_CONFIG": str(config),
            "SAASLENS_LAKE": str(tmp_path / "lake"),
            "AIRFLOW_CONN_OKTA_CLI": json.dumps(connection),
        }
        synced = saaslens("sync", "okta/cli", "--stage", "users", env=env)
    output = synced.stdout + synced.stderr
    assert synced.returncode == 1, output
    _assert_inert(output)
    assert "users failed:" in output and "400" in output
    assert "[/] [bold]b[/bold]" in output, f"the provider's own message is not shown: {output!r}"


def test_config_errors_with_markup_are_shown_not_obeyed(tmp_path):
    config = tmp_path / "apps.yaml"
    config.write_text(yaml.safe_dump({"instances": [{"app": "okta", "name": "[/]\x1b[2J", "conn_id": "c"}]}))
    env = {"SAASLENS_CONFIG": str(config), "SAASLENS_LAKE": str(tmp_path / "lake")}
    synced = saaslens("sync", "[/]\x1b[2J", env=env)
    assert synced.returncode == 2, synced.stdout + synced.stderr
    _assert_inert(synced.stdout + synced.stderr)
    assert "'[/]\\x1b[2J'" in synced.stdout  # the name as written, shown as text
    validated = saaslens("validate", env=env)
    assert validated.returncode == 1
    _assert_inert(validated.stdout + validated.stderr)
    assert "'[/]\\x1b[2J'" in validated.stderr  # its repr: the escape shown as text


def test_log_lines_reach_the_terminal_without_control_characters():
    import logging

    from saaslens.terminal import TerminalSafeFormatter

    record = logging.LogRecord("saaslens.http", logging.WARNING, __file__, 1, "page said %s", (ESCAPE_NAME,), None)
    line = TerminalSafeFormatter("%(levelname)s %(message)s").format(record)
    _assert_inert(line)
    assert line == "WARNING page said Admin [31mred[0m [2J evilx 2J "
