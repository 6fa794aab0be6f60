"""Run a snippet in a fresh interpreter, as Airflow's DAG processor parses files, and read back
the JSON it prints last."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run_python_json(code: str, env: dict[str, str] | None = None, timeout: float = 300) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
