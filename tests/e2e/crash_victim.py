"""A stage run to be SIGKILLed by tests/e2e/test_crash_resume.py: one stage of one instance with a
fixed run and snapshot id, as an Airflow task attempt would run it (retries share the snapshot id).

Usage: python -m tests.e2e.crash_victim '<json: instance, connection, stage, snapshot_id, lake>'
"""

from __future__ import annotations

import json
import sys

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.lake.writer import Lake
from saaslens.runner import RunContext, run_stage


def main(spec: dict) -> int:
    ctx = RunContext(run_id="crash", snapshot_id=spec["snapshot_id"], attempt=1)
    result = run_stage(
        InstanceConfig(**spec["instance"]),
        spec["stage"],
        ctx,
        Lake(spec["lake"]),
        connection=ConnectionInfo(**spec["connection"]),
    )
    return 0 if result.status == "success" else 1


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
